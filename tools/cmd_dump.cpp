// gradc dump: the IR after a named stage, as text or dot.
#include "codegen/target.h"
#include "ir/printer.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/model_io.h"

#include <cstdio>

namespace gradc::tools {
namespace {

struct Stage {
  const char *name;
  const char *function; ///< the function printed; empty for the whole module
  bool training;        ///< needs the training functions (when the model has a loss)
  bool native;          ///< printed from LLVM, not from the graph IR
};

const Stage kStages[] = {
    {"parsed", "forward", false, false}, // as the frontend lowered it
    {"grad", "backward", true, false},   // loss and parameter gradients
    {"differentiated", "backward", true, false},
    {"optimizer", "optimizer_step", true, false},
    {"train", "train_step", true, false}, // forward, backward, update
    {"all", "", true, false},             // every function of the module
    {"llvm", "", true, true},             // optimised LLVM IR of every function
    {"asm", "", true, true},              // the host (or --target) assembly
};

Expected<std::string> dump(const Args &args) {
  if (args.positional.size() != 1)
    return Error("gradc dump: expected one MODEL.json (usage: gradc dump MODEL.json --stage "
                 "STAGE [--format text|dot])");
  std::string stage_name = args.get("stage", "parsed");
  const Stage *stage = nullptr;
  std::string names;
  for (const Stage &s : kStages) {
    names += std::string(names.empty() ? "" : ", ") + s.name;
    if (stage_name == s.name)
      stage = &s;
  }
  if (!stage)
    return Error("--stage: unknown stage '" + stage_name + "' (expected one of " + names + ")");
  std::string format = args.get("format", "text");
  if (format != "text" && format != "dot")
    return Error("--format: expected text or dot, got '" + format + "'");
  GRADC_TRY(dims, parseDims(args.all("dim")));
  const std::string &path = args.positional[0];
  GRADC_TRY(m, compileModel(path, dims, stage->training ? Functions::All : Functions::Forward,
                            args.all("input-grad")));
  if (stage->native) {
    if (format != "text")
      return Error("--format: stage '" + stage_name + "' prints text only");
    codegen::EmitOptions opts;
    opts.cpu = args.get("target", "native");
    return stage_name == "llvm" ? codegen::dumpLLVM(m, opts) : codegen::dumpAsm(m, opts);
  }
  if (*stage->function == '\0')
    return format == "dot" ? ir::printDot(m) : ir::printText(m);
  const ir::Function *f = m.find(stage->function);
  if (!f)
    return Error(path + ": /loss: stage '" + stage_name + "' needs a loss, and the model has none");
  return format == "dot" ? ir::printDot(*f, m.name) : ir::printText(*f, m.name);
}

} // namespace

int cmdDump(int argc, char **argv) {
  auto args = parseArgs("dump", argc, argv, 2,
                        {{"stage", true},
                         {"format", true},
                         {"dim", true, true},
                         {"target", true},
                         {"input-grad", true, true}});
  if (!args)
    return fail(args.error().message());
  auto text = dump(*args);
  if (!text)
    return fail(text.error().message());
  std::fputs(text->c_str(), stdout);
  return 0;
}

} // namespace gradc::tools
