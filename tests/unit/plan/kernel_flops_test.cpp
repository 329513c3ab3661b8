// FLOPs per kernel (plan::kernelFlops) on the tiny smol_mlp, counted by hand:
// what `gradc bench --per-kernel` divides by each kernel's time.
#include "frontend/model_json.h"
#include "ir/flops.h"
#include "passes/pipeline.h"
#include "plan/plan.h"

#include <gtest/gtest.h>

namespace gradc::plan {
namespace {

TEST(KernelFlops, SmolMlpForwardByHand) {
  const char *src = std::getenv("GRADC_SOURCE_DIR");
  auto m = frontend::loadModel(std::string(src ? src : GRADC_SOURCE_DIR) +
                               "/examples/models/smol_mlp.json");
  ASSERT_TRUE(bool(m)) << m.error().message();
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  const ir::Function &f = *m->find("forward");
  FunctionPlan p = buildFunctionPlan(f);
  // x [4, 3] -> fc1 (5) -> sigmoid -> fc2 (4) -> sigmoid -> fc3 (2) -> mse.
  std::vector<double> want = {
      2 * 4 * 5 * 3 + 20 + 20,       // matmul, bias add, sigmoid (the broadcast is free)
      2 * 4 * 4 * 5 + 16 + 16,       // the same for fc2
      2 * 4 * 2 * 4 + 8 + 8 + 8 + 8, // fc3 with its bias, then sub, square, sum of 8
      1};                            // the mean: one affine
  ASSERT_EQ(p.kernels.size(), want.size());
  double total = 0;
  for (size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(kernelFlops(f, p.kernels[k]), want[k]) << "k" << k;
    total += want[k];
  }
  EXPECT_EQ(ir::functionFlops(f), total);
  EXPECT_EQ(total, 449);
}

} // namespace
} // namespace gradc::plan
