// gradc dump: the IR after a named stage, as text or dot.
#include "codegen/target.h"
#include "ir/printer.h"
#include "plan/plan.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/model_io.h"

#include <cstdio>

namespace gradc::tools {
namespace {

struct Stage {
  const char *name;
  const char *function;   ///< the function printed; empty for the whole module
  bool training;          ///< needs the training functions (when the model has a loss)
  const char *stop_after; ///< the last pass run; "" for the whole pipeline
  enum Kind { Ir, Native, Plan, Memory } kind = Ir;
};

const Stage kStages[] = {
    {"parsed", "forward", false, ""},         // as the frontend lowered it
    {"grad", "backward", true, "train-step"}, // loss and parameter gradients
    {"differentiated", "backward", true, "train-step"},
    {"optimizer", "optimizer_step", true, "train-step"},
    {"train", "train_step", true, "train-step"}, // forward, backward, update
    {"all", "", true, "train-step"},             // every function of the module
    {"fusion", "", true, "", Stage::Ir},         // after every pass: kernels
    {"plan", "", true, "", Stage::Plan},         // kernels and where each value lives
    {"memory", "", true, "", Stage::Memory},     // the arena of each function
    {"llvm", "", true, "", Stage::Native},       // optimised LLVM IR of every function
    {"asm", "", true, "", Stage::Native},        // the host (or --target) assembly
};

/// The plan of every function (plan), or the arena of every function
/// (memory); as JSON, the train step's (else forward's) arena with every
/// function's under "functions".
std::string printPlanStage(const ir::Module &m, bool memory, bool json) {
  plan::ModulePlan p = plan::buildPlan(m);
  std::string out;
  if (json) {
    size_t main = 0;
    for (size_t i = 0; i < m.functions.size(); ++i)
      if (m.functions[i].name() == "train_step")
        main = i;
    std::string head = plan::memoryJson(m.functions[main], p.functions[main]);
    head.pop_back(); // the closing brace: the object goes on
    out = head + ", \"functions\": [";
    for (size_t i = 0; i < m.functions.size(); ++i)
      out += (i ? ", " : "") + plan::memoryJson(m.functions[i], p.functions[i]);
    return out + "]}\n";
  }
  for (size_t i = 0; i < m.functions.size(); ++i)
    out += (i ? "\n" : "") + (memory ? plan::printMemory(m.functions[i], p.functions[i], m.name)
                                     : plan::printPlan(m.functions[i], p.functions[i], m.name));
  return out;
}

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
  if (format != "text" && format != "dot" && format != "json")
    return Error("--format: expected text, dot or json, got '" + format + "'");
  if ((format == "json") != (stage->kind == Stage::Memory && format == "json"))
    return Error("--format: json is for --stage memory only");
  GRADC_TRY(dims, parseDims(args.all("dim")));
  const std::string &path = args.positional[0];
  GRADC_TRY(m, compileModel(path, dims, stage->training ? Functions::All : Functions::Parsed,
                            args.all("input-grad"), stage->stop_after));
  if (stage->kind == Stage::Plan || stage->kind == Stage::Memory) {
    if (format == "dot")
      return Error("--format: stage '" + stage_name + "' prints text or json");
    return printPlanStage(m, stage->kind == Stage::Memory, format == "json");
  }
  if (stage->kind == Stage::Native) {
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
