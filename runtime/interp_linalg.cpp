// Reference kernels of the structured non-window ops: matmul, broadcast,
// reduce_sum, reshape, softmax, log_softmax and one_hot. Plain nested loops.
#include "runtime/interp_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradc::runtime::interp {
namespace {

/// Row-major strides of `shape`.
std::vector<int64_t> strides(const ir::Shape &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    s[d - 1] = s[d] * shape[d];
  return s;
}

/// The multi-index of flat position `flat` in `shape`.
std::vector<int64_t> unravel(int64_t flat, const ir::Shape &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

int64_t product(const ir::Shape &shape, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t d = from; d < to; ++d)
    p *= shape[d];
  return p;
}

DoubleBuffer matmul(const ir::Attrs &attrs, const Operands &xs, const ir::TensorType &out) {
  bool ta = attrs.b("transpose_a"), tb = attrs.b("transpose_b");
  const ir::Shape &as = xs[0].type.shape;
  int64_t m = out.shape[0], n = out.shape[1], k = ta ? as[0] : as[1];
  const DoubleBuffer &a = xs[0].data, &b = xs[1].data;
  DoubleBuffer y(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) {
        double av = ta ? a[size_t(p * m + i)] : a[size_t(i * k + p)];
        double bv = tb ? b[size_t(j * k + p)] : b[size_t(p * n + j)];
        acc += av * bv;
      }
      y[size_t(i * n + j)] = acc;
    }
  return y;
}

DoubleBuffer broadcast(const ir::Attrs &attrs, const Operand &x, const ir::TensorType &out) {
  const auto &dims = attrs.ints("dims");
  std::vector<int64_t> inStrides = strides(x.type.shape);
  DoubleBuffer y(size_t(out.numElements()));
  for (int64_t o = 0; o < int64_t(y.size()); ++o) {
    std::vector<int64_t> idx = unravel(o, out.shape);
    int64_t in = 0;
    for (size_t i = 0; i < dims.size(); ++i)
      in += idx[size_t(dims[i])] * inStrides[i];
    y[size_t(o)] = x.data[size_t(in)];
  }
  return y;
}

DoubleBuffer reduceSum(const ir::Attrs &attrs, const Operand &x, const ir::TensorType &out) {
  const auto &axes = attrs.ints("axes");
  std::vector<int64_t> outStrides = strides(out.shape);
  DoubleBuffer y(size_t(out.numElements()), 0.0);
  for (int64_t i = 0; i < int64_t(x.data.size()); ++i) {
    std::vector<int64_t> idx = unravel(i, x.type.shape);
    int64_t o = 0;
    size_t od = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end())
        o += idx[d] * outStrides[od++];
    y[size_t(o)] += x.data[size_t(i)];
  }
  return y;
}

/// softmax or log_softmax along `axis`, subtracting the maximum first.
DoubleBuffer softmax(const ir::Attrs &attrs, const Operand &x, bool log) {
  const ir::Shape &shape = x.type.shape;
  size_t axis = size_t(attrs.i("axis"));
  int64_t outer = product(shape, 0, axis), n = shape[axis];
  int64_t inner = product(shape, axis + 1, shape.size());
  DoubleBuffer y(x.data.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t j) { return size_t((o * n + j) * inner + in); };
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < n; ++j)
        mx = std::max(mx, x.data[at(j)]);
      double sum = 0;
      for (int64_t j = 0; j < n; ++j)
        sum += std::exp(x.data[at(j)] - mx);
      for (int64_t j = 0; j < n; ++j)
        y[at(j)] = log ? x.data[at(j)] - mx - std::log(sum) : std::exp(x.data[at(j)] - mx) / sum;
    }
  return y;
}

DoubleBuffer oneHot(const ir::Attrs &attrs, const Operand &x) {
  int64_t depth = attrs.i("depth");
  DoubleBuffer y(x.data.size() * size_t(depth), 0.0);
  for (size_t i = 0; i < x.data.size(); ++i) {
    double c = x.data[i];
    if (c >= 0 && c < double(depth))
      y[i * size_t(depth) + size_t(c)] = 1.0;
  }
  return y;
}

} // namespace

DoubleBuffer evalLinalg(ir::OpKind op, const ir::Attrs &attrs, const Operands &xs,
                        const ir::TensorType &out) {
  switch (op) {
  case ir::OpKind::MatMul:
    return matmul(attrs, xs, out);
  case ir::OpKind::Broadcast:
    return broadcast(attrs, xs[0], out);
  case ir::OpKind::ReduceSum:
    return reduceSum(attrs, xs[0], out);
  case ir::OpKind::Reshape:
    return xs[0].data;
  case ir::OpKind::Softmax:
    return softmax(attrs, xs[0], false);
  case ir::OpKind::LogSoftmax:
    return softmax(attrs, xs[0], true);
  case ir::OpKind::OneHot:
    return oneHot(attrs, xs[0]);
  default:
    GRADC_CHECK(false, std::string("not a linalg op: ") + ir::opName(op));
  }
}

} // namespace gradc::runtime::interp
