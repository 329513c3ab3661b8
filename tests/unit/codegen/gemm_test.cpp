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
    for (const plan::Kernel &k : plan::buildPlan(m).functions[0].kernels)
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
