// The pass registry and the default pipeline: from a parsed model to the
// four functions a runtime calls (forward, backward, optimizer_step,
// train_step), simplified.
#pragma once

#include "passes/pass.h"

#include <string>
#include <vector>

namespace gradc::passes {

/// One registered pass: its CLI name, what it does in one line, and how to
/// make it.
struct PassInfo {
  const char *name;
  const char *description;
  /// Builds a function the runtime calls (autodiff, optimizer, train-step):
  /// it cannot be disabled, needs a model's metadata (parameters, optimizer)
  /// and runs only when the training functions are wanted.
  bool required;
  std::unique_ptr<Pass> (*make)(const PipelineOptions &opts);
};

/// Every pass, once, in the order of the default pipeline.
const std::vector<PassInfo> &registeredPasses();
/// The pass called `name`, or nullptr.
const PassInfo *findPass(const std::string &name);
/// The names of the registered passes, "a, b, c", for messages.
std::string passNames();

/// The default pipeline's pass names in order; a pass may run more than
/// once (dce runs first and last).
const std::vector<std::string> &defaultPipeline();

/// Checks the pass names in `opts` (disabled, print_after, stop_after): an
/// unknown name is an error listing the known ones; disabling a required
/// pass is an error saying only optimisation passes can be disabled.
Status checkPipelineOptions(const PipelineOptions &opts);

/// The passes of defaultPipeline(); without `training`, only the
/// optimisation passes (a forward-only module).
std::vector<std::unique_ptr<Pass>> trainingPipeline(const PipelineOptions &opts,
                                                    bool training = true);

/// Runs the default pipeline on `m` (a module from the frontend). Without
/// `training`, or for a model without a loss, only the optimisation passes
/// run (on forward).
Status buildTrainingFunctions(ir::Module &m, const PipelineOptions &opts = {},
                              bool training = true);

} // namespace gradc::passes
