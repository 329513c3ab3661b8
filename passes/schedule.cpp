// Memory-aware list scheduling.
#include "passes/schedule.h"

#include "ir/clone.h"
#include "ir/graph_algorithms.h"
#include "passes/fuse.h"

#include <algorithm>
#include <set>

namespace gradc::passes {
namespace {

using ir::ValueId;

} // namespace

ir::Function scheduleForMemory(const ir::Function &f) {
  const auto &nodes = f.nodes();
  size_t n = nodes.size();
  auto users = ir::valueUsers(f);
  std::vector<bool> is_result(f.values().size(), false);
  for (const ir::Result &r : f.results())
    is_result[size_t(r.value)] = true;

  // Predecessors: operands' producers, and for an in-place update every
  // other reader of the old value.
  std::vector<std::vector<int32_t>> succ(n);
  std::vector<int32_t> waiting(n, 0);
  auto edge = [&](int32_t from, int32_t to) {
    succ[size_t(from)].push_back(to);
    ++waiting[size_t(to)];
  };
  for (size_t i = 0; i < n; ++i)
    for (ValueId o : nodes[i].operands)
      if (f.value(o).node >= 0)
        edge(f.value(o).node, int32_t(i));
  for (const ir::Result &r : f.results()) {
    int32_t def = f.value(r.value).node;
    if (r.role != ir::ResultRole::Update || def < 0)
      continue;
    for (int32_t u : users[size_t(f.args()[size_t(r.updates)].value)])
      if (u != def)
        edge(u, def);
  }

  std::vector<bool> floating = floatingNodes(f), chainy(n);
  for (size_t i = 0; i < n; ++i) {
    chainy[i] = ir::isElementwise(nodes[i].op) || nodes[i].op == ir::OpKind::ReduceSum;
  }
  // Bytes a value holds until its last reader runs (arguments and floating
  // values hold none).
  auto held = [&](ValueId v) -> int64_t {
    int32_t def = f.value(v).node;
    if (def < 0 || floating[size_t(def)] || is_result[size_t(v)])
      return 0;
    return f.type(v).byteSize();
  };
  std::vector<int32_t> readers_left(f.values().size(), 0);
  for (size_t v = 0; v < f.values().size(); ++v) {
    std::set<int32_t> distinct(users[v].begin(), users[v].end());
    readers_left[v] = int32_t(distinct.size());
  }

  std::set<int32_t> ready;
  for (size_t i = 0; i < n; ++i)
    if (waiting[i] == 0)
      ready.insert(int32_t(i));
  std::vector<int32_t> order;
  ValueId last = ir::kNoValue;
  while (!ready.empty()) {
    int32_t pick = -1;
    for (int32_t i : ready)
      if (floating[size_t(i)]) {
        pick = i;
        break;
      }
    if (pick < 0 && last != ir::kNoValue)
      for (int32_t i : ready)
        if (chainy[size_t(i)] &&
            std::find(nodes[size_t(i)].operands.begin(), nodes[size_t(i)].operands.end(), last) !=
                nodes[size_t(i)].operands.end()) {
          pick = i;
          break;
        }
    if (pick < 0) {
      int64_t best = 0;
      for (int32_t i : ready) {
        const ir::Node &nd = nodes[size_t(i)];
        int64_t net = -held(nd.result);
        std::set<ValueId> ops(nd.operands.begin(), nd.operands.end());
        for (ValueId o : ops)
          if (readers_left[size_t(o)] == 1)
            net += held(o);
        if (pick < 0 || net > best) {
          pick = i;
          best = net;
        }
      }
    }
    ready.erase(pick);
    order.push_back(pick);
    const ir::Node &nd = nodes[size_t(pick)];
    std::set<ValueId> ops(nd.operands.begin(), nd.operands.end());
    for (ValueId o : ops)
      --readers_left[size_t(o)];
    if (!floating[size_t(pick)])
      last = nd.result;
    for (int32_t s : succ[size_t(pick)])
      if (--waiting[size_t(s)] == 0)
        ready.insert(s);
  }
  GRADC_CHECK(order.size() == n, "schedule: the dependence graph has a cycle");
  // The greedy order is not always better: keep the current one unless the
  // new one's peak of live bytes is lower.
  auto peak = [&](const std::vector<int32_t> &seq) {
    std::vector<int32_t> left(f.values().size(), 0);
    for (size_t v = 0; v < f.values().size(); ++v)
      left[v] = int32_t(std::set<int32_t>(users[v].begin(), users[v].end()).size());
    int64_t live = 0, top = 0;
    for (int32_t i : seq) {
      const ir::Node &nd = nodes[size_t(i)];
      live += held(nd.result);
      top = std::max(top, live);
      for (ValueId o : std::set<ValueId>(nd.operands.begin(), nd.operands.end()))
        if (--left[size_t(o)] == 0)
          live -= held(o);
    }
    return top;
  };
  std::vector<int32_t> current(n);
  for (size_t i = 0; i < n; ++i)
    current[i] = int32_t(i);
  if (peak(order) >= peak(current))
    return f;
  return ir::reorderNodes(f, order);
}

Expected<bool> SchedulePass::run(ir::Module &m) {
  bool changed = false;
  for (ir::Function &f : m.functions) {
    ir::Function g = scheduleForMemory(f);
    for (size_t i = 0; i < f.nodes().size() && !changed; ++i)
      changed = g.nodes()[i].op != f.nodes()[i].op ||
                g.value(g.nodes()[i].result).name != f.value(f.nodes()[i].result).name;
    f = std::move(g);
  }
  return changed;
}

} // namespace gradc::passes
