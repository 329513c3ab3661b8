// The stages of `gradc dump` and how each is printed.
#include "driver/dump.h"

#include "codegen/target.h"
#include "driver/model_io.h"
#include "ir/printer.h"
#include "passes/pipeline.h"
#include "plan/plan.h"

#include <cstdio>

namespace gradc::driver {
namespace {

struct Stage {
  std::string name;
  std::string function; ///< the function printed; empty for the whole module
  /// The pipeline runs up to the last run of this pass; "" runs all of it.
  std::string after;
  bool parsed = false; ///< no pass runs: forward as the frontend lowered it
  bool native = false; ///< printed from codegen (LLVM IR, assembly), not from the graph IR
};

/// Named stages; besides these, every registered pass is a stage (the whole
/// module after its last run in the pipeline). A stage printed from codegen
/// sets `native` and gets its case in dumpNative.
const Stage kStages[] = {
    {"parsed", "forward", "", true},              // as the frontend lowered it
    {"grad", "backward", "autodiff"},             // loss and parameter gradients
    {"differentiated", "backward", "autodiff"},   // the same as grad
    {"optimizer", "optimizer_step", "optimizer"}, // the parameter update
    {"train", "train_step", "train-step"},        // forward, backward, update
    {"all", "", ""},                              // every function, as compiled
    {"plan", "", "", false, true},                // kernels and where each value lives
    {"memory", "", "", false, true},              // each function's arena (also json)
    {"llvm", "", "", false, true},                // optimised LLVM IR of every function
    {"asm", "", "", false, true},                 // the host (or --target) assembly
};

Expected<Stage> findStage(const std::string &name) {
  std::string names;
  for (const Stage &s : kStages) {
    names += (names.empty() ? "" : ", ") + s.name;
    if (name == s.name)
      return s;
  }
  if (passes::findPass(name))
    return Stage{name, "", name};
  return Error("--stage: unknown stage '" + name + "' (expected one of " + names +
               ", or a pass: " + passes::passNames() + ")");
}

/// The execution plan of every function (plan), or the arena of every
/// function (memory); as JSON, the train step's (else forward's) arena with
/// every function's under "functions".
std::string dumpPlan(const ir::Module &m, bool memory, bool json) {
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

Expected<std::string> dumpNative(const Stage &stage, const ir::Module &m, const DumpOptions &o) {
  if (stage.name == "plan" || stage.name == "memory")
    return dumpPlan(m, stage.name == "memory", o.format == "json");
  const codegen::EmitOptions &opts = o.emit;
  if (stage.name == "llvm")
    return codegen::dumpLLVM(m, opts);
  GRADC_CHECK(stage.name == "asm", "native stage without a printer: " + stage.name);
  return codegen::dumpAsm(m, opts);
}

} // namespace

Status checkDumpOptions(const DumpOptions &o) {
  GRADC_TRY(stage, findStage(o.stage));
  const std::string &format = o.format;
  if (format != "text" && format != "dot" && format != "json")
    return Error("--format: expected text, dot or json, got '" + format + "'");
  if (format == "json" && stage.name != "memory")
    return Error("--format: json is for --stage memory only");
  if (stage.native && format == "dot")
    return Error("--format: stage '" + stage.name + "' prints text" +
                 (stage.name == "memory" ? " or json" : " only"));
  return Status::ok();
}

Expected<std::string> dump(const DumpOptions &o) {
  GRADC_TRY_STATUS(checkDumpOptions(o));
  GRADC_TRY(stage, findStage(o.stage));
  passes::PipelineOptions pipeline = o.pipeline;
  for (const std::string &d : pipeline.disabled)
    if (d == stage.after)
      return Error("--stage: pass '" + d + "' is disabled (--disable-pass)");
  pipeline.stop_after = stage.after;
  GRADC_TRY(m, compileModel(o.model, o.dims, stage.parsed ? Functions::Parsed : Functions::All,
                            pipeline));
  // A model without a loss has only forward, and no training pass runs on it.
  const passes::PassInfo *pass = passes::findPass(stage.after);
  const ir::Function *f = stage.function.empty() ? nullptr : m.find(stage.function);
  if ((!stage.function.empty() && !f) || (pass && pass->required && !m.has_loss))
    return Error(o.model + ": /loss: stage '" + stage.name +
                 "' needs a loss, and the model has none");
  if (stage.native)
    return dumpNative(stage, m, o);
  const bool dot = o.format == "dot";
  if (!f)
    return dot ? ir::printDot(m) : ir::printText(m);
  return dot ? ir::printDot(*f, m.name) : ir::printText(*f, m.name);
}

std::string listPasses() {
  std::string s;
  const auto &names = passes::defaultPipeline();
  for (size_t i = 0; i < names.size(); ++i) {
    const passes::PassInfo *p = passes::findPass(names[i]);
    char line[256];
    std::snprintf(line, sizeof line, "%2zu  %-14s %s%s\n", i + 1, p->name,
                  p->required ? "[required] " : "", p->description);
    s += line;
  }
  return s;
}

} // namespace gradc::driver
