// Exact algebraic identities, and affine composition.
#include "passes/algebraic.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>

namespace gradc::passes {
namespace {

using ir::OpKind;

bool isNegativeZero(double v) {
  return std::bit_cast<uint64_t>(v) == std::bit_cast<uint64_t>(-0.0);
}
bool isPositiveZero(double v) { return std::bit_cast<uint64_t>(v) == 0; }

/// The value of the `constant` node defining `v`.
std::optional<double> constantOf(const ir::Function &f, ir::ValueId v) {
  const ir::Node *n = ir::definingNode(f, v);
  if (!n || n->op != OpKind::Constant)
    return std::nullopt;
  return n->attrs.f("value");
}

/// scale * x + shift, composed with x's own affine and dropped when it is
/// the identity {1, -0}.
ir::ValueId affine(ir::Function &out, ir::ValueId x, double scale, double shift) {
  const ir::Node *inner = ir::definingNode(out, x);
  if (inner && inner->op == OpKind::Affine) {
    // scale (a x + b) + shift = (a scale) x + (b scale + shift).
    shift = inner->attrs.f("shift") * scale + shift;
    scale = inner->attrs.f("scale") * scale;
    x = inner->operands[0];
  }
  if (scale == 1.0 && isNegativeZero(shift))
    return x;
  return out.addNode(OpKind::Affine, {x}, {{"scale", scale}, {"shift", shift}});
}

/// mul, add or sub with exactly one constant operand, as an affine of the
/// other operand (or that operand itself).
ir::ValueId binaryWithConstant(ir::Function &out, const ir::Node &n) {
  std::optional<double> a = constantOf(out, n.operands[0]), b = constantOf(out, n.operands[1]);
  if (a.has_value() == b.has_value())
    return ir::kNoValue; // no constant, or constant-fold's job
  ir::ValueId x = a ? n.operands[1] : n.operands[0];
  double c = a ? *a : *b;
  switch (n.op) {
  case OpKind::Mul:
    // c x + (-0) == c x exactly; c = 1 gives the identity.
    return affine(out, x, c, -0.0);
  case OpKind::Add:
    // c = -0 gives the identity; +0 does not (-0 + +0 = +0).
    return affine(out, x, 1.0, c);
  case OpKind::Sub:
    if (a) // c - x = -x + c
      return affine(out, x, -1.0, c);
    // x - c = x + (-c); x - (+0) is the identity.
    return affine(out, x, 1.0, isPositiveZero(c) ? -0.0 : -c);
  default:
    return ir::kNoValue;
  }
}

/// The maxpool2d of `x` with `window`'s kernel, stride and padding already
/// in `out`, or kNoValue.
ir::ValueId existingMaxPool(const ir::Function &out, ir::ValueId x, const ir::Attrs &window) {
  for (const ir::Node &m : out.nodes())
    if (m.op == OpKind::MaxPool2d && m.operands[0] == x && m.attrs == window)
      return m.result;
  return ir::kNoValue;
}

/// relu's gradient behind a max pool, on the pooled side:
/// maxpool2d_grad(x, g) * step{0, 1}(x) -> maxpool2d_grad(x, g * step{0, 1}(p))
/// with p = maxpool2d(x) already computed. Each window's gradient goes to
/// its first maximum, whose value is p's; every other element gets 0.
ir::ValueId maskBeforeMaxPoolGrad(ir::Function &out, const ir::Node &n) {
  for (int side = 0; side < 2; ++side) {
    const ir::Node *grad = ir::definingNode(out, n.operands[size_t(side)]);
    const ir::Node *mask = ir::definingNode(out, n.operands[size_t(1 - side)]);
    if (!grad || !mask || grad->op != OpKind::MaxPool2dGrad || mask->op != OpKind::Step ||
        !isPositiveZero(mask->attrs.f("low")) || mask->attrs.f("high") != 1.0 ||
        mask->operands[0] != grad->operands[0])
      continue;
    ir::ValueId x = grad->operands[0], g = grad->operands[1];
    ir::Attrs window = grad->attrs, step = mask->attrs;
    ir::ValueId pooled = existingMaxPool(out, x, window);
    if (pooled == ir::kNoValue)
      return ir::kNoValue; // computing it would cost what the rewrite saves
    ir::ValueId masked =
        out.addNode(OpKind::Mul, {g, out.addNode(OpKind::Step, {pooled}, std::move(step))});
    return out.addNode(OpKind::MaxPool2dGrad, {x, masked}, std::move(window));
  }
  return ir::kNoValue;
}

/// A sum over every position of a maxpool2d gradient is the sum of the
/// pooled gradient: each of its elements lands on exactly one position.
ir::ValueId sumBeforeMaxPoolGrad(ir::Function &out, const ir::Node &n) {
  const ir::Node *grad = ir::definingNode(out, n.operands[0]);
  const std::vector<int64_t> &axes = n.attrs.ints("axes");
  auto sums = [&](int64_t a) { return std::find(axes.begin(), axes.end(), a) != axes.end(); };
  if (!grad || grad->op != OpKind::MaxPool2dGrad || !sums(2) || !sums(3))
    return ir::kNoValue;
  return out.addNode(OpKind::ReduceSum, {grad->operands[1]}, n.attrs);
}

ir::ValueId simplify(ir::Function &out, const ir::Node &n) {
  switch (n.op) {
  case OpKind::Mul: {
    ir::ValueId v = binaryWithConstant(out, n);
    return v != ir::kNoValue ? v : maskBeforeMaxPoolGrad(out, n);
  }
  case OpKind::ReduceSum:
    return sumBeforeMaxPoolGrad(out, n);
  case OpKind::Add:
  case OpKind::Sub:
    return binaryWithConstant(out, n);
  case OpKind::Affine: {
    const ir::Node *inner = ir::definingNode(out, n.operands[0]);
    double scale = n.attrs.f("scale"), shift = n.attrs.f("shift");
    bool identity = scale == 1.0 && isNegativeZero(shift);
    if (!identity && !(inner && inner->op == OpKind::Affine))
      return ir::kNoValue;
    return affine(out, n.operands[0], scale, shift);
  }
  default:
    return ir::kNoValue;
  }
}

} // namespace

Expected<bool> AlgebraicPass::run(ir::Module &m) {
  return rewriteEachFunction(m, [] { return ir::NodeRewrite(simplify); });
}

} // namespace gradc::passes
