// constant-fold: computes at compile time what depends only on constants.
//
// Does: in every function, replaces each elementwise op (Unary or Binary in
//   ir/ops.def) whose operands are all `constant` nodes, and each broadcast
//   or reshape of a `constant`, by one `constant` (a splat) of its type.
// Requires: a verified module.
// Guarantees: float32 semantics: the operands are the constants as float,
//   and the value is computed in float with the JIT's formula for the op
//   (stable sigmoid and softplus, mul then add for affine) and the same libm
//   functions, so the JIT's results stay the same to float rounding (the
//   interpreter, in double, sees the float-rounded constant). Results keep their
//   names, roles and updates; the new constant takes the folded node's name.
// Does not: fold reductions, matmul, softmax or window ops; remove the
//   constants it no longer needs (dce does); touch integer values.
//
// Algorithm, per function, nodes in order (operands already rewritten):
//   1. Skip a node unless every operand is defined by a `constant` node.
//   2. Elementwise: evaluate the op once on the operands' float values.
//   3. Broadcast / reshape: keep the operand's value.
//   4. Emit `constant {value, shape}` with the node's type and name.
#pragma once

#include "passes/pass.h"

#include <optional>
#include <vector>

namespace gradc::passes {

class ConstantFoldPass : public Pass {
public:
  const char *name() const override { return "constant-fold"; }
  Expected<bool> run(ir::Module &m) override;
};

/// The elementwise op `op` applied to scalar float operands as the JIT
/// computes it, or std::nullopt for an op that is not elementwise.
std::optional<float> foldElementwise(ir::OpKind op, const ir::Attrs &attrs,
                                     const std::vector<float> &x);

} // namespace gradc::passes
