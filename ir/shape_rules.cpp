// Output type of every op: the one shape/dtype rule per op that builders, the
// frontend and the verifier share. Messages print every shape involved.
#include "ir/ops.h"

#include <algorithm>

namespace gradc::ir {
namespace {

using Types = std::vector<TensorType>;

Error err(OpKind op, const std::string &what) {
  return Error(std::string(opName(op)) + ": " + what);
}

Status needF32(OpKind op, const TensorType &t, const char *which) {
  if (t.dtype != DType::F32)
    return err(op, std::string(which) + " must be f32, got " + t.str());
  return Status::ok();
}

Status needRank(OpKind op, const TensorType &t, int64_t rank, const char *which) {
  if (t.rank() != rank)
    return err(op,
               std::string(which) + " must have rank " + std::to_string(rank) + ", got " + t.str());
  return Status::ok();
}

Status needPair(OpKind op, const Attrs &a, const char *name, int64_t min) {
  const auto &v = a.ints(name);
  if (v.size() != 2 || v[0] < min || v[1] < min)
    return err(op, std::string(name) + " must be two integers >= " + std::to_string(min) +
                       ", got " + shapeStr(v));
  return Status::ok();
}

Expected<TensorType> checkedType(OpKind op, DType dtype, Shape shape) {
  if (!checkedNumElements(shape))
    return err(op, "output shape " + shapeStr(shape) + " is too large");
  return TensorType{dtype, std::move(shape)};
}

Expected<TensorType> inferMatMul(const Types &t, const Attrs &a) {
  OpKind op = OpKind::MatMul;
  GRADC_TRY_STATUS(needF32(op, t[0], "lhs"));
  GRADC_TRY_STATUS(needF32(op, t[1], "rhs"));
  GRADC_TRY_STATUS(needRank(op, t[0], 2, "lhs"));
  GRADC_TRY_STATUS(needRank(op, t[1], 2, "rhs"));
  bool ta = a.b("transpose_a"), tb = a.b("transpose_b");
  int64_t m = t[0].shape[ta ? 1 : 0], k1 = t[0].shape[ta ? 0 : 1];
  int64_t k2 = t[1].shape[tb ? 1 : 0], n = t[1].shape[tb ? 0 : 1];
  if (k1 != k2)
    return err(op, "inner dimensions differ: " + t[0].str() + (ta ? "^T" : "") + " x " +
                       t[1].str() + (tb ? "^T" : ""));
  return checkedType(op, DType::F32, {m, n});
}

Expected<TensorType> inferBroadcast(const Types &t, const Attrs &a) {
  OpKind op = OpKind::Broadcast;
  const Shape &out = a.ints("shape");
  const auto &dims = a.ints("dims");
  if (int64_t(dims.size()) != t[0].rank())
    return err(op, "dims " + shapeStr(dims) + " must name one output axis per input axis of " +
                       t[0].str());
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0 || dims[i] >= int64_t(out.size()) || (i && dims[i] <= dims[i - 1]))
      return err(op, "dims " + shapeStr(dims) + " must be increasing axes of " + shapeStr(out));
    if (out[dims[i]] != t[0].shape[i])
      return err(op, "cannot broadcast " + t[0].str() + " to " + shapeStr(out) + " along dims " +
                         shapeStr(dims));
  }
  return checkedType(op, t[0].dtype, out);
}

Expected<TensorType> inferReduceSum(const Types &t, const Attrs &a) {
  OpKind op = OpKind::ReduceSum;
  GRADC_TRY_STATUS(needF32(op, t[0], "input"));
  const auto &axes = a.ints("axes");
  Shape out;
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= t[0].rank() || (i && axes[i] <= axes[i - 1]))
      return err(op, "axes " + shapeStr(axes) + " must be increasing axes of " + t[0].str());
  for (int64_t d = 0; d < t[0].rank(); ++d)
    if (std::find(axes.begin(), axes.end(), d) == axes.end())
      out.push_back(t[0].shape[d]);
  return checkedType(op, DType::F32, out);
}

Expected<TensorType> inferReshape(const Types &t, const Attrs &a) {
  OpKind op = OpKind::Reshape;
  const Shape &out = a.ints("shape");
  auto n = checkedNumElements(out);
  if (!n || *n != t[0].numElements())
    return err(op,
               "cannot reshape " + t[0].str() + " to " + shapeStr(out) + ": element counts differ");
  return TensorType{t[0].dtype, out};
}

Expected<TensorType> inferSoftmax(OpKind op, const Types &t, const Attrs &a) {
  GRADC_TRY_STATUS(needF32(op, t[0], "input"));
  if (t[0].rank() < 1)
    return err(op, "input must have rank >= 1, got " + t[0].str());
  int64_t axis = a.i("axis");
  if (axis < 0 || axis >= t[0].rank())
    return err(op, "axis " + std::to_string(axis) + " is out of range for " + t[0].str());
  return t[0];
}

Expected<TensorType> inferOneHot(const Types &t, const Attrs &a) {
  OpKind op = OpKind::OneHot;
  if (t[0].dtype != DType::I32)
    return err(op, "indices must be i32, got " + t[0].str());
  if (a.i("depth") < 1)
    return err(op, "depth must be >= 1");
  Shape out = t[0].shape;
  out.push_back(a.i("depth"));
  return checkedType(op, DType::F32, out);
}

/// Checks the window attributes shared by conv and pool ops.
Status checkWindowAttrs(OpKind op, const Attrs &a, bool conv) {
  GRADC_TRY_STATUS(needPair(op, a, "stride", 1));
  GRADC_TRY_STATUS(needPair(op, a, "padding", 0));
  return needPair(op, a, conv ? "dilation" : "kernel", 1);
}

Expected<Shape> windowOut(OpKind op, const Shape &in, const std::vector<int64_t> &kernel,
                          const Attrs &a, const std::vector<int64_t> &dilation) {
  const auto &s = a.ints("stride"), &p = a.ints("padding");
  Shape out(2);
  for (int d = 0; d < 2; ++d) {
    auto o = windowOutSize(in[d], kernel[d], s[d], p[d], dilation[d]);
    if (!o)
      return err(op, "window " + shapeStr(kernel) + " (dilation " + shapeStr(dilation) +
                         ", padding " + shapeStr(p) + ") does not fit the input size " +
                         shapeStr({in[0], in[1]}));
    out[d] = *o;
  }
  return out;
}

Expected<TensorType> inferConv(const Types &t, const Attrs &a) {
  OpKind op = OpKind::Conv2d;
  GRADC_TRY_STATUS(checkWindowAttrs(op, a, true));
  GRADC_TRY_STATUS(needF32(op, t[0], "input"));
  GRADC_TRY_STATUS(needF32(op, t[1], "weight"));
  GRADC_TRY_STATUS(needRank(op, t[0], 4, "input"));
  GRADC_TRY_STATUS(needRank(op, t[1], 4, "weight"));
  if (t[0].shape[1] != t[1].shape[1])
    return err(op, "input " + t[0].str() + " has " + std::to_string(t[0].shape[1]) +
                       " channels but weight " + t[1].str() + " expects " +
                       std::to_string(t[1].shape[1]));
  GRADC_TRY(hw, windowOut(op, {t[0].shape[2], t[0].shape[3]}, {t[1].shape[2], t[1].shape[3]}, a,
                          a.ints("dilation")));
  return checkedType(op, DType::F32, {t[0].shape[0], t[1].shape[0], hw[0], hw[1]});
}

Expected<TensorType> inferConvGradInput(const Types &t, const Attrs &a) {
  OpKind op = OpKind::Conv2dGradInput;
  GRADC_TRY_STATUS(checkWindowAttrs(op, a, true));
  GRADC_TRY_STATUS(needPair(op, a, "input_size", 1));
  GRADC_TRY_STATUS(needRank(op, t[0], 4, "dy"));
  GRADC_TRY_STATUS(needRank(op, t[1], 4, "weight"));
  const auto &in = a.ints("input_size");
  GRADC_TRY(hw, windowOut(op, in, {t[1].shape[2], t[1].shape[3]}, a, a.ints("dilation")));
  Shape want = {t[0].shape[0], t[1].shape[0], hw[0], hw[1]};
  if (t[0].shape != want)
    return err(op, "dy " + t[0].str() + " does not match the forward output " + shapeStr(want));
  return checkedType(op, DType::F32, {t[0].shape[0], t[1].shape[1], in[0], in[1]});
}

Expected<TensorType> inferConvGradWeight(const Types &t, const Attrs &a) {
  OpKind op = OpKind::Conv2dGradWeight;
  GRADC_TRY_STATUS(checkWindowAttrs(op, a, true));
  GRADC_TRY_STATUS(needPair(op, a, "kernel", 1));
  GRADC_TRY_STATUS(needRank(op, t[0], 4, "input"));
  GRADC_TRY_STATUS(needRank(op, t[1], 4, "dy"));
  const auto &k = a.ints("kernel");
  GRADC_TRY(hw, windowOut(op, {t[0].shape[2], t[0].shape[3]}, k, a, a.ints("dilation")));
  if (t[1].shape[0] != t[0].shape[0] || t[1].shape[2] != hw[0] || t[1].shape[3] != hw[1])
    return err(op,
               "dy " + t[1].str() + " does not match the forward output of input " + t[0].str());
  return checkedType(op, DType::F32, {t[1].shape[1], t[0].shape[1], k[0], k[1]});
}

Expected<TensorType> inferPool(OpKind op, const Types &t, const Attrs &a) {
  GRADC_TRY_STATUS(checkWindowAttrs(op, a, false));
  GRADC_TRY_STATUS(needF32(op, t[0], "input"));
  GRADC_TRY_STATUS(needRank(op, t[0], 4, "input"));
  const auto &k = a.ints("kernel"), &p = a.ints("padding");
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2)
    return err(op, "padding " + shapeStr(p) + " must be at most half the kernel " + shapeStr(k));
  GRADC_TRY(hw, windowOut(op, {t[0].shape[2], t[0].shape[3]}, k, a, {1, 1}));
  return checkedType(op, DType::F32, {t[0].shape[0], t[0].shape[1], hw[0], hw[1]});
}

Expected<TensorType> inferMaxPoolGrad(const Types &t, const Attrs &a) {
  GRADC_TRY(y, inferPool(OpKind::MaxPool2dGrad, {t[0]}, a));
  if (t[1] != y)
    return err(OpKind::MaxPool2dGrad,
               "dy " + t[1].str() + " does not match the forward output " + y.str());
  return t[0];
}

Expected<TensorType> inferAvgPoolGrad(const Types &t, const Attrs &a) {
  OpKind op = OpKind::AvgPool2dGrad;
  GRADC_TRY_STATUS(needPair(op, a, "input_size", 1));
  GRADC_TRY_STATUS(needRank(op, t[0], 4, "dy"));
  const auto &in = a.ints("input_size");
  TensorType x = f32({t[0].shape[0], t[0].shape[1], in[0], in[1]});
  GRADC_TRY(y, inferPool(op, {x}, a));
  if (t[0] != y)
    return err(op, "dy " + t[0].str() + " does not match the forward output " + y.str());
  return x;
}

Expected<TensorType> inferElementwise(OpKind op, const Types &t) {
  for (const TensorType &x : t)
    GRADC_TRY_STATUS(needF32(op, x, "operand"));
  if (t.size() == 2 && t[0].shape != t[1].shape)
    return err(op, "operand shapes differ: " + t[0].str() + " and " + t[1].str());
  return t[0];
}

Expected<TensorType> inferStructured(OpKind op, const Types &t, const Attrs &a) {
  switch (op) {
  case OpKind::MatMul:
    return inferMatMul(t, a);
  case OpKind::Broadcast:
    return inferBroadcast(t, a);
  case OpKind::ReduceSum:
    return inferReduceSum(t, a);
  case OpKind::Reshape:
    return inferReshape(t, a);
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
    return inferSoftmax(op, t, a);
  case OpKind::OneHot:
    return inferOneHot(t, a);
  case OpKind::Conv2d:
    return inferConv(t, a);
  case OpKind::Conv2dGradInput:
    return inferConvGradInput(t, a);
  case OpKind::Conv2dGradWeight:
    return inferConvGradWeight(t, a);
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d:
    return inferPool(op, t, a);
  case OpKind::MaxPool2dGrad:
    return inferMaxPoolGrad(t, a);
  case OpKind::AvgPool2dGrad:
    return inferAvgPoolGrad(t, a);
  default:
    GRADC_CHECK(false, std::string("no shape rule for ") + opName(op));
  }
}

} // namespace

Expected<TensorType> inferType(OpKind op, const std::vector<TensorType> &operands,
                               const Attrs &attrs) {
  const OpInfo &info = opInfo(op);
  if (int(operands.size()) != info.arity)
    return err(op, "takes " + std::to_string(info.arity) + " operands, got " +
                       std::to_string(operands.size()));
  GRADC_TRY_STATUS(checkAttrs(op, attrs));
  switch (info.cls) {
  case OpClass::Source: {
    const Shape &shape = attrs.ints("shape");
    return checkedType(op, DType::F32, shape);
  }
  case OpClass::Unary:
  case OpClass::Binary:
    return inferElementwise(op, operands);
  case OpClass::Structured:
    return inferStructured(op, operands, attrs);
  }
  return err(op, "unknown op class");
}

} // namespace gradc::ir
