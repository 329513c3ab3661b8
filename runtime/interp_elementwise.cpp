// Reference kernels of the elementwise ops: one scalar function per op,
// applied to every element in double precision.
#include "runtime/interp_kernels.h"

#include <algorithm>
#include <cmath>

namespace gradc::runtime::interp {
namespace {

double sigmoid(double x) {
  // Never exp of a large positive number: both branches stay in (0, 1].
  if (x >= 0)
    return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

double sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; }

double unary(ir::OpKind op, const ir::Attrs &attrs, double x) {
  switch (op) {
  case ir::OpKind::Exp:
    return std::exp(x);
  case ir::OpKind::Log:
    return std::log(x);
  case ir::OpKind::Sqrt:
    return std::sqrt(x);
  case ir::OpKind::Abs:
    return std::abs(x);
  case ir::OpKind::Sign:
    return sign(x);
  case ir::OpKind::Relu:
    return x < 0 ? 0.0 : x; // NaN passes through, as in PyTorch
  case ir::OpKind::Sigmoid:
    return sigmoid(x);
  case ir::OpKind::Tanh:
    return std::tanh(x);
  case ir::OpKind::Softplus:
    return softplus(x);
  case ir::OpKind::LeakyRelu:
    return x > 0 ? x : attrs.f("slope") * x;
  case ir::OpKind::Step:
    return x > 0 ? attrs.f("high") : attrs.f("low");
  case ir::OpKind::Affine:
    return attrs.f("scale") * x + attrs.f("shift");
  default:
    GRADC_CHECK(false, std::string("not a unary op: ") + ir::opName(op));
  }
}

double binary(ir::OpKind op, double a, double b) {
  switch (op) {
  case ir::OpKind::Add:
    return a + b;
  case ir::OpKind::Sub:
    return a - b;
  case ir::OpKind::Mul:
    return a * b;
  case ir::OpKind::Div:
    return a / b;
  case ir::OpKind::SafeDiv:
    return b == 0 ? 0.0 : a / b;
  default:
    GRADC_CHECK(false, std::string("not a binary op: ") + ir::opName(op));
  }
}

} // namespace

DoubleBuffer evalElementwise(ir::OpKind op, const ir::Attrs &attrs, const Operands &xs) {
  const DoubleBuffer &a = xs.at(0).data;
  DoubleBuffer y(a.size());
  if (xs.size() == 1) {
    for (size_t i = 0; i < a.size(); ++i)
      y[i] = unary(op, attrs, a[i]);
    return y;
  }
  const DoubleBuffer &b = xs.at(1).data;
  GRADC_CHECK(a.size() == b.size(), "elementwise operands of different sizes");
  for (size_t i = 0; i < a.size(); ++i)
    y[i] = binary(op, a[i], b[i]);
  return y;
}

} // namespace gradc::runtime::interp
