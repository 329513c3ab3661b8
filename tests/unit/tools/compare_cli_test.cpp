// `gradc compare` as the e2e tests use it: exit 0 on equal files, exit 1 on each kind of
// difference (a perturbed value, NaN, Inf, a missing tensor, a changed shape or dtype, a small
// tensor wrong only relative to its own scale, a wrong summary of a large tensor).
#include "runtime/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace gradc::runtime {
namespace {

namespace fs = std::filesystem;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Tensor f32(ir::Shape shape, std::vector<float> v) { return Tensor{ir::f32(std::move(shape)), std::move(v), {}}; }
Tensor i32(ir::Shape shape, std::vector<int32_t> v) { return Tensor{ir::i32(std::move(shape)), {}, std::move(v)}; }

/// A golden-like file: outputs, a loss, a gradient of small values and an integer tensor.
TensorMap golden() {
  return {{"out.y", f32({2, 3}, {1.5f, -2.0f, 0.25f, 3.0f, 0.0f, -1.0f})},
          {"loss", f32({}, {0.75f})},
          {"grad.small", f32({4}, {2e-5f, -3e-5f, 1e-5f, 4e-5f})},
          {"labels", i32({3}, {0, 2, 1})}};
}

class CompareCliTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gradc_compare_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string &name, const TensorMap &t) {
    std::string p = (dir_ / name).string();
    EXPECT_TRUE(bool(writeSafetensors(p, t))) << p;
    return p;
  }

  /// Runs `gradc compare EXPECTED ACTUAL FLAGS`; returns the exit status, output in `out_`.
  int compare(const TensorMap &expected, const TensorMap &actual, const std::string &flags = "") {
    std::string e = write("expected.safetensors", expected);
    std::string a = write("actual.safetensors", actual);
    std::string log = (dir_ / "log.txt").string();
    std::string cmd = std::string(GRADC_BIN) + " compare " + e + " " + a + " " + flags + " >" +
                      log + " 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    out_ = ss.str();
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  fs::path dir_;
  std::string out_;
};

TEST_F(CompareCliTest, EqualFilesPass) {
  EXPECT_EQ(compare(golden(), golden(), "--rtol 0 --atol 0 --scale-rtol 0"), 0) << out_;
  EXPECT_NE(out_.find("4 passed, 0 failed"), std::string::npos) << out_;
}

TEST_F(CompareCliTest, WithinToleranceAndExtraTensorPass) {
  TensorMap a = golden();
  a["out.y"].f32[0] *= 1 + 1e-6f;
  a["extra"] = f32({1}, {1});
  EXPECT_EQ(compare(golden(), a, "--rtol 1e-4 --atol 1e-5"), 0) << out_;
  EXPECT_NE(out_.find("EXTRA   extra"), std::string::npos) << out_;
  EXPECT_EQ(compare(golden(), a, "--rtol 1e-4 --atol 1e-5 --no-extra"), 1) << out_;
}

TEST_F(CompareCliTest, PerturbedValueFails) {
  TensorMap a = golden();
  a["out.y"].f32[4] = 1e-3f;
  EXPECT_EQ(compare(golden(), a, "--rtol 1e-4 --atol 1e-5"), 1) << out_;
  EXPECT_NE(out_.find("DIFFER  out.y"), std::string::npos) << out_;
  EXPECT_NE(out_.find("3 passed, 1 failed"), std::string::npos) << out_;
}

TEST_F(CompareCliTest, PerturbedIntegerFails) {
  TensorMap a = golden();
  a["labels"].i32[1] = 1;
  EXPECT_EQ(compare(golden(), a, "--rtol 0 --atol 0.5"), 1) << out_;
  EXPECT_NE(out_.find("DIFFER  labels"), std::string::npos) << out_;
}

TEST_F(CompareCliTest, NaNFails) {
  TensorMap a = golden();
  a["loss"].f32[0] = kNaN;
  EXPECT_EQ(compare(golden(), a, "--rtol 1e9 --atol 1e9"), 1) << out_;
  EXPECT_NE(out_.find("NaN/Inf"), std::string::npos) << out_;
}

TEST_F(CompareCliTest, NaNInExpectedFails) {
  TensorMap e = golden();
  e["loss"].f32[0] = kNaN;
  EXPECT_EQ(compare(e, golden(), "--rtol 1e9 --atol 1e9"), 1) << out_;
}

TEST_F(CompareCliTest, NaNEqualsNaNOnlyWhenAllowed) {
  TensorMap e = golden();
  e["loss"].f32[0] = kNaN;
  EXPECT_EQ(compare(e, e), 1) << out_;
  EXPECT_EQ(compare(e, e, "--allow-nonfinite"), 0) << out_;
  TensorMap a = golden();
  EXPECT_EQ(compare(e, a, "--allow-nonfinite"), 1) << out_;
}

TEST_F(CompareCliTest, InfFails) {
  TensorMap a = golden();
  a["out.y"].f32[1] = -kInf;
  EXPECT_EQ(compare(golden(), a, "--rtol 1e9 --atol 1e9"), 1) << out_;
  TensorMap e = golden();
  e["out.y"].f32[1] = kInf;
  EXPECT_EQ(compare(e, e), 1) << out_;
  EXPECT_EQ(compare(e, e, "--allow-nonfinite"), 0) << out_;
  TensorMap flipped = e;
  flipped["out.y"].f32[1] = -kInf;
  EXPECT_EQ(compare(e, flipped, "--allow-nonfinite"), 1) << out_;
}

TEST_F(CompareCliTest, MissingTensorFails) {
  TensorMap a = golden();
  a.erase("grad.small");
  EXPECT_EQ(compare(golden(), a), 1) << out_;
  EXPECT_NE(out_.find("MISSING grad.small"), std::string::npos) << out_;
}

TEST_F(CompareCliTest, ChangedShapeFails) {
  TensorMap a = golden();
  a["out.y"].type.shape = {3, 2};
  EXPECT_EQ(compare(golden(), a), 1) << out_;
  EXPECT_NE(out_.find("SHAPE   out.y"), std::string::npos) << out_;
}

TEST_F(CompareCliTest, ChangedDtypeFails) {
  TensorMap a = golden();
  a["labels"] = f32({3}, {0, 2, 1});
  EXPECT_EQ(compare(golden(), a), 1) << out_;
  EXPECT_NE(out_.find("DTYPE   labels"), std::string::npos) << out_;
}

// A tensor of values below atol: zeroed or sign-flipped, it passes the elementwise check and
// fails only the per-tensor one.
TEST_F(CompareCliTest, SmallTensorCheckedAgainstItsOwnScale) {
  TensorMap zeroed = golden(), flipped = golden();
  for (float &v : zeroed["grad.small"].f32)
    v = 0;
  for (float &v : flipped["grad.small"].f32)
    v = -v;
  for (const TensorMap *a : {&zeroed, &flipped}) {
    EXPECT_EQ(compare(golden(), *a, "--rtol 1e-3 --atol 1e-4"), 0) << out_;
    EXPECT_EQ(compare(golden(), *a, "--rtol 1e-3 --atol 1e-4 --scale-rtol 1e-2"), 1) << out_;
    EXPECT_NE(out_.find("above --scale-rtol"), std::string::npos) << out_;
  }
  TensorMap close = golden();
  close["grad.small"].f32[0] *= 1.001f;
  EXPECT_EQ(compare(golden(), close, "--rtol 1e-3 --atol 1e-4 --scale-rtol 1e-2"), 0) << out_;
}

/// A large tensor and the summaries golden_tools.py writes for it (same formulas).
struct Large {
  Tensor t;
  TensorMap summaries;
};
Large large(int64_t n) {
  Large l{f32({n / 100, 100}, std::vector<float>(size_t(n))), {}};
  for (int64_t i = 0; i < n; ++i)
    l.t.f32[size_t(i)] = float(std::sin(0.37 * double(i)) * 1e-3);
  std::vector<float> sample(256);
  for (int64_t k = 0; k < 256; ++k)
    sample[size_t(k)] = l.t.f32[size_t((uint64_t(k) * 2654435761ull) % uint64_t(n))];
  double sum = 0, l1 = 0, l2 = 0, mx = 0;
  for (float v : l.t.f32) {
    sum += v;
    l1 += std::fabs(v);
    l2 += double(v) * v;
    mx = std::max(mx, double(std::fabs(v)));
  }
  l.summaries["grad.big#sample"] = f32({256}, sample);
  l.summaries["grad.big#stats"] = f32({4}, {float(sum), float(l1), float(std::sqrt(l2)), float(mx)});
  return l;
}

TEST_F(CompareCliTest, SummariesOfLargeTensor) {
  Large l = large(60000);
  const std::string flags = "--rtol 1e-3 --atol 1e-6 --scale-rtol 1e-3";
  EXPECT_EQ(compare(l.summaries, {{"grad.big", l.t}}, flags), 0) << out_;
  EXPECT_EQ(out_.find("EXTRA"), std::string::npos) << out_;
  // Missing, never updated (zero), scaled, one sampled element off, one unsampled element off.
  EXPECT_EQ(compare(l.summaries, {{"grad.other", l.t}}, flags), 1) << out_;
  EXPECT_NE(out_.find("MISSING grad.big"), std::string::npos) << out_;
  Tensor zero = l.t, scaled = l.t, sampled = l.t, unsampled = l.t, nan = l.t;
  std::fill(zero.f32.begin(), zero.f32.end(), 0.0f);
  for (float &v : scaled.f32)
    v *= 1.01f;
  sampled.f32[2654435761ull % 60000] += 1e-4f;
  unsampled.f32[1] += 0.5f; // index 1 is not sampled for n = 60000; the statistics see it
  nan.f32[1] = kNaN;
  for (const Tensor *t : {&zero, &scaled, &sampled, &unsampled, &nan})
    EXPECT_EQ(compare(l.summaries, {{"grad.big", *t}}, flags), 1) << out_;
  Tensor wrong_dtype = i32({600, 100}, std::vector<int32_t>(60000));
  EXPECT_EQ(compare(l.summaries, {{"grad.big", wrong_dtype}}, flags), 1) << out_;
}

TEST_F(CompareCliTest, UnreadableFileFails) {
  std::string e = write("expected.safetensors", golden());
  std::string cmd = std::string(GRADC_BIN) + " compare " + e + " " + (dir_ / "nope").string() +
                    " >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
}

} // namespace
} // namespace gradc::runtime
