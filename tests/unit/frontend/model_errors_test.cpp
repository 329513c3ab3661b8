// The frontend's diagnostics: every rule of the model format rejected with one
// message "<file>: <json pointer>: <what was expected>".
#include "frontend/model_json.h"

#include <gtest/gtest.h>

namespace gradc::frontend {
namespace {

struct ErrorCase {
  const char *label;
  std::string json;
  std::string pointer;            ///< expected JSON pointer ("" when none)
  std::vector<std::string> words; ///< substrings the message must contain
  DimOverrides dims = {};
};

/// Test names show the label, not the bytes of the case.
void PrintTo(const ErrorCase &c, std::ostream *os) { *os << c.label; }

const char *kInputs = R"("inputs": {"x": {"shape": ["B", 3]}, "t": {"shape": ["B", 2]},
  "c": {"shape": ["B"], "dtype": "i32"}, "img": {"shape": ["B", 1, 4, 4]}})";

/// A valid model around `layers` (the JSON array text) and `extra` top-level members.
std::string withLayers(const std::string &layers, const std::string &extra = "",
                       const std::string &outputs = R"(["out"])") {
  return std::string(R"({"format": "gradc.model/1", "name": "m", "dims": {"B": 4}, )") + kInputs +
         R"(, "layers": )" + layers + R"(, "outputs": )" + outputs + extra + "}";
}

/// One layer named "out" with the given members, fed by x.
std::string oneLayer(const std::string &members) {
  return withLayers(R"([{"name": "out", "input": "x", )" + members + "}]");
}

std::string withLoss(const std::string &loss) {
  return withLayers(R"([{"name": "out", "op": "linear", "input": "x", "out_features": 2}])",
                    R"(, "loss": )" + loss);
}

std::string withOptimizer(const std::string &opt) {
  return withLayers(R"([{"name": "out", "op": "relu", "input": "x"}])", R"(, "optimizer": )" + opt);
}

std::vector<ErrorCase> cases() {
  const std::string fc = R"({"name": "out", "op": "linear", "input": "x", "out_features": 2})";
  return {
      {"InvalidJson", "{\n  \"format\": ,\n}", "", {"line 2, column", "invalid JSON"}},
      {"NotAnObject", "[1, 2]", "/", {"expected a JSON object"}},
      {"WrongFormat", R"({"format": "gradc.model/2"})", "/format", {"gradc.model/1"}},
      {"MissingFormat", R"({"name": "m"})", "/format", {"missing"}},
      {"BadName", R"({"format": "gradc.model/1", "name": "1abc"})", "/name", {"[A-Za-z_]"}},
      {"UnknownTopKey",
       withLayers(R"([)" + fc + "]", R"(, "extra": 1)"),
       "/extra",
       {"unknown key", "extra", "optimizer"}},
      {"MissingLayers",
       R"({"format": "gradc.model/1", "name": "m", "inputs": {"x": {"shape": [1]}},
        "outputs": ["x"]})",
       "/layers",
       {"missing"}},
      {"EmptyLayers", withLayers("[]", "", R"(["x"])"), "/layers", {"non-empty"}},
      {"EmptyOutputs", withLayers("[" + fc + "]", "", "[]"), "/outputs", {"non-empty"}},
      {"UnknownOp",
       oneLayer(R"("op": "conv3d")"),
       "/layers/0/op",
       {"unknown op", "conv3d", "linear", "log_softmax"}},
      {"UnknownLayerKey",
       oneLayer(R"("op": "linear", "out_features": 2, "kernal": 3)"),
       "/layers/0/kernal",
       {"unknown key", "kernal", "linear"}},
      {"InputsOnUnaryOp",
       withLayers(R"([{"name": "out", "op": "relu", "inputs": ["x"]}])"),
       "/layers/0/inputs",
       {"unknown key", "inputs"}},
      {"MissingAttribute",
       oneLayer(R"("op": "linear")"),
       "/layers/0/out_features",
       {"missing", "out_features", "linear"}},
      {"ZeroSize",
       oneLayer(R"("op": "linear", "out_features": 0)"),
       "/layers/0/out_features",
       {"positive integer", "0"}},
      {"FloatSize",
       oneLayer(R"("op": "linear", "out_features": 2.0)"),
       "/layers/0/out_features",
       {"positive integer"}},
      {"HugeFloatSize",
       oneLayer(R"("op": "linear", "out_features": 1e300)"),
       "/layers/0/out_features",
       {"positive integer"}},
      {"BoolSize",
       oneLayer(R"("op": "linear", "out_features": true)"),
       "/layers/0/out_features",
       {"positive integer", "true"}},
      {"SizeTooLarge",
       oneLayer(R"("op": "linear", "out_features": 3000000000)"),
       "/layers/0/out_features",
       {"too large"}},
      {"SizeOverflowsInt64",
       oneLayer(R"("op": "linear", "out_features": 9223372036854775808)"),
       "/layers/0/out_features",
       {"too large"}},
      {"WeightTooLarge",
       oneLayer(R"("op": "linear", "out_features": 2000000000)"),
       "/layers/0/out_features",
       {"too large"}},
      {"ModelOver16GiB",
       withLayers(R"([{"name": "a", "op": "linear", "input": "x", "out_features": 100000000},
                      {"name": "b", "op": "linear", "input": "x", "out_features": 100000000},
                      {"name": "out", "op": "linear", "input": "x", "out_features": 100000000}])"),
       "/layers/2",
       {"16 GiB"}},
      {"BadBias",
       oneLayer(R"("op": "linear", "out_features": 2, "bias": 1)"),
       "/layers/0/bias",
       {"true or false"}},
      {"BadInt2",
       withLayers(R"([{"name": "out", "op": "conv2d", "input": "img",
                                  "out_channels": 2, "kernel": "x"}])"),
       "/layers/0/kernel",
       {"expected a positive integer or a pair [h, w], got \"x\""}},
      {"BadInt2Pair",
       withLayers(R"([{"name": "out", "op": "conv2d", "input": "img",
                                      "out_channels": 2, "kernel": [2, 2, 2]}])"),
       "/layers/0/kernel",
       {"pair [h, w]"}},
      {"NegativePadding",
       withLayers(R"([{"name": "out", "op": "conv2d", "input": "img",
                                          "out_channels": 2, "kernel": 2, "padding": -1}])"),
       "/layers/0/padding",
       {"non-negative integer"}},
      {"ConvWindowTooBig",
       withLayers(R"([{"name": "out", "op": "conv2d", "input": "img",
                                           "out_channels": 2, "kernel": 5}])"),
       "/layers/0",
       {"does not fit", "[5, 5]", "[4, 4]"}},
      {"ConvRank",
       oneLayer(R"("op": "conv2d", "out_channels": 2, "kernel": 1)"),
       "/layers/0",
       {"[N, C, H, W]", "f32[4, 3]"}},
      {"PoolPadding",
       withLayers(R"([{"name": "out", "op": "maxpool2d", "input": "img",
                                      "kernel": 2, "padding": 2}])"),
       "/layers/0/padding",
       {"half the kernel"}},
      {"LinearRank",
       withLayers(R"([{"name": "out", "op": "linear", "input": "img",
                                     "out_features": 2}])"),
       "/layers/0",
       {"[N, in_features]", "f32[4, 1, 4, 4]"}},
      {"BadSlope",
       oneLayer(R"("op": "leaky_relu", "slope": "0.1")"),
       "/layers/0/slope",
       {"number"}},
      {"SlopeBool",
       oneLayer(R"("op": "leaky_relu", "slope": false)"),
       "/layers/0/slope",
       {"number"}},
      {"AxisOutOfRange",
       oneLayer(R"("op": "softmax", "axis": 2)"),
       "/layers/0/axis",
       {"out of range", "f32[4, 3]"}},
      {"ReshapeCount",
       oneLayer(R"("op": "reshape", "shape": [5, -1])"),
       "/layers/0/shape",
       {"cannot reshape", "f32[4, 3]", "[5, -1]"}},
      {"ReshapeTwoInferred",
       oneLayer(R"("op": "reshape", "shape": [-1, -1])"),
       "/layers/0/shape/1",
       {"-1"}},
      {"AddShapes",
       withLayers(R"([{"name": "out", "op": "add", "inputs": ["x", "t"]}])"),
       "/layers/0",
       {"f32[4, 3]", "f32[4, 2]"}},
      {"AddArity",
       withLayers(R"([{"name": "out", "op": "add", "inputs": ["x"]}])"),
       "/layers/0/inputs",
       {"pair"}},
      {"DuplicateLayer",
       withLayers(R"([{"name": "out", "op": "relu", "input": "x"},
                                        {"name": "out", "op": "relu"}])"),
       "/layers/1/name",
       {"duplicate", "out", "layer 0"}},
      {"DuplicateInput",
       withLayers(R"([{"name": "x", "op": "relu", "input": "x"}])"),
       "/layers/0/name",
       {"duplicate", "model input"}},
      {"DuplicateDefaultName",
       withLayers(R"([{"name": "relu_1", "op": "relu", "input": "x"},
                                              {"op": "relu"}, {"name": "out", "op": "relu"}])"),
       "/layers/1",
       {"duplicate", "default name", "relu_1"}},
      {"UsedBeforeDefined",
       withLayers(R"([{"name": "out", "op": "relu", "input": "later"},
                                           {"name": "later", "op": "relu", "input": "x"}])"),
       "/layers/0/input",
       {"before it is defined", "later"}},
      {"NeverDefined",
       withLayers(R"([{"name": "out", "op": "relu", "input": "nope"}])"),
       "/layers/0/input",
       {"not defined", "nope"}},
      {"FirstLayerNoInput",
       withLayers(R"([{"name": "out", "op": "relu"}])"),
       "/layers/0/input",
       {"first layer"}},
      {"OutputUndefined",
       withLayers("[" + fc + "]", "", R"(["out", "ghost"])"),
       "/outputs/1",
       {"not defined", "ghost"}},
      {"OutputTwice", withLayers("[" + fc + "]", "", R"(["out", "out"])"), "/outputs/1", {"twice"}},
      {"I32AsLayerInput",
       withLayers(R"([{"name": "out", "op": "relu", "input": "c"}])"),
       "/layers/0/input",
       {"dtype", "i32", "cross_entropy"}},
      {"I32AsOutput",
       withLayers("[" + fc + "]", "", R"(["out", "c"])"),
       "/outputs/1",
       {"dtype", "i32"}},
      {"BadDim",
       R"({"format": "gradc.model/1", "name": "m", "dims": {"B": -2}})",
       "/dims/B",
       {"positive integer"}},
      {"FloatDim",
       R"({"format": "gradc.model/1", "name": "m", "dims": {"B": 1.5}})",
       "/dims/B",
       {"positive integer"}},
      {"UnknownDim",
       R"({"format": "gradc.model/1", "name": "m", "dims": {"B": 2},
           "inputs": {"x": {"shape": ["C", 3]}}})",
       "/inputs/x/shape/0",
       {"unknown dim", "C", "B"}},
      {"UnknownDimOverride",
       withLayers("[" + fc + "]"),
       "/dims/N",
       {"--dim", "unknown dim"},
       {{"N", 3}}},
      {"BadDimOverride", withLayers("[" + fc + "]"), "/dims/B", {"--dim", "positive"}, {{"B", 0}}},
      {"InputShapeZero",
       R"({"format": "gradc.model/1", "name": "m",
           "inputs": {"x": {"shape": [0, 3]}}})",
       "/inputs/x/shape/0",
       {"positive integer"}},
      {"InputTooLarge",
       R"({"format": "gradc.model/1", "name": "m",
           "inputs": {"x": {"shape": [100000, 100000]}}})",
       "/inputs/x/shape",
       {"too large"}},
      {"InputUnknownKey",
       R"({"format": "gradc.model/1", "name": "m",
           "inputs": {"x": {"shape": [1], "type": "f32"}}})",
       "/inputs/x/type",
       {"unknown key", "type"}},
      {"InputDtype",
       R"({"format": "gradc.model/1", "name": "m",
           "inputs": {"x": {"shape": [1], "dtype": "f64"}}})",
       "/inputs/x/dtype",
       {"f32", "i32", "f64"}},
      {"UnknownLoss",
       withLoss(R"({"op": "hinge", "input": "out", "target": "t"})"),
       "/loss/op",
       {"unknown loss", "hinge", "mse"}},
      {"LossUnknownKey",
       withLoss(R"({"op": "mse", "input": "out", "target": "t", "reduction": "sum"})"),
       "/loss/reduction",
       {"unknown key", "reduction"}},
      {"LossMissingTarget",
       withLoss(R"({"op": "mse", "input": "out"})"),
       "/loss/target",
       {"missing"}},
      {"LossTargetShape",
       withLoss(R"({"op": "mse", "input": "out", "target": "x"})"),
       "/loss/target",
       {"f32[4, 3]", "f32[4, 2]"}},
      {"LossTargetIsLayer",
       withLoss(R"({"op": "mse", "input": "out", "target": "out"})"),
       "/loss/target",
       {"model input", "layer"}},
      {"LossTargetUndefined",
       withLoss(R"({"op": "mse", "input": "out", "target": "zz"})"),
       "/loss/target",
       {"not defined", "zz"}},
      {"LossI32TargetForMse",
       withLoss(R"({"op": "mse", "input": "out", "target": "c"})"),
       "/loss/target",
       {"dtype", "i32"}},
      {"CrossEntropyF32Target",
       withLoss(R"({"op": "cross_entropy", "input": "out", "target": "t"})"),
       "/loss/target",
       {"dtype", "i32[4]"}},
      {"OptimizerUnknown",
       withOptimizer(R"({"op": "rmsprop"})"),
       "/optimizer/op",
       {"unknown optimizer", "rmsprop", "adam"}},
      {"OptimizerUnknownKey",
       withOptimizer(R"({"op": "sgd", "lr": 0.1, "beta": 1})"),
       "/optimizer/beta",
       {"unknown key", "beta", "momentum"}},
      {"SgdNeedsLr", withOptimizer(R"({"op": "sgd"})"), "/optimizer/lr", {"missing", "lr"}},
      {"NegativeLr",
       withOptimizer(R"({"op": "adam", "lr": -1})"),
       "/optimizer/lr",
       {"non-negative"}},
      {"BadBetas",
       withOptimizer(R"({"op": "adam", "betas": [0.9, 1.0]})"),
       "/optimizer/betas/1",
       {"[0, 1)"}},
      {"Nesterov",
       withOptimizer(R"({"op": "sgd", "lr": 0.1, "nesterov": true})"),
       "/optimizer/nesterov",
       {"momentum"}},
      {"ScheduleUnknown",
       withOptimizer(R"({"op": "sgd", "lr": 0.1, "schedule": {"op": "cyc"}})"),
       "/optimizer/schedule/op",
       {"unknown schedule", "cosine"}},
      {"ScheduleKey",
       withOptimizer(R"({"op": "sgd", "lr": 0.1, "schedule": {"op": "step", "step_size": 2,
                                                               "t_max": 3}})"),
       "/optimizer/schedule/t_max",
       {"unknown key", "t_max"}},
      {"ScheduleStepSize",
       withOptimizer(R"({"op": "sgd", "lr": 0.1, "schedule": {"op": "step", "step_size": 0}})"),
       "/optimizer/schedule/step_size",
       {"positive integer"}},
      {"CosineNeedsTMax",
       withOptimizer(R"({"op": "sgd", "lr": 0.1, "schedule": {"op": "cosine"}})"),
       "/optimizer/schedule/t_max",
       {"missing"}},
  };
}

class FrontendErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(FrontendErrors, OneMessageWithFilePointerAndKeywords) {
  const ErrorCase &c = GetParam();
  auto m = parseModel(c.json, "bad.json", c.dims);
  ASSERT_FALSE(bool(m)) << "accepted: " << c.json;
  const std::string &msg = m.error().message();
  EXPECT_EQ(msg.rfind("bad.json: ", 0), 0u) << msg;
  if (!c.pointer.empty()) {
    EXPECT_NE(msg.find("bad.json: " + c.pointer + ": "), std::string::npos) << msg;
  }
  for (const std::string &w : c.words)
    EXPECT_NE(msg.find(w), std::string::npos) << "missing '" << w << "' in: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(All, FrontendErrors, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<ErrorCase> &info) {
                           return std::string(info.param.label);
                         });

TEST(FrontendFiles, UnreadableFile) {
  auto m = loadModel("/nonexistent/dir/model.json");
  ASSERT_FALSE(bool(m));
  EXPECT_NE(m.error().message().find("/nonexistent/dir/model.json: cannot read"), std::string::npos)
      << m.error().message();
}

TEST(FrontendFiles, DirectoryIsUnreadable) {
  auto m = loadModel("/tmp");
  ASSERT_FALSE(bool(m));
  EXPECT_NE(m.error().message().find("directory"), std::string::npos) << m.error().message();
}

} // namespace
} // namespace gradc::frontend
