// Concurrency stress: one JIT-compiled model, many threads training at once, each with its own
// parameters and buffers, must give bit for bit what the same training gives on one thread.
// Two ways of calling: BoundCall (buffers packed once, updates accumulate in place) and call()
// (fresh buffers per call, updated parameters fed back by name).
#include "frontend/model_json.h"
#include "passes/optimizer.h"
#include "passes/pipeline.h"
#include "runtime/init.h"
#include "runtime/jit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace gradc {
namespace {

constexpr int kThreads = 8;
constexpr int kSteps = 30;

std::string modelPath(const std::string &rel) {
  const char *src = std::getenv("GRADC_SOURCE_DIR");
  return std::string(src ? src : GRADC_SOURCE_DIR) + "/" + rel;
}

/// What one training run leaves: the loss of every step and the final parameters and state.
struct Trace {
  std::vector<uint32_t> losses;
  runtime::TensorMap tensors;
};

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

void expectSameBits(const Trace &want, const Trace &got, int thread) {
  SCOPED_TRACE("thread " + std::to_string(thread));
  ASSERT_EQ(want.losses.size(), size_t(kSteps));
  EXPECT_EQ(want.losses, got.losses);
  ASSERT_EQ(want.tensors.size(), got.tensors.size());
  for (const auto &[name, t] : want.tensors) {
    const runtime::Tensor &g = got.tensors.at(name);
    EXPECT_EQ(t.type, g.type) << name;
    EXPECT_EQ(0, std::memcmp(t.f32.data(), g.f32.data(), t.f32.size() * 4)) << name;
    EXPECT_EQ(t.i32, g.i32) << name;
  }
}

class JitThreads : public ::testing::TestWithParam<const char *> {
protected:
  void SetUp() override {
    auto m = frontend::loadModel(modelPath(GetParam()), {{"B", 4}});
    ASSERT_TRUE(bool(m)) << m.error().message();
    ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
    module_ = m.take();
    auto jit = runtime::makeJitExecutor(module_);
    ASSERT_TRUE(bool(jit)) << jit.error().message();
    exec_ = jit.take();
  }

  /// The arguments of instance `seed`: its own parameters and feed.
  runtime::TensorMap args(uint64_t seed) const {
    runtime::TensorMap a = runtime::initParams(module_, seed);
    runtime::TensorMap feed = runtime::randomInputs(module_, seed);
    runtime::TensorMap state = runtime::initState(module_);
    a.insert(feed.begin(), feed.end());
    a.insert(state.begin(), state.end());
    a[passes::kLrArg] = runtime::Tensor::scalar(0.05f);
    return a;
  }

  /// kSteps train steps through call(), feeding the updated tensors back.
  Trace trainByCall(uint64_t seed) const {
    Trace t;
    runtime::TensorMap a = args(seed);
    for (int i = 0; i < kSteps; ++i) {
      auto r = exec_->call("train_step", a);
      if (!r)
        return {};
      t.losses.push_back(bits(r->at("loss").f32[0]));
      for (auto &[name, v] : *r)
        if (a.count(name))
          a[name] = v;
    }
    for (const ir::ParamInfo &p : module_.params)
      t.tensors[p.name] = a.at(p.name);
    for (const ir::StateInfo &s : module_.states)
      t.tensors[s.name] = a.at(s.name);
    return t;
  }

  /// kSteps runs of one BoundCall; only the losses are visible.
  Trace trainBound(uint64_t seed) const {
    Trace t;
    auto call = exec_->bind("train_step", args(seed));
    if (!call)
      return {};
    for (int i = 0; i < kSteps; ++i)
      t.losses.push_back(bits((*call)->run()));
    return t;
  }

  /// Runs `train` for seeds 0..kThreads-1 on kThreads threads released at once.
  template <typename F> std::vector<Trace> concurrently(F train) const {
    std::vector<Trace> out(kThreads);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kThreads)
          std::this_thread::yield();
        out[size_t(i)] = train(uint64_t(i % 3)); // seeds repeat: equal runs share nothing
      });
    for (std::thread &t : threads)
      t.join();
    return out;
  }

  /// `train` for seeds 0, 1, 2 on one thread, then on kThreads threads at
  /// once (seeds repeating): every concurrent run must equal its serial run
  /// bit for bit. Returns the serial runs.
  template <typename F> std::vector<Trace> expectConcurrentMatchesSerial(F train) const {
    std::vector<Trace> serial;
    for (uint64_t seed = 0; seed < 3; ++seed)
      serial.push_back(train(seed));
    std::vector<Trace> par = concurrently(train);
    for (int i = 0; i < kThreads; ++i)
      expectSameBits(serial[size_t(i % 3)], par[size_t(i)], i);
    return serial;
  }

  ir::Module module_;
  std::unique_ptr<runtime::Executor> exec_;
};

TEST_P(JitThreads, CallsMatchTheSerialRunBitForBit) {
  expectConcurrentMatchesSerial([this](uint64_t s) { return trainByCall(s); });
}

TEST_P(JitThreads, BoundCallsMatchTheSerialRunBitForBit) {
  std::vector<Trace> serial =
      expectConcurrentMatchesSerial([this](uint64_t s) { return trainBound(s); });
  // And the bound call accumulates exactly as call() does.
  Trace byCall = trainByCall(0);
  EXPECT_EQ(serial[0].losses, byCall.losses);
}

INSTANTIATE_TEST_SUITE_P(Models, JitThreads,
                         ::testing::Values("examples/models/smol_mlp.json",
                                           "tests/models/cnn_skip_connection.json",
                                           "tests/models/avgpool_mae_adam.json"),
                         [](const auto &info) {
                           std::string s = info.param;
                           s = s.substr(s.rfind('/') + 1);
                           return s.substr(0, s.find('.'));
                         });

} // namespace
} // namespace gradc
