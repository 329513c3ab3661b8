// The default pipeline: from a parsed model to the four functions a runtime
// calls (forward, backward, optimizer_step, train_step).
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

/// The passes that add backward, optimizer_step and train_step, in order.
std::vector<std::unique_ptr<Pass>> trainingPipeline(const PipelineOptions &opts);

/// Runs trainingPipeline on `m` (a module from the frontend). A model
/// without a loss gets only its forward function back unchanged.
Status buildTrainingFunctions(ir::Module &m, const PipelineOptions &opts = {});

/// Runs the optimisation passes on `m`'s forward function alone (inference,
/// or a model without a loss).
Status buildForwardFunctions(ir::Module &m, const PipelineOptions &opts = {});

} // namespace gradc::passes
