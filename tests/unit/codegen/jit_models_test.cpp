// The reference models end to end through codegen: every function the
// training pipeline builds (forward, backward, optimizer_step, train_step),
// JIT against interpreter on random data with a small batch.
#include "codegen_test_util.h"

#include "frontend/model_json.h"
#include "passes/optimizer.h"
#include "passes/pipeline.h"
#include "runtime/init.h"

#include <cstdlib>

namespace gradc::codegen::testing {
namespace {

std::string modelPath(const std::string &name) {
  const char *src = std::getenv("GRADC_SOURCE_DIR");
  return std::string(src ? src : GRADC_DEFAULT_SOURCE_DIR) + "/examples/models/" + name;
}

class JitModels : public ::testing::TestWithParam<const char *> {};

TEST_P(JitModels, EveryFunctionMatchesInterpreter) {
  auto m = frontend::loadModel(modelPath(GetParam()), {{"B", 3}});
  ASSERT_TRUE(bool(m)) << m.error().message();
  Status st = passes::buildTrainingFunctions(*m);
  ASSERT_TRUE(bool(st)) << st.error().message();
  auto jit = jitOf(*m);
  ASSERT_TRUE(jit);
  auto interp = runtime::makeInterpreterExecutor(*m);
  // Realistic magnitudes: PyTorch-initialised parameters, so that float32
  // rounding stays near the level of the data rather than of huge logits.
  runtime::TensorMap params = runtime::initParams(*m, 7);
  for (const ir::Function &f : m->functions) {
    SCOPED_TRACE(f.name());
    runtime::TensorMap args = randomArgs(f, 3, -1, 1);
    if (args.count(m->class_input))
      for (int32_t &c : args[m->class_input].i32)
        c = int32_t(std::abs(c) % m->num_classes);
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

INSTANTIATE_TEST_SUITE_P(ReferenceModels, JitModels,
                         ::testing::Values("smol_mlp.json", "mlp_fashion.json", "our_cnn.json",
                                           "cnn_fashion.json"));

} // namespace
} // namespace gradc::codegen::testing
