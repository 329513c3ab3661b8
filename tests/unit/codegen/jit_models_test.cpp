// The reference models end to end through codegen: every function the
// training pipeline builds (forward, backward, optimizer_step, train_step),
// JIT against interpreter on random data with a small batch.
#include "codegen_test_util.h"
#include "tests/unit/temp_dir.h"

#include "frontend/model_json.h"
#include "passes/optimizer.h"
#include "passes/pipeline.h"
#include "plan/plan.h"
#include "runtime/init.h"
#include "runtime/jit.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace gradc::codegen::testing {
namespace {

std::string modelPath(const std::string &name) {
  const char *src = std::getenv("GRADC_SOURCE_DIR");
  return std::string(src ? src : GRADC_DEFAULT_SOURCE_DIR) + "/examples/models/" + name;
}

class JitModels : public ::testing::TestWithParam<const char *> {};

/// Every function of `m` (its training functions built) through the JIT built
/// with `opts` against the interpreter.
void expectModuleMatchesInterpreter(const ir::Module &m, const runtime::JitOptions &opts) {
  auto made = runtime::makeJitExecutor(m, opts);
  ASSERT_TRUE(bool(made)) << made.error().message();
  std::unique_ptr<runtime::Executor> jit = made.take();
  auto interp = runtime::makeInterpreterExecutor(m);
  // Realistic magnitudes: PyTorch-initialised parameters, so that float32
  // rounding stays near the level of the data rather than of huge logits.
  runtime::TensorMap params = runtime::initParams(m, 7);
  for (const ir::Function &f : m.functions) {
    SCOPED_TRACE(f.name());
    runtime::TensorMap args = randomArgs(f, 3, -1, 1);
    if (args.count(m.class_input))
      for (int32_t &c : args[m.class_input].i32)
        c = int32_t(std::abs(c) % m.num_classes);
    for (const ir::Arg &a : f.args())
      if (a.role == ir::ArgRole::Param)
        args[a.name] = params.at(a.name);
    if (args.count(passes::kLrArg))
      args[passes::kLrArg] = runtime::Tensor::scalar(0.01f);
    auto want = interp->call(f.name(), args);
    auto got = jit->call(f.name(), args);
    ASSERT_TRUE(bool(want)) << want.error().message();
    ASSERT_TRUE(bool(got)) << got.error().message();
    expectClose(*want, *got, 1e-5, 1e-5);
  }
}

/// The same for the reference model `model` at batch 3.
void expectModelMatchesInterpreter(const char *model, const runtime::JitOptions &opts) {
  auto m = frontend::loadModel(modelPath(model), {{"B", 3}});
  ASSERT_TRUE(bool(m)) << m.error().message();
  Status st = passes::buildTrainingFunctions(*m);
  ASSERT_TRUE(bool(st)) << st.error().message();
  expectModuleMatchesInterpreter(*m, opts);
}

TEST_P(JitModels, EveryFunctionMatchesInterpreter) {
  expectModelMatchesInterpreter(GetParam(), {});
}

// One float per vector: the kernels of targets without float vectors (RISC-V
// without V, Cortex-M; codegen::vectorFloats) through every emitter.
TEST_P(JitModels, ScalarKernelsMatchInterpreter) {
  runtime::JitOptions scalar;
  scalar.vector_floats = 1;
  expectModelMatchesInterpreter(GetParam(), scalar);
}

// Eight floats per vector (AVX2's width): the vectorised elementwise kernels
// and matmul epilogues on 8 lanes, with their masked tails at batch 3.
TEST_P(JitModels, EightFloatVectorsMatchInterpreter) {
  runtime::JitOptions avx2;
  avx2.vector_floats = 8;
  expectModelMatchesInterpreter(GetParam(), avx2);
}

/// Sets GRADC_COMPILE_THREADS while in scope.
struct CompileThreads {
  explicit CompileThreads(const char *n) { setenv("GRADC_COMPILE_THREADS", n, 1); }
  ~CompileThreads() { unsetenv("GRADC_COMPILE_THREADS"); }
};

// The module cut into parts compiled on several threads gives the same code
// as one part: every function's results are bit-identical.
TEST_P(JitModels, CompiledInPartsIsBitIdentical) {
  auto m = frontend::loadModel(modelPath(GetParam()), {{"B", 2}});
  ASSERT_TRUE(bool(m)) << m.error().message();
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  std::unique_ptr<runtime::Executor> one, three;
  {
    CompileThreads t("1");
    one = jitOf(*m);
  }
  {
    CompileThreads t("3");
    three = jitOf(*m);
  }
  ASSERT_TRUE(one && three);
  runtime::TensorMap params = runtime::initParams(*m, 3);
  for (const ir::Function &f : m->functions) {
    SCOPED_TRACE(f.name());
    runtime::TensorMap args = randomArgs(f, 5, 0, 1);
    if (args.count(m->class_input))
      for (int32_t &c : args[m->class_input].i32)
        c = int32_t(std::abs(c) % m->num_classes);
    if (args.count(passes::kLrArg))
      args[passes::kLrArg] = runtime::Tensor::scalar(0.01f);
    for (const ir::Arg &a : f.args())
      if (a.role == ir::ArgRole::Param)
        args[a.name] = params.at(a.name);
    auto x = one->call(f.name(), args);
    auto y = three->call(f.name(), args);
    ASSERT_TRUE(x && y);
    for (const auto &[name, t] : *x)
      EXPECT_EQ(t.f32, y->at(name).f32) << name;
  }
}

struct TempDir : gradc::testing::TempDir {
  TempDir() : gradc::testing::TempDir("gradc-jit-cache") {}
};

runtime::TensorMap forwardArgs(const ir::Module &m) {
  runtime::TensorMap args = randomArgs(*m.find("forward"), 9, 0, 1);
  runtime::TensorMap params = runtime::initParams(m, 1);
  args.insert(params.begin(), params.end());
  return args;
}

// The compile cache: a hit gives the same results; another model or another
// option is a miss; a damaged entry is a miss that the recompile replaces.
TEST(JitCompileCache, HitMissAndDamagedEntry) {
  TempDir dir;
  auto m = frontend::loadModel(modelPath("mlp_fashion.json"), {{"B", 2}});
  ASSERT_TRUE(bool(m));
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  runtime::JitOptions opts;
  opts.cache_dir = dir.path;
  auto compile = [&](const ir::Module &mod, const runtime::JitOptions &o) {
    runtime::JitStats stats;
    auto jit = runtime::makeJitExecutor(mod, o, &stats);
    EXPECT_TRUE(bool(jit)) << (jit ? "" : jit.error().message());
    return std::make_pair(jit ? jit.take() : nullptr, stats.cache_hit);
  };
  runtime::TensorMap args = forwardArgs(*m);
  auto [cold, hit0] = compile(*m, opts);
  EXPECT_FALSE(hit0);
  auto [warm, hit1] = compile(*m, opts);
  EXPECT_TRUE(hit1);
  ASSERT_TRUE(cold && warm);
  auto want = cold->call("forward", args), got = warm->call("forward", args);
  ASSERT_TRUE(want && got);
  for (const auto &[name, t] : *want)
    EXPECT_EQ(t.f32, got->at(name).f32) << name;

  runtime::JitOptions narrow = opts;
  narrow.vector_floats = 4;
  EXPECT_FALSE(compile(*m, narrow).second) << "another option";
  EXPECT_TRUE(compile(*m, narrow).second);
  auto other = frontend::loadModel(modelPath("mlp_fashion.json"), {{"B", 3}});
  ASSERT_TRUE(other && passes::buildTrainingFunctions(*other));
  EXPECT_FALSE(compile(*other, opts).second) << "another model";

  // Damage every entry: each is then a miss, recompiled and stored again.
  size_t entries = 0;
  for (const auto &e : std::filesystem::directory_iterator(dir.path)) {
    std::filesystem::resize_file(e.path(), std::filesystem::file_size(e.path()) / 2);
    ++entries;
  }
  EXPECT_EQ(entries, 3u);
  auto [again, hit2] = compile(*m, opts);
  EXPECT_FALSE(hit2);
  ASSERT_TRUE(again);
  auto after = again->call("forward", args);
  ASSERT_TRUE(after);
  for (const auto &[name, t] : *want)
    EXPECT_EQ(t.f32, after->at(name).f32) << name;
  EXPECT_TRUE(compile(*m, opts).second);
}

// Functions not named in JitOptions::functions compile on their first call,
// give the same bits as when compiled up front, and run at the thread count
// set before they were compiled; a name the module lacks is an error.
TEST(JitLazyFunctions, CompiledOnFirstCallWithTheSameResults) {
  auto m = frontend::loadModel(modelPath("mlp_fashion.json"), {{"B", 2}});
  ASSERT_TRUE(m && passes::buildTrainingFunctions(*m));
  runtime::TensorMap args = forwardArgs(*m);
  runtime::TensorMap state = runtime::initState(*m);
  args.insert(state.begin(), state.end());
  args[passes::kLrArg] = runtime::Tensor::scalar(0.05f);
  auto eager = runtime::makeJitExecutor(*m);
  runtime::JitOptions opts;
  opts.functions = {"forward"};
  runtime::JitStats stats;
  auto lazy = runtime::makeJitExecutor(*m, opts, &stats);
  ASSERT_TRUE(eager && lazy) << (lazy ? "" : lazy.error().message());
  (*lazy)->setThreads(2);
  for (const char *fn : {"forward", "backward", "train_step", "optimizer_step"}) {
    auto want = (*eager)->call(fn, args), got = (*lazy)->call(fn, args);
    ASSERT_TRUE(want && got) << fn << ": " << (got ? "" : got.error().message());
    for (const auto &[name, t] : *want) {
      EXPECT_EQ(t.f32, got->at(name).f32) << fn << " " << name;
      if (name.rfind("grad.", 0) == 0) // backward's gradients feed optimizer_step
        args[name] = t;
    }
  }
  opts.functions = {"forward", "no_such_function"};
  auto bad = runtime::makeJitExecutor(*m, opts);
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(bad.error().message(), "no function 'no_such_function' in module 'mlp_fashion'");
}

// A function of more than 64 kernels calls them from segment functions
// (codegen/lower.cpp): a 40-layer tanh chain's train step has about 160.
TEST(JitLongFunctions, SegmentsMatchInterpreter) {
  gradc::testing::TempDir dir("gradc-long");
  std::string layers;
  for (int i = 0; i < 40; ++i)
    layers += std::string(i ? "," : "") + R"({"name": "l)" + std::to_string(i) +
              R"(", "op": "linear", "out_features": 16)" + (i ? "" : R"(, "input": "x")") +
              R"(}, {"name": "t)" + std::to_string(i) + R"(", "op": "tanh"})";
  std::string path = dir.path + "/chain.json";
  std::ofstream(path) << R"({"format": "gradc.model/1", "name": "chain", "dims": {"B": 3},
    "inputs": {"x": {"shape": ["B", 16]}, "y": {"shape": ["B", 16]}},
    "layers": [)" << layers
                      << R"(], "outputs": ["t39"],
    "loss": {"op": "mse", "input": "t39", "target": "y"},
    "optimizer": {"op": "sgd", "lr": 0.01, "momentum": 0.9}})";
  auto m = frontend::loadModel(path, {});
  ASSERT_TRUE(bool(m)) << m.error().message();
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  const ir::Function *step = m->find("train_step");
  ASSERT_TRUE(step);
  EXPECT_GT(plan::buildPlan(*m).functions[size_t(step - m->functions.data())].kernels.size(), 64u);
  expectModuleMatchesInterpreter(*m, {});
}

TEST(JitCompileThreads, BadValueIsAnError) {
  auto m = frontend::loadModel(modelPath("smol_mlp.json"), {});
  ASSERT_TRUE(bool(m));
  for (const char *bad : {"0", "x", "2x", "-1", "1000"}) {
    CompileThreads t(bad);
    auto jit = runtime::makeJitExecutor(*m);
    ASSERT_FALSE(bool(jit)) << bad;
    EXPECT_NE(jit.error().message().find("GRADC_COMPILE_THREADS"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(ReferenceModels, JitModels,
                         ::testing::Values("smol_mlp.json", "mlp_fashion.json", "our_cnn.json",
                                           "cnn_fashion.json"));

} // namespace
} // namespace gradc::codegen::testing
