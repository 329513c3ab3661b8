// The pass registry and the default pipeline, one line per pass.
#include "passes/pipeline.h"

#include "passes/algebraic.h"
#include "passes/autodiff.h"
#include "passes/constant_fold.h"
#include "passes/cse.h"
#include "passes/dce.h"
#include "passes/fuse.h"
#include "passes/optimizer.h"
#include "passes/schedule.h"
#include "passes/train_step.h"

namespace gradc::passes {
namespace {

template <class P> std::unique_ptr<Pass> make(const PipelineOptions &) {
  return std::make_unique<P>();
}

std::unique_ptr<Pass> makeAutodiff(const PipelineOptions &opts) {
  return std::make_unique<AutodiffPass>(opts.input_grads);
}

Status checkNames(const std::vector<std::string> &names, const char *flag) {
  for (const std::string &n : names)
    if (!findPass(n))
      return Error(std::string(flag) + ": unknown pass '" + n + "' (expected one of " +
                   passNames() + ")");
  return Status::ok();
}

} // namespace

const std::vector<PassInfo> &registeredPasses() {
  static const std::vector<PassInfo> passes = {
      {"dce", "remove nodes whose value reaches no result", false, make<DcePass>},
      {"autodiff", "add backward: the loss and d loss / d param by reverse mode", true,
       makeAutodiff},
      {"optimizer", "add optimizer_step: the parameter update with explicit state", true,
       make<OptimizerPass>},
      {"train-step", "add train_step: backward then optimizer_step in one function", true,
       make<TrainStepPass>},
      {"constant-fold",
       "replace elementwise ops, broadcasts and reshapes of constants by one "
       "constant",
       false, make<ConstantFoldPass>},
      {"algebraic",
       "exact identities: x*1, x+(-0), affine of affine, mul/add of a constant as "
       "affine",
       false, make<AlgebraicPass>},
      {"cse", "merge nodes with the same op, operands and attributes", false, make<CsePass>},
      {"schedule", "order nodes to free memory early, keeping elementwise chains together",
       false, make<SchedulePass>},
      {"fusion",
       "partition each function into kernels: elementwise chains, epilogues, reductions",
       false, make<FusionPass>},
  };
  return passes;
}

const PassInfo *findPass(const std::string &name) {
  for (const PassInfo &p : registeredPasses())
    if (name == p.name)
      return &p;
  return nullptr;
}

std::string passNames() {
  std::string s;
  for (const PassInfo &p : registeredPasses())
    s += (s.empty() ? "" : ", ") + std::string(p.name);
  return s;
}

const std::vector<std::string> &defaultPipeline() {
  static const std::vector<std::string> names = {
      // The frontend lowers layer by layer; drop what no result needs.
      "dce",
      // d loss / d params as IR, by the per-op rules.
      "autodiff",
      // The parameter update with explicit optimizer state.
      "optimizer",
      // backward + optimizer_step in one call for training loops.
      "train-step",
      // Autodiff seeds d loss = 1 and zero gradients: fold them first ...
      "constant-fold",
      // ... so that multiplications by the folded constants become affines.
      "algebraic",
      // Autodiff and inlining recompute shared subexpressions.
      "cse",
      // What the rewrites left unused.
      "dce",
      // Where the order is free, free memory early (passes/schedule.h).
      "schedule",
      // Kernels for codegen: one loop nest each (passes/fuse.h). Last, so
      // that no later pass has to keep kernels intact.
      "fusion",
  };
  return names;
}

Status checkPipelineOptions(const PipelineOptions &opts) {
  GRADC_TRY_STATUS(checkNames(opts.disabled, "--disable-pass"));
  GRADC_TRY_STATUS(checkNames(opts.print_after, "--print-after"));
  if (!opts.stop_after.empty())
    GRADC_TRY_STATUS(checkNames({opts.stop_after}, "--stage"));
  for (const std::string &n : opts.disabled)
    if (findPass(n)->required)
      return Error("--disable-pass: pass '" + n +
                   "' builds a function the runtime calls and cannot be disabled (only "
                   "optimisation passes can)");
  return Status::ok();
}

std::vector<std::unique_ptr<Pass>> trainingPipeline(const PipelineOptions &opts, bool training) {
  std::vector<std::unique_ptr<Pass>> passes;
  for (const std::string &name : defaultPipeline()) {
    const PassInfo *info = findPass(name);
    GRADC_CHECK(info, "the default pipeline names an unregistered pass: " + name);
    if (training || !info->required)
      passes.push_back(info->make(opts));
  }
  return passes;
}

Status buildTrainingFunctions(ir::Module &m, const PipelineOptions &opts, bool training) {
  return runPasses(m, trainingPipeline(opts, training && m.has_loss), opts);
}

} // namespace gradc::passes
