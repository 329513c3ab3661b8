// gradc compile: an object file and C header for embedding (spec/cli.md).
#include "codegen/target.h"
#include "codegen/triples.h"
#include "driver/compile.h"
#include "support/files.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/model_io.h"
#include "tools/pipeline_flags.h"
#include "tools/target_flags.h"

#include <cstdio>

namespace gradc::tools {
namespace {

Status compile(const Args &args) {
  if (args.has("list-targets")) {
    if (!args.positional.empty() || args.has("o"))
      return Error("gradc compile: --list-targets takes no MODEL.json and no -o");
    std::fputs(codegen::listTargets().c_str(), stdout);
    return Status::ok();
  }
  if (args.positional.size() != 1)
    return Error("gradc compile: expected one MODEL.json (usage: gradc compile MODEL.json -o "
                 "model.o --header model.h)");
  if (!args.has("o"))
    return Error("gradc compile: -o OUTPUT is required");
  codegen::EmitOptions opts = targetOptions(args);
  std::string emit = args.get("emit", "obj");
  if (emit == "obj")
    opts.kind = codegen::EmitOptions::Kind::Obj;
  else if (emit == "asm")
    opts.kind = codegen::EmitOptions::Kind::Asm;
  else if (emit == "llvm")
    opts.kind = codegen::EmitOptions::Kind::Llvm;
  else
    return Error("--emit: expected obj, asm or llvm, got '" + emit + "'");
  // An unknown triple, CPU or feature before the model is compiled.
  GRADC_TRY_STATUS(codegen::targetFacts(opts));
  GRADC_TRY(dims, parseDims(args.all("dim")));
  std::string header_path = args.get("header");
  std::vector<support::NamedPath> outputs{{"-o", args.get("o")}};
  if (args.has("header"))
    outputs.push_back({"--header", header_path});
  GRADC_TRY_STATUS(
      support::checkOutputPaths("compile", outputs, {{"the model", args.positional[0]}}));
  GRADC_TRY(pipeline, pipelineOptions(args));
  GRADC_TRY(m, compileModel(args.positional[0], dims, Functions::All, pipeline));
  return driver::compileToObject(m, opts, args.get("o"), header_path);
}

} // namespace

int cmdCompile(int argc, char **argv) {
  auto args = parseArgs("compile", argc, argv, 2,
                        withPipelineFlags(withTargetFlags({{"o", true},
                                                           {"header", true},
                                                           {"emit", true},
                                                           {"dim", true, true},
                                                           {"list-targets", false}})));
  if (!args)
    return fail(args.error().message());
  Status s = compile(*args);
  return s ? 0 : fail(s.error().message());
}

} // namespace gradc::tools
