// Whole-model gradients (frontend lowering + autodiff) against finite
// differences, for every loss and layer kind of the model format.
#include "grad_check_util.h"

#include "frontend/model_json.h"

namespace gradc::testing {
namespace {

/// Parses `json`, then checks d loss / d params of its forward function.
void checkModel(const std::string &json) {
  auto m = frontend::parseModel(json, "test.json");
  ASSERT_TRUE(bool(m)) << m.error().message();
  const ir::Function &f = *m->find("forward");
  std::vector<int32_t> wrt;
  std::vector<runtime::DoubleBuffer> args;
  for (size_t i = 0; i < f.args().size(); ++i) {
    const ir::Arg &a = f.args()[i];
    int64_t n = f.type(a.value).numElements();
    if (a.role == ir::ArgRole::Param)
      wrt.push_back(int32_t(i));
    if (f.type(a.value).dtype == ir::DType::I32) {
      runtime::DoubleBuffer labels;
      for (int64_t k = 0; k < n; ++k)
        labels.push_back(double((k * 7 + 3) % m->num_classes));
      args.push_back(labels);
    } else if (a.name == "p") {
      args.push_back(randomValues(5 + i, n, 0, 1)); // probabilities for BCE
    } else {
      args.push_back(randomValues(5 + i, n, -1, 1, 0.01));
    }
  }
  expectGradientsMatch(f, wrt, args, 1e-6);
}

std::string model(const std::string &inputs, const std::string &layers, const std::string &loss) {
  return R"({"format": "gradc.model/1", "name": "t", "inputs": {)" + inputs + R"(}, "layers": [)" +
         layers + R"(], "outputs": ["out"], "loss": )" + loss + "}";
}

const char *kMlpInputs = R"("x": {"shape": [3, 4]}, "t": {"shape": [3, 2]})";

TEST(ModelGrad, EveryRegressionLoss) {
  for (const char *loss : {"mse", "mae", "rmse"}) {
    SCOPED_TRACE(loss);
    checkModel(model(kMlpInputs,
                     R"({"op": "linear", "input": "x", "out_features": 5},
                        {"op": "tanh"}, {"name": "out", "op": "linear", "out_features": 2})",
                     std::string(R"({"op": ")") + loss + R"(", "input": "out", "target": "t"})"));
  }
}

TEST(ModelGrad, CrossEntropyAndBce) {
  checkModel(model(R"("x": {"shape": [5, 4]}, "y": {"shape": [5], "dtype": "i32"})",
                   R"({"op": "linear", "input": "x", "out_features": 6}, {"op": "sigmoid"},
                      {"name": "out", "op": "linear", "out_features": 3})",
                   R"({"op": "cross_entropy", "input": "out", "target": "y"})"));
  checkModel(model(R"("x": {"shape": [3, 4]}, "p": {"shape": [3, 2]})",
                   R"({"op": "linear", "input": "x", "out_features": 2, "name": "out"})",
                   R"({"op": "bce_with_logits", "input": "out", "target": "p"})"));
}

TEST(ModelGrad, ConvPoolSkipConnections) {
  checkModel(model(R"("x": {"shape": [2, 2, 7, 7]}, "t": {"shape": [2, 3]})",
                   R"({"name": "c1", "op": "conv2d", "input": "x", "out_channels": 3,
                       "kernel": [3, 2], "stride": [2, 1], "padding": 1, "dilation": [1, 2]},
                      {"name": "a", "op": "leaky_relu", "slope": 0.1},
                      {"name": "c2", "op": "conv2d", "out_channels": 3, "kernel": 1},
                      {"name": "s", "op": "add", "inputs": ["a", "c2"]},
                      {"name": "m", "op": "mul", "inputs": ["s", "a"]},
                      {"name": "p", "op": "avgpool2d", "kernel": 3, "stride": 2, "padding": 1},
                      {"op": "flatten"},
                      {"name": "sm", "op": "softmax", "axis": 0},
                      {"name": "out", "op": "linear", "out_features": 3})",
                   R"({"op": "mse", "input": "out", "target": "t"})"));
}

TEST(ModelGrad, RmseAtAPerfectFitIsZeroNotNaN) {
  auto m = frontend::parseModel(model(kMlpInputs,
                                      R"({"name": "out", "op": "linear", "input": "x",
                                          "out_features": 2})",
                                      R"({"op": "rmse", "input": "out", "target": "t"})"),
                                "t.json");
  ASSERT_TRUE(bool(m));
  auto bwd = passes::differentiate(*m->find("forward"), {2, 3});
  ASSERT_TRUE(bool(bwd));
  // Zero weights, zero bias and zero targets: y == t everywhere.
  auto res = runtime::evaluate(*bwd, {std::vector<double>(12, 0.5), std::vector<double>(6, 0),
                                      std::vector<double>(8, 0), std::vector<double>(2, 0)});
  for (size_t r = 1; r < res.size(); ++r)
    for (double g : res[r])
      EXPECT_EQ(g, 0.0);
}

} // namespace
} // namespace gradc::testing
