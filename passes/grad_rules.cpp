// The gradient table. Each rule states its derivative in a comment and builds
// it from IR ops; non-smooth points follow PyTorch.
#include "passes/grad_rules.h"

#include <algorithm>

namespace gradc::passes {

using ir::OpKind;
using ir::ValueId;

ValueId GradContext::sumKeep(ValueId v, int64_t axis) {
  ir::Shape shape = type(v).shape; // a copy: op() may move the value table
  ValueId s = op(OpKind::ReduceSum, {v}, {{"axes", std::vector<int64_t>{axis}}});
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d)
    if (d != axis)
      dims.push_back(d);
  return op(OpKind::Broadcast, {s}, {{"shape", shape}, {"dims", dims}});
}

namespace {

// d/dx e^x = e^x = y
void gradExp(GradContext &c) { c.setDx(0, c.mul(c.dy(), c.y())); }
// d/dx ln x = 1/x
void gradLog(GradContext &c) { c.setDx(0, c.op(OpKind::Div, {c.dy(), c.x(0)})); }
// d/dx sqrt x = 1/(2y); taken as 0 where y = 0 (RMSE at a perfect fit)
void gradSqrt(GradContext &c) { c.setDx(0, c.op(OpKind::SafeDiv, {c.affine(c.dy(), 0.5), c.y()})); }
// d/dx |x| = sign x (0 at 0, as PyTorch)
void gradAbs(GradContext &c) { c.setDx(0, c.mul(c.dy(), c.op(OpKind::Sign, {c.x(0)}))); }
// sign and step are piecewise constant: zero gradient
void gradZero(GradContext &) {}
// d/dx relu x = [x > 0] (0 at 0, as PyTorch) = [y > 0]: read from the
// output, which the next layer keeps in memory anyway, so the fusion can
// compute the mask where it is used instead of storing it.
void gradRelu(GradContext &c) {
  ValueId s = c.op(OpKind::Step, {c.y()}, {{"low", 0.0}, {"high", 1.0}});
  c.setDx(0, c.mul(c.dy(), s));
}
// d/dx leaky_relu x = x > 0 ? 1 : slope (slope at 0, as PyTorch)
void gradLeakyRelu(GradContext &c) {
  ValueId s = c.op(OpKind::Step, {c.x(0)}, {{"low", c.attrs().f("slope")}, {"high", 1.0}});
  c.setDx(0, c.mul(c.dy(), s));
}
// d/dx sigmoid x = y (1 - y)
void gradSigmoid(GradContext &c) {
  c.setDx(0, c.mul(c.dy(), c.mul(c.y(), c.affine(c.y(), -1, 1))));
}
// d/dx tanh x = 1 - y^2
void gradTanh(GradContext &c) { c.setDx(0, c.mul(c.dy(), c.affine(c.mul(c.y(), c.y()), -1, 1))); }
// d/dx softplus x = sigmoid x
void gradSoftplus(GradContext &c) { c.setDx(0, c.mul(c.dy(), c.op(OpKind::Sigmoid, {c.x(0)}))); }
// d/dx (s x + t) = s
void gradAffine(GradContext &c) { c.setDx(0, c.affine(c.dy(), c.attrs().f("scale"))); }
// d/da (a + b) = 1, d/db = 1
void gradAdd(GradContext &c) {
  c.setDx(0, c.dy());
  c.setDx(1, c.dy());
}
// d/da (a - b) = 1, d/db = -1
void gradSub(GradContext &c) {
  c.setDx(0, c.dy());
  if (c.wants(1))
    c.setDx(1, c.affine(c.dy(), -1));
}
// d/da (a b) = b, d/db = a; d/dx (x x) = 2 x
void gradMul(GradContext &c) {
  if (c.x(0) == c.x(1)) {
    c.setDx(0, c.affine(c.mul(c.dy(), c.x(0)), 2));
    return;
  }
  if (c.wants(0))
    c.setDx(0, c.mul(c.dy(), c.x(1)));
  if (c.wants(1))
    c.setDx(1, c.mul(c.dy(), c.x(0)));
}
// d/da (a / b) = 1/b, d/db = -y/b (the same with safe_div, 0 where b = 0)
void gradDiv(GradContext &c) {
  OpKind div = c.node().op;
  if (c.wants(0))
    c.setDx(0, c.op(div, {c.dy(), c.x(1)}));
  if (c.wants(1))
    c.setDx(1, c.affine(c.op(div, {c.mul(c.dy(), c.y()), c.x(1)}), -1));
}
// C = op(A) op(B): dA = dC op(B)^T, dB = op(A)^T dC, transposes folded in.
void gradMatMul(GradContext &c) {
  bool ta = c.attrs().b("transpose_a"), tb = c.attrs().b("transpose_b");
  auto mm = [&](ValueId a, ValueId b, bool t1, bool t2) {
    return c.op(OpKind::MatMul, {a, b}, {{"transpose_a", t1}, {"transpose_b", t2}});
  };
  if (c.wants(0))
    c.setDx(0, ta ? mm(c.x(1), c.dy(), tb, true) : mm(c.dy(), c.x(1), false, !tb));
  if (c.wants(1))
    c.setDx(1, tb ? mm(c.dy(), c.x(0), true, ta) : mm(c.x(0), c.dy(), !ta, false));
}
// broadcast copies x along new axes: dx sums dy over them
void gradBroadcast(GradContext &c) {
  const auto &dims = c.attrs().ints("dims");
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < c.type(c.dy()).rank(); ++d)
    if (std::find(dims.begin(), dims.end(), d) == dims.end())
      axes.push_back(d);
  c.setDx(0, axes.empty() ? c.dy() : c.op(OpKind::ReduceSum, {c.dy()}, {{"axes", axes}}));
}
// reduce_sum: every summed element gets dy
void gradReduceSum(GradContext &c) {
  const auto &axes = c.attrs().ints("axes");
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < c.type(c.x(0)).rank(); ++d)
    if (std::find(axes.begin(), axes.end(), d) == axes.end())
      dims.push_back(d);
  c.setDx(0, c.op(OpKind::Broadcast, {c.dy()}, {{"shape", c.type(c.x(0)).shape}, {"dims", dims}}));
}
// reshape moves no data: dx is dy in x's shape
void gradReshape(GradContext &c) {
  c.setDx(0, c.op(OpKind::Reshape, {c.dy()}, {{"shape", c.type(c.x(0)).shape}}));
}
// softmax: dx = y (dy - sum(dy y))
void gradSoftmax(GradContext &c) {
  ValueId s = c.sumKeep(c.mul(c.dy(), c.y()), c.attrs().i("axis"));
  c.setDx(0, c.mul(c.y(), c.op(OpKind::Sub, {c.dy(), s})));
}
// log_softmax: dx = dy - exp(y) sum(dy)
void gradLogSoftmax(GradContext &c) {
  ValueId s = c.sumKeep(c.dy(), c.attrs().i("axis"));
  c.setDx(0, c.op(OpKind::Sub, {c.dy(), c.mul(c.op(OpKind::Exp, {c.y()}), s)}));
}
ir::Attrs windowAttrs(const GradContext &c, std::initializer_list<const char *> names) {
  ir::Attrs a;
  for (const char *n : names)
    a.set(n, c.attrs().ints(n));
  return a;
}
ir::Attrs withInputSize(ir::Attrs a, const ir::TensorType &x) {
  a.set("input_size", std::vector<int64_t>{x.shape[2], x.shape[3]});
  return a;
}
// conv2d: dx is the transposed convolution of dy, dw the correlation of x and dy
void gradConv2d(GradContext &c) {
  ir::Attrs a = windowAttrs(c, {"stride", "padding", "dilation"});
  if (c.wants(0))
    c.setDx(0, c.op(OpKind::Conv2dGradInput, {c.dy(), c.x(1)}, withInputSize(a, c.type(c.x(0)))));
  if (c.wants(1)) {
    const ir::Shape &w = c.type(c.x(1)).shape;
    a.set("kernel", std::vector<int64_t>{w[2], w[3]});
    c.setDx(1, c.op(OpKind::Conv2dGradWeight, {c.x(0), c.dy()}, a));
  }
}
// maxpool2d: each window's dy goes to its first maximum
void gradMaxPool(GradContext &c) {
  c.setDx(0, c.op(OpKind::MaxPool2dGrad, {c.x(0), c.dy()},
                  windowAttrs(c, {"kernel", "stride", "padding"})));
}
// avgpool2d: each window's dy spread evenly over its kh*kw cells
void gradAvgPool(GradContext &c) {
  c.setDx(0, c.op(OpKind::AvgPool2dGrad, {c.dy()},
                  withInputSize(windowAttrs(c, {"kernel", "stride", "padding"}), c.type(c.x(0)))));
}

} // namespace

GradRule gradRule(OpKind op) {
  switch (op) {
  case OpKind::Exp:
    return gradExp;
  case OpKind::Log:
    return gradLog;
  case OpKind::Sqrt:
    return gradSqrt;
  case OpKind::Abs:
    return gradAbs;
  case OpKind::Sign:
  case OpKind::Step:
  case OpKind::Constant:
    return gradZero;
  case OpKind::Relu:
    return gradRelu;
  case OpKind::LeakyRelu:
    return gradLeakyRelu;
  case OpKind::Sigmoid:
    return gradSigmoid;
  case OpKind::Tanh:
    return gradTanh;
  case OpKind::Softplus:
    return gradSoftplus;
  case OpKind::Affine:
    return gradAffine;
  case OpKind::Add:
    return gradAdd;
  case OpKind::Sub:
    return gradSub;
  case OpKind::Mul:
    return gradMul;
  case OpKind::Div:
  case OpKind::SafeDiv:
    return gradDiv;
  case OpKind::MatMul:
    return gradMatMul;
  case OpKind::Broadcast:
    return gradBroadcast;
  case OpKind::ReduceSum:
    return gradReduceSum;
  case OpKind::Reshape:
    return gradReshape;
  case OpKind::Softmax:
    return gradSoftmax;
  case OpKind::LogSoftmax:
    return gradLogSoftmax;
  case OpKind::Conv2d:
    return gradConv2d;
  case OpKind::MaxPool2d:
    return gradMaxPool;
  case OpKind::AvgPool2d:
    return gradAvgPool;
  case OpKind::OneHot:
  case OpKind::Conv2dGradInput:
  case OpKind::Conv2dGradWeight:
  case OpKind::MaxPool2dGrad:
  case OpKind::AvgPool2dGrad:
    return nullptr;
  }
  return nullptr;
}

} // namespace gradc::passes
