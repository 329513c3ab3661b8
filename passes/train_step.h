// train-step: one function for a training loop to call.
//
// Does: adds `train_step(inputs..., params..., state..., lr)` = backward then
//   optimizer_step, returning "loss" and updating params and state in place.
// Requires: `backward` (autodiff) and `optimizer_step` (optimizer) exist.
// Guarantees: the same arithmetic as calling the two functions in turn; the
//   gradients never leave the function.
// Does not: optimise across the boundary (later passes do, on the result).
//
// Algorithm:
//   1. Declare the arguments: backward's inputs and params, the optimizer's
//      state and lr.
//   2. Inline backward; inline optimizer_step with its grad arguments bound
//      to backward's gradient results.
//   3. Return the loss and optimizer_step's updates, re-pointed at this
//      function's arguments.
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

class TrainStepPass : public Pass {
public:
  const char *name() const override { return "train-step"; }
  Expected<bool> run(ir::Module &m) override;
};

} // namespace gradc::passes
