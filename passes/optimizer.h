// optimizer: the parameter update as IR, function `optimizer_step`.
//
// Does: adds `optimizer_step(params, grad.<param>..., state..., lr)` whose
//   results overwrite every parameter and state tensor in place, with
//   exactly torch.optim's SGD (momentum, dampening, nesterov, weight decay)
//   or Adam (bias correction, weight decay) arithmetic. Registers the state
//   tensors in Module::states (zero-initialised, like torch's lazy state).
// Requires: a verified module with parameters.
// Guarantees: the learning rate is a runtime scalar argument kLrArg (f32[]),
//   so schedules change it without recompiling.
// Does not: apply the schedule (runtime/schedule.h does, per epoch), or
//   touch parameters the loss does not depend on (ParamInfo::trained), as
//   torch.optim skips parameters whose grad is None.
//
// Algorithm, per parameter p with gradient g:
//   1. g += weight_decay * p.
//   2. SGD: buf = momentum * buf + (1 - dampening) * g (= g on the first
//      step, using a step counter when dampening != 0); g = nesterov ?
//      g + momentum * buf : buf; p -= lr * g.
//   3. Adam: t += 1; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//      p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

/// The learning-rate argument of optimizer_step and train_step. Model names
/// are identifiers, so a dotted name can never collide with a model input.
inline constexpr const char *kLrArg = "optimizer.lr";
/// The step-count state of Adam (and of SGD with dampening).
inline constexpr const char *kStepState = "optimizer.step";

class OptimizerPass : public Pass {
public:
  const char *name() const override { return "optimizer"; }
  Expected<bool> run(ir::Module &m) override;
};

} // namespace gradc::passes
