// Per-kernel profiling (LowerOptions::profile_kernels, runtime/kernel_profile.h):
// a profiled build computes bit for bit what the plain build computes, and
// reports every kernel and the result copies once per run.
#include "codegen_test_util.h"

#include "frontend/model_json.h"
#include "passes/optimizer.h"
#include "passes/pipeline.h"
#include "plan/plan.h"
#include "runtime/init.h"
#include "runtime/kernel_profile.h"

#include <cstdlib>

namespace gradc::codegen::testing {
namespace {

ir::Module mlpFashion() {
  const char *src = std::getenv("GRADC_SOURCE_DIR");
  auto m = frontend::loadModel(std::string(src ? src : GRADC_DEFAULT_SOURCE_DIR) +
                                   "/examples/models/mlp_fashion.json",
                               {{"B", 3}});
  EXPECT_TRUE(bool(m)) << m.error().message();
  EXPECT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  return m.take();
}

runtime::TensorMap allArgs(const ir::Module &m) {
  runtime::TensorMap args = runtime::initParams(m, 1);
  for (auto &[name, t] : runtime::randomInputs(m, 2))
    args[name] = t;
  for (auto &[name, t] : runtime::initState(m))
    args[name] = t;
  for (auto &[name, t] : runtime::initParams(m, 3)) // optimizer_step's gradients
    args["grad." + name] = t;
  args[passes::kLrArg] = runtime::Tensor::scalar(0.05f);
  return args;
}

TEST(KernelProfile, ProfiledBuildGivesTheSameBits) {
  ir::Module m = mlpFashion();
  auto plain = runtime::makeJitExecutor(m);
  auto profiled = runtime::makeJitExecutor(m, nullptr, 0, /*profile_kernels=*/true);
  ASSERT_TRUE(plain && profiled);
  runtime::TensorMap args = allArgs(m);
  runtime::KernelProfile profile;
  for (const ir::Function &f : m.functions) {
    SCOPED_TRACE(f.name());
    auto want = (*plain)->call(f.name(), args);
    auto got = (*profiled)->call(f.name(), args);
    ASSERT_TRUE(want && got);
    expectClose(*want, *got, 0, 0);
  }
}

TEST(KernelProfile, EveryKernelOncePerRun) {
  ir::Module m = mlpFashion();
  auto jit = runtime::makeJitExecutor(m, nullptr, 0, /*profile_kernels=*/true);
  ASSERT_TRUE(bool(jit));
  plan::ModulePlan plan = plan::buildPlan(m);
  auto step = (*jit)->bind("train_step", allArgs(m));
  ASSERT_TRUE(bool(step));
  (*step)->run(); // without a profile the ticks go nowhere
  int32_t index = int32_t(m.find("train_step") - m.functions.data());
  int32_t kernels = int32_t(plan.functions[size_t(index)].kernels.size());
  ASSERT_GT(kernels, 10);
  runtime::KernelProfile profile;
  for (int run = 0; run < 3; ++run)
    (*step)->run();
  for (int32_t k = 0; k <= kernels; ++k) // the kernels, then the result copies
    EXPECT_EQ(profile.times(index, k).size(), 3u) << "interval " << k;
  EXPECT_TRUE(profile.times(index, kernels + 1).empty());
  EXPECT_TRUE(profile.times(index == 0 ? 1 : 0, 0).empty()); // other functions did not run
}

} // namespace
} // namespace gradc::codegen::testing
