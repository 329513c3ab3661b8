// Reference interpreter: elementwise and linear-algebra kernels on small
// hand-computed cases, the driver, the TensorMap form and the executor.
#include "runtime/executor.h"
#include "runtime/interpreter.h"
#include "tests/unit/runtime/interp_test_util.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gradc::runtime {
namespace {

using ir::OpKind;
using test_util::evalOp;
using test_util::expectNear;

const ir::TensorType kVec4 = ir::f32({4});
const DoubleBuffer kX = {-2, -0.5, 0, 1.5};

DoubleBuffer unary(OpKind op, DoubleBuffer x = kX, ir::Attrs attrs = {}) {
  ir::TensorType t = ir::f32({int64_t(x.size())});
  return evalOp(op, {{t, std::move(x)}}, std::move(attrs));
}

TEST(InterpElementwise, SimpleUnaryOps) {
  expectNear(unary(OpKind::Abs), {2, 0.5, 0, 1.5});
  expectNear(unary(OpKind::Sign), {-1, -1, 0, 1});
  expectNear(unary(OpKind::Relu), {0, 0, 0, 1.5});
  expectNear(unary(OpKind::LeakyRelu, kX, {{"slope", 0.1}}), {-0.2, -0.05, 0, 1.5});
  expectNear(unary(OpKind::Step, kX, {{"low", 0.1}, {"high", 1.0}}), {0.1, 0.1, 0.1, 1});
  expectNear(unary(OpKind::Affine, kX, {{"scale", 2.0}, {"shift", 1.0}}), {-3, 0, 1, 4});
  expectNear(unary(OpKind::Sqrt, {4, 2.25, 0, 1}), {2, 1.5, 0, 1});
  expectNear(unary(OpKind::Exp, {0, 1, -1, 2}), {1, M_E, 1 / M_E, M_E * M_E}, 1e-12);
  expectNear(unary(OpKind::Log, {1, M_E, 1 / M_E, 4}), {0, 1, -1, 2 * M_LN2}, 1e-12);
  expectNear(unary(OpKind::Tanh, {0, 1, -1, 20}), {0, std::tanh(1.0), -std::tanh(1.0), 1});
  EXPECT_TRUE(std::isnan(unary(OpKind::Log, {-1})[0]));
  EXPECT_TRUE(std::isnan(unary(OpKind::Relu, {NAN})[0]));
}

TEST(InterpElementwise, SigmoidAndSoftplusAreStable) {
  DoubleBuffer s = unary(OpKind::Sigmoid, {0, 1000, -1000, std::log(3.0)});
  expectNear(s, {0.5, 1, 0, 0.75}, 1e-15);
  EXPECT_GT(unary(OpKind::Sigmoid, {-700})[0], 0); // exp(x)/(1+exp(x)), not 1 - 1
  DoubleBuffer sp = unary(OpKind::Softplus, {0, 1000, -1000, std::log(3.0)});
  expectNear(sp, {M_LN2, 1000, 0, 2 * M_LN2}, 1e-14);
  EXPECT_GT(unary(OpKind::Softplus, {-700})[0], 0);
}

TEST(InterpElementwise, BinaryOps) {
  DoubleBuffer a = {6, -3, 1, 0}, b = {2, 4, 0, 0};
  auto bin = [&](OpKind op) { return evalOp(op, {{kVec4, a}, {kVec4, b}}); };
  expectNear(bin(OpKind::Add), {8, 1, 1, 0});
  expectNear(bin(OpKind::Sub), {4, -7, 1, 0});
  expectNear(bin(OpKind::Mul), {12, -12, 0, 0});
  expectNear(bin(OpKind::SafeDiv), {3, -0.75, 0, 0});
  DoubleBuffer d = bin(OpKind::Div);
  EXPECT_EQ(d[0], 3);
  EXPECT_EQ(d[1], -0.75);
  EXPECT_TRUE(std::isinf(d[2]));
  EXPECT_TRUE(std::isnan(d[3]));
}

TEST(InterpElementwise, Constant) {
  ir::Attrs attrs = {{"value", 2.5}, {"shape", std::vector<int64_t>{2, 2}}};
  expectNear(evalOp(OpKind::Constant, {}, attrs), {2.5, 2.5, 2.5, 2.5});
}

TEST(InterpLinalg, MatMulWithEveryTranspose) {
  DoubleBuffer a = {1, 2, 3, 4, 5, 6}, at = {1, 4, 2, 5, 3, 6};
  DoubleBuffer b = {7, 8, 9, 10, 11, 12}, bt = {7, 9, 11, 8, 10, 12};
  DoubleBuffer want = {58, 64, 139, 154};
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      ir::TensorType ta_t = ir::f32(ta ? ir::Shape{3, 2} : ir::Shape{2, 3});
      ir::TensorType tb_t = ir::f32(tb ? ir::Shape{2, 3} : ir::Shape{3, 2});
      ir::Attrs attrs = {{"transpose_a", ta}, {"transpose_b", tb}};
      expectNear(evalOp(OpKind::MatMul, {{ta_t, ta ? at : a}, {tb_t, tb ? bt : b}}, attrs), want);
    }
}

TEST(InterpLinalg, Broadcast) {
  auto bc = [](ir::Shape in, DoubleBuffer x, std::vector<int64_t> shape,
               std::vector<int64_t> dims) {
    return evalOp(OpKind::Broadcast, {{ir::f32(std::move(in)), std::move(x)}},
                  {{"shape", shape}, {"dims", dims}});
  };
  expectNear(bc({3}, {1, 2, 3}, {2, 3}, {1}), {1, 2, 3, 1, 2, 3});
  expectNear(bc({2}, {1, 2}, {2, 3}, {0}), {1, 1, 1, 2, 2, 2});
  expectNear(bc({}, {7}, {2}, {}), {7, 7});
  expectNear(bc({2, 2}, {1, 2, 3, 4}, {2, 3, 2}, {0, 2}), {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
}

TEST(InterpLinalg, ReduceSum) {
  DoubleBuffer x = {1, 2, 3, 4, 5, 6};
  auto rs = [](ir::Shape in, DoubleBuffer x, std::vector<int64_t> axes) {
    return evalOp(OpKind::ReduceSum, {{ir::f32(std::move(in)), std::move(x)}}, {{"axes", axes}});
  };
  expectNear(rs({2, 3}, x, {0}), {5, 7, 9});
  expectNear(rs({2, 3}, x, {1}), {6, 15});
  expectNear(rs({2, 3}, x, {0, 1}), {21});
  expectNear(rs({2, 3}, x, {}), x);
  DoubleBuffer y = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  expectNear(rs({2, 3, 2}, y, {1}), {9, 12, 27, 30});
}

TEST(InterpLinalg, Reshape) {
  DoubleBuffer x = {1, 2, 3, 4, 5, 6};
  ir::Attrs attrs = {{"shape", std::vector<int64_t>{3, 2}}};
  expectNear(evalOp(OpKind::Reshape, {{ir::f32({2, 3}), x}}, attrs), x);
}

TEST(InterpLinalg, SoftmaxSumsToOneAlongItsAxis) {
  std::mt19937_64 gen(7);
  DoubleBuffer x = test_util::randomBuffer(gen, 24);
  for (int64_t axis = 0; axis < 3; ++axis) {
    ir::Shape shape = {2, 3, 4};
    ir::Attrs attrs = {{"axis", axis}};
    DoubleBuffer s = evalOp(OpKind::Softmax, {{ir::f32(shape), x}}, attrs);
    DoubleBuffer ls = evalOp(OpKind::LogSoftmax, {{ir::f32(shape), x}}, attrs);
    ir::Attrs sum = {{"axes", std::vector<int64_t>{axis}}};
    DoubleBuffer totals = evalOp(OpKind::ReduceSum, {{ir::f32(shape), s}}, sum);
    expectNear(totals, DoubleBuffer(totals.size(), 1.0), 1e-14);
    for (size_t i = 0; i < s.size(); ++i) {
      EXPECT_GT(s[i], 0);
      EXPECT_NEAR(std::log(s[i]), ls[i], 1e-14);
    }
  }
}

TEST(InterpLinalg, SoftmaxHandValuesAndLargeInputs) {
  ir::Attrs attrs = {{"axis", int64_t(1)}};
  ir::TensorType t = ir::f32({2, 2});
  DoubleBuffer x = {0, std::log(3.0), 1000, 1000 + std::log(3.0)};
  expectNear(evalOp(OpKind::Softmax, {{t, x}}, attrs), {0.25, 0.75, 0.25, 0.75},
             1e-12); // 1000 + log 3 is rounded
  double l4 = std::log(4.0), l43 = std::log(4.0 / 3.0);
  expectNear(evalOp(OpKind::LogSoftmax, {{t, x}}, attrs), {-l4, -l43, -l4, -l43}, 1e-12);
}

TEST(InterpLinalg, OneHotGivesZeroRowsOutsideTheRange) {
  ir::Attrs attrs = {{"depth", int64_t(3)}};
  DoubleBuffer y = evalOp(OpKind::OneHot, {{ir::i32({4}), {0, 2, -1, 3}}}, attrs);
  expectNear(y, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
}

/// A small function: logits = x @ w, labels one-hot, labels reshaped (an i32
/// result), loss-like sum of their product.
ir::Function labelFunction() {
  ir::Function f("forward");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({3, 2}));
  ir::ValueId lab = f.addArg("labels", ir::ArgRole::Input, ir::i32({3}));
  ir::ValueId w = f.addArg("w", ir::ArgRole::Param, ir::f32({2, 2}));
  ir::ValueId logits =
      f.addNode(OpKind::MatMul, {x, w}, {{"transpose_a", false}, {"transpose_b", false}});
  ir::ValueId oh = f.addNode(OpKind::OneHot, {lab}, {{"depth", int64_t(2)}});
  ir::ValueId prod = f.addNode(OpKind::Mul, {logits, oh});
  ir::ValueId loss = f.addNode(OpKind::ReduceSum, {prod}, {{"axes", std::vector<int64_t>{0, 1}}});
  ir::ValueId r = f.addNode(OpKind::Reshape, {lab}, {{"shape", std::vector<int64_t>{3, 1}}});
  f.addResult("loss", ir::ResultRole::Loss, loss);
  f.addResult("out.labels", ir::ResultRole::Output, r);
  f.addResult("out.logits", ir::ResultRole::Output, logits);
  return f;
}

TensorMap labelArgs() {
  TensorMap args;
  args["x"] = Tensor::zeros(ir::f32({3, 2}));
  args["x"].f32 = {1, 2, 3, 4, 5, 6};
  args["labels"] = Tensor::zeros(ir::i32({3}));
  args["labels"].i32 = {1, 0, 1};
  args["w"] = Tensor::zeros(ir::f32({2, 2}));
  args["w"].f32 = {1, 0, 0, 0.5f};
  return args;
}

TEST(Interpreter, TensorMapFormConvertsBothWays) {
  TensorMap out = evaluate(labelFunction(), labelArgs());
  ASSERT_EQ(out.size(), 3u);
  // logits = [[1, 1], [3, 2], [5, 3]]; picked: 1 + 3 + 3.
  EXPECT_EQ(out["out.logits"].f32, (std::vector<float>{1, 1, 3, 2, 5, 3}));
  EXPECT_EQ(out["loss"].type, ir::f32({}));
  EXPECT_EQ(out["loss"].f32, std::vector<float>{7});
  EXPECT_EQ(out["out.labels"].type, ir::i32({3, 1}));
  EXPECT_EQ(out["out.labels"].i32, (std::vector<int32_t>{1, 0, 1}));
}

TEST(Interpreter, ResultMayBeAnArgumentOrUsedTwice) {
  ir::Function f("f");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, kVec4);
  ir::ValueId sq = f.addNode(OpKind::Mul, {x, x});
  ir::ValueId y = f.addNode(OpKind::Add, {sq, sq});
  f.addResult("x", ir::ResultRole::Output, x);
  f.addResult("y", ir::ResultRole::Output, y);
  std::vector<DoubleBuffer> r = evaluate(f, {kX});
  expectNear(r[0], kX);
  expectNear(r[1], {8, 0.5, 0, 4.5});
}

TEST(Executor, InterpreterExecutorChecksArguments) {
  ir::Module m;
  m.name = "m";
  m.functions.push_back(labelFunction());
  auto exec = makeInterpreterExecutor(std::move(m));
  TensorMap args = labelArgs();
  auto ok = exec->call("forward", args);
  ASSERT_TRUE(bool(ok)) << ok.error().message();
  EXPECT_EQ(ok->at("loss").f32, std::vector<float>{7});
  EXPECT_FALSE(bool(exec->call("train_step", args)));
  args.erase("w");
  auto missing = exec->call("forward", args);
  ASSERT_FALSE(bool(missing));
  EXPECT_NE(missing.error().message().find("'w'"), std::string::npos);
}

} // namespace
} // namespace gradc::runtime
