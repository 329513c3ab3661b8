// FLOP counts per op (ir/flops.h): each rule on a small node whose count is
// worked out by hand, and a convolution's gradients counted as the forward.
#include "ir/flops.h"

#include <gtest/gtest.h>

namespace gradc::ir {
namespace {

using Ints = std::vector<int64_t>;

/// The count of the last node added to `f`.
double lastFlops(const Function &f) { return nodeFlops(f, f.nodes().back()); }

TEST(Flops, MatMulIsTwoMNK) {
  Function f("f");
  ValueId a = f.addArg("a", ArgRole::Input, f32({3, 4})); // A^T: M = 4, K = 3
  ValueId b = f.addArg("b", ArgRole::Input, f32({5, 3})); // B^T: N = 5
  f.addNode(OpKind::MatMul, {a, b}, {{"transpose_a", true}, {"transpose_b", true}});
  EXPECT_EQ(lastFlops(f), 2.0 * 4 * 5 * 3);
}

TEST(Flops, ConvolutionAndItsGradientsCountTheSameMultiplyAdds) {
  Function f("f");
  ValueId x = f.addArg("x", ArgRole::Input, f32({2, 3, 8, 8}));
  ValueId w = f.addArg("w", ArgRole::Param, f32({4, 3, 3, 3}));
  Attrs conv{{"stride", Ints{1, 1}}, {"padding", Ints{0, 0}}, {"dilation", Ints{1, 1}}};
  ValueId y = f.addNode(OpKind::Conv2d, {x, w}, conv); // [2, 4, 6, 6]
  const double forward = 2.0 * 2 * 4 * 6 * 6 * 3 * 3 * 3;
  EXPECT_EQ(lastFlops(f), forward);
  f.addNode(OpKind::Conv2dGradInput, {y, w}, Attrs(conv).set("input_size", Ints{8, 8}));
  EXPECT_EQ(lastFlops(f), forward);
  f.addNode(OpKind::Conv2dGradWeight, {x, y}, Attrs(conv).set("kernel", Ints{3, 3}));
  EXPECT_EQ(lastFlops(f), forward);
}

TEST(Flops, PoolingCountsEachWindowElementOfEachOutput) {
  Function f("f");
  ValueId x = f.addArg("x", ArgRole::Input, f32({2, 3, 8, 8}));
  Attrs pool{{"kernel", Ints{2, 2}}, {"stride", Ints{2, 2}}, {"padding", Ints{0, 0}}};
  const double windows = 2.0 * 3 * 4 * 4 * 2 * 2; // output [2, 3, 4, 4], 2 x 2 windows
  ValueId y = f.addNode(OpKind::MaxPool2d, {x}, pool);
  EXPECT_EQ(lastFlops(f), windows);
  f.addNode(OpKind::MaxPool2dGrad, {x, y}, pool);
  EXPECT_EQ(lastFlops(f), windows);
  f.addNode(OpKind::AvgPool2d, {x}, pool);
  EXPECT_EQ(lastFlops(f), windows);
  f.addNode(OpKind::AvgPool2dGrad, {y}, Attrs(pool).set("input_size", Ints{8, 8}));
  EXPECT_EQ(lastFlops(f), windows);
}

TEST(Flops, ElementwiseReductionsAndDataMovement) {
  Function f("f");
  ValueId x = f.addArg("x", ArgRole::Input, f32({4, 10}));
  ValueId bias = f.addArg("bias", ArgRole::Param, f32({10}));
  ValueId labels = f.addArg("labels", ArgRole::Input, i32({4}));
  f.addNode(OpKind::Exp, {x});
  EXPECT_EQ(lastFlops(f), 40);
  ValueId b = f.addNode(OpKind::Broadcast, {bias}, {{"shape", Ints{4, 10}}, {"dims", Ints{1}}});
  EXPECT_EQ(lastFlops(f), 0);
  f.addNode(OpKind::Add, {x, b});
  EXPECT_EQ(lastFlops(f), 40);
  f.addNode(OpKind::ReduceSum, {x}, {{"axes", Ints{1}}});
  EXPECT_EQ(lastFlops(f), 40);
  f.addNode(OpKind::LogSoftmax, {x}, {{"axis", int64_t(1)}});
  EXPECT_EQ(lastFlops(f), 5 * 40);
  f.addNode(OpKind::Reshape, {x}, {{"shape", Ints{40}}});
  f.addNode(OpKind::OneHot, {labels}, {{"depth", int64_t(10)}});
  f.addNode(OpKind::Constant, {}, {{"value", 1.0}, {"shape", Ints{4, 10}}});
  EXPECT_EQ(lastFlops(f), 0);
  EXPECT_EQ(functionFlops(f), 40 + 40 + 40 + 5 * 40);
}

} // namespace
} // namespace gradc::ir
