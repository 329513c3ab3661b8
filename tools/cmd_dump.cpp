// gradc dump: the IR after a named stage, as text or dot.
#include "ir/printer.h"
#include "passes/pipeline.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/model_io.h"

#include <cstdio>

namespace gradc::tools {
namespace {

struct Stage {
  const char *name;
  const char *function; ///< the function printed; empty for the whole module
  bool training;
  const char *help;
};

const Stage kStages[] = {
    {"parsed", "forward", false, "forward as the frontend lowered it"},
    {"grad", "backward", true, "backward: loss and parameter gradients (autodiff)"},
    {"differentiated", "backward", true, "same as grad"},
    {"optimizer", "optimizer_step", true, "the parameter update with its state"},
    {"train", "train_step", true, "forward, backward and update in one function"},
    {"all", "", true, "every function of the module"},
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
  GRADC_TRY(m, compileModel(path, dims, false));
  if (stage->training) {
    if (!m.has_loss)
      return Error(path + ": /loss: stage '" + stage_name + "' needs a loss, and the model has none");
    Status s = passes::buildTrainingFunctions(m);
    if (!s)
      return s.error().withPrefix(path + ": ");
  }
  if (*stage->function == '\0')
    return format == "dot" ? ir::printDot(m) : ir::printText(m);
  const ir::Function *f = m.find(stage->function);
  GRADC_CHECK(f != nullptr, std::string("missing function ") + stage->function);
  return format == "dot" ? ir::printDot(*f, m.name) : ir::printText(*f, m.name);
}

} // namespace

int cmdDump(int argc, char **argv) {
  auto args = parseArgs("dump", argc, argv, 2,
                        {{"stage", true}, {"format", true}, {"dim", true, true}});
  if (!args)
    return fail(args.error().message());
  auto text = dump(*args);
  if (!text)
    return fail(text.error().message());
  std::fputs(text->c_str(), stdout);
  return 0;
}

} // namespace gradc::tools
