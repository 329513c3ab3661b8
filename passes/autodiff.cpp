// Reverse-mode autodiff over the graph IR.
#include "passes/autodiff.h"

#include "ir/clone.h"
#include "passes/dce.h"
#include "passes/grad_rules.h"

#include <algorithm>

namespace gradc::passes {
namespace {

using ir::ValueId;

/// Adjoints by value, summed in one place.
class Adjoints {
public:
  Adjoints(ir::Function &f) : f_(f), adj_(f.values().size(), ir::kNoValue) {}

  void accumulate(ValueId v, ValueId contribution) {
    if (size_t(v) >= adj_.size())
      adj_.resize(size_t(v) + 1, ir::kNoValue);
    ValueId &a = adj_[size_t(v)];
    a = a == ir::kNoValue ? contribution : f_.addNode(ir::OpKind::Add, {a, contribution});
  }
  ValueId get(ValueId v) const { return size_t(v) < adj_.size() ? adj_[size_t(v)] : ir::kNoValue; }

private:
  ir::Function &f_;
  std::vector<ValueId> adj_;
};

ValueId zerosLike(ir::Function &f, ValueId v) {
  return f.addNode(ir::OpKind::Constant, {}, {{"value", 0.0}, {"shape", f.type(v).shape}});
}

} // namespace

Expected<ir::Function> differentiate(const ir::Function &forward, const std::vector<int32_t> &wrt,
                                     std::vector<bool> *reached) {
  int32_t loss_index = forward.findResult("loss");
  if (loss_index < 0)
    return Error("the model has no loss, so it cannot be differentiated");
  ir::Function bwd("backward");
  std::vector<ValueId> args;
  for (const ir::Arg &a : forward.args())
    args.push_back(bwd.addArg(a.name, a.role, forward.type(a.value)));
  std::vector<ValueId> res = inlineFunction(bwd, forward, args);
  ValueId loss = res[size_t(loss_index)];
  GRADC_CHECK(bwd.type(loss).shape.empty(), "loss must be a scalar");

  // Values that depend on a differentiated argument.
  std::vector<bool> active(bwd.values().size(), false);
  for (int32_t i : wrt)
    active[size_t(args[size_t(i)])] = true;
  size_t forward_nodes = bwd.nodes().size();
  for (size_t i = 0; i < forward_nodes; ++i)
    for (ValueId o : bwd.nodes()[i].operands)
      if (active[size_t(o)])
        active[size_t(bwd.nodes()[i].result)] = true;

  Adjoints adj(bwd);
  bwd.setOrigin({"loss", ir::Phase::Backward});
  adj.accumulate(loss,
                 bwd.addNode(ir::OpKind::Constant, {}, {{"value", 1.0}, {"shape", ir::Shape{}}}));
  for (size_t i = forward_nodes; i-- > 0;) {
    ir::Node node = bwd.nodes()[i];
    ValueId dy = adj.get(node.result);
    if (!active[size_t(node.result)] || dy == ir::kNoValue)
      continue;
    if (bwd.value(dy).name.empty() && !bwd.value(node.result).name.empty())
      bwd.setValueName(dy, "d." + bwd.value(node.result).name);
    GradRule rule = gradRule(node.op);
    GRADC_CHECK(rule != nullptr, std::string("no gradient rule for ") + ir::opName(node.op));
    std::vector<bool> wants;
    for (ValueId o : node.operands)
      wants.push_back(active[size_t(o)]);
    // The gradient of a node comes from the same layer, in the backward phase.
    bwd.setOrigin({node.origin.layer, ir::Phase::Backward});
    GradContext ctx(bwd, node, dy, wants);
    rule(ctx);
    for (size_t k = 0; k < node.operands.size(); ++k)
      if (ctx.dx()[k] != ir::kNoValue)
        adj.accumulate(node.operands[k], ctx.dx()[k]);
  }

  bwd.addResult("loss", ir::ResultRole::Loss, loss);
  for (int32_t i : wrt) {
    ValueId g = adj.get(args[size_t(i)]);
    if (reached)
      reached->push_back(g != ir::kNoValue);
    if (g == ir::kNoValue)
      g = zerosLike(bwd, args[size_t(i)]);
    if (bwd.value(g).name.empty())
      bwd.setValueName(g, "d." + forward.args()[size_t(i)].name);
    // Parameter gradients fill the gradient buffer; input gradients
    // (saliency) are ordinary outputs.
    bool param = forward.args()[size_t(i)].role == ir::ArgRole::Param;
    bwd.addResult("grad." + forward.args()[size_t(i)].name,
                  param ? ir::ResultRole::Grad : ir::ResultRole::Output, g);
  }
  return eliminateDeadCode(bwd);
}

Expected<bool> AutodiffPass::run(ir::Module &m) {
  const ir::Function *fwd = m.find("forward");
  GRADC_CHECK(fwd != nullptr, "module without forward");
  std::vector<int32_t> wrt;
  for (size_t i = 0; i < fwd->args().size(); ++i)
    if (fwd->args()[i].role == ir::ArgRole::Param)
      wrt.push_back(int32_t(i));
  for (const std::string &name : input_grads_) {
    int32_t i = fwd->findArg(name);
    if (std::find(wrt.begin(), wrt.end(), i) != wrt.end())
      continue; // asked for twice
    if (i < 0 || fwd->args()[size_t(i)].role != ir::ArgRole::Input)
      return Error("cannot differentiate with respect to '" + name + "': not a model input");
    if (fwd->type(fwd->args()[size_t(i)].value).dtype != ir::DType::F32)
      return Error("cannot differentiate with respect to '" + name + "': it is not f32");
    wrt.push_back(i);
  }
  std::vector<bool> reached;
  GRADC_TRY(bwd, differentiate(*fwd, wrt, &reached));
  for (size_t k = 0; k < wrt.size(); ++k)
    for (ir::ParamInfo &p : m.params)
      if (p.name == fwd->args()[size_t(wrt[k])].name)
        p.trained = reached[k];
  if (ir::Function *old = m.find("backward"))
    *old = std::move(bwd);
  else
    m.functions.push_back(std::move(bwd));
  return true;
}

} // namespace gradc::passes
