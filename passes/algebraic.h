// algebraic: rewrites by identities that hold in IEEE float32 arithmetic.
//
// Does: in every function, with c a `constant` (a splat) and x anything:
//   x * 1 and 1 * x -> x; x + (-0) and x - (+0) -> x; affine{1, -0}(x) -> x;
//   x * c -> affine{c, -0}(x); x + c -> affine{1, c}(x); x - c ->
//   affine{1, -c}(x); c - x -> affine{-1, c}(x); and
//   affine{c, d}(affine{a, b}(x)) -> affine{a c, b c + d}(x).
// Requires: a verified module.
// Guarantees: every rewrite but the last is exact for all inputs, -0, Inf and
//   NaN included (x * 1 == x; x + (-0) == x; c x + (-0) == c x). x + (+0)
//   is not exact (it turns -0 into +0), so affine{1, +0} and adding a +0
//   splat are kept. Composing affines rounds once instead of twice and can
//   move an overflow: within the e2e tests' tolerance (rtol 1e-3 against
//   PyTorch), not bitwise. Results keep names, roles and updates; a removed
//   node's name moves to the value replacing it when that has none.
// Does not: fold constants (constant-fold), rewrite x - x or x / x (NaN and
//   Inf), divide by constants, or remove the nodes it bypasses (dce).
//
// Algorithm, per function, nodes in order (operands already rewritten):
//   1. mul / add / sub with one `constant` operand: the identity, or the
//      equivalent affine of the other operand.
//   2. affine of an affine: one affine with the composed coefficients.
//   3. affine{1, -0}: its operand.
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

class AlgebraicPass : public Pass {
public:
  const char *name() const override { return "algebraic"; }
  Expected<bool> run(ir::Module &m) override;
};

} // namespace gradc::passes
