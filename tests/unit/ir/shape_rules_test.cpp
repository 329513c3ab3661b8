// The op table and the shape/dtype rules.
#include "ir/ops.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace gradc::ir {
namespace {

Attrs window(std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> p) {
  return {{"kernel", k}, {"stride", s}, {"padding", p}};
}

TEST(OpTable, NamesRoundTrip) {
  for (const OpInfo &info : allOps()) {
    auto k = opFromName(info.name);
    ASSERT_TRUE(k.has_value()) << info.name;
    EXPECT_EQ(*k, info.kind);
  }
  EXPECT_FALSE(opFromName("no_such_op").has_value());
}

TEST(ShapeRules, MatMulTransposes) {
  Attrs a{{"transpose_a", false}, {"transpose_b", true}};
  auto t = inferType(OpKind::MatMul, {f32({4, 3}), f32({5, 3})}, a);
  ASSERT_TRUE(bool(t));
  EXPECT_EQ(t->shape, (Shape{4, 5}));
  auto bad = inferType(OpKind::MatMul, {f32({4, 3}), f32({5, 4})}, a);
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(bad.error().message().find("f32[4, 3]"), std::string::npos);
  EXPECT_NE(bad.error().message().find("f32[5, 4]"), std::string::npos);
}

TEST(ShapeRules, ConvFollowsPyTorch) {
  Attrs a{{"stride", std::vector<int64_t>{2, 1}},
          {"padding", std::vector<int64_t>{1, 0}},
          {"dilation", std::vector<int64_t>{2, 1}}};
  auto t = inferType(OpKind::Conv2d, {f32({3, 2, 9, 7}), f32({4, 2, 3, 2})}, a);
  ASSERT_TRUE(bool(t));
  // H' = floor((9 + 2 - 2*2 - 1) / 2) + 1 = 4; W' = 7 - 2 + 1 = 6.
  EXPECT_EQ(t->shape, (Shape{3, 4, 4, 6}));
  auto channels = inferType(OpKind::Conv2d, {f32({3, 3, 9, 7}), f32({4, 2, 3, 2})}, a);
  ASSERT_FALSE(bool(channels));
  EXPECT_NE(channels.error().message().find("channels"), std::string::npos);
}

TEST(ShapeRules, PoolWindowMustFit) {
  auto ok = inferType(OpKind::MaxPool2d, {f32({1, 1, 5, 5})}, window({3, 3}, {2, 2}, {1, 1}));
  ASSERT_TRUE(bool(ok));
  EXPECT_EQ(ok->shape, (Shape{1, 1, 3, 3}));
  EXPECT_FALSE(
      bool(inferType(OpKind::MaxPool2d, {f32({1, 1, 2, 2})}, window({3, 3}, {1, 1}, {0, 0}))));
  EXPECT_FALSE(
      bool(inferType(OpKind::MaxPool2d, {f32({1, 1, 5, 5})}, window({2, 2}, {1, 1}, {2, 2}))));
}

TEST(ShapeRules, HugeWindowAttributesAreErrorsNotOverflow) {
  // Found by fuzzing the IR parser: these used to overflow int64 (UB).
  const int64_t big = INT64_MAX;
  EXPECT_FALSE(windowOutSize(5, 3, 1, big, 1).has_value());
  EXPECT_FALSE(windowOutSize(5, big, 1, 0, 2).has_value());
  EXPECT_FALSE(
      bool(inferType(OpKind::MaxPool2d, {f32({1, 1, 5, 5})}, window({3, 3}, {1, 1}, {big, 1}))));
}

TEST(ShapeRules, BroadcastAndReduce) {
  auto b = inferType(OpKind::Broadcast, {f32({3})},
                     {{"shape", Shape{2, 3, 4}}, {"dims", std::vector<int64_t>{1}}});
  ASSERT_TRUE(bool(b));
  EXPECT_EQ(b->shape, (Shape{2, 3, 4}));
  EXPECT_FALSE(bool(inferType(OpKind::Broadcast, {f32({3})},
                              {{"shape", Shape{2, 3}}, {"dims", std::vector<int64_t>{0}}})));
  auto r = inferType(OpKind::ReduceSum, {f32({2, 3, 4})}, {{"axes", std::vector<int64_t>{0, 2}}});
  ASSERT_TRUE(bool(r));
  EXPECT_EQ(r->shape, (Shape{3}));
}

TEST(ShapeRules, AttributesAreChecked) {
  auto missing = inferType(OpKind::LeakyRelu, {f32({2})}, {});
  ASSERT_FALSE(bool(missing));
  EXPECT_NE(missing.error().message().find("slope"), std::string::npos);
  auto wrong = inferType(OpKind::LeakyRelu, {f32({2})}, {{"slope", int64_t(1)}});
  ASSERT_FALSE(bool(wrong));
  auto extra = inferType(OpKind::Relu, {f32({2})}, {{"slope", 0.1}});
  ASSERT_FALSE(bool(extra));
}

TEST(ShapeRules, OversizedShapesAreRejected) {
  EXPECT_FALSE(checkedNumElements({1 << 20, 1 << 20}).has_value());
  EXPECT_FALSE(checkedNumElements({-1, 2}).has_value());
  EXPECT_FALSE(
      bool(inferType(OpKind::Constant, {}, {{"value", 0.0}, {"shape", Shape{int64_t(1) << 40}}})));
}

} // namespace
} // namespace gradc::ir
