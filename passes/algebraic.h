// algebraic: rewrites by identities that hold in IEEE float32 arithmetic.
//
// Does: in every function, with c a `constant` (a splat) and x anything:
//   x * 1 and 1 * x -> x; x + (-0) and x - (+0) -> x; affine{1, -0}(x) -> x;
//   x * c -> affine{c, -0}(x); x + c -> affine{1, c}(x); x - c ->
//   affine{1, -c}(x); c - x -> affine{-1, c}(x);
//   affine{c, d}(affine{a, b}(x)) -> affine{a c, b c + d}(x); and behind a
//   max pool p = maxpool2d(x) (already computed, same window):
//   maxpool2d_grad(x, g) * step{0, 1}(x) -> maxpool2d_grad(x, g * step{0, 1}(p))
//   (relu's mask on the pooled side: a quarter of the elements with 2 x 2
//   windows), and reduce_sum over both spatial axes (and maybe others) of
//   maxpool2d_grad(x, g) -> reduce_sum of g over the same axes.
// Requires: a verified module.
// Guarantees: the identities and the affine forms of mul / add / sub are
//   exact for all inputs, -0, Inf and NaN included (x * 1 == x;
//   x + (-0) == x; c x + (-0) == c x). x + (+0) is not exact (it turns -0
//   into +0), so affine{1, +0} and adding a +0 splat are kept. The max-pool
//   mask is exact but for the sign of a zero gradient element and the
//   rounding of overlapping windows' sums: each window's gradient goes to its
//   first maximum, whose value is p's, in the interpreter and in codegen
//   alike, NaN included. Composing affines rounds once instead of twice and
//   can move an overflow, and the max-pool sum adds the same terms in another
//   order: within the e2e tests' tolerance (rtol 1e-3 against PyTorch), not
//   bitwise. Results keep names, roles and updates; a removed node's name
//   moves to the value replacing it when that has none.
// Does not: fold constants (constant-fold), rewrite x - x or x / x (NaN and
//   Inf), divide by constants, or remove the nodes it bypasses (dce).
//
// Algorithm, per function, nodes in order (operands already rewritten):
//   1. mul / add / sub with one `constant` operand: the identity, or the
//      equivalent affine of the other operand.
//   2. affine of an affine: one affine with the composed coefficients.
//   3. affine{1, -0}: its operand.
//   4. mul of maxpool2d_grad(x, g) and step{0, 1}(x), either side, when
//      maxpool2d(x) with the same window is in the function: the pooled mask.
//   5. reduce_sum of a maxpool2d_grad over axes 2 and 3: the sum of its g.
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

class AlgebraicPass : public Pass {
public:
  const char *name() const override { return "algebraic"; }
  Expected<bool> run(ir::Module &m) override;
};

} // namespace gradc::passes
