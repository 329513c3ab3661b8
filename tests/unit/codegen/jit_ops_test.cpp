// Every op of ir/ops.def lowered by codegen and run by the JIT, on small odd
// shapes: compared with the reference interpreter, plus hand-computed values
// for the numerically delicate cases.
#include "codegen_test_util.h"

#include <random>

namespace gradc::codegen::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using ir::Shape;

ir::Module opModule(OpKind op, std::vector<ir::TensorType> in, Attrs attrs = {}) {
  ir::Function f("f");
  std::vector<ir::ValueId> xs;
  for (size_t i = 0; i < in.size(); ++i)
    xs.push_back(f.addArg("x" + std::to_string(i), ir::ArgRole::Input, in[i]));
  ir::ValueId y = f.addNode(op, xs, std::move(attrs), "y");
  f.addResult("out.y", ir::ResultRole::Output, y);
  return moduleOf(std::move(f));
}

runtime::TensorMap runJit(const ir::Module &m, runtime::TensorMap args) {
  auto jit = jitOf(m);
  auto out = jit->call("f", args);
  EXPECT_TRUE(bool(out)) << out.error().message();
  return *out;
}

runtime::Tensor f32Tensor(Shape shape, std::vector<float> v) {
  runtime::Tensor t = runtime::Tensor::zeros(ir::f32(std::move(shape)));
  t.f32 = std::move(v);
  return t;
}

struct UnaryCase {
  OpKind op;
  Attrs attrs;
  float lo, hi;
};

TEST(JitOps, UnaryMatchInterpreter) {
  std::vector<UnaryCase> cases = {
      {OpKind::Exp, {}, -5, 5},
      {OpKind::Log, {}, 0.01f, 5},
      {OpKind::Sqrt, {}, 0, 5},
      {OpKind::Abs, {}, -3, 3},
      {OpKind::Sign, {}, -3, 3},
      {OpKind::Relu, {}, -3, 3},
      {OpKind::Sigmoid, {}, -30, 30},
      {OpKind::Tanh, {}, -5, 5},
      {OpKind::Softplus, {}, -30, 30},
      {OpKind::LeakyRelu, {{"slope", 0.05}}, -3, 3},
      {OpKind::Step, {{"low", 0.1}, {"high", 2.0}}, -3, 3},
      {OpKind::Affine, {{"scale", -1.5}, {"shift", 0.25}}, -3, 3},
  };
  for (const UnaryCase &c : cases) {
    SCOPED_TRACE(ir::opName(c.op));
    expectJitMatchesInterpreter(opModule(c.op, {ir::f32({3, 7})}, c.attrs), 7, c.lo, c.hi);
  }
}

TEST(JitOps, BinaryMatchInterpreter) {
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::SafeDiv}) {
    SCOPED_TRACE(ir::opName(op));
    expectJitMatchesInterpreter(opModule(op, {ir::f32({5, 3}), ir::f32({5, 3})}), 3, 0.5f, 3);
  }
}

TEST(JitOps, ElementwiseEdgeValues) {
  ir::TensorType t = ir::f32({5});
  runtime::Tensor x = f32Tensor({5}, {0.0f, -100.0f, 100.0f, -0.5f, 2.0f});
  auto one = [&](OpKind op, Attrs a = {}) {
    return runJit(opModule(op, {t}, std::move(a)), {{"x0", x}}).at("out.y").f32;
  };
  EXPECT_EQ(one(OpKind::Sign), (std::vector<float>{0, -1, 1, -1, 1}));
  EXPECT_EQ(one(OpKind::Step, {{"low", -1.0}, {"high", 3.0}}),
            (std::vector<float>{-1, -1, 3, -1, 3}));
  EXPECT_EQ(one(OpKind::Relu), (std::vector<float>{0, 0, 100, 0, 2}));
  std::vector<float> sig = one(OpKind::Sigmoid);
  EXPECT_FLOAT_EQ(sig[0], 0.5f);
  EXPECT_NEAR(sig[1], 0.0f, 1e-30);
  EXPECT_FLOAT_EQ(sig[2], 1.0f);
  std::vector<float> sp = one(OpKind::Softplus);
  EXPECT_FLOAT_EQ(sp[0], std::log(2.0f));
  EXPECT_FLOAT_EQ(sp[2], 100.0f);
  EXPECT_GE(sp[1], 0.0f);
  EXPECT_LT(sp[1], 1e-30f);
  runtime::Tensor b = f32Tensor({5}, {0.0f, 2.0f, 0.0f, -0.5f, 4.0f});
  auto q = runJit(opModule(OpKind::SafeDiv, {t, t}), {{"x0", x}, {"x1", b}}).at("out.y").f32;
  EXPECT_EQ(q, (std::vector<float>{0, -50, 0, 1, 0.5f}));
}

TEST(JitOps, ConstantFillsItsShape) {
  ir::Function f("f");
  ir::ValueId c = f.addNode(OpKind::Constant, {}, {{"value", 1.5}, {"shape", Shape{2, 3}}});
  f.addResult("out.c", ir::ResultRole::Output, c);
  auto out = runJit(moduleOf(std::move(f)), {});
  EXPECT_EQ(out.at("out.c").f32, std::vector<float>(6, 1.5f));
}

TEST(JitOps, MatMulAllTransposes) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE(std::to_string(ta) + std::to_string(tb));
      Shape a = ta ? Shape{5, 3} : Shape{3, 5}, b = tb ? Shape{7, 5} : Shape{5, 7};
      expectJitMatchesInterpreter(opModule(OpKind::MatMul, {ir::f32(a), ir::f32(b)},
                                           {{"transpose_a", ta}, {"transpose_b", tb}}));
    }
}

TEST(JitOps, MatMulHandComputed) {
  ir::Module m = opModule(OpKind::MatMul, {ir::f32({2, 3}), ir::f32({3, 1})},
                          {{"transpose_a", false}, {"transpose_b", false}});
  auto out = runJit(
      m, {{"x0", f32Tensor({2, 3}, {1, 2, 3, 4, 5, 6})}, {"x1", f32Tensor({3, 1}, {1, 0, -1})}});
  EXPECT_EQ(out.at("out.y").f32, (std::vector<float>{-2, -2}));
}

TEST(JitOps, BroadcastReduceReshape) {
  expectJitMatchesInterpreter(
      opModule(OpKind::Broadcast, {ir::f32({3})}, {{"shape", Shape{2, 3, 5}}, {"dims", Shape{1}}}));
  expectJitMatchesInterpreter(opModule(OpKind::Broadcast, {ir::f32({2, 5})},
                                       {{"shape", Shape{2, 3, 5}}, {"dims", Shape{0, 2}}}));
  expectJitMatchesInterpreter(
      opModule(OpKind::Broadcast, {ir::f32({})}, {{"shape", Shape{4, 3}}, {"dims", Shape{}}}));
  for (Shape axes : {Shape{0}, Shape{1}, Shape{2}, Shape{0, 2}, Shape{0, 1, 2}, Shape{}}) {
    SCOPED_TRACE(ir::shapeStr(axes));
    expectJitMatchesInterpreter(
        opModule(OpKind::ReduceSum, {ir::f32({3, 4, 5})}, {{"axes", axes}}));
  }
  expectJitMatchesInterpreter(
      opModule(OpKind::Reshape, {ir::f32({3, 4, 5})}, {{"shape", Shape{5, 12}}}));
}

TEST(JitOps, BroadcastOfI32Input) {
  ir::Module m =
      opModule(OpKind::Broadcast, {ir::i32({3})}, {{"shape", Shape{2, 3}}, {"dims", Shape{1}}});
  runtime::Tensor idx = runtime::Tensor::zeros(ir::i32({3}));
  idx.i32 = {4, -1, 7};
  auto out = runJit(m, {{"x0", idx}});
  EXPECT_EQ(out.at("out.y").i32, (std::vector<int32_t>{4, -1, 7, 4, -1, 7}));
}

TEST(JitOps, SoftmaxAndLogSoftmaxEveryAxis) {
  for (OpKind op : {OpKind::Softmax, OpKind::LogSoftmax})
    for (int64_t axis = 0; axis < 3; ++axis) {
      SCOPED_TRACE(std::string(ir::opName(op)) + " axis " + std::to_string(axis));
      expectJitMatchesInterpreter(opModule(op, {ir::f32({3, 4, 5})}, {{"axis", axis}}), 5, -20, 20);
    }
}

TEST(JitOps, SoftmaxOfLargeValuesIsFinite) {
  ir::Module m = opModule(OpKind::Softmax, {ir::f32({1, 3})}, {{"axis", int64_t(1)}});
  auto out = runJit(m, {{"x0", f32Tensor({1, 3}, {1000, 1000, -1000})}});
  EXPECT_EQ(out.at("out.y").f32, (std::vector<float>{0.5f, 0.5f, 0.0f}));
}

TEST(JitOps, OneHotOutOfRangeGivesZeroRow) {
  ir::Module m = opModule(OpKind::OneHot, {ir::i32({4})}, {{"depth", int64_t(3)}});
  runtime::Tensor idx = runtime::Tensor::zeros(ir::i32({4}));
  idx.i32 = {-1, 0, 2, 3};
  auto out = runJit(m, {{"x0", idx}});
  EXPECT_EQ(out.at("out.y").f32, (std::vector<float>{0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0}));
  expectJitMatchesInterpreter(m);
}

Attrs convAttrs(Shape stride, Shape pad, Shape dil) {
  return {{"stride", stride}, {"padding", pad}, {"dilation", dil}};
}

TEST(JitOps, Conv2dAndGrads) {
  struct Case {
    Shape stride, pad, dil;
  };
  for (const Case &c : {Case{{1, 1}, {0, 0}, {1, 1}}, Case{{2, 1}, {1, 2}, {1, 1}},
                        Case{{1, 2}, {1, 0}, {2, 1}}, Case{{2, 2}, {2, 1}, {1, 2}}}) {
    SCOPED_TRACE(ir::shapeStr(c.stride) + ir::shapeStr(c.pad) + ir::shapeStr(c.dil));
    Attrs a = convAttrs(c.stride, c.pad, c.dil);
    ir::Module fwd = opModule(OpKind::Conv2d, {ir::f32({2, 3, 7, 6}), ir::f32({5, 3, 3, 2})}, a);
    expectJitMatchesInterpreter(fwd);
    ir::TensorType y = fwd.functions[0].type(fwd.functions[0].results()[0].value);
    Attrs gi = a;
    gi.set("input_size", Shape{7, 6});
    expectJitMatchesInterpreter(opModule(OpKind::Conv2dGradInput, {y, ir::f32({5, 3, 3, 2})}, gi));
    Attrs gw = a;
    gw.set("kernel", Shape{3, 2});
    expectJitMatchesInterpreter(opModule(OpKind::Conv2dGradWeight, {ir::f32({2, 3, 7, 6}), y}, gw));
  }
}

Attrs poolAttrs(Shape kernel, Shape stride, Shape pad) {
  return {{"kernel", kernel}, {"stride", stride}, {"padding", pad}};
}

TEST(JitOps, PoolsAndGrads) {
  struct Case {
    Shape kernel, stride, pad;
  };
  for (const Case &c :
       {Case{{2, 2}, {2, 2}, {0, 0}}, Case{{3, 2}, {1, 2}, {1, 1}}, Case{{3, 3}, {2, 1}, {1, 0}}}) {
    SCOPED_TRACE(ir::shapeStr(c.kernel) + ir::shapeStr(c.stride) + ir::shapeStr(c.pad));
    Attrs a = poolAttrs(c.kernel, c.stride, c.pad);
    // Rows narrower than a vector, and rows of several vector blocks with a
    // tail; each also with extents the 2 x 2 windows tile exactly (the
    // gradient then writes dx row by row).
    for (ir::TensorType x : {ir::f32({2, 3, 7, 5}), ir::f32({1, 2, 5, 70}), ir::f32({2, 3, 8, 6}),
                             ir::f32({1, 2, 6, 70})}) {
      for (OpKind op : {OpKind::MaxPool2d, OpKind::AvgPool2d})
        expectJitMatchesInterpreter(opModule(op, {x}, a));
      ir::Module fwd = opModule(OpKind::MaxPool2d, {x}, a);
      ir::TensorType y = fwd.functions[0].type(fwd.functions[0].results()[0].value);
      expectJitMatchesInterpreter(opModule(OpKind::MaxPool2dGrad, {x, y}, a));
      Attrs ga = a;
      ga.set("input_size", Shape{x.shape[2], x.shape[3]});
      expectJitMatchesInterpreter(opModule(OpKind::AvgPool2dGrad, {y}, ga));
    }
  }
}

/// The JIT's result (vectors of `vw` floats) against the interpreter's, bit
/// for bit but NaN, on inputs of few distinct values (ties in most windows,
/// as after a relu) and some NaNs.
void expectSameOnTies(const ir::Module &m, int vw, uint32_t seed) {
  const ir::Function &f = m.functions[0];
  runtime::TensorMap args;
  std::mt19937 rng(seed);
  for (const ir::Arg &a : f.args()) {
    runtime::Tensor t = runtime::Tensor::zeros(f.type(a.value));
    for (float &v : t.f32) {
      unsigned r = rng() % 16;
      v = r == 0 ? std::nanf("") : float(r % 3);
    }
    args[a.name] = t;
  }
  auto want = runtime::makeInterpreterExecutor(m)->call("f", args);
  ASSERT_TRUE(bool(want)) << want.error().message();
  runtime::JitOptions o;
  o.vector_floats = vw;
  auto jit = runtime::makeJitExecutor(m, o);
  ASSERT_TRUE(bool(jit)) << jit.error().message();
  auto got = (*jit)->call("f", args);
  ASSERT_TRUE(bool(got)) << got.error().message();
  for (const auto &[name, w] : *want)
    for (int64_t i = 0; i < w.numElements(); ++i) {
      const float a = w.f32[size_t(i)], b = got->at(name).f32[size_t(i)];
      EXPECT_TRUE(std::isnan(a) ? std::isnan(b) : a == b) << name << "[" << i << "]";
    }
}

TEST(JitOps, PoolsOfRowsNarrowerThanHalfAVector) {
  // Output rows of at most half a vector without padding, whose windows step
  // down x's rows exactly: several rows a vector (rowsPerVector), the last
  // vector of rows short in some (7 x 1 rows of 7 on 16 lanes: 2 a vector);
  // on 8 lanes too (AVX2), and on 4, where rows go one a vector.
  struct Case {
    Shape x, kernel, stride;
  };
  for (const Case &c : {Case{{2, 3, 10, 10}, {2, 2}, {2, 2}}, Case{{1, 1, 14, 14}, {2, 2}, {2, 2}},
                        Case{{2, 2, 9, 9}, {3, 3}, {3, 3}}, Case{{1, 3, 8, 8}, {2, 3}, {2, 1}},
                        Case{{2, 1, 6, 12}, {1, 2}, {1, 2}}, Case{{1, 2, 12, 4}, {3, 2}, {3, 2}}}) {
    SCOPED_TRACE(ir::shapeStr(c.x) + ir::shapeStr(c.kernel) + ir::shapeStr(c.stride));
    Attrs a = poolAttrs(c.kernel, c.stride, {0, 0});
    ir::TensorType x = ir::f32(c.x);
    ir::Module fwd = opModule(OpKind::MaxPool2d, {x}, a);
    ir::TensorType y = fwd.functions[0].type(fwd.functions[0].results()[0].value);
    for (OpKind op : {OpKind::MaxPool2d, OpKind::AvgPool2d})
      expectJitMatchesInterpreter(opModule(op, {x}, a));
    expectJitMatchesInterpreter(opModule(OpKind::MaxPool2dGrad, {x, y}, a));
    for (int vw : {4, 8, 16}) {
      SCOPED_TRACE("vector width " + std::to_string(vw));
      for (OpKind op : {OpKind::MaxPool2d, OpKind::AvgPool2d})
        expectSameOnTies(opModule(op, {x}, a), vw, 3);
      expectSameOnTies(opModule(OpKind::MaxPool2dGrad, {x, y}, a), vw, 4);
    }
  }
}

TEST(JitOps, MaxPoolsOfColumnPairsWiderThanHalfAVector) {
  // Windows of two columns with stride 2 that tile x, output rows wider than
  // half a vector: each window row's taps are the even and odd elements of
  // two vectors of x's row (pairWindows). One block a row with a tail (12 of
  // 16 lanes), a row of exactly one vector, rows of several blocks, windows
  // of three rows; on 16 and 8 lanes, and on 4 (the general path).
  struct Case {
    Shape x, kernel;
  };
  for (const Case &c : {Case{{2, 3, 8, 24}, {2, 2}}, Case{{1, 2, 4, 32}, {2, 2}},
                        Case{{1, 2, 6, 70}, {2, 2}}, Case{{2, 1, 9, 40}, {3, 2}}}) {
    SCOPED_TRACE(ir::shapeStr(c.x) + ir::shapeStr(c.kernel));
    Attrs a = poolAttrs(c.kernel, c.kernel, {0, 0});
    ir::TensorType x = ir::f32(c.x);
    ir::Module fwd = opModule(OpKind::MaxPool2d, {x}, a);
    ir::TensorType y = fwd.functions[0].type(fwd.functions[0].results()[0].value);
    expectJitMatchesInterpreter(fwd);
    expectJitMatchesInterpreter(opModule(OpKind::MaxPool2dGrad, {x, y}, a));
    for (int vw : {4, 8, 16}) {
      SCOPED_TRACE("vector width " + std::to_string(vw));
      expectSameOnTies(fwd, vw, 5);
      expectSameOnTies(opModule(OpKind::MaxPool2dGrad, {x, y}, a), vw, 6);
    }
  }
}

TEST(JitOps, AvgPoolOfNegativeZerosIsPositiveZero) {
  // Review finding: several rows a vector summed from the first tap, so a
  // window of -0 gave -0; the interpreter sums from +0. Rows of 5 (3 a
  // vector) and of 12 (one a vector).
  for (Shape x : {Shape{1, 2, 10, 10}, Shape{1, 2, 4, 24}}) {
    ir::Module m = opModule(OpKind::AvgPool2d, {ir::f32(x)}, poolAttrs({2, 2}, {2, 2}, {0, 0}));
    int64_t n = x[0] * x[1] * x[2] * x[3];
    auto out = runJit(m, {{"x0", f32Tensor(x, std::vector<float>(size_t(n), -0.0f))}});
    for (float v : out.at("out.y").f32)
      EXPECT_FALSE(std::signbit(v)) << ir::shapeStr(x);
  }
}

TEST(JitOps, MaxPoolGradGoesToFirstMaximum) {
  // One 3x3 image of equal values, 2x2 windows with stride 1: every window's
  // first maximum is its top-left element.
  Attrs a = poolAttrs({2, 2}, {1, 1}, {0, 0});
  ir::Module m = opModule(OpKind::MaxPool2dGrad, {ir::f32({1, 1, 3, 3}), ir::f32({1, 1, 2, 2})}, a);
  auto out = runJit(m, {{"x0", f32Tensor({1, 1, 3, 3}, std::vector<float>(9, 1.0f))},
                        {"x1", f32Tensor({1, 1, 2, 2}, {1, 2, 3, 4})}});
  EXPECT_EQ(out.at("out.y").f32, (std::vector<float>{1, 2, 0, 3, 4, 0, 0, 0, 0}));
  expectJitMatchesInterpreter(m);
}

TEST(JitOps, MaxPoolNaNWinsAsInPyTorch) {
  // Review finding: the JIT used an ordered compare and dropped NaN.
  Attrs a = poolAttrs({2, 2}, {2, 2}, {0, 0});
  const float nan = std::nanf("");
  runtime::Tensor x = f32Tensor({1, 1, 2, 2}, {1, nan, 3, 2});
  auto y = runJit(opModule(OpKind::MaxPool2d, {ir::f32({1, 1, 2, 2})}, a), {{"x0", x}});
  EXPECT_TRUE(std::isnan(y.at("out.y").f32[0]));
  ir::Module grad =
      opModule(OpKind::MaxPool2dGrad, {ir::f32({1, 1, 2, 2}), ir::f32({1, 1, 1, 1})}, a);
  auto dx = runJit(grad, {{"x0", x}, {"x1", f32Tensor({1, 1, 1, 1}, {5})}});
  EXPECT_EQ(dx.at("out.y").f32, (std::vector<float>{0, 5, 0, 0}));
}

TEST(JitOps, AvgPoolCountsPaddingAsZero) {
  ir::Module m =
      opModule(OpKind::AvgPool2d, {ir::f32({1, 1, 2, 2})}, poolAttrs({2, 2}, {2, 2}, {1, 1}));
  auto out = runJit(m, {{"x0", f32Tensor({1, 1, 2, 2}, {4, 8, 12, 16})}});
  EXPECT_EQ(out.at("out.y").f32, (std::vector<float>{1, 2, 3, 4}));
}

} // namespace
} // namespace gradc::codegen::testing
