// Every gradient rule against central finite differences (double precision),
// and the non-smooth points against PyTorch's conventions.
#include "grad_check_util.h"

#include "ir/verifier.h"

namespace gradc::testing {
namespace {

using ir::OpKind;

/// One op under test: loss = sum(op(operands) * weights), so every output
/// element gets a distinct upstream gradient.
struct OpCase {
  std::string label;
  OpKind op;
  std::vector<ir::TensorType> operands;
  ir::Attrs attrs;
  double lo = -2, hi = 2, gap = 0.05;
};

void checkOp(const OpCase &c) {
  SCOPED_TRACE(c.label);
  ir::Function f("forward");
  std::vector<ir::ValueId> xs;
  std::vector<int32_t> wrt;
  for (size_t i = 0; i < c.operands.size(); ++i) {
    wrt.push_back(int32_t(i));
    xs.push_back(f.addArg("x" + std::to_string(i), ir::ArgRole::Param, c.operands[i]));
  }
  ir::ValueId y = f.addNode(c.op, xs, c.attrs);
  ir::ValueId w = f.addArg("w", ir::ArgRole::Input, f.type(y));
  ir::ValueId prod = f.addNode(OpKind::Mul, {y, w});
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < f.type(y).rank(); ++d)
    axes.push_back(d);
  ir::ValueId loss = f.addNode(OpKind::ReduceSum, {prod}, {{"axes", axes}});
  f.addResult("loss", ir::ResultRole::Loss, loss);
  ASSERT_TRUE(bool(ir::verify(f)));
  std::vector<runtime::DoubleBuffer> args;
  for (size_t i = 0; i < c.operands.size(); ++i)
    args.push_back(randomValues(17 + i, c.operands[i].numElements(), c.lo, c.hi, c.gap));
  args.push_back(randomValues(99, f.type(y).numElements(), -1, 1));
  auto bwd = passes::differentiate(f, wrt);
  ASSERT_TRUE(bool(bwd));
  ASSERT_TRUE(bool(ir::verify(*bwd))) << ir::verify(*bwd).error().message();
  expectGradientsMatch(f, wrt, args);
}

ir::Attrs window(std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> p) {
  return {{"kernel", k}, {"stride", s}, {"padding", p}};
}

ir::Attrs mm(bool ta, bool tb) { return {{"transpose_a", ta}, {"transpose_b", tb}}; }

TEST(GradCheck, ElementwiseUnary) {
  auto t = ir::f32({3, 5});
  checkOp({"exp", OpKind::Exp, {t}, {}});
  checkOp({"log", OpKind::Log, {t}, {}, 0.2, 3});
  checkOp({"sqrt", OpKind::Sqrt, {t}, {}, 0.2, 3});
  checkOp({"abs", OpKind::Abs, {t}, {}});
  checkOp({"relu", OpKind::Relu, {t}, {}});
  checkOp({"sigmoid", OpKind::Sigmoid, {t}, {}});
  checkOp({"tanh", OpKind::Tanh, {t}, {}});
  checkOp({"softplus", OpKind::Softplus, {t}, {}, -30, 30});
  checkOp({"leaky_relu", OpKind::LeakyRelu, {t}, {{"slope", 0.2}}});
  checkOp({"affine", OpKind::Affine, {t}, {{"scale", -1.5}, {"shift", 0.25}}});
}

TEST(GradCheck, ElementwiseBinary) {
  auto t = ir::f32({4, 3});
  checkOp({"add", OpKind::Add, {t, t}, {}});
  checkOp({"sub", OpKind::Sub, {t, t}, {}});
  checkOp({"mul", OpKind::Mul, {t, t}, {}});
  checkOp({"div", OpKind::Div, {t, t}, {}, 0.3, 2});
  checkOp({"safe_div", OpKind::SafeDiv, {t, t}, {}, 0.3, 2});
}

TEST(GradCheck, MulOfItself) {
  ir::Function f("forward");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Param, ir::f32({5}));
  ir::ValueId sq = f.addNode(OpKind::Mul, {x, x});
  f.addResult("loss", ir::ResultRole::Loss,
              f.addNode(OpKind::ReduceSum, {sq}, {{"axes", std::vector<int64_t>{0}}}));
  expectGradientsMatch(f, {0}, {randomValues(3, 5, -2, 2)});
}

TEST(GradCheck, MatMulAllTransposes) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      auto a = ta ? ir::f32({4, 3}) : ir::f32({3, 4});
      auto b = tb ? ir::f32({5, 4}) : ir::f32({4, 5});
      checkOp({"matmul ta=" + std::to_string(ta) + " tb=" + std::to_string(tb),
               OpKind::MatMul,
               {a, b},
               mm(ta, tb)});
    }
}

TEST(GradCheck, ShapeOps) {
  checkOp({"broadcast",
           OpKind::Broadcast,
           {ir::f32({3})},
           {{"shape", ir::Shape{2, 3, 4}}, {"dims", std::vector<int64_t>{1}}}});
  checkOp({"broadcast scalar",
           OpKind::Broadcast,
           {ir::f32({})},
           {{"shape", ir::Shape{2, 3}}, {"dims", std::vector<int64_t>{}}}});
  checkOp({"reduce_sum",
           OpKind::ReduceSum,
           {ir::f32({2, 3, 4})},
           {{"axes", std::vector<int64_t>{0, 2}}}});
  checkOp({"reshape", OpKind::Reshape, {ir::f32({2, 6})}, {{"shape", ir::Shape{3, 2, 2}}}});
  checkOp({"softmax axis 0", OpKind::Softmax, {ir::f32({3, 4})}, {{"axis", int64_t(0)}}});
  checkOp({"softmax axis 1", OpKind::Softmax, {ir::f32({2, 3, 4})}, {{"axis", int64_t(1)}}});
  checkOp({"log_softmax", OpKind::LogSoftmax, {ir::f32({3, 5})}, {{"axis", int64_t(1)}}});
}

TEST(GradCheck, Conv2d) {
  ir::Attrs a{{"stride", std::vector<int64_t>{2, 1}},
              {"padding", std::vector<int64_t>{1, 2}},
              {"dilation", std::vector<int64_t>{1, 2}}};
  checkOp({"conv2d", OpKind::Conv2d, {ir::f32({2, 3, 7, 6}), ir::f32({4, 3, 3, 2})}, a});
  ir::Attrs plain{{"stride", std::vector<int64_t>{1, 1}},
                  {"padding", std::vector<int64_t>{0, 0}},
                  {"dilation", std::vector<int64_t>{1, 1}}};
  checkOp({"conv2d 1x1", OpKind::Conv2d, {ir::f32({1, 2, 3, 3}), ir::f32({3, 2, 1, 1})}, plain});
}

TEST(GradCheck, Pools) {
  // Distinct values, so no window has a tie and max is differentiable.
  checkOp({"maxpool overlapping",
           OpKind::MaxPool2d,
           {ir::f32({2, 2, 7, 6})},
           window({3, 2}, {2, 1}, {1, 1})});
  checkOp({"avgpool padded",
           OpKind::AvgPool2d,
           {ir::f32({2, 2, 5, 6})},
           window({3, 3}, {2, 2}, {1, 1})});
}

/// Gradient of sum(op(x)) at x, by the backward function.
std::vector<double> gradAt(OpKind op, ir::Attrs attrs, std::vector<double> x) {
  ir::Function f("forward");
  ir::ValueId a = f.addArg("x", ir::ArgRole::Param, ir::f32({int64_t(x.size())}));
  ir::ValueId y = f.addNode(op, {a}, attrs);
  f.addResult("loss", ir::ResultRole::Loss,
              f.addNode(OpKind::ReduceSum, {y}, {{"axes", std::vector<int64_t>{0}}}));
  auto bwd = passes::differentiate(f, {0});
  EXPECT_TRUE(bool(bwd));
  return runtime::evaluate(*bwd, {x})[1];
}

TEST(GradCheck, NonSmoothPointsFollowPyTorch) {
  EXPECT_EQ(gradAt(OpKind::Relu, {}, {-1, 0, 2}), (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(gradAt(OpKind::LeakyRelu, {{"slope", 0.25}}, {-1, 0, 2}),
            (std::vector<double>{0.25, 0.25, 1}));
  EXPECT_EQ(gradAt(OpKind::Abs, {}, {-1, 0, 2}), (std::vector<double>{-1, 0, 1}));
  // sqrt at 0: taken as 0 (RMSE at a perfect fit), not inf.
  EXPECT_EQ(gradAt(OpKind::Sqrt, {}, {0, 4}), (std::vector<double>{0, 0.25}));
}

TEST(GradCheck, MaxPoolTieGoesToFirstMaximum) {
  ir::Function f("forward");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Param, ir::f32({1, 1, 2, 2}));
  ir::ValueId y = f.addNode(OpKind::MaxPool2d, {x}, window({2, 2}, {2, 2}, {0, 0}));
  f.addResult("loss", ir::ResultRole::Loss,
              f.addNode(OpKind::ReduceSum, {y}, {{"axes", std::vector<int64_t>{0, 1, 2, 3}}}));
  auto bwd = passes::differentiate(f, {0});
  ASSERT_TRUE(bool(bwd));
  EXPECT_EQ(runtime::evaluate(*bwd, {{1, 3, 3, 2}})[1], (std::vector<double>{0, 1, 0, 0}));
}

TEST(Autodiff, UnusedParameterGetsZeroGradient) {
  ir::Function f("forward");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Param, ir::f32({2}));
  f.addArg("unused", ir::ArgRole::Param, ir::f32({3}));
  f.addResult("loss", ir::ResultRole::Loss,
              f.addNode(OpKind::ReduceSum, {x}, {{"axes", std::vector<int64_t>{0}}}));
  auto bwd = passes::differentiate(f, {0, 1});
  ASSERT_TRUE(bool(bwd));
  auto res = runtime::evaluate(*bwd, {{1, 2}, {1, 2, 3}});
  EXPECT_EQ(res[2], (std::vector<double>{0, 0, 0}));
}

TEST(Autodiff, NoLossIsAnError) {
  ir::Function f("forward");
  f.addArg("x", ir::ArgRole::Param, ir::f32({2}));
  auto bwd = passes::differentiate(f, {0});
  ASSERT_FALSE(bool(bwd));
  EXPECT_NE(bwd.error().message().find("no loss"), std::string::npos);
}

} // namespace
} // namespace gradc::testing
