// The thread pool changes no bit: every reference model's (and the
// convolutional test models') forward pass and train step, odd-shaped matmuls (with epilogues, and
// one whose epilogue sums across rows), convolutions with both gradients and large elementwise
// kernels with sums give the same bytes at 1, 2, 3 and 7 threads through the JIT.
#include "gemm_cases.h"

#include "codegen/rtlib.h"
#include "codegen/target.h"
#include "frontend/model_json.h"
#include "passes/optimizer.h"
#include "passes/pipeline.h"
#include "runtime/init.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

namespace gradc::codegen::testing {
namespace {

const int kThreadCounts[] = {1, 2, 3, 7};

std::string sourcePath(const std::string &rel) {
  const char *src = std::getenv("GRADC_SOURCE_DIR");
  return std::string(src ? src : GRADC_SOURCE_DIR) + "/" + rel;
}

void expectSameBytes(const runtime::TensorMap &want, const runtime::TensorMap &got) {
  ASSERT_EQ(want.size(), got.size());
  for (const auto &[name, w] : want) {
    const runtime::Tensor &g = got.at(name);
    ASSERT_EQ(w.type, g.type) << name;
    EXPECT_EQ(0, std::memcmp(w.f32.data(), g.f32.data(), w.f32.size() * 4)) << name;
    EXPECT_EQ(w.i32, g.i32) << name;
  }
}

/// Calls `fn` at every thread count and expects the 1-thread bytes each time.
void expectSameAtEveryCount(runtime::Executor &exec, const std::string &fn,
                            const runtime::TensorMap &args) {
  SCOPED_TRACE(fn);
  exec.setThreads(1);
  auto want = exec.call(fn, args);
  ASSERT_TRUE(bool(want)) << want.error().message();
  for (int n : kThreadCounts) {
    SCOPED_TRACE(std::to_string(n) + " threads");
    exec.setThreads(n);
    auto got = exec.call(fn, args);
    ASSERT_TRUE(bool(got)) << got.error().message();
    expectSameBytes(*want, *got);
  }
}

/// How many times the optimised LLVM IR of `m` calls the pool.
int parallelLoops(const ir::Module &m) {
  auto ir = dumpLLVM(m);
  EXPECT_TRUE(bool(ir));
  std::istringstream lines(ir ? *ir : "");
  std::string callee = std::string("@") + kParallelFor + "(", line;
  int calls = 0;
  while (std::getline(lines, line))
    calls += line.find(" call ") != std::string::npos && line.find(callee) != std::string::npos;
  return calls;
}

class ModelThreads : public ::testing::TestWithParam<const char *> {};

TEST_P(ModelThreads, ForwardAndTrainStepAreTheSameBitsAtEveryThreadCount) {
  auto m = frontend::loadModel(sourcePath(GetParam()), {});
  ASSERT_TRUE(bool(m)) << m.error().message();
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  auto jit = runtime::makeJitExecutor(*m);
  ASSERT_TRUE(bool(jit)) << jit.error().message();
  runtime::TensorMap args = runtime::initParams(*m, 3);
  runtime::TensorMap feed = runtime::randomInputs(*m, 3);
  runtime::TensorMap state = runtime::initState(*m);
  args.insert(feed.begin(), feed.end());
  args.insert(state.begin(), state.end());
  args[passes::kLrArg] = runtime::Tensor::scalar(0.05f);
  expectSameAtEveryCount(**jit, "forward", args);
  expectSameAtEveryCount(**jit, "train_step", args);
}

std::string modelName(const ::testing::TestParamInfo<const char *> &info) {
  std::string s = info.param;
  s = s.substr(s.rfind('/') + 1);
  return s.substr(0, s.find('.'));
}

INSTANTIATE_TEST_SUITE_P(Examples, ModelThreads,
                         ::testing::Values("examples/models/smol_mlp.json",
                                           "examples/models/mlp_fashion.json",
                                           "examples/models/cnn_fashion.json",
                                           "examples/models/our_cnn.json"),
                         modelName);

// The test models reach the other kernels: average pooling, strides and dilation, skips.
INSTANTIATE_TEST_SUITE_P(TestModels, ModelThreads,
                         ::testing::Values("tests/models/avgpool_mae_adam.json",
                                           "tests/models/cnn_skip_connection.json",
                                           "tests/models/conv_stride_dilation.json",
                                           "tests/models/pool_overlap_padding.json",
                                           "tests/models/named_dims_conv_chain.json"),
                         modelName);

/// Runs every function of `m` on seeded random arguments at every thread count.
void expectModuleSameAtEveryCount(const ir::Module &m) {
  auto jit = jitOf(m);
  ASSERT_TRUE(jit);
  for (const ir::Function &f : m.functions)
    expectSameAtEveryCount(*jit, f.name(), randomArgs(f, 11, -1, 1));
}

TEST(Threads, OddMatmulsAreTheSameBits) {
  for (int t = 0; t < 4; ++t) {
    SCOPED_TRACE("transposes " + std::to_string(t));
    ir::Module m = matmuls(t & 1, t >> 1, 12, uint32_t(t + 21));
    EXPECT_GE(parallelLoops(m), 2); // a large product: packing, then tiles
    expectModuleSameAtEveryCount(m);
  }
}

TEST(Threads, DotProductMatmulsAreTheSameBits) {
  ir::Module m = dotMatmuls();
  EXPECT_GE(parallelLoops(m), 1); // 1025 x 10 x 512 in row tiles
  expectModuleSameAtEveryCount(m);
}

TEST(Threads, OuterProductMatmulsAreTheSameBits) {
  ir::Module m = outerMatmuls();
  EXPECT_GE(parallelLoops(m), 2); // 128 x 257 x 256 by columns, 128 x 128 x 256 by rows
  expectModuleSameAtEveryCount(m);
}

TEST(Threads, OuterTransposedAMatmulsAreTheSameBits) {
  ir::Module m = outerTransposedAMatmuls();
  EXPECT_GE(parallelLoops(m), 3); // 256 x 784 x 64 by columns, 256 x 128 x 250 by rows, packed
  expectModuleSameAtEveryCount(m);
}

TEST(Threads, TransposedMatmulsAreTheSameBits) {
  ir::Module m = transposedMatmuls();
  EXPECT_GE(parallelLoops(m), 2); // 128 x 257 x 200 by C's columns, 128 x 64 x 520 by rows
  expectModuleSameAtEveryCount(m);
}

TEST(Threads, OddConvolutionsAndTheirGradientsAreTheSameBits) {
  const ConvCase cases[] = {
      {5, 7, 19, 23, 13, 3, 3, 1, 1, 1, 1, 1, 1}, // odd batch, channels and image
      {3, 6, 21, 17, 21, 3, 2, 2, 1, 1, 0, 1, 2}, // strides, dilation
      {9, 1, 29, 23, 33, 5, 1, 3, 2, 2, 0, 2, 1}, // one channel, more images than slots
      {7, 5, 14, 15, 24, 3, 3, 1, 1, 0, 0, 1, 1}, // weight gradient on channel vectors
  };
  for (const ConvCase &k : cases) {
    ir::Module m = convModule(k);
    EXPECT_GE(parallelLoops(m), 2);
    expectModuleSameAtEveryCount(m);
  }
}

/// A matmul whose epilogue sums over rows (a bias gradient), and large
/// elementwise kernels summed over the first or the last axis.
ir::Module sums() {
  ir::Function f("f");
  ir::Attrs mm;
  mm.set("transpose_a", false);
  mm.set("transpose_b", false);
  ir::ValueId a = f.addArg("a", ir::ArgRole::Input, ir::f32({131, 97}));
  ir::ValueId b = f.addArg("b", ir::ArgRole::Input, ir::f32({97, 67}));
  ir::ValueId c = f.addNode(ir::OpKind::Tanh, {f.addNode(ir::OpKind::MatMul, {a, b}, mm)});
  ir::Attrs rows;
  rows.set("axes", std::vector<int64_t>{0});
  f.addResult("c", ir::ResultRole::Output, c);
  f.addResult("c_rows", ir::ResultRole::Output, f.addNode(ir::OpKind::ReduceSum, {c}, rows));
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({301, 259}));
  ir::ValueId y = f.addArg("y", ir::ArgRole::Input, ir::f32({301, 259}));
  ir::ValueId p = f.addNode(ir::OpKind::Mul, {f.addNode(ir::OpKind::Sigmoid, {x}), y});
  f.addResult("p", ir::ResultRole::Output, p);
  f.addResult("p_rows", ir::ResultRole::Output, f.addNode(ir::OpKind::ReduceSum, {p}, rows));
  ir::ValueId q = f.addNode(ir::OpKind::Sub, {f.addNode(ir::OpKind::Exp, {y}), x});
  ir::Attrs cols;
  cols.set("axes", std::vector<int64_t>{1});
  f.addResult("q_cols", ir::ResultRole::Output, f.addNode(ir::OpKind::ReduceSum, {q}, cols));
  return moduleOf(passes::fuseKernels(f));
}

TEST(Threads, EveryMatmulFormWithSumsIsTheSameBits) {
  ir::Module m = summedMatmuls();
  EXPECT_GE(parallelLoops(m), 1); // 128 x 128 x 256 in the outer form, by whole columns
  expectModuleSameAtEveryCount(m);
}

TEST(Threads, SumsKeepTheirOrder) {
  ir::Module m = sums();
  EXPECT_GE(parallelLoops(m), 2); // the elementwise kernels split along the kept axis
  expectModuleSameAtEveryCount(m);
}

} // namespace
} // namespace gradc::codegen::testing
