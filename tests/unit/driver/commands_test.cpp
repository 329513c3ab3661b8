// driver/dump.h, driver/opt.h and driver/tensors.h as a library user calls
// them: the same text as the tests/ir goldens and as `gradc dump`, and
// compare's verdict on equal and on differing tensors.
#include "driver/dump.h"
#include "driver/opt.h"
#include "driver/run.h"
#include "driver/tensors.h"
#include "runtime/safetensors.h"
#include "tests/unit/temp_dir.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace gradc::driver {
namespace {

std::string source(const std::string &rel) { return std::string(GRADC_SOURCE_DIR) + "/" + rel; }

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// `s` without trailing newlines (tests/ir/run_check.sh compares so).
std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n')
    s.pop_back();
  return s;
}

runtime::Tensor f32(ir::Shape shape, std::vector<float> v) {
  return runtime::Tensor{ir::f32(std::move(shape)), std::move(v), {}};
}

TEST(DriverDump, ParsedStageMatchesGolden) {
  for (const char *model : {"smol_mlp", "our_cnn"}) {
    DumpOptions o;
    o.model = source(std::string("examples/models/") + model + ".json");
    auto text = dump(o);
    ASSERT_TRUE(bool(text)) << text.error().message();
    EXPECT_EQ(trimmed(*text),
              trimmed(readFile(source(std::string("tests/ir/golden/") + model + ".parsed.txt"))))
        << model;
  }
}

TEST(DriverDump, GradStageMatchesGolden) {
  DumpOptions o;
  o.model = source("examples/models/smol_mlp.json");
  o.stage = "grad";
  auto text = dump(o);
  ASSERT_TRUE(bool(text)) << text.error().message();
  EXPECT_EQ(trimmed(*text), trimmed(readFile(source("tests/ir/golden/smol_mlp.grad.txt"))));
}

TEST(DriverDump, BadStageAndFormatAreErrors) {
  DumpOptions o;
  o.model = source("examples/models/smol_mlp.json");
  o.stage = "nonsense";
  auto text = dump(o);
  ASSERT_FALSE(bool(text));
  EXPECT_NE(text.error().message().find("--stage: unknown stage 'nonsense'"), std::string::npos);
  o.stage = "llvm";
  o.format = "dot";
  Status s = checkDumpOptions(o);
  ASSERT_FALSE(bool(s));
  EXPECT_EQ(s.error().message(), "--format: stage 'llvm' prints text only");
}

TEST(DriverDump, ListPassesNamesThePipeline) {
  std::string s = listPasses();
  EXPECT_NE(s.find(" 1  "), std::string::npos) << s;
  EXPECT_NE(s.find("[required]"), std::string::npos) << s;
}

#ifdef GRADC_BIN
/// The standard output of `gradc ARGS`.
std::string gradcOutput(const std::string &args) {
  std::string out;
  FILE *p = ::popen((std::string(GRADC_BIN) + " " + args + " 2>/dev/null").c_str(), "r");
  if (!p)
    return out;
  std::array<char, 4096> buf;
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
    out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

TEST(DriverDump, EqualsTheCliByteForByte) {
  DumpOptions o;
  o.model = source("examples/models/smol_mlp.json");
  o.stage = "train";
  auto text = dump(o);
  ASSERT_TRUE(bool(text)) << text.error().message();
  EXPECT_EQ(*text, gradcOutput("dump " + o.model + " --stage train"));
  EXPECT_EQ(listPasses(), gradcOutput("dump --list-passes"));
}
#endif

TEST(DriverOpt, RunsNamedPasses) {
  OptOptions o;
  o.input = source("tests/ir/opt/dce.ir");
  o.passes = "dce";
  auto text = opt(o);
  ASSERT_TRUE(bool(text)) << text.error().message();
  EXPECT_NE(text->find("func"), std::string::npos) << *text;
  o.passes = "dce,";
  auto bad = opt(o);
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(bad.error().message(), "--passes: empty pass name in 'dce,'");
}

TEST(DriverRun, OptionsCheckedBeforeCompiling) {
  RunOptions o;
  o.model = "/nonexistent/model.json"; // never read: the options are refused first
  o.pipeline.input_grads = {"x"};
  auto r = runModel(o);
  ASSERT_FALSE(bool(r));
  EXPECT_EQ(r.error().message(),
            "--input-grad needs --steps N (N >= 1): gradients come from the training run");
  o.steps = 1000001;
  Status s = checkRunOptions(o);
  ASSERT_FALSE(bool(s));
  EXPECT_EQ(s.error().message(), "--steps: at most 1000000, got 1000001");
  o.steps = 3;
  EXPECT_TRUE(bool(checkRunOptions(o)));
}

TEST(DriverTensors, IdenticalFilesPass) {
  testing::TempDir dir("gradc-driver-compare");
  runtime::TensorMap t = {{"out.y", f32({2, 2}, {1.5f, -2.0f, 0.25f, 3.0f})},
                          {"loss", f32({}, {0.75f})}};
  std::string path = dir.path + "/a.safetensors";
  ASSERT_TRUE(bool(runtime::writeSafetensors(path, t)));
  auto r = compareFiles({path, path, Tolerance{0, 0, 0, false}, true});
  ASSERT_TRUE(bool(r)) << r.error().message();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->passed, 2);
  EXPECT_NE(r->report.find("2 passed, 0 failed\n"), std::string::npos) << r->report;

  auto text = inspect({path, 2});
  ASSERT_TRUE(bool(text)) << text.error().message();
  EXPECT_EQ(*text, "loss: f32[]  min 0.75  max 0.75  mean 0.75\n  [0.75]\n"
                   "out.y: f32[2, 2]  min -2  max 3  mean 0.6875\n  [1.5, -2, ...]\n");
}

TEST(DriverTensors, DifferencesFail) {
  runtime::TensorMap e = {{"out.y", f32({2}, {1.0f, 2.0f})}, {"loss", f32({}, {0.5f})}};
  runtime::TensorMap a = e;
  a["out.y"].f32[1] = 2.5f;
  a.erase("loss");
  a["extra"] = f32({1}, {0});
  CompareResult r = compareTensors(e, a, Tolerance{}, /*no_extra=*/true);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.passed, 0);
  EXPECT_EQ(r.failed, 3);
  EXPECT_NE(r.report.find("MISSING loss\n"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("DIFFER  out.y"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("EXTRA   extra\n"), std::string::npos) << r.report;
}

} // namespace
} // namespace gradc::driver
