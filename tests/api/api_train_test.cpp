// The compiled-model API against the CLI: a C++ training loop gives the
// numbers `gradc run --steps 3` gives on the same weights and feed, bit for
// bit; plus weights, schedules, feeds checked, and ahead-of-time objects.
#include "tests/api/dsl_models.h"
#include "tests/unit/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

namespace gradc::test {
namespace {

std::string source(const std::string &rel) { return std::string(GRADC_SOURCE_DIR) + "/" + rel; }

const DslModel &dslModel(const std::string &file) {
  for (const DslModel &m : dslModels())
    if (m.file == file)
      return m;
  throw Error("no DSL model for " + file);
}

/// A feed for `m`'s inputs: uniform floats, class indices below `classes`.
TensorMap randomFeed(const Model &m, int32_t classes) {
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> real(-1, 1);
  TensorMap feed;
  for (const Tensor &in : m.inputs()) {
    HostTensor t = HostTensor::zeros(in.shape(), in.dtype());
    for (float &v : t.f32)
      v = real(gen);
    for (int32_t &v : t.i32)
      v = int32_t(gen() % uint32_t(classes));
    feed[in.name()] = t;
  }
  return feed;
}

void expectSame(const HostTensor &want, const HostTensor &got, const std::string &what) {
  EXPECT_EQ(want.shape, got.shape) << what;
  EXPECT_EQ(want.f32, got.f32) << what;
  EXPECT_EQ(want.i32, got.i32) << what;
}

/// Trains `file`'s DSL twin 3 steps through the API and through `gradc run`
/// from the same initial weights and feed; every number must agree.
void expectRunAgrees(const std::string &file, TensorMap feed) {
  testing::TempDir dir("gradc-api-run");
  std::string weights = dir.path + "/w.safetensors", feed_path = dir.path + "/feed.safetensors",
              out_path = dir.path + "/out.safetensors";
  Model m = dslModel(file).build();
  CompiledModel c = compile(m, {.threads = 1});
  c.init(7);
  c.save_weights(weights);
  save_tensors(feed_path, feed);
  std::string cmd = std::string(GRADC_BIN) + " run " + source(file) + " --feed " + feed_path +
                    " --weights " + weights + " --steps 3 --threads 1 --out " + out_path;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  TensorMap cli = load_tensors(out_path);

  TensorMap fwd = c.forward(feed);
  for (const auto &[name, t] : fwd)
    expectSame(cli.at(name), t, name);
  TensorMap grads = c.backward(feed);
  for (const auto &[name, t] : grads)
    if (name.rfind("grad.", 0) == 0)
      expectSame(cli.at(name), t, name);
  std::vector<float> losses;
  for (int step = 0; step < 3; ++step)
    losses.push_back(c.train_step(feed));
  EXPECT_EQ(losses, cli.at("losses").f32);
  for (const std::string &p : c.parameter_names())
    expectSame(cli.at("param." + p), c.parameter(p), p);
}

TEST(ApiTrain, SmolMlpAgreesWithGradcRun) {
  expectRunAgrees("examples/models/smol_mlp.json",
                  load_tensors(source("examples/data/smol_mlp_feed.safetensors")));
}

TEST(ApiTrain, OurCnnAgreesWithGradcRun) {
  const std::string file = "examples/models/our_cnn.json";
  expectRunAgrees(file, randomFeed(dslModel(file).build(), 10));
}

TEST(ApiTrain, SkipConnectionsAgreeWithGradcRun) {
  const std::string file = "tests/models/cnn_skip_connection.json";
  TensorMap feed = randomFeed(dslModel(file).build(), 2);
  for (float &v : feed.at("target").f32)
    v = v > 0 ? 1.0f : 0.0f; // bce targets lie in [0, 1]
  expectRunAgrees(file, feed);
}

TEST(ApiTrain, WeightsRoundTripByPyTorchName) {
  testing::TempDir dir("gradc-api-weights");
  Model m = dslModel("examples/models/smol_mlp.json").build();
  CompiledModel a = compile(m);
  a.init(3);
  a.save_weights(dir.path + "/w.safetensors");
  TensorMap saved = load_tensors(dir.path + "/w.safetensors");
  EXPECT_EQ(saved.size(), 6u);
  expectSame(saved.at("fc1.weight"), a.parameter("fc1.weight"), "fc1.weight");
  CompiledModel b = compile(m);
  b.load_weights(dir.path + "/w.safetensors");
  for (const std::string &p : a.parameter_names())
    expectSame(a.parameter(p), b.parameter(p), p);
  HostTensor w = b.parameter("fc3.bias");
  w.f32[0] += 1;
  b.set_parameter("fc3.bias", w);
  EXPECT_EQ(b.parameter("fc3.bias").f32[0], w.f32[0]);
  EXPECT_THROW(b.set_parameter("fc3.bias", HostTensor::zeros({3})), Error);
}

TEST(ApiTrain, SetEpochFollowsTheSchedule) {
  // mlp_fashion: lr 0.05, StepLR(step_size 4, gamma 0.3).
  CompiledModel c = compile(dslModel("examples/models/mlp_fashion.json").build());
  EXPECT_DOUBLE_EQ(c.learning_rate(), 0.05);
  c.set_epoch(3);
  EXPECT_DOUBLE_EQ(c.learning_rate(), 0.05);
  c.set_epoch(4);
  EXPECT_NEAR(c.learning_rate(), 0.015, 1e-12);
}

TEST(ApiTrain, MistakesAreErrorsNamingTheTensor) {
  Model m = dslModel("examples/models/smol_mlp.json").build();
  CompiledModel c = compile(m);
  TensorMap feed = load_tensors(source("examples/data/smol_mlp_feed.safetensors"));
  try {
    c.forward(feed);
    ADD_FAILURE();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("init(seed) or load_weights"), std::string::npos);
  }
  c.init(0);
  TensorMap no_x = feed;
  no_x.erase("x");
  try {
    c.forward(no_x);
    ADD_FAILURE();
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()),
              "smol_mlp: feed: missing feed tensor 'x' (expected f32[4, 3])");
  }
  feed.erase("target");
  EXPECT_THROW(c.train_step(feed), Error); // training needs the target
  feed["target"] = HostTensor{DType::f32, {4, 2}, {1, 2, 3}, {}};
  EXPECT_THROW(c.forward(feed), Error);
  EXPECT_THROW(load_tensors("/nonexistent/feed.safetensors"), Error);
}

TEST(ApiTrain, InferenceNeedsNoTarget) {
  Model m = dslModel("examples/models/our_cnn.json").build();
  CompiledModel c = compile(m);
  c.init(0);
  TensorMap feed = randomFeed(m, 10);
  TensorMap with = c.forward(feed);
  feed.erase("label");
  TensorMap without = c.forward(feed);
  EXPECT_EQ(with.count("loss"), 1u);
  EXPECT_EQ(without.count("loss"), 0u);
  expectSame(with.at("out.fc3"), without.at("out.fc3"), "out.fc3");
  feed.erase("image");
  EXPECT_THROW(c.forward(feed), Error);
}

TEST(ApiTrain, ForwardOnlyModelsHaveNoTrainStep) {
  Model m = dslModel("tests/models/outputs_without_loss.json").build();
  CompiledModel c = compile(m);
  c.init(0);
  EXPECT_FALSE(c.trainable());
  TensorMap out = c.forward(randomFeed(m, 1));
  EXPECT_EQ(out.count("out.probs"), 1u);
  EXPECT_THROW(c.train_step(randomFeed(m, 1)), Error);
}

TEST(ApiTrain, CompileToObjectWritesObjectAndHeader) {
  testing::TempDir dir("gradc-api-aot");
  Model m = dslModel("examples/models/smol_mlp.json").build();
  compile_to_object(m, dir.path + "/m.o", dir.path + "/m.h");
  EXPECT_GT(std::filesystem::file_size(dir.path + "/m.o"), 0u);
  EXPECT_GT(std::filesystem::file_size(dir.path + "/m.h"), 0u);
  compile_to_object(m, dir.path + "/m.ll", "", {.emit = ObjectOptions::Emit::llvm_ir});
  EXPECT_GT(std::filesystem::file_size(dir.path + "/m.ll"), 0u);
  // Cross-compiled for a Cortex-M4F: the header says so; an unknown triple throws.
  compile_to_object(m, dir.path + "/m4.o", dir.path + "/m4.h",
                    {.triple = "thumbv7em-none-eabihf", .threads = false});
  std::ifstream header(dir.path + "/m4.h");
  std::string text((std::istreambuf_iterator<char>(header)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("_TRIPLE \"thumbv7em-none-eabihf\""), std::string::npos);
  EXPECT_NE(text.find("_THREADS 0"), std::string::npos);
  EXPECT_THROW(compile_to_object(m, dir.path + "/x.o", "", {.triple = "vax-vms"}), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/x.o"));
}

} // namespace
} // namespace gradc::test
