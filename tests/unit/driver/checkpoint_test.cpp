// Checkpoints round-trip every field exactly (what a bit-identical resume
// needs), and a file that is not a checkpoint of the model is refused by name.
#include "driver/checkpoint.h"
#include "driver/plot_svg.h"

#include "tests/unit/temp_dir.h"

#include <gtest/gtest.h>

namespace gradc::driver {
namespace {

using runtime::Tensor;

TrainState sample() {
  TrainState s;
  s.model_text = "{\"name\": \"m\"}\n";
  s.params["fc.weight"] = Tensor::zeros(ir::f32({2, 3}));
  s.params["fc.weight"].f32[4] = 0.1f;
  s.state["fc.weight.momentum_buffer"] = Tensor::zeros(ir::f32({2, 3}));
  s.epoch = 2;
  s.step = 17;
  s.rng = 0xfedcba9876543210ull;
  s.seed = 5;
  s.batch = 64;
  s.loss_sum = 1.0 / 3.0;
  s.seen = 1088;
  s.seconds = 0.25;
  s.history = {{1, 0.7, 0.6, 0.81, 0.05, 1.5}, {2, 1e-300, 0.5, -1, 0.015, 2.25}};
  return s;
}

ir::Module moduleOf(const TrainState &s) {
  ir::Module m;
  for (const auto &[name, t] : s.params)
    m.params.push_back({name, t.type});
  for (const auto &[name, t] : s.state)
    m.states.push_back({name, t.type});
  return m;
}

TEST(CheckpointTest, RoundTripsExactly) {
  testing::TempDir dir;
  std::string path = dir.path + "/c.safetensors";
  TrainState a = sample();
  ASSERT_TRUE(bool(saveCheckpoint(path, a)));
  auto b = loadCheckpoint(path);
  ASSERT_TRUE(bool(b)) << b.error().message();
  EXPECT_TRUE(bool(checkCheckpoint(path, *b, moduleOf(a))));
  EXPECT_EQ(b->model_text, a.model_text);
  EXPECT_EQ(b->params.at("fc.weight").f32, a.params.at("fc.weight").f32);
  EXPECT_EQ(b->state.count("fc.weight.momentum_buffer"), 1u);
  EXPECT_EQ(b->epoch, 2);
  EXPECT_EQ(b->step, 17);
  EXPECT_EQ(b->rng, a.rng);
  EXPECT_EQ(b->loss_sum, a.loss_sum);
  EXPECT_EQ(b->seen, 1088);
  ASSERT_EQ(b->history.size(), 2u);
  EXPECT_EQ(b->history[1].train_loss, 1e-300);
  EXPECT_EQ(b->history[1].test_accuracy, -1);
  EXPECT_EQ(metricsJson(b->history[0]), metricsJson(a.history[0]));
}

TEST(CheckpointTest, RefusesOtherFiles) {
  testing::TempDir dir;
  std::string path = dir.path + "/w.safetensors";
  ASSERT_TRUE(bool(runtime::writeSafetensors(path, sample().params)));
  auto b = loadCheckpoint(path);
  ASSERT_FALSE(bool(b));
  EXPECT_NE(b.error().message().find("not a gradc training checkpoint"), std::string::npos);

  TrainState s = sample();
  ASSERT_TRUE(bool(saveCheckpoint(path, s)));
  ir::Module m = moduleOf(s);
  m.params[0].type = ir::f32({3, 3});
  Status st = checkCheckpoint(path, *loadCheckpoint(path), m);
  ASSERT_FALSE(bool(st));
  EXPECT_NE(st.error().message().find("tensor 'fc.weight': expected f32[3, 3], got f32[2, 3]"),
            std::string::npos)
      << st.error().message();
}

TEST(PlotSvgTest, HasAxesTicksLegendAndCurves) {
  std::string svg = learningCurvesSvg(sample().history, "m");
  for (const char *part :
       {"<svg", "data-series=\"train loss\"", "data-series=\"test loss\"",
        "data-series=\"test accuracy\"", ">epoch</text>", ">loss</text>", "</svg>"})
    EXPECT_NE(svg.find(part), std::string::npos) << part;
}

} // namespace
} // namespace gradc::driver
