// gradc compile: an object file and C header for embedding (spec/cli.md).
#include "codegen/header.h"
#include "codegen/target.h"
#include "plan/plan.h"
#include "support/files.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/model_io.h"
#include "tools/pipeline_flags.h"

#include <cstdio>

namespace gradc::tools {
namespace {

Status compile(const Args &args) {
  if (args.positional.size() != 1)
    return Error("gradc compile: expected one MODEL.json (usage: gradc compile MODEL.json -o "
                 "model.o --header model.h)");
  if (!args.has("o"))
    return Error("gradc compile: -o OUTPUT is required");
  codegen::EmitOptions opts;
  std::string emit = args.get("emit", "obj");
  if (emit == "obj")
    opts.kind = codegen::EmitOptions::Kind::Obj;
  else if (emit == "asm")
    opts.kind = codegen::EmitOptions::Kind::Asm;
  else if (emit == "llvm")
    opts.kind = codegen::EmitOptions::Kind::Llvm;
  else
    return Error("--emit: expected obj, asm or llvm, got '" + emit + "'");
  opts.cpu = args.get("target", "native");
  GRADC_TRY(dims, parseDims(args.all("dim")));
  std::string header_path = args.get("header");
  std::vector<support::NamedPath> outputs{{"-o", args.get("o")}};
  if (args.has("header"))
    outputs.push_back({"--header", header_path});
  GRADC_TRY_STATUS(
      support::checkOutputPaths("compile", outputs, {{"the model", args.positional[0]}}));
  GRADC_TRY(pipeline, pipelineOptions(args));
  GRADC_TRY(m, compileModel(args.positional[0], dims, Functions::All, pipeline));
  // The header first: if the object then fails, no stale header pairs with
  // an older object.
  // One execution plan for the object and the header, so they cannot disagree.
  plan::ModulePlan plan = plan::buildPlan(m);
  opts.plan = &plan;
  std::string tmp_header = header_path + ".pending";
  if (!header_path.empty())
    GRADC_TRY_STATUS(support::writeFileAtomic(tmp_header, codegen::emitCHeader(m, &plan)));
  Status obj = codegen::emitModule(m, opts, args.get("o"));
  if (!obj) {
    std::remove(tmp_header.c_str());
    return obj;
  }
  if (!header_path.empty() && std::rename(tmp_header.c_str(), header_path.c_str()) != 0) {
    std::remove(tmp_header.c_str());
    return Error(header_path + ": cannot write");
  }
  return Status::ok();
}

} // namespace

int cmdCompile(int argc, char **argv) {
  auto args = parseArgs(
      "compile", argc, argv, 2,
      withPipelineFlags(
          {{"o", true}, {"header", true}, {"emit", true}, {"target", true}, {"dim", true, true}}));
  if (!args)
    return fail(args.error().message());
  Status s = compile(*args);
  return s ? 0 : fail(s.error().message());
}

} // namespace gradc::tools
