// The default pipeline, one line per pass.
#include "passes/pipeline.h"

#include "passes/autodiff.h"
#include "passes/dce.h"
#include "passes/fuse.h"
#include "passes/optimizer.h"
#include "passes/train_step.h"

namespace gradc::passes {

std::vector<std::unique_ptr<Pass>> trainingPipeline(const PipelineOptions &opts) {
  std::vector<std::unique_ptr<Pass>> p;
  // The frontend lowers layer by layer; drop what no result needs.
  p.push_back(std::make_unique<DcePass>());
  // d loss / d params as IR, by the per-op rules.
  p.push_back(std::make_unique<AutodiffPass>(opts.input_grads));
  // The parameter update with explicit optimizer state.
  p.push_back(std::make_unique<OptimizerPass>());
  // backward + optimizer_step in one call for training loops.
  p.push_back(std::make_unique<TrainStepPass>());
  // Kernels: elementwise chains, epilogues, reductions (passes/fuse.h).
  p.push_back(std::make_unique<FusionPass>());
  return p;
}

Status buildTrainingFunctions(ir::Module &m, const PipelineOptions &opts) {
  if (!m.has_loss)
    return buildForwardFunctions(m, opts);
  std::vector<std::unique_ptr<Pass>> passes = trainingPipeline(opts);
  return runPasses(m, passes, opts);
}

Status buildForwardFunctions(ir::Module &m, const PipelineOptions &opts) {
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(std::make_unique<FusionPass>());
  return runPasses(m, passes, opts);
}

} // namespace gradc::passes
