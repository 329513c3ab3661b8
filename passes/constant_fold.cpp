// Constant folding of elementwise ops, broadcasts and reshapes of splats.
#include "passes/constant_fold.h"

#include <cmath>

namespace gradc::passes {
namespace {

using ir::OpKind;

float sigmoid(float x) {
  float e = std::exp(-std::fabs(x));
  return x >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

float softplus(float x) { return (x < 0 ? 0.0f : x) + std::log1p(std::exp(-std::fabs(x))); }

float unary(OpKind op, const ir::Attrs &a, float x) {
  switch (op) {
  case OpKind::Exp:
    return std::exp(x);
  case OpKind::Log:
    return std::log(x);
  case OpKind::Sqrt:
    return std::sqrt(x);
  case OpKind::Abs:
    return std::fabs(x);
  case OpKind::Sign:
    return x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
  case OpKind::Relu:
    return x < 0 ? 0.0f : x;
  case OpKind::Sigmoid:
    return sigmoid(x);
  case OpKind::Tanh:
    return std::tanh(x);
  case OpKind::Softplus:
    return softplus(x);
  case OpKind::LeakyRelu:
    return x > 0 ? x : float(a.f("slope")) * x;
  case OpKind::Step:
    return x > 0 ? float(a.f("high")) : float(a.f("low"));
  case OpKind::Affine: {
    // Two roundings, as the JIT's fmul then fadd (ISO C++ mode: the
    // compiler does not contract them into an fma).
    float scaled = float(a.f("scale")) * x;
    return scaled + float(a.f("shift"));
  }
  default:
    GRADC_CHECK(false, std::string("not a unary op: ") + ir::opName(op));
  }
  return 0;
}

float binary(OpKind op, float x, float y) {
  switch (op) {
  case OpKind::Add:
    return x + y;
  case OpKind::Sub:
    return x - y;
  case OpKind::Mul:
    return x * y;
  case OpKind::Div:
    return x / y;
  case OpKind::SafeDiv:
    return y == 0 ? 0.0f : x / y;
  default:
    GRADC_CHECK(false, std::string("not a binary op: ") + ir::opName(op));
  }
  return 0;
}

/// The float value of `v` when a `constant` node defines it.
std::optional<float> constantValue(const ir::Function &f, ir::ValueId v) {
  const ir::Node *n = ir::definingNode(f, v);
  if (!n || n->op != OpKind::Constant)
    return std::nullopt;
  return float(n->attrs.f("value"));
}

ir::ValueId fold(ir::Function &out, const ir::Node &n) {
  bool reshapes = n.op == OpKind::Broadcast || n.op == OpKind::Reshape;
  if (n.operands.empty() || !(reshapes || ir::isElementwise(n.op)))
    return ir::kNoValue;
  std::vector<float> x;
  for (ir::ValueId o : n.operands) {
    std::optional<float> c = constantValue(out, o);
    if (!c)
      return ir::kNoValue;
    x.push_back(*c);
  }
  std::optional<float> y = reshapes ? x[0] : foldElementwise(n.op, n.attrs, x);
  GRADC_CHECK(y.has_value(), "folded an op that is not elementwise");
  std::vector<ir::TensorType> types;
  for (ir::ValueId o : n.operands)
    types.push_back(out.type(o));
  auto type = ir::inferType(n.op, types, n.attrs);
  GRADC_CHECK(bool(type), "a verified node fails its shape rule");
  return out.addNode(OpKind::Constant, {}, {{"value", double(*y)}, {"shape", type->shape}});
}

} // namespace

std::optional<float> foldElementwise(OpKind op, const ir::Attrs &attrs,
                                     const std::vector<float> &x) {
  switch (ir::opInfo(op).cls) {
  case ir::OpClass::Unary:
    return unary(op, attrs, x.at(0));
  case ir::OpClass::Binary:
    return binary(op, x.at(0), x.at(1));
  case ir::OpClass::Source:
  case ir::OpClass::Structured:
    return std::nullopt;
  }
  return std::nullopt;
}

Expected<bool> ConstantFoldPass::run(ir::Module &m) {
  return rewriteEachFunction(m, [] { return ir::NodeRewrite(fold); });
}

} // namespace gradc::passes
