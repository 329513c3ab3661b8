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
  // other reader of the old value, through views too (a reshape of a param
  // read after the param's update would read the new value).
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
    // A reader that needs the new value itself cannot go first: no edge
    // from it (the plan then updates a copy, not the argument in place).
    std::vector<bool> after_def(n, false);
    std::vector<int32_t> todo{def};
    while (!todo.empty()) {
      int32_t i = todo.back();
      todo.pop_back();
      for (int32_t u : users[size_t(nodes[size_t(i)].result)])
        if (!after_def[size_t(u)])
          after_def[size_t(u)] = true, todo.push_back(u);
    }
    for (int32_t u : ir::memoryReaders(f, users, f.args()[size_t(r.updates)].value))
      if (u != def && !after_def[size_t(u)])
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

  // The ready nodes, and two indexes of them that keep each step's choice
  // from scanning them all (a 2000-layer chain's train step: 686 -> a few
  // ms): the floating ones, and all by net bytes freed (most first, then the
  // lowest index, as a scan in index order would pick).
  auto netFreed = [&](int32_t i) {
    const ir::Node &nd = nodes[size_t(i)];
    int64_t net = -held(nd.result);
    std::set<ValueId> ops(nd.operands.begin(), nd.operands.end());
    for (ValueId o : ops)
      if (readers_left[size_t(o)] == 1)
        net += held(o);
    return net;
  };
  std::vector<char> in_ready(n, 0);
  std::vector<int64_t> net(n, 0);
  std::set<int32_t> ready_floating;
  std::set<std::pair<int64_t, int32_t>> by_net; // (-net, node): every ready node
  auto makeReady = [&](int32_t i) {
    in_ready[size_t(i)] = 1;
    if (floating[size_t(i)])
      ready_floating.insert(i);
    net[size_t(i)] = netFreed(i);
    by_net.insert({-net[size_t(i)], i});
  };
  for (size_t i = 0; i < n; ++i)
    if (waiting[i] == 0)
      makeReady(int32_t(i));
  std::vector<int32_t> order;
  ValueId last = ir::kNoValue;
  while (!by_net.empty()) {
    int32_t pick = ready_floating.empty() ? -1 : *ready_floating.begin();
    if (pick < 0 && last != ir::kNoValue)
      for (int32_t i : users[size_t(last)])
        if (in_ready[size_t(i)] && chainy[size_t(i)] && (pick < 0 || i < pick))
          pick = i;
    if (pick < 0)
      pick = by_net.begin()->second;
    in_ready[size_t(pick)] = 0;
    ready_floating.erase(pick);
    by_net.erase({-net[size_t(pick)], pick});
    order.push_back(pick);
    const ir::Node &nd = nodes[size_t(pick)];
    std::set<ValueId> ops(nd.operands.begin(), nd.operands.end());
    for (ValueId o : ops)
      if (--readers_left[size_t(o)] == 1)
        // Its last reader now frees it: that reader's net grows, if ready.
        for (int32_t r : users[size_t(o)])
          if (in_ready[size_t(r)]) {
            by_net.erase({-net[size_t(r)], r});
            net[size_t(r)] = netFreed(r);
            by_net.insert({-net[size_t(r)], r});
          }
    if (!floating[size_t(pick)])
      last = nd.result;
    for (int32_t s : succ[size_t(pick)])
      if (--waiting[size_t(s)] == 0)
        makeReady(s);
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
