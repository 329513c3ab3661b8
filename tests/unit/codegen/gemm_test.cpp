// The packed matmul against the interpreter on odd shapes that reach every
// vector tail, register-tile edge and panel edge: m, n and k drawn from
// {1, 7, 15, 17, 31, 33, 64, 65, 257}, all four transposes, with and without
// an epilogue. Also at each vector width the micro-kernel is built for
// (16, 8, 4 floats), whatever the host.
#include "codegen_test_util.h"

#include "codegen/lower.h"
#include "passes/fuse.h"
#include "plan/plan.h"

namespace gradc::codegen::testing {
namespace {

const int64_t kSizes[] = {1, 7, 15, 17, 31, 33, 64, 65, 257};

/// One function holding `count` matmuls of sampled shapes (always including
/// the smallest and the largest), each with transposes `ta`, `tb`; every
/// other one gets a bias-and-relu epilogue.
ir::Module matmuls(bool ta, bool tb, int count, uint32_t seed) {
  std::mt19937 rng(seed);
  ir::Function f("f");
  for (int i = 0; i < count; ++i) {
    int64_t m = kSizes[rng() % 9], n = kSizes[rng() % 9], k = kSizes[rng() % 9];
    if (i == 0)
      m = n = k = 257;
    if (i == 1)
      m = 1, n = 257, k = 65;
    std::string s = std::to_string(i);
    ir::ValueId a =
        f.addArg("a" + s, ir::ArgRole::Input, ir::f32(ta ? ir::Shape{k, m} : ir::Shape{m, k}));
    ir::ValueId b =
        f.addArg("b" + s, ir::ArgRole::Input, ir::f32(tb ? ir::Shape{n, k} : ir::Shape{k, n}));
    ir::Attrs at;
    at.set("transpose_a", ta);
    at.set("transpose_b", tb);
    ir::ValueId c = f.addNode(ir::OpKind::MatMul, {a, b}, at);
    if (i % 2) {
      ir::ValueId bias = f.addArg("bias" + s, ir::ArgRole::Input, ir::f32({n}));
      ir::Attrs bc;
      bc.set("shape", std::vector<int64_t>{m, n});
      bc.set("dims", std::vector<int64_t>{1});
      c = f.addNode(
          ir::OpKind::Relu,
          {f.addNode(ir::OpKind::Add, {c, f.addNode(ir::OpKind::Broadcast, {bias}, bc)})});
    }
    f.addResult("out" + s, ir::ResultRole::Output, c);
  }
  return moduleOf(passes::fuseKernels(f));
}

TEST(Gemm, OddShapesAllTransposesMatchInterpreter) {
  int packed = 0;
  for (int t = 0; t < 4; ++t) {
    SCOPED_TRACE("transpose_a " + std::to_string(t & 1) + ", transpose_b " +
                 std::to_string(t >> 1));
    ir::Module m = matmuls(t & 1, t >> 1, 24, uint32_t(t + 1));
    plan::ModulePlan p = plan::buildPlan(m);
    for (const plan::Kernel &k : p.functions[0].kernels)
      packed += k.workspace_bytes > 0;
    // Sums over k = 257 in a different order: float rounding, not exactness.
    expectJitMatchesInterpreter(m, uint32_t(t), -1, 1, 1e-4, 1e-5);
  }
  EXPECT_GE(packed, 40); // most shapes take the packed path, the tiny ones plain loops
}

TEST(Gemm, EveryVectorWidthMatchesInterpreter) {
  for (int vw : {4, 8, 16}) {
    SCOPED_TRACE("vector width " + std::to_string(vw));
    ir::Module m = matmuls(vw == 8, vw != 16, 10, uint32_t(vw));
    auto jit = runtime::makeJitExecutor(m, nullptr, vw);
    ASSERT_TRUE(bool(jit)) << jit.error().message();
    auto interp = runtime::makeInterpreterExecutor(m);
    runtime::TensorMap args = randomArgs(m.functions[0], uint32_t(vw), -1, 1);
    auto want = interp->call("f", args);
    auto got = (*jit)->call("f", args);
    ASSERT_TRUE(bool(want) && bool(got));
    expectClose(*want, *got, 1e-4, 1e-5);
  }
}

} // namespace
} // namespace gradc::codegen::testing

namespace gradc::codegen::testing {
namespace {

struct ConvCase {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw;
};

/// conv2d, conv2d_grad_input and conv2d_grad_weight of one geometry, each a
/// result, fused as the pipeline would.
ir::Module convModule(const ConvCase &k) {
  auto out = [](int64_t in, int64_t kern, int64_t s, int64_t p, int64_t d) {
    return (in + 2 * p - d * (kern - 1) - 1) / s + 1;
  };
  int64_t oh = out(k.h, k.kh, k.sh, k.ph, k.dh), ow = out(k.w, k.kw, k.sw, k.pw, k.dw);
  ir::Function f("f");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({k.n, k.c, k.h, k.w}));
  ir::ValueId w = f.addArg("w", ir::ArgRole::Param, ir::f32({k.o, k.c, k.kh, k.kw}));
  ir::ValueId dy = f.addArg("dy", ir::ArgRole::Input, ir::f32({k.n, k.o, oh, ow}));
  ir::Attrs a;
  a.set("stride", std::vector<int64_t>{k.sh, k.sw});
  a.set("padding", std::vector<int64_t>{k.ph, k.pw});
  a.set("dilation", std::vector<int64_t>{k.dh, k.dw});
  f.addResult("y", ir::ResultRole::Output,
              f.addNode(ir::OpKind::Relu, {f.addNode(ir::OpKind::Conv2d, {x, w}, a)}));
  ir::Attrs gi = a;
  gi.set("input_size", std::vector<int64_t>{k.h, k.w});
  f.addResult("dx", ir::ResultRole::Output, f.addNode(ir::OpKind::Conv2dGradInput, {dy, w}, gi));
  ir::Attrs gw = a;
  gw.set("kernel", std::vector<int64_t>{k.kh, k.kw});
  f.addResult("dw", ir::ResultRole::Output, f.addNode(ir::OpKind::Conv2dGradWeight, {x, dy}, gw));
  return moduleOf(passes::fuseKernels(f));
}

TEST(Gemm, ConvolutionsAsImplicitGemmMatchInterpreter) {
  const ConvCase cases[] = {
      {2, 6, 19, 17, 21, 3, 2, 2, 1, 1, 0, 1, 2},  // non-square kernel, stride, dilation
      {3, 8, 12, 12, 17, 3, 3, 1, 1, 1, 1, 1, 1},  // same padding
      {2, 1, 29, 23, 33, 5, 1, 3, 2, 2, 0, 2, 1},  // one channel, tall kernel
      {1, 24, 16, 18, 17, 1, 1, 1, 2, 0, 0, 1, 1}, // 1x1 taps, strided
  };
  int packed = 0;
  for (const ConvCase &k : cases) {
    SCOPED_TRACE("conv " + std::to_string(k.o) + "x" + std::to_string(k.c) + "x" +
                 std::to_string(k.kh) + "x" + std::to_string(k.kw));
    ir::Module m = convModule(k);
    plan::ModulePlan p = plan::buildPlan(m);
    for (const plan::Kernel &kn : p.functions[0].kernels)
      packed += kn.workspace_bytes > 0;
    expectJitMatchesInterpreter(m, 5, -1, 1, 1e-4, 1e-5);
  }
  EXPECT_GE(packed, 8); // most take the implicit GEMM, tiny ones plain loops
}

} // namespace
} // namespace gradc::codegen::testing
