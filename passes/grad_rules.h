// Reverse-mode rules, one per differentiable op. A rule reads the forward
// node and the adjoint of its result, and builds the adjoint of each operand
// that wants one. The autodiff pass drives them and accumulates.
#pragma once

#include "ir/function.h"

#include <vector>

namespace gradc::passes {

/// What a rule sees: the function under construction, the forward node and
/// the adjoint dy of its result, and which operands want an adjoint.
class GradContext {
public:
  GradContext(ir::Function &f, ir::Node node, ir::ValueId dy, std::vector<bool> wants)
      : f_(f), node_(std::move(node)), dy_(dy), wants_(std::move(wants)),
        dx_(node_.operands.size(), ir::kNoValue) {}

  const ir::Node &node() const { return node_; }
  ir::ValueId dy() const { return dy_; }
  ir::ValueId x(size_t i) const { return node_.operands[i]; }
  ir::ValueId y() const { return node_.result; }
  const ir::TensorType &type(ir::ValueId v) const { return f_.type(v); }
  const ir::Attrs &attrs() const { return node_.attrs; }
  bool wants(size_t i) const { return wants_[i]; }
  /// Sets the adjoint contribution for operand i (ignored unless wanted).
  void setDx(size_t i, ir::ValueId v) {
    if (wants_[i])
      dx_[i] = v;
  }
  const std::vector<ir::ValueId> &dx() const { return dx_; }

  // Builders for rules.
  ir::ValueId op(ir::OpKind k, std::vector<ir::ValueId> operands, ir::Attrs a = {}) {
    return f_.addNode(k, std::move(operands), std::move(a));
  }
  ir::ValueId mul(ir::ValueId a, ir::ValueId b) { return op(ir::OpKind::Mul, {a, b}); }
  ir::ValueId affine(ir::ValueId a, double scale, double shift = 0) {
    return op(ir::OpKind::Affine, {a}, {{"scale", scale}, {"shift", shift}});
  }
  /// Sums `v` over `axis` and broadcasts the sum back to v's shape.
  ir::ValueId sumKeep(ir::ValueId v, int64_t axis);

private:
  ir::Function &f_;
  ir::Node node_; ///< a copy: rules append to the node list it came from
  ir::ValueId dy_;
  std::vector<bool> wants_;
  std::vector<ir::ValueId> dx_;
};

using GradRule = void (*)(GradContext &c);

/// The rule for `op`, or nullptr when the op is not differentiable (its
/// operands are integers, or it is itself a gradient op). Ops whose
/// derivative is zero almost everywhere (sign, step) have a rule that sets
/// nothing.
GradRule gradRule(ir::OpKind op);

} // namespace gradc::passes
