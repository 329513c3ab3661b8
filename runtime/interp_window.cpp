// Reference kernels of the window ops: conv2d (NCHW input, OIHW weight,
// PyTorch's cross-correlation), max and average pooling, and their gradients.
// Each op and its gradient share one loop nest, so the gradients are the
// exact adjoints of the forward ops by construction.
#include "runtime/interp_kernels.h"

#include <cmath>

namespace gradc::runtime::interp {
namespace {

/// Sizes of one window op: input x [n, c, h, w], output y [n, oc, oh, ow],
/// window [kh, kw] with stride, padding and dilation.
struct Geometry {
  int64_t n, c, h, w;
  int64_t oc, oh, ow;
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;

  int64_t xIndex(int64_t b, int64_t ch, int64_t y, int64_t x) const {
    return ((b * c + ch) * h + y) * w + x;
  }
  int64_t yIndex(int64_t b, int64_t ch, int64_t y, int64_t x) const {
    return ((b * oc + ch) * oh + y) * ow + x;
  }
};

Geometry geometry(const ir::Attrs &attrs, const ir::Shape &x, const ir::Shape &y,
                  const std::vector<int64_t> &kernel, const std::vector<int64_t> &dilation) {
  const auto &s = attrs.ints("stride"), &p = attrs.ints("padding");
  return {x[0],      x[1], x[2], x[3], y[1], y[2],        y[3],       kernel[0],
          kernel[1], s[0], s[1], p[0], p[1], dilation[0], dilation[1]};
}

/// Conv geometry from the input, OIHW weight and output shapes.
Geometry convGeometry(const ir::Attrs &attrs, const ir::Shape &x, const ir::Shape &wt,
                      const ir::Shape &y) {
  GRADC_CHECK(wt[0] == y[1] && wt[1] == x[1], "conv2d channel mismatch");
  return geometry(attrs, x, y, {wt[2], wt[3]}, attrs.ints("dilation"));
}

/// Calls f(xi, wi, yi) for every product term x[xi] * w[wi] of output y[yi];
/// taps that fall in the zero padding are skipped.
template <typename F> void forEachConvTap(const Geometry &g, F f) {
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t o = 0; o < g.oc; ++o)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox)
          for (int64_t ch = 0; ch < g.c; ++ch)
            for (int64_t ky = 0; ky < g.kh; ++ky)
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                int64_t iy = oy * g.sh - g.ph + ky * g.dh;
                int64_t ix = ox * g.sw - g.pw + kx * g.dw;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
                  continue;
                int64_t wi = ((o * g.c + ch) * g.kh + ky) * g.kw + kx;
                f(size_t(g.xIndex(b, ch, iy, ix)), size_t(wi), size_t(g.yIndex(b, o, oy, ox)));
              }
}

/// Calls f(yi, xs) for every pooling window, xs holding the window's
/// in-bounds input positions in row-major window order.
template <typename F> void forEachPoolWindow(const Geometry &g, F f) {
  std::vector<size_t> window;
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t ch = 0; ch < g.c; ++ch)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          window.clear();
          for (int64_t ky = 0; ky < g.kh; ++ky)
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              int64_t iy = oy * g.sh - g.ph + ky;
              int64_t ix = ox * g.sw - g.pw + kx;
              if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
                window.push_back(size_t(g.xIndex(b, ch, iy, ix)));
            }
          f(size_t(g.yIndex(b, ch, oy, ox)), window);
        }
}

Geometry poolGeometry(const ir::Attrs &attrs, const ir::Shape &x, const ir::Shape &y) {
  return geometry(attrs, x, y, attrs.ints("kernel"), {1, 1});
}

/// The window's first maximum in row-major order (PyTorch: a NaN wins, the
/// last NaN if several). Padding is -inf, so it never wins.
size_t argmax(const DoubleBuffer &x, const std::vector<size_t> &window) {
  GRADC_CHECK(!window.empty(), "pooling window entirely in the padding");
  size_t best = window[0];
  for (size_t i : window)
    if (x[i] > x[best] || std::isnan(x[i]))
      best = i;
  return best;
}

DoubleBuffer conv(const Operands &xs, const ir::Attrs &attrs, const ir::TensorType &out) {
  const DoubleBuffer &x = xs[0].data, &w = xs[1].data;
  DoubleBuffer y(size_t(out.numElements()), 0.0);
  Geometry g = convGeometry(attrs, xs[0].type.shape, xs[1].type.shape, out.shape);
  forEachConvTap(g, [&](size_t xi, size_t wi, size_t yi) { y[yi] += x[xi] * w[wi]; });
  return y;
}

DoubleBuffer convGradInput(const Operands &xs, const ir::Attrs &attrs, const ir::TensorType &out) {
  const DoubleBuffer &dy = xs[0].data, &w = xs[1].data;
  DoubleBuffer dx(size_t(out.numElements()), 0.0);
  Geometry g = convGeometry(attrs, out.shape, xs[1].type.shape, xs[0].type.shape);
  forEachConvTap(g, [&](size_t xi, size_t wi, size_t yi) { dx[xi] += dy[yi] * w[wi]; });
  return dx;
}

DoubleBuffer convGradWeight(const Operands &xs, const ir::Attrs &attrs, const ir::TensorType &out) {
  const DoubleBuffer &x = xs[0].data, &dy = xs[1].data;
  DoubleBuffer dw(size_t(out.numElements()), 0.0);
  Geometry g = convGeometry(attrs, xs[0].type.shape, out.shape, xs[1].type.shape);
  forEachConvTap(g, [&](size_t xi, size_t wi, size_t yi) { dw[wi] += x[xi] * dy[yi]; });
  return dw;
}

DoubleBuffer maxPool(const Operands &xs, const ir::Attrs &attrs, const ir::TensorType &out) {
  const DoubleBuffer &x = xs[0].data;
  DoubleBuffer y(size_t(out.numElements()));
  Geometry g = poolGeometry(attrs, xs[0].type.shape, out.shape);
  forEachPoolWindow(g,
                    [&](size_t yi, const std::vector<size_t> &win) { y[yi] = x[argmax(x, win)]; });
  return y;
}

DoubleBuffer maxPoolGrad(const Operands &xs, const ir::Attrs &attrs, const ir::TensorType &out) {
  const DoubleBuffer &x = xs[0].data, &dy = xs[1].data;
  DoubleBuffer dx(size_t(out.numElements()), 0.0);
  Geometry g = poolGeometry(attrs, xs[0].type.shape, xs[1].type.shape);
  forEachPoolWindow(
      g, [&](size_t yi, const std::vector<size_t> &win) { dx[argmax(x, win)] += dy[yi]; });
  return dx;
}

/// Padding counts as zeros and in the divisor (count_include_pad=True): the
/// window always fits the padded input, so the divisor is kh * kw.
DoubleBuffer avgPool(const Operands &xs, const ir::Attrs &attrs, const ir::TensorType &out) {
  const DoubleBuffer &x = xs[0].data;
  DoubleBuffer y(size_t(out.numElements()), 0.0);
  Geometry g = poolGeometry(attrs, xs[0].type.shape, out.shape);
  double divisor = double(g.kh * g.kw);
  forEachPoolWindow(g, [&](size_t yi, const std::vector<size_t> &win) {
    for (size_t i : win)
      y[yi] += x[i];
    y[yi] /= divisor;
  });
  return y;
}

DoubleBuffer avgPoolGrad(const Operands &xs, const ir::Attrs &attrs, const ir::TensorType &out) {
  const DoubleBuffer &dy = xs[0].data;
  DoubleBuffer dx(size_t(out.numElements()), 0.0);
  Geometry g = poolGeometry(attrs, out.shape, xs[0].type.shape);
  double divisor = double(g.kh * g.kw);
  forEachPoolWindow(g, [&](size_t yi, const std::vector<size_t> &win) {
    for (size_t i : win)
      dx[i] += dy[yi] / divisor;
  });
  return dx;
}

} // namespace

DoubleBuffer evalWindow(ir::OpKind op, const ir::Attrs &attrs, const Operands &xs,
                        const ir::TensorType &out) {
  switch (op) {
  case ir::OpKind::Conv2d:
    return conv(xs, attrs, out);
  case ir::OpKind::Conv2dGradInput:
    return convGradInput(xs, attrs, out);
  case ir::OpKind::Conv2dGradWeight:
    return convGradWeight(xs, attrs, out);
  case ir::OpKind::MaxPool2d:
    return maxPool(xs, attrs, out);
  case ir::OpKind::MaxPool2dGrad:
    return maxPoolGrad(xs, attrs, out);
  case ir::OpKind::AvgPool2d:
    return avgPool(xs, attrs, out);
  case ir::OpKind::AvgPool2dGrad:
    return avgPoolGrad(xs, attrs, out);
  default:
    GRADC_CHECK(false, std::string("not a window op: ") + ir::opName(op));
  }
}

} // namespace gradc::runtime::interp
