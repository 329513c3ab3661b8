// The training pipeline end to end on a parsed model: train_step equals
// backward followed by optimizer_step, and the schedules follow PyTorch.
#include "grad_check_util.h"

#include "frontend/model_json.h"
#include "ir/verifier.h"
#include "passes/optimizer.h"
#include "passes/pipeline.h"
#include "runtime/schedule.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

namespace gradc::testing {
namespace {

const char *kModel = R"({"format": "gradc.model/1", "name": "m", "dims": {"B": 3},
  "inputs": {"x": {"shape": ["B", 4]}, "y": {"shape": ["B"], "dtype": "i32"}},
  "layers": [{"name": "fc1", "op": "linear", "input": "x", "out_features": 5},
             {"op": "relu"}, {"name": "fc2", "op": "linear", "out_features": 3}],
  "outputs": ["fc2"], "loss": {"op": "cross_entropy", "input": "fc2", "target": "y"},
  "optimizer": {"op": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.2}})";

TEST(Pipeline, BuildsTheFourFunctions) {
  auto m = frontend::parseModel(kModel, "m.json");
  ASSERT_TRUE(bool(m)) << m.error().message();
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  for (const char *fn : {"forward", "backward", "optimizer_step", "train_step"})
    EXPECT_NE(m->find(fn), nullptr) << fn;
  EXPECT_TRUE(bool(ir::verify(*m)));
}

// Every node keeps where it came from through the whole pipeline (autodiff,
// optimizer, train-step, simplification, fusion): the layer of the model file
// and the phase, which --check-numerics reports.
TEST(Pipeline, NodesKeepTheirLayerAndPhase) {
  auto m = frontend::parseModel(kModel, "m.json");
  ASSERT_TRUE(bool(m)) << m.error().message();
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  const std::set<std::string> layers = {"fc1", "relu_1", "fc2", "loss", "optimizer"};
  std::map<std::string, std::set<std::string>> seen; // function -> "layer/phase"
  for (const ir::Function &f : m->functions)
    for (const ir::Node &n : f.nodes()) {
      EXPECT_TRUE(layers.count(n.origin.layer))
          << f.name() << ": " << ir::opName(n.op) << " from layer '" << n.origin.layer << "'";
      seen[f.name()].insert(n.origin.layer + "/" + ir::phaseName(n.origin.phase));
    }
  for (const char *lp : {"fc1/forward", "relu_1/forward", "fc2/forward", "loss/forward"})
    EXPECT_TRUE(seen["forward"].count(lp)) << lp;
  for (const char *lp : {"fc1/forward", "fc2/backward", "relu_1/backward", "fc1/backward",
                         "loss/backward", "fc1/optimizer", "fc2/optimizer"})
    EXPECT_TRUE(seen["train_step"].count(lp)) << lp;
  for (const std::string &lp : seen["optimizer_step"])
    EXPECT_NE(lp.find("/optimizer"), std::string::npos) << lp;
}

TEST(Pipeline, InputsNamedLikeOptimizerArgumentsStayApart) {
  // Review finding: inputs called "lr" and "step" were merged with the
  // learning rate and Adam's step count when train_step was assembled.
  auto m = frontend::parseModel(R"({"format": "gradc.model/1", "name": "m",
    "inputs": {"step": {"shape": [3, 4]}, "lr": {"shape": [3, 2]}},
    "layers": [{"name": "fc", "op": "linear", "input": "step", "out_features": 2}],
    "outputs": ["fc"], "loss": {"op": "mse", "input": "fc", "target": "lr"},
    "optimizer": {"op": "adam"}})",
                                "m.json");
  ASSERT_TRUE(bool(m)) << m.error().message();
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  const ir::Function &f = *m->find("train_step");
  EXPECT_EQ(f.args()[size_t(f.findArg("lr"))].role, ir::ArgRole::Input);
  EXPECT_EQ(f.args()[size_t(f.findArg("step"))].role, ir::ArgRole::Input);
  EXPECT_EQ(f.args()[size_t(f.findArg(passes::kLrArg))].role, ir::ArgRole::Scalar);
  EXPECT_EQ(f.args()[size_t(f.findArg(passes::kStepState))].role, ir::ArgRole::State);
}

TEST(Pipeline, TrainStepEqualsBackwardThenOptimizerStep) {
  auto m = frontend::parseModel(kModel, "m.json");
  ASSERT_TRUE(bool(m));
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
  runtime::TensorMap feed;
  feed["x"] = runtime::Tensor::zeros(ir::f32({3, 4}));
  for (size_t i = 0; i < 12; ++i)
    feed["x"].f32[i] = float(randomValues(1, 12, -1, 1)[i]);
  feed["y"] = runtime::Tensor::zeros(ir::i32({3}));
  feed["y"].i32 = {0, 2, 1};
  runtime::TensorMap all = feed;
  for (const ir::ParamInfo &p : m->params) {
    runtime::Tensor t = runtime::Tensor::zeros(p.type);
    auto v = randomValues(p.name.size(), p.type.numElements(), -0.5, 0.5);
    for (size_t i = 0; i < v.size(); ++i)
      t.f32[i] = float(v[i]);
    all[p.name] = t;
  }
  for (const ir::StateInfo &s : m->states)
    all[s.name] = runtime::Tensor::zeros(s.type);
  all[passes::kLrArg] = runtime::Tensor::scalar(0.1f);

  runtime::TensorMap fused = runtime::evaluate(*m->find("train_step"), all);
  runtime::TensorMap grads = runtime::evaluate(*m->find("backward"), all);
  runtime::TensorMap step_args = all;
  step_args.insert(grads.begin(), grads.end());
  runtime::TensorMap split = runtime::evaluate(*m->find("optimizer_step"), step_args);
  // The split path rounds the gradients to f32 between the two calls.
  EXPECT_EQ(fused.at("loss").f32, grads.at("loss").f32);
  for (const auto &[name, t] : split)
    for (size_t i = 0; i < t.f32.size(); ++i)
      EXPECT_NEAR(fused.at(name).f32[i], t.f32[i], 1e-6) << name << "[" << i << "]";
}

TEST(Schedule, MatchesPyTorch) {
  // Learning rates torch.optim.lr_scheduler gives per epoch, recorded by
  // tests/e2e/make_goldens.sh.
  std::ifstream in(std::string(GRADC_SOURCE_DIR) + "/tests/e2e/data/schedules.json");
  ASSERT_TRUE(in.good());
  nlohmann::json j = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto &s : j["schedules"]) {
    ir::OptimizerConfig o;
    o.lr = j["base_lr"].get<double>();
    const auto &sch = s["schedule"];
    std::string op = sch["op"].get<std::string>();
    if (op == "step") {
      o.schedule.kind = ir::Schedule::Kind::Step;
      o.schedule.step_size = sch["step_size"].get<int64_t>();
      o.schedule.gamma = sch["gamma"].get<double>();
    } else if (op == "exponential") {
      o.schedule.kind = ir::Schedule::Kind::Exponential;
      o.schedule.gamma = sch["gamma"].get<double>();
    } else {
      o.schedule.kind = ir::Schedule::Kind::Cosine;
      o.schedule.t_max = sch["t_max"].get<int64_t>();
      o.schedule.eta_min = sch["eta_min"].get<double>();
    }
    const auto &lrs = s["lr"];
    for (size_t e = 0; e < lrs.size(); ++e, ++checked)
      EXPECT_NEAR(runtime::scheduledLr(o, int64_t(e)), lrs[e].get<double>(), 1e-12)
          << op << " epoch " << e;
  }
  EXPECT_EQ(checked, 36);
}

} // namespace
} // namespace gradc::testing
