// autodiff: symbolic reverse-mode differentiation of `forward` into `backward`.
//
// Does: adds the function `backward` (same arguments as `forward`) returning
//   "loss" and "grad.<param>" for every parameter, plus "grad.<input>" for
//   each requested input, built from the per-op rules of grad_rules.h.
// Requires: a verified module whose `forward` has a "loss" result of shape [].
// Guarantees: only values on a path from a parameter (or requested input) to
//   the loss get an adjoint; a parameter the loss does not depend on gets a
//   zero gradient and ParamInfo::trained = false; `backward` is verified
//   and free of dead nodes. An input asked for twice counts once.
// Does not: touch `forward`, or compute higher-order derivatives.
//
// Algorithm:
//   1. Copy forward's nodes into `backward` (ir::inlineFunction).
//   2. Mark the values that depend on a differentiated argument (forward sweep).
//   3. Seed d loss = 1; walk the nodes in reverse, calling each marked node's
//      rule with its complete adjoint and adding the operand contributions.
//   4. Return the loss and the adjoints of the parameters; drop dead nodes.
#pragma once

#include "passes/pass.h"

#include <string>
#include <vector>

namespace gradc::passes {

class AutodiffPass : public Pass {
public:
  explicit AutodiffPass(std::vector<std::string> input_grads = {})
      : input_grads_(std::move(input_grads)) {}
  const char *name() const override { return "autodiff"; }
  Expected<bool> run(ir::Module &m) override;

private:
  std::vector<std::string> input_grads_;
};

/// Builds the backward function of `forward` (see AutodiffPass). `wrt` lists
/// the argument indices to differentiate; their adjoints are returned as
/// "grad.<arg name>". `reached`, if given, receives per `wrt` entry whether
/// the loss depends on it at all (otherwise its gradient is a zero constant).
Expected<ir::Function> differentiate(const ir::Function &forward, const std::vector<int32_t> &wrt,
                                     std::vector<bool> *reached = nullptr);

} // namespace gradc::passes
