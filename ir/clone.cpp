// Node copying between functions.
#include "ir/clone.h"

namespace gradc::ir {
namespace {

/// Copies node `n` of `from` into `into`, mapping operands through `map`.
void copyNode(Function &into, const Function &from, const Node &n, std::vector<ValueId> &map) {
  std::vector<ValueId> ops;
  for (ValueId o : n.operands) {
    GRADC_CHECK(map[size_t(o)] != kNoValue, "operand of a copied node was not copied");
    ops.push_back(map[size_t(o)]);
  }
  Origin keep = into.origin();
  into.setOrigin(n.origin);
  map[size_t(n.result)] = into.addNode(n.op, std::move(ops), n.attrs, from.value(n.result).name);
  into.setOrigin(std::move(keep));
}

/// Copies the nodes of `f` listed in `order` into a new function with the
/// same arguments and results, keeping kernel assignments.
Function copyInOrder(const Function &f, const std::vector<int32_t> &order) {
  Function out(f.name());
  std::vector<ValueId> map(f.values().size(), kNoValue);
  for (const Arg &a : f.args())
    map[size_t(a.value)] = out.addArg(a.name, a.role, f.type(a.value));
  for (int32_t i : order) {
    const Node &n = f.nodes()[size_t(i)];
    copyNode(out, f, n, map);
    out.setKernel(out.nodes().size() - 1, n.kernel);
  }
  for (const Result &r : f.results()) {
    GRADC_CHECK(map[size_t(r.value)] != kNoValue, "result of a dropped node: " + r.name);
    out.addResult(r.name, r.role, map[size_t(r.value)], r.updates);
  }
  return out;
}

} // namespace

std::vector<ValueId> inlineFunction(Function &into, const Function &callee,
                                    const std::vector<ValueId> &args) {
  GRADC_CHECK(args.size() == callee.args().size(), "inlined call with the wrong argument count");
  std::vector<ValueId> map(callee.values().size(), kNoValue);
  for (size_t i = 0; i < args.size(); ++i)
    map[size_t(callee.args()[i].value)] = args[i];
  for (const Node &n : callee.nodes())
    copyNode(into, callee, n, map);
  std::vector<ValueId> results;
  for (const Result &r : callee.results())
    results.push_back(map[size_t(r.value)]);
  return results;
}

Function filterNodes(const Function &f, const std::vector<bool> &keep) {
  std::vector<int32_t> order;
  for (size_t i = 0; i < f.nodes().size(); ++i)
    if (keep[i])
      order.push_back(int32_t(i));
  return copyInOrder(f, order);
}

Function reorderNodes(const Function &f, const std::vector<int32_t> &order) {
  GRADC_CHECK(order.size() == f.nodes().size(), "reorderNodes needs a permutation");
  return copyInOrder(f, order);
}

} // namespace gradc::ir
