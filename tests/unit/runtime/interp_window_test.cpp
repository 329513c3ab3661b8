// Reference interpreter: conv2d and pooling against values computed with
// PyTorch, and their gradients checked as exact adjoints on random shapes.
#include "tests/unit/runtime/interp_test_util.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gradc::runtime {
namespace {

using ir::OpKind;
using test_util::dot;
using test_util::evalOp;
using test_util::expectNear;
using test_util::outType;
using test_util::randomBuffer;
using Ints = std::vector<int64_t>;

ir::Attrs convAttrs(Ints stride, Ints padding, Ints dilation) {
  return {{"stride", stride}, {"padding", padding}, {"dilation", dilation}};
}

ir::Attrs poolAttrs(Ints kernel, Ints stride, Ints padding) {
  return {{"kernel", kernel}, {"stride", stride}, {"padding", padding}};
}

DoubleBuffer iota(int64_t n, double start = 1) {
  DoubleBuffer b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    b[size_t(i)] = start + double(i);
  return b;
}

TEST(InterpWindow, Conv2dSimple) {
  DoubleBuffer y = evalOp(OpKind::Conv2d,
                          {{ir::f32({1, 1, 3, 3}), iota(9)}, {ir::f32({1, 1, 2, 2}), {1, 1, 1, 1}}},
                          convAttrs({1, 1}, {0, 0}, {1, 1}));
  expectNear(y, {12, 16, 24, 28});
}

TEST(InterpWindow, Conv2dStridePaddingDilationMatchesTorch) {
  // F.conv2d(arange(1, 26).reshape(1,1,5,5), [[1,-1],[2,0.5]], stride=2, padding=1, dilation=2)
  DoubleBuffer y = evalOp(
      OpKind::Conv2d, {{ir::f32({1, 1, 5, 5}), iota(25)}, {ir::f32({1, 1, 2, 2}), {1, -1, 2, 0.5}}},
      convAttrs({2, 2}, {1, 1}, {2, 2}));
  expectNear(y, {3.5, 18.5, 18, 1.5, 41.5, 47, -17, -2, 19});
}

TEST(InterpWindow, Conv2dBatchAndChannelsMatchTorch) {
  // x = arange(36) - 10 as [2,2,3,3]; w = arange(24) % 5 - 2 as [3,2,2,2]; stride 2, padding 1.
  DoubleBuffer w(24);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = double(i % 5) - 2;
  DoubleBuffer y =
      evalOp(OpKind::Conv2d, {{ir::f32({2, 2, 3, 3}), iota(36, -10)}, {ir::f32({3, 2, 2, 2}), w}},
             convAttrs({2, 2}, {1, 1}, {1, 1}));
  expectNear(y, {-10, -8, -1,  7,   12,  24,  -18, -6, -21, -24, -5, -4,
                 8,   -8, -37, -47, -42, -30, -18, 12, 33,  48,  31, -4});
}

/// <dy, conv(x, w)> = <conv_grad_input(dy, w), x> = <conv_grad_weight(x, dy), w>.
TEST(InterpWindow, ConvGradientsAreAdjoints) {
  std::mt19937_64 gen(42);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(gen() % uint64_t(hi - lo + 1)); };
  int checked = 0;
  while (checked < 60) {
    int64_t n = pick(1, 2), c = pick(1, 3), o = pick(1, 3), h = pick(1, 7), wd = pick(1, 7);
    Ints k = {pick(1, 3), pick(1, 3)}, s = {pick(1, 3), pick(1, 2)};
    Ints p = {pick(0, 2), pick(0, 2)}, d = {pick(1, 2), pick(1, 3)};
    if (!ir::windowOutSize(h, k[0], s[0], p[0], d[0]) ||
        !ir::windowOutSize(wd, k[1], s[1], p[1], d[1]))
      continue;
    ir::TensorType xt = ir::f32({n, c, h, wd}), wt = ir::f32({o, c, k[0], k[1]});
    ir::Attrs attrs = convAttrs(s, p, d);
    ir::TensorType yt = outType(OpKind::Conv2d, {xt, wt}, attrs);
    DoubleBuffer x = randomBuffer(gen, xt.numElements()), w = randomBuffer(gen, wt.numElements());
    DoubleBuffer dy = randomBuffer(gen, yt.numElements());
    DoubleBuffer y = evalOp(OpKind::Conv2d, {{xt, x}, {wt, w}}, attrs);
    ir::Attrs gi = attrs, gw = attrs;
    gi.set("input_size", Ints{h, wd});
    gw.set("kernel", k);
    DoubleBuffer dx = evalOp(OpKind::Conv2dGradInput, {{yt, dy}, {wt, w}}, gi);
    DoubleBuffer dw = evalOp(OpKind::Conv2dGradWeight, {{xt, x}, {yt, dy}}, gw);
    double ref = dot(dy, y);
    EXPECT_NEAR(dot(dx, x), ref, 1e-12 * (1 + std::abs(ref))) << xt.str() << wt.str();
    EXPECT_NEAR(dot(dw, w), ref, 1e-12 * (1 + std::abs(ref))) << xt.str() << wt.str();
    ++checked;
  }
}

TEST(InterpWindow, MaxPool) {
  DoubleBuffer x = {1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 1, 9, 0, 1, 7};
  expectNear(
      evalOp(OpKind::MaxPool2d, {{ir::f32({1, 1, 4, 4}), x}}, poolAttrs({2, 2}, {2, 2}, {0, 0})),
      {5, 8, 9, 7});
}

TEST(InterpWindow, MaxPoolPaddingIsMinusInfinity) {
  DoubleBuffer x = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
  DoubleBuffer y =
      evalOp(OpKind::MaxPool2d, {{ir::f32({1, 1, 3, 3}), x}}, poolAttrs({2, 2}, {2, 2}, {1, 1}));
  expectNear(y, {-1, -2, -4, -5});
}

TEST(InterpWindow, MaxPoolGradGoesToFirstMaximum) {
  // PyTorch: max_pool2d(x, 2, stride=1).backward([[1, 2], [4, 8]]).
  ir::TensorType xt = ir::f32({1, 1, 3, 3}), yt = ir::f32({1, 1, 2, 2});
  ir::Attrs attrs = poolAttrs({2, 2}, {1, 1}, {0, 0});
  DoubleBuffer ties = {1, 1, 0, 1, 1, 0, 0, 0, 0};
  expectNear(evalOp(OpKind::MaxPool2dGrad, {{xt, ties}, {yt, {1, 2, 4, 8}}}, attrs),
             {1, 2, 0, 4, 8, 0, 0, 0, 0});
  // Overlapping windows sharing one maximum accumulate into it.
  DoubleBuffer centre = {0, 0, 0, 0, 9, 0, 0, 0, 0};
  expectNear(evalOp(OpKind::MaxPool2dGrad, {{xt, centre}, {yt, {1, 2, 4, 8}}}, attrs),
             {0, 0, 0, 0, 15, 0, 0, 0, 0});
}

/// Without ties maxpool is locally linear: maxpool(x + e v) - maxpool(x) = e J v,
/// and <dy, J v> must equal <maxpool_grad(x, dy), v>.
TEST(InterpWindow, MaxPoolGradIsTheLocalAdjoint) {
  std::mt19937_64 gen(3);
  ir::TensorType xt = ir::f32({2, 3, 7, 6});
  for (const ir::Attrs &attrs :
       {poolAttrs({2, 2}, {2, 2}, {0, 0}), poolAttrs({3, 2}, {1, 2}, {1, 1}),
        poolAttrs({3, 3}, {2, 1}, {1, 0})}) {
    ir::TensorType yt = outType(OpKind::MaxPool2d, {xt}, attrs);
    DoubleBuffer x = randomBuffer(gen, xt.numElements()), v = randomBuffer(gen, xt.numElements());
    DoubleBuffer dy = randomBuffer(gen, yt.numElements());
    double e = 1e-7;
    DoubleBuffer xe = x;
    for (size_t i = 0; i < x.size(); ++i)
      xe[i] += e * v[i];
    DoubleBuffer y0 = evalOp(OpKind::MaxPool2d, {{xt, x}}, attrs);
    DoubleBuffer y1 = evalOp(OpKind::MaxPool2d, {{xt, xe}}, attrs);
    DoubleBuffer jv(y0.size());
    for (size_t i = 0; i < y0.size(); ++i)
      jv[i] = (y1[i] - y0[i]) / e;
    DoubleBuffer dx = evalOp(OpKind::MaxPool2dGrad, {{xt, x}, {yt, dy}}, attrs);
    EXPECT_NEAR(dot(dy, jv), dot(dx, v), 1e-6);
  }
}

TEST(InterpWindow, AvgPoolCountsPaddingMatchesTorch) {
  // F.avg_pool2d([[1, 2], [3, 4]], 2, stride=1, padding=1)
  DoubleBuffer y = evalOp(OpKind::AvgPool2d, {{ir::f32({1, 1, 2, 2}), {1, 2, 3, 4}}},
                          poolAttrs({2, 2}, {1, 1}, {1, 1}));
  expectNear(y, {0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1});
}

TEST(InterpWindow, AvgPoolGradIsTheAdjoint) {
  std::mt19937_64 gen(5);
  ir::TensorType xt = ir::f32({2, 2, 6, 7});
  for (const ir::Attrs &attrs :
       {poolAttrs({2, 2}, {2, 2}, {0, 0}), poolAttrs({3, 2}, {1, 2}, {1, 1}),
        poolAttrs({3, 3}, {2, 3}, {1, 0})}) {
    ir::TensorType yt = outType(OpKind::AvgPool2d, {xt}, attrs);
    DoubleBuffer x = randomBuffer(gen, xt.numElements());
    DoubleBuffer dy = randomBuffer(gen, yt.numElements());
    DoubleBuffer y = evalOp(OpKind::AvgPool2d, {{xt, x}}, attrs);
    ir::Attrs ga = attrs;
    ga.set("input_size", Ints{6, 7});
    DoubleBuffer dx = evalOp(OpKind::AvgPool2dGrad, {{yt, dy}}, ga);
    EXPECT_NEAR(dot(dy, y), dot(dx, x), 1e-13);
  }
}

} // namespace
} // namespace gradc::runtime
