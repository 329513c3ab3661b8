// The frontend on valid models: the reference models' IR (arguments, results,
// parameter shapes and init bounds, optimizer) and the lowering of each op.
#include "frontend/model_json.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

namespace gradc::frontend {
namespace {

using ir::ArgRole;
using ir::OpKind;
using ir::ResultRole;

std::string modelPath(const std::string &name) {
  const char *env = std::getenv("GRADC_SOURCE_DIR");
  std::string root = env ? env : GRADC_DEFAULT_SOURCE_DIR;
  return root + "/examples/models/" + name + ".json";
}

/// The module, expected to load and verify (an empty one after a failure).
ir::Module verified(Expected<ir::Module> m) {
  EXPECT_TRUE(bool(m)) << (m ? "" : m.error().message());
  if (!m)
    return ir::Module{};
  auto status = ir::verify(*m);
  EXPECT_TRUE(bool(status)) << (status ? "" : status.error().message());
  return m.take();
}

ir::Module load(const std::string &name, const DimOverrides &dims = {}) {
  return verified(loadModel(modelPath(name), dims));
}

ir::Module parse(const std::string &text) { return verified(parseModel(text, "t.json")); }

/// "name:role:type" of every argument, in order.
std::vector<std::string> argSummary(const ir::Function &f) {
  std::vector<std::string> out;
  for (const ir::Arg &a : f.args())
    out.push_back(a.name + ":" + ir::argRoleName(a.role) + ":" + f.type(a.value).str());
  return out;
}

std::vector<std::string> resultSummary(const ir::Function &f) {
  std::vector<std::string> out;
  for (const ir::Result &r : f.results())
    out.push_back(r.name + ":" + ir::resultRoleName(r.role) + ":" + f.type(r.value).str());
  return out;
}

void expectParam(const ir::Module &m, size_t i, const std::string &name, ir::Shape shape,
                 double fan_in) {
  ASSERT_LT(i, m.params.size());
  EXPECT_EQ(m.params[i].name, name);
  EXPECT_EQ(m.params[i].type, ir::f32(shape)) << name;
  EXPECT_DOUBLE_EQ(m.params[i].init_bound, 1.0 / std::sqrt(fan_in)) << name;
}

TEST(FrontendModels, SmolMlp) {
  ir::Module m = load("smol_mlp");
  EXPECT_EQ(m.name, "smol_mlp");
  ASSERT_EQ(m.functions.size(), 1u);
  const ir::Function &f = m.functions[0];
  EXPECT_EQ(f.name(), "forward");
  std::vector<std::string> args = {"x:input:f32[4, 3]",          "target:input:f32[4, 2]",
                                   "fc1.weight:param:f32[5, 3]", "fc1.bias:param:f32[5]",
                                   "fc2.weight:param:f32[4, 5]", "fc2.bias:param:f32[4]",
                                   "fc3.weight:param:f32[2, 4]", "fc3.bias:param:f32[2]"};
  EXPECT_EQ(argSummary(f), args);
  std::vector<std::string> results = {"out.fc3:output:f32[4, 2]", "loss:loss:f32[]"};
  EXPECT_EQ(resultSummary(f), results);
  ASSERT_EQ(m.params.size(), 6u);
  expectParam(m, 0, "fc1.weight", {5, 3}, 3);
  expectParam(m, 1, "fc1.bias", {5}, 3);
  expectParam(m, 2, "fc2.weight", {4, 5}, 5);
  expectParam(m, 5, "fc3.bias", {2}, 4);
  EXPECT_TRUE(m.has_loss);
  EXPECT_EQ(m.class_input, "");
  EXPECT_EQ(m.optimizer.kind, ir::OptimizerConfig::Kind::Sgd);
  EXPECT_DOUBLE_EQ(m.optimizer.lr, 0.1);
  EXPECT_EQ(m.optimizer.momentum, 0);
  EXPECT_EQ(m.optimizer.schedule.kind, ir::Schedule::Kind::None);
  // Layer names land on the final node of each layer, the loss on "loss".
  EXPECT_EQ(f.value(f.results()[0].value).name, "fc3");
  EXPECT_EQ(f.value(f.results()[1].value).name, "loss");
}

TEST(FrontendModels, SmolMlpDimOverride) {
  ir::Module m = load("smol_mlp", {{"B", 16}});
  const ir::Function &f = m.functions[0];
  EXPECT_EQ(f.type(f.args()[0].value), ir::f32({16, 3}));
  EXPECT_EQ(f.type(f.results()[0].value), ir::f32({16, 2}));
}

TEST(FrontendModels, CnnFashion) {
  ir::Module m = load("cnn_fashion");
  const ir::Function &f = m.functions[0];
  EXPECT_EQ(f.args()[0].name, "image");
  EXPECT_EQ(f.type(f.args()[1].value), ir::i32({64}));
  ASSERT_EQ(m.params.size(), 10u);
  expectParam(m, 0, "conv1.weight", {18, 1, 5, 5}, 25);
  expectParam(m, 1, "conv1.bias", {18}, 25);
  expectParam(m, 2, "conv2.weight", {32, 18, 3, 3}, 162);
  expectParam(m, 4, "fc1.weight", {120, 800}, 800);
  expectParam(m, 9, "fc3.bias", {10}, 84);
  EXPECT_EQ(m.class_input, "label");
  EXPECT_EQ(m.num_classes, 10);
  EXPECT_DOUBLE_EQ(m.optimizer.momentum, 0.9);
  EXPECT_DOUBLE_EQ(m.optimizer.lr, 0.05);
  EXPECT_EQ(resultSummary(f),
            (std::vector<std::string>{"out.fc3:output:f32[64, 10]", "loss:loss:f32[]"}));
}

TEST(FrontendModels, MlpFashionSchedule) {
  ir::Module m = load("mlp_fashion");
  expectParam(m, 0, "fc1.weight", {256, 784}, 784);
  EXPECT_EQ(m.optimizer.schedule.kind, ir::Schedule::Kind::Step);
  EXPECT_EQ(m.optimizer.schedule.step_size, 4);
  EXPECT_DOUBLE_EQ(m.optimizer.schedule.gamma, 0.3);
}

TEST(FrontendModels, OurCnn) {
  ir::Module m = load("our_cnn");
  expectParam(m, 0, "conv1.weight", {18, 3, 5, 5}, 75);
  expectParam(m, 4, "fc1.weight", {120, 1152}, 1152);
  EXPECT_EQ(m.num_classes, 10);
}

// The printed forward function of smol_mlp: a change here changes every IR
// golden downstream, so it must be deliberate.
TEST(FrontendModels, SmolMlpPrintedIrIsStable) {
  const char *golden = R"(func @smol_mlp.forward(
    %x: f32[4, 3] input
    %target: f32[4, 2] input
    %fc1.weight: f32[5, 3] param
    %fc1.bias: f32[5] param
    %fc2.weight: f32[4, 5] param
    %fc2.bias: f32[4] param
    %fc3.weight: f32[2, 4] param
    %fc3.bias: f32[2] param
) {
  %0 = matmul %x, %fc1.weight {transpose_a = false, transpose_b = true} : f32[4, 5]
  %1 = broadcast %fc1.bias {shape = [4, 5], dims = [1]} : f32[4, 5]
  %fc1 = add %0, %1 : f32[4, 5]
  %sigmoid_1 = sigmoid %fc1 : f32[4, 5]
  %2 = matmul %sigmoid_1, %fc2.weight {transpose_a = false, transpose_b = true} : f32[4, 4]
  %3 = broadcast %fc2.bias {shape = [4, 4], dims = [1]} : f32[4, 4]
  %fc2 = add %2, %3 : f32[4, 4]
  %sigmoid_3 = sigmoid %fc2 : f32[4, 4]
  %4 = matmul %sigmoid_3, %fc3.weight {transpose_a = false, transpose_b = true} : f32[4, 2]
  %5 = broadcast %fc3.bias {shape = [4, 2], dims = [1]} : f32[4, 2]
  %fc3 = add %4, %5 : f32[4, 2]
  %6 = sub %fc3, %target : f32[4, 2]
  %7 = mul %6, %6 : f32[4, 2]
  %8 = reduce_sum %7 {axes = [0, 1]} : f32[]
  %loss = affine %8 {scale = 0.125, shift = 0.0} : f32[]
  return
    output "out.fc3" = %fc3
    loss "loss" = %loss
}
)";
  ir::Module m = load("smol_mlp");
  EXPECT_EQ(ir::printText(m), golden);
}

/// The ops of `f`'s nodes, in order.
std::vector<std::string> opSequence(const ir::Function &f) {
  std::vector<std::string> out;
  for (const ir::Node &n : f.nodes())
    out.push_back(ir::opName(n.op));
  return out;
}

const char *kHead = R"({"format": "gradc.model/1", "name": "t", "dims": {"B": 2},
  "inputs": {"x": {"shape": ["B", 3]}, "y": {"shape": ["B", 3]},
             "c": {"shape": ["B"], "dtype": "i32"}},)";

std::string model(const std::string &rest) { return kHead + rest + "}"; }

TEST(FrontendLowering, SkipConnectionsDefaultNamesAndIdentity) {
  ir::Module m = parse(model(R"("layers": [
      {"op": "relu", "input": "x"},
      {"name": "id", "op": "identity"},
      {"op": "add", "inputs": ["relu_0", "x"]},
      {"op": "leaky_relu", "slope": 0.2},
      {"op": "softmax", "axis": -1, "input": "y"}],
    "outputs": ["add_2", "id", "leaky_relu_3", "softmax_4", "y"])"));
  const ir::Function &f = m.functions[0];
  EXPECT_EQ(opSequence(f), (std::vector<std::string>{"relu", "add", "leaky_relu", "softmax"}));
  EXPECT_EQ(f.value(f.results()[0].value).name, "add_2");
  // identity adds no node: its name is the relu's value.
  EXPECT_EQ(f.results()[1].value, f.nodes()[0].result);
  EXPECT_EQ(f.results()[4].value, f.args()[1].value);
  EXPECT_DOUBLE_EQ(f.nodes()[2].attrs.f("slope"), 0.2);
  EXPECT_EQ(f.nodes()[3].attrs.i("axis"), 1);
  EXPECT_FALSE(m.has_loss);
  EXPECT_EQ(m.optimizer.kind, ir::OptimizerConfig::Kind::Sgd);
  EXPECT_DOUBLE_EQ(m.optimizer.lr, 0.01);
}

TEST(FrontendLowering, LinearWithoutBiasAndReshape) {
  ir::Module m = parse(model(R"("layers": [
      {"name": "fc", "op": "linear", "input": "x", "out_features": 6, "bias": false},
      {"name": "r", "op": "reshape", "shape": ["B", -1, 2]},
      {"name": "f", "op": "flatten"}],
    "outputs": ["r", "f"])"));
  const ir::Function &f = m.functions[0];
  EXPECT_EQ(opSequence(f), (std::vector<std::string>{"matmul", "reshape", "reshape"}));
  EXPECT_EQ(f.type(f.results()[0].value), ir::f32({2, 3, 2}));
  EXPECT_EQ(f.type(f.results()[1].value), ir::f32({2, 6}));
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_TRUE(f.nodes()[0].attrs.b("transpose_b"));
}

TEST(FrontendLowering, ConvAndPoolAttributes) {
  ir::Module m = parse(R"({"format": "gradc.model/1", "name": "c",
    "inputs": {"img": {"shape": [2, 3, 9, 9]}},
    "layers": [
      {"name": "cv", "op": "conv2d", "input": "img", "out_channels": 4, "kernel": [3, 2],
       "stride": 2, "padding": [1, 0], "dilation": 1},
      {"name": "p", "op": "avgpool2d", "kernel": 2, "stride": 1, "padding": 1},
      {"name": "q", "op": "maxpool2d", "kernel": [2, 2]}],
    "outputs": ["q"]})");
  const ir::Function &f = m.functions[0];
  EXPECT_EQ(opSequence(f),
            (std::vector<std::string>{"conv2d", "broadcast", "add", "avgpool2d", "maxpool2d"}));
  // conv: H = (9 + 2 - 2 - 1) / 2 + 1 = 5, W = (9 - 1 - 1) / 2 + 1 = 4.
  EXPECT_EQ(f.type(f.nodes()[2].result), ir::f32({2, 4, 5, 4}));
  EXPECT_EQ(f.type(f.nodes()[3].result), ir::f32({2, 4, 6, 5}));
  EXPECT_EQ(f.type(f.nodes()[4].result), ir::f32({2, 4, 3, 2}));
  EXPECT_EQ(f.nodes()[4].attrs.ints("stride"), (std::vector<int64_t>{2, 2}));
  expectParam(m, 0, "cv.weight", {4, 3, 3, 2}, 18);
}

TEST(FrontendLowering, Losses) {
  struct Case {
    const char *loss;
    std::vector<std::string> ops;
  };
  std::vector<Case> cases = {
      {R"({"op": "mse", "input": "x", "target": "y"})", {"sub", "mul", "reduce_sum", "affine"}},
      {R"({"op": "mae", "input": "x", "target": "y"})", {"sub", "abs", "reduce_sum", "affine"}},
      {R"({"op": "rmse", "input": "x", "target": "y"})",
       {"sub", "mul", "reduce_sum", "affine", "sqrt"}},
      {R"({"op": "bce_with_logits", "input": "x", "target": "y"})",
       {"softplus", "mul", "sub", "reduce_sum", "affine"}},
      {R"({"op": "cross_entropy", "input": "x", "target": "c"})",
       {"log_softmax", "one_hot", "mul", "reduce_sum", "affine"}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.loss);
    ir::Module m = parse(model(std::string(R"("layers": [{"op": "identity", "input": "x"}],
      "outputs": ["x"], "loss": )") +
                               c.loss));
    const ir::Function &f = m.functions[0];
    EXPECT_EQ(opSequence(f), c.ops);
    EXPECT_TRUE(m.has_loss);
    ASSERT_EQ(f.results().size(), 2u);
    EXPECT_EQ(f.results()[1].role, ResultRole::Loss);
    EXPECT_EQ(f.type(f.results()[1].value), ir::f32({}));
    const ir::Node &last = f.nodes().back();
    EXPECT_EQ(f.value(last.result).name, "loss");
    if (last.op == OpKind::Affine) {
      double want = c.ops[0] == std::string("log_softmax") ? -1.0 / 2 : 1.0 / 6;
      EXPECT_DOUBLE_EQ(last.attrs.f("scale"), want);
    }
  }
}

TEST(FrontendLowering, CrossEntropyClassInput) {
  ir::Module m = parse(model(R"("layers": [{"op": "linear", "input": "x", "out_features": 7}],
    "outputs": ["linear_0"],
    "loss": {"op": "cross_entropy", "input": "linear_0", "target": "c"})"));
  EXPECT_EQ(m.class_input, "c");
  EXPECT_EQ(m.num_classes, 7);
  EXPECT_EQ(m.functions[0].nodes()[4].attrs.i("depth"), 7);
}

TEST(FrontendOptimizer, AdamDefaultsAndSchedules) {
  std::string layers = R"("layers": [{"op": "relu", "input": "x"}], "outputs": ["relu_0"],)";
  ir::Module a = parse(model(layers + R"("optimizer": {"op": "adam"})"));
  EXPECT_EQ(a.optimizer.kind, ir::OptimizerConfig::Kind::Adam);
  EXPECT_DOUBLE_EQ(a.optimizer.lr, 0.001);
  EXPECT_DOUBLE_EQ(a.optimizer.beta1, 0.9);
  EXPECT_DOUBLE_EQ(a.optimizer.beta2, 0.999);
  EXPECT_DOUBLE_EQ(a.optimizer.eps, 1e-8);
  ir::Module b = parse(model(layers + R"("optimizer": {"op": "adam", "lr": 0.5,
      "betas": [0.5, 0.6], "eps": 1e-6, "weight_decay": 0.1,
      "schedule": {"op": "cosine", "t_max": 20}})"));
  EXPECT_DOUBLE_EQ(b.optimizer.beta2, 0.6);
  EXPECT_DOUBLE_EQ(b.optimizer.weight_decay, 0.1);
  EXPECT_EQ(b.optimizer.schedule.kind, ir::Schedule::Kind::Cosine);
  EXPECT_EQ(b.optimizer.schedule.t_max, 20);
  EXPECT_EQ(b.optimizer.schedule.eta_min, 0);
  ir::Module c = parse(model(layers + R"("optimizer": {"op": "sgd", "lr": 1, "momentum": 0.9,
      "nesterov": true, "weight_decay": 0.01, "schedule": {"op": "step", "step_size": 3}})"));
  EXPECT_TRUE(c.optimizer.nesterov);
  EXPECT_DOUBLE_EQ(c.optimizer.lr, 1.0);
  EXPECT_EQ(c.optimizer.schedule.kind, ir::Schedule::Kind::Step);
  EXPECT_DOUBLE_EQ(c.optimizer.schedule.gamma, 0.1);
  ir::Module d = parse(model(layers + R"("optimizer": {"op": "sgd", "lr": 0.1,
      "schedule": {"op": "exponential", "gamma": 0.95}})"));
  EXPECT_EQ(d.optimizer.schedule.kind, ir::Schedule::Kind::Exponential);
  EXPECT_DOUBLE_EQ(d.optimizer.schedule.gamma, 0.95);
}

} // namespace
} // namespace gradc::frontend
