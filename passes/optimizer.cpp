// SGD and Adam parameter updates as IR.
#include "passes/optimizer.h"

#include <cmath>

namespace gradc::passes {
namespace {

using ir::OpKind;
using ir::ValueId;

/// Small builder over the function under construction.
struct Builder {
  ir::Function &f;

  ValueId affine(ValueId x, double scale, double shift = 0) {
    return f.addNode(OpKind::Affine, {x}, {{"scale", scale}, {"shift", shift}});
  }
  ValueId bin(OpKind k, ValueId a, ValueId b) { return f.addNode(k, {a, b}); }
  ValueId unary(OpKind k, ValueId a) { return f.addNode(k, {a}); }
  /// Broadcasts the scalar `s` to the shape of `like`.
  ValueId splat(ValueId s, ValueId like) {
    const ir::Shape &shape = f.type(like).shape;
    if (shape.empty())
      return s;
    return f.addNode(OpKind::Broadcast, {s}, {{"shape", shape}, {"dims", std::vector<int64_t>{}}});
  }
  /// scalar base^t, as exp(t ln base)
  ValueId pow(double base, ValueId t) { return unary(OpKind::Exp, affine(t, std::log(base))); }
};

struct Slots {
  std::vector<ValueId> params, grads;
  ValueId lr = ir::kNoValue;
};

/// Adds the state tensor `name` (shaped like `type`) as an argument, and
/// records it in the module.
ValueId addState(ir::Module &m, ir::Function &f, const std::string &name,
                 const ir::TensorType &type) {
  m.states.push_back({name, type});
  return f.addArg(name, ir::ArgRole::State, type);
}

/// The learning rate: the last argument, after the state.
ValueId addLr(ir::Function &f) { return f.addArg(kLrArg, ir::ArgRole::Scalar, ir::f32({})); }

void update(ir::Function &f, ValueId arg, ValueId value) {
  if (f.value(value).name.empty())
    f.setValueName(value, "new." + f.value(arg).name);
  f.addResult(f.value(arg).name, ir::ResultRole::Update, value, f.value(arg).arg);
}

/// The layer a parameter belongs to: "fc1" for "fc1.weight".
std::string layerOf(const std::string &param) { return param.substr(0, param.rfind('.')); }

void buildSgd(ir::Module &m, ir::Function &f, Slots &s) {
  const ir::OptimizerConfig &o = m.optimizer;
  f.setOrigin({"optimizer", ir::Phase::Optimizer});
  Builder b{f};
  std::vector<ValueId> bufs;
  ValueId step = ir::kNoValue;
  for (size_t i = 0; i < s.params.size() && o.momentum != 0; ++i)
    bufs.push_back(
        addState(m, f, f.value(s.params[i]).name + ".momentum_buffer", f.type(s.params[i])));
  // torch starts the buffer as a copy of g; with dampening that differs from
  // (1 - dampening) g, so the first step is told apart by a counter.
  bool counted = o.momentum != 0 && o.dampening != 0;
  if (counted)
    step = addState(m, f, kStepState, ir::f32({}));
  s.lr = addLr(f);
  ValueId gcoef = counted ? b.affine(b.unary(OpKind::Sign, step), -o.dampening, 1) : ir::kNoValue;
  for (size_t i = 0; i < s.params.size(); ++i) {
    ValueId p = s.params[i], g = s.grads[i];
    f.setOrigin({layerOf(f.value(p).name), ir::Phase::Optimizer});
    if (o.weight_decay != 0)
      g = b.bin(OpKind::Add, g, b.affine(p, o.weight_decay));
    if (o.momentum != 0) {
      ValueId scaled = counted            ? b.bin(OpKind::Mul, g, b.splat(gcoef, g))
                       : o.dampening != 0 ? b.affine(g, 1 - o.dampening)
                                          : g;
      ValueId buf = b.bin(OpKind::Add, b.affine(bufs[i], o.momentum), scaled);
      update(f, bufs[i], buf);
      g = o.nesterov ? b.bin(OpKind::Add, g, b.affine(buf, o.momentum)) : buf;
    }
    update(f, p, b.bin(OpKind::Sub, p, b.bin(OpKind::Mul, b.splat(s.lr, p), g)));
  }
  f.setOrigin({"optimizer", ir::Phase::Optimizer});
  if (counted)
    update(f, step, b.affine(step, 1, 1));
}

void buildAdam(ir::Module &m, ir::Function &f, Slots &s) {
  const ir::OptimizerConfig &o = m.optimizer;
  f.setOrigin({"optimizer", ir::Phase::Optimizer});
  Builder b{f};
  std::vector<ValueId> ms, vs;
  for (ValueId p : s.params) {
    ms.push_back(addState(m, f, f.value(p).name + ".exp_avg", f.type(p)));
    vs.push_back(addState(m, f, f.value(p).name + ".exp_avg_sq", f.type(p)));
  }
  ValueId step = addState(m, f, kStepState, ir::f32({}));
  s.lr = addLr(f);
  ValueId t = b.affine(step, 1, 1);
  ValueId bc1 = b.affine(b.pow(o.beta1, t), -1, 1);
  ValueId bc2_sqrt = b.unary(OpKind::Sqrt, b.affine(b.pow(o.beta2, t), -1, 1));
  ValueId step_size = b.bin(OpKind::Div, s.lr, bc1);
  for (size_t i = 0; i < s.params.size(); ++i) {
    ValueId p = s.params[i], g = s.grads[i];
    f.setOrigin({layerOf(f.value(p).name), ir::Phase::Optimizer});
    if (o.weight_decay != 0)
      g = b.bin(OpKind::Add, g, b.affine(p, o.weight_decay));
    // One node per statement: the order of a call's arguments is unspecified (g++ and clang
    // differ), and the IR's node order must not depend on the compiler. This is the order g++
    // gave, which the IR goldens hold.
    ValueId g_scaled = b.affine(g, 1 - o.beta1);
    ValueId m1 = b.bin(OpKind::Add, b.affine(ms[i], o.beta1), g_scaled);
    ValueId g2 = b.bin(OpKind::Mul, g, g);
    ValueId g2_scaled = b.affine(g2, 1 - o.beta2);
    ValueId v1 = b.bin(OpKind::Add, b.affine(vs[i], o.beta2), g2_scaled);
    ValueId bc2_splat = b.splat(bc2_sqrt, p);
    ValueId denom = b.affine(b.bin(OpKind::Div, b.unary(OpKind::Sqrt, v1), bc2_splat), 1, o.eps);
    ValueId ratio = b.bin(OpKind::Div, m1, denom);
    ValueId delta = b.bin(OpKind::Mul, b.splat(step_size, p), ratio);
    update(f, ms[i], m1);
    update(f, vs[i], v1);
    update(f, p, b.bin(OpKind::Sub, p, delta));
  }
  f.setOrigin({"optimizer", ir::Phase::Optimizer});
  update(f, step, t);
}

} // namespace

Expected<bool> OptimizerPass::run(ir::Module &m) {
  ir::Function f("optimizer_step");
  Slots s;
  m.states.clear();
  for (const ir::ParamInfo &p : m.params)
    f.addArg(p.name, ir::ArgRole::Param, p.type);
  for (const ir::ParamInfo &p : m.params)
    f.addArg("grad." + p.name, ir::ArgRole::Grad, p.type);
  // Every parameter is an argument (one ABI), but as in torch.optim, one the
  // loss never reaches (grad None) gets no state and no update.
  for (size_t i = 0; i < m.params.size(); ++i)
    if (m.params[i].trained) {
      s.params.push_back(f.args()[i].value);
      s.grads.push_back(f.args()[m.params.size() + i].value);
    }
  // State arguments are added by the builders; lr goes last.
  if (m.optimizer.kind == ir::OptimizerConfig::Kind::Sgd)
    buildSgd(m, f, s);
  else
    buildAdam(m, f, s);
  if (ir::Function *old = m.find("optimizer_step"))
    *old = std::move(f);
  else
    m.functions.push_back(std::move(f));
  return true;
}

} // namespace gradc::passes
