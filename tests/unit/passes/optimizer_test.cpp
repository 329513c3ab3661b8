// optimizer_step against a direct transcription of torch.optim's SGD and
// Adam (single-tensor path), three steps, in double precision.
#include "grad_check_util.h"

#include "ir/verifier.h"
#include "passes/optimizer.h"

#include <map>

namespace gradc::testing {
namespace {

using Vec = std::vector<double>;

/// torch.optim.SGD.step for one parameter.
struct TorchSgd {
  ir::OptimizerConfig o;
  Vec buf;
  void step(Vec &p, Vec g, double lr) {
    for (size_t i = 0; i < p.size(); ++i)
      g[i] += o.weight_decay * p[i];
    if (o.momentum != 0) {
      if (buf.empty())
        buf = g;
      else
        for (size_t i = 0; i < p.size(); ++i)
          buf[i] = o.momentum * buf[i] + (1 - o.dampening) * g[i];
      for (size_t i = 0; i < p.size(); ++i)
        g[i] = o.nesterov ? g[i] + o.momentum * buf[i] : buf[i];
    }
    for (size_t i = 0; i < p.size(); ++i)
      p[i] -= lr * g[i];
  }
};

/// torch.optim.Adam.step for one parameter.
struct TorchAdam {
  ir::OptimizerConfig o;
  Vec m, v;
  double t = 0;
  void step(Vec &p, Vec g, double lr) {
    if (m.empty())
      m = v = Vec(p.size(), 0);
    t += 1;
    double bc1 = 1 - std::pow(o.beta1, t), bc2 = 1 - std::pow(o.beta2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      g[i] += o.weight_decay * p[i];
      m[i] = m[i] * o.beta1 + (1 - o.beta1) * g[i];
      v[i] = v[i] * o.beta2 + (1 - o.beta2) * g[i] * g[i];
      double denom = std::sqrt(v[i]) / std::sqrt(bc2) + o.eps;
      p[i] -= lr / bc1 * m[i] / denom;
    }
  }
};

template <typename Reference> void checkThreeSteps(const ir::OptimizerConfig &cfg) {
  ir::Module mod;
  mod.name = "t";
  mod.params = {{"w", ir::f32({5}), 0.5}};
  mod.optimizer = cfg;
  ASSERT_TRUE(bool(passes::OptimizerPass().run(mod)));
  const ir::Function &f = *mod.find("optimizer_step");
  ASSERT_TRUE(bool(ir::verify(f)));
  Reference ref;
  ref.o = cfg;
  Vec p = randomValues(1, 5, -1, 1), want = p;
  std::map<std::string, Vec> state;
  for (const ir::StateInfo &s : mod.states)
    state[s.name] = Vec(size_t(s.type.numElements()), 0);
  for (int step = 0; step < 3; ++step) {
    Vec g = randomValues(10 + step, 5, -1, 1);
    double lr = 0.1 / (step + 1);
    ref.step(want, g, lr);
    std::vector<runtime::DoubleBuffer> args;
    for (const ir::Arg &a : f.args())
      args.push_back(a.role == ir::ArgRole::Param   ? p
                     : a.role == ir::ArgRole::Grad  ? g
                     : a.role == ir::ArgRole::State ? state[a.name]
                                                    : Vec{lr});
    auto res = runtime::evaluate(f, args);
    for (size_t r = 0; r < f.results().size(); ++r) {
      const std::string &target = f.args()[size_t(f.results()[r].updates)].name;
      (target == "w" ? p : state[target]) = res[r];
    }
    for (size_t i = 0; i < p.size(); ++i)
      EXPECT_NEAR(p[i], want[i], 1e-12) << "step " << step << " element " << i;
  }
}

ir::OptimizerConfig sgd(double momentum, double dampening, double wd, bool nesterov) {
  ir::OptimizerConfig o;
  o.momentum = momentum;
  o.dampening = dampening;
  o.weight_decay = wd;
  o.nesterov = nesterov;
  return o;
}

TEST(Optimizer, SgdVariants) {
  checkThreeSteps<TorchSgd>(sgd(0, 0, 0, false));
  checkThreeSteps<TorchSgd>(sgd(0.9, 0, 0, false));
  checkThreeSteps<TorchSgd>(sgd(0.9, 0, 0, true));
  checkThreeSteps<TorchSgd>(sgd(0.8, 0.3, 0, false));
  checkThreeSteps<TorchSgd>(sgd(0.5, 0.1, 0.01, true));
  checkThreeSteps<TorchSgd>(sgd(0, 0, 0.05, false));
}

TEST(Optimizer, AdamVariants) {
  ir::OptimizerConfig o;
  o.kind = ir::OptimizerConfig::Kind::Adam;
  checkThreeSteps<TorchAdam>(o);
  o.beta1 = 0.5;
  o.beta2 = 0.9;
  o.eps = 1e-6;
  o.weight_decay = 0.1;
  checkThreeSteps<TorchAdam>(o);
}

TEST(Optimizer, ParametersTheLossNeverReachesAreLeftAlone) {
  // torch.optim skips a parameter whose grad is None: no weight decay, no
  // momentum buffer, no Adam moments.
  for (auto kind : {ir::OptimizerConfig::Kind::Sgd, ir::OptimizerConfig::Kind::Adam}) {
    ir::Module mod;
    mod.params = {{"w", ir::f32({2}), 0.5, true}, {"unused", ir::f32({3}), 0.5, false}};
    mod.optimizer.kind = kind;
    mod.optimizer.momentum = 0.9;
    mod.optimizer.weight_decay = 0.1;
    ASSERT_TRUE(bool(passes::OptimizerPass().run(mod)));
    const ir::Function &f = *mod.find("optimizer_step");
    EXPECT_EQ(f.findArg("unused"), 1);
    EXPECT_LT(f.findResult("unused"), 0);
    EXPECT_GE(f.findResult("w"), 0);
    for (const ir::StateInfo &s : mod.states)
      EXPECT_EQ(s.name.find("unused"), std::string::npos) << s.name;
  }
}

TEST(Optimizer, StateIsRegisteredWithTorchNames) {
  ir::Module mod;
  mod.params = {{"fc.weight", ir::f32({2, 2}), 0.5}};
  mod.optimizer.kind = ir::OptimizerConfig::Kind::Adam;
  ASSERT_TRUE(bool(passes::OptimizerPass().run(mod)));
  std::vector<std::string> names;
  for (const ir::StateInfo &s : mod.states)
    names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"fc.weight.exp_avg", "fc.weight.exp_avg_sq",
                                             "optimizer.step"}));
  const ir::Function &f = *mod.find("optimizer_step");
  EXPECT_EQ(f.args().back().name, "optimizer.lr");
  EXPECT_EQ(f.args().back().role, ir::ArgRole::Scalar);
}

} // namespace
} // namespace gradc::testing
