// FLOP counts per op (ir/flops.h). Elementwise ops follow from the op table's
// class; every structured op has its rule in one switch without a default.
#include "ir/flops.h"

namespace gradc::ir {
namespace {

double elements(const Function &f, ValueId v) { return double(f.type(v).numElements()); }

/// 2 N OC OH OW IC KH KW for the forward convolution whose output is `y`
/// ([N, OC, OH, OW]) and weight `w` ([OC, IC, KH, KW]).
double convFlops(const Shape &y, const Shape &w) {
  return 2.0 * double(y[0]) * double(y[1]) * double(y[2]) * double(y[3]) * double(w[1]) *
         double(w[2]) * double(w[3]);
}

/// N C OH OW KH KW for a pooling window `kernel` over the output `y`.
double poolFlops(const Shape &y, const std::vector<int64_t> &kernel) {
  return double(y[0]) * double(y[1]) * double(y[2]) * double(y[3]) * double(kernel[0]) *
         double(kernel[1]);
}

double structuredFlops(const Function &f, const Node &n) {
  auto shape = [&](size_t operand) -> const Shape & { return f.type(n.operands[operand]).shape; };
  const Shape &out = f.type(n.result).shape;
  switch (n.op) {
  case OpKind::MatMul: {
    const Shape &a = shape(0);
    double k = double(n.attrs.b("transpose_a") ? a[0] : a[1]);
    return 2.0 * double(out[0]) * double(out[1]) * k;
  }
  case OpKind::Conv2d: // (x, w) -> y
    return convFlops(out, shape(1));
  case OpKind::Conv2dGradInput: // (dy, w) -> dx
    return convFlops(shape(0), shape(1));
  case OpKind::Conv2dGradWeight: // (x, dy) -> dw
    return convFlops(shape(1), out);
  case OpKind::ReduceSum:
    return elements(f, n.operands[0]);
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
    return 5.0 * elements(f, n.result);
  case OpKind::MaxPool2d: // x -> y
  case OpKind::AvgPool2d:
    return poolFlops(out, n.attrs.ints("kernel"));
  case OpKind::MaxPool2dGrad: // (x, dy) -> dx
    return poolFlops(shape(1), n.attrs.ints("kernel"));
  case OpKind::AvgPool2dGrad: // dy -> dx
    return poolFlops(shape(0), n.attrs.ints("kernel"));
  case OpKind::Broadcast:
  case OpKind::Reshape:
  case OpKind::OneHot:
    return 0;
    // Sources and the elementwise ops (counted before the switch): their labels
    // come from the op table, so the compiler names any structured op missing here.
#define GRADC_OP(Enum, name, arity, kind, attrs) GRADC_FLOPS_UNSTRUCTURED_##kind(Enum)
#define GRADC_FLOPS_UNSTRUCTURED_Source(Enum) case OpKind::Enum:
#define GRADC_FLOPS_UNSTRUCTURED_Unary(Enum) case OpKind::Enum:
#define GRADC_FLOPS_UNSTRUCTURED_Binary(Enum) case OpKind::Enum:
#define GRADC_FLOPS_UNSTRUCTURED_Structured(Enum)
#include "ir/ops.def"
#undef GRADC_FLOPS_UNSTRUCTURED_Source
#undef GRADC_FLOPS_UNSTRUCTURED_Unary
#undef GRADC_FLOPS_UNSTRUCTURED_Binary
#undef GRADC_FLOPS_UNSTRUCTURED_Structured
    break;
  }
  return 0;
}

} // namespace

double nodeFlops(const Function &f, const Node &n) {
  if (isElementwise(n.op))
    return elements(f, n.result);
  return structuredFlops(f, n);
}

double functionFlops(const Function &f) {
  double total = 0;
  for (const Node &n : f.nodes())
    total += nodeFlops(f, n);
  return total;
}

} // namespace gradc::ir
