// One lowering, two frontends: every shared and test model written in the
// DSL prints the IR `gradc dump --stage parsed` prints for its file, and its
// to_json text reads back to the same IR.
#include "tests/api/dsl_models.h"
#include "tests/unit/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace gradc::test {
namespace {

std::string source(const std::string &rel) { return std::string(GRADC_SOURCE_DIR) + "/" + rel; }

/// The stdout of `command`.
std::string capture(const std::string &command) {
  std::string out;
  FILE *p = ::popen(command.c_str(), "r");
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << command;
  return out;
}

class DslModelTest : public ::testing::TestWithParam<DslModel> {};

TEST_P(DslModelTest, PrintsTheIrOfTheJsonFile) {
  std::string file = source(GetParam().file);
  Model dsl = GetParam().build();
  std::string cli = capture(std::string(GRADC_BIN) + " dump " + file + " --stage parsed");
  EXPECT_EQ(to_ir(dsl), cli);
  EXPECT_EQ(to_ir(load_model(file)), cli);
}

TEST_P(DslModelTest, ToJsonReadsBackToTheSameIr) {
  Model dsl = GetParam().build();
  testing::TempDir dir("gradc-dsl");
  std::string path = dir.path + "/model.json";
  std::ofstream(path) << to_json(dsl);
  Model back = load_model(path);
  EXPECT_EQ(to_ir(back), to_ir(dsl));
  // And the CLI reads the text too, to the same IR.
  EXPECT_EQ(capture(std::string(GRADC_BIN) + " dump " + path + " --stage parsed"), to_ir(dsl));
  // A loaded model writes the same text again.
  EXPECT_EQ(to_json(back), to_json(dsl));
}

TEST_P(DslModelTest, KnowsItsParametersInputsAndOutputs) {
  Model dsl = GetParam().build();
  Model file = load_model(source(GetParam().file));
  EXPECT_EQ(dsl.parameter_names(), file.parameter_names());
  ASSERT_EQ(dsl.inputs().size(), file.inputs().size());
  for (size_t i = 0; i < dsl.inputs().size(); ++i) {
    EXPECT_EQ(dsl.inputs()[i].name(), file.inputs()[i].name());
    EXPECT_EQ(dsl.inputs()[i].shape(), file.inputs()[i].shape());
    EXPECT_EQ(dsl.inputs()[i].dtype(), file.inputs()[i].dtype());
  }
  ASSERT_EQ(dsl.outputs().size(), file.outputs().size());
  for (size_t i = 0; i < dsl.outputs().size(); ++i)
    EXPECT_EQ(dsl.outputs()[i].name(), file.outputs()[i].name());
  EXPECT_EQ(dsl.has_loss(), file.has_loss());
}

std::string testName(const ::testing::TestParamInfo<DslModel> &info) {
  std::string name = info.param.file.substr(info.param.file.rfind('/') + 1);
  return name.substr(0, name.size() - 5);
}

INSTANTIATE_TEST_SUITE_P(AllModels, DslModelTest, ::testing::ValuesIn(dslModels()), testName);

TEST(DslTest, ALoadedModelExtendsAsABuiltOne) {
  Model m = load_model(source("examples/models/smol_mlp.json"));
  Tensor fc3 = m.tensor("fc3");
  EXPECT_EQ(fc3.shape(), (std::vector<int64_t>{4, 2}));
  Tensor p = softmax(fc3, {.name = "probs"});
  m.output(p);
  EXPECT_NE(to_ir(m).find("output \"out.probs\""), std::string::npos);
}

TEST(DslTest, OperatorsAreTheElementwiseLayers) {
  Model a("ops");
  Tensor x = a.input("x", {2, 3});
  Tensor y = a.input("y", {2, 3});
  a.output(x + y);
  a.output(x - y);
  a.output(x * y);
  std::string json = to_json(a);
  EXPECT_NE(json.find("\"outputs\": [\"add_0\", \"sub_1\", \"mul_2\"]"), std::string::npos) << json;
}

TEST(DslTest, AFailedCallLeavesTheModelAsItWas) {
  Model m("m");
  Tensor x = m.input("x", {4, 3});
  EXPECT_THROW(conv2d(x, {.out_channels = 2, .kernel = 3}), Error);
  // The failed layer took no index and no parameter.
  Tensor y = linear(x, {.out_features = 2});
  EXPECT_EQ(y.name(), "linear_0");
  EXPECT_EQ(m.parameter_names(), (std::vector<std::string>{"linear_0.weight", "linear_0.bias"}));
}

} // namespace
} // namespace gradc::test
