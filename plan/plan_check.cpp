// The memory-plan checker: re-derives, from the function and the plan's
// homes alone, that codegen can trust the plan.
#include "plan/plan.h"

#include "ir/graph_algorithms.h"
#include "ir/printer.h"

#include <algorithm>

namespace gradc::plan {
namespace {

using ir::ValueId;

/// Follows Alias homes to the value that owns the memory.
ValueId owner(const FunctionPlan &p, ValueId v) {
  for (int i = 0; p.values[size_t(v)].home == Home::Alias; ++i) {
    GRADC_CHECK(i < 1 << 20, "alias cycle");
    v = p.values[size_t(v)].index;
  }
  return v;
}

} // namespace

Status checkPlan(const ir::Function &f, const FunctionPlan &p) {
  auto names = ir::valueNames(f);
  auto err = [&](ValueId v, const std::string &what) {
    return Error(f.name() + ": " + names[size_t(v)] + ": " + what);
  };
  const auto &nodes = f.nodes();
  int32_t nk = int32_t(p.kernels.size());
  // Kernels cover the nodes in order.
  int32_t next = 0;
  for (const Kernel &k : p.kernels) {
    if (k.first != next || k.end <= k.first)
      return Error(f.name() + ": kernels do not cover the nodes in order");
    next = k.end;
  }
  if (next != int32_t(nodes.size()))
    return Error(f.name() + ": kernels do not cover every node");
  std::vector<int32_t> kernel_of(nodes.size());
  for (int32_t k = 0; k < nk; ++k)
    for (int32_t i = p.kernels[size_t(k)].first; i < p.kernels[size_t(k)].end; ++i)
      kernel_of[size_t(i)] = k;

  size_t nv = f.values().size();
  std::vector<int32_t> def(nv, -1), last(nv, -1);
  std::vector<bool> is_result(nv, false);
  for (const ir::Result &r : f.results())
    is_result[size_t(r.value)] = true;
  for (size_t i = 0; i < nodes.size(); ++i) {
    def[size_t(nodes[i].result)] = kernel_of[i];
    for (ValueId o : nodes[i].operands)
      last[size_t(o)] = std::max(last[size_t(o)], kernel_of[i]);
  }
  auto users = ir::valueUsers(f);

  for (size_t i = 0; i < nodes.size(); ++i) {
    ValueId v = nodes[i].result;
    const ValuePlan &vp = p.values[size_t(v)];
    const Kernel &k = p.kernels[size_t(kernel_of[i])];
    switch (vp.home) {
    case Home::Arg:
      return err(v, "a node value cannot live in an argument");
    case Home::Register:
      if (is_result[size_t(v)] || last[size_t(v)] > def[size_t(v)])
        return err(v, "is in a register but read outside its kernel");
      if (last[size_t(v)] < 0)
        return err(v, "is in a register but nobody reads it (its kernel may store it)");
      if (accumulatesInMemory(f, k, nodes[i]))
        return err(v, "is in a register but its kernel needs it in memory");
      break;
    case Home::Arena:
      if (vp.offset < 0 || vp.offset % kAlignment != 0)
        return err(v, "arena offset " + std::to_string(vp.offset) + " is not 64-byte aligned");
      if (vp.offset + f.type(v).byteSize() > p.arena_bytes)
        return err(v, "lies outside the arena of " + std::to_string(p.arena_bytes) + " bytes");
      break;
    case Home::Result:
      if (vp.index < 0 || size_t(vp.index) >= f.results().size() ||
          f.results()[size_t(vp.index)].value != v ||
          !resultWrittenDirectly(f, f.results()[size_t(vp.index)]))
        return err(v, "is not a result that may be written directly");
      break;
    case Home::Update: {
      if (vp.index < 0 || size_t(vp.index) >= f.args().size())
        return err(v, "updates no argument");
      ValueId old = f.args()[size_t(vp.index)].value;
      if (!readsOnlyAtSameIndex(f, k, old))
        return err(v, "is updated in place by a kernel that reads the old value elsewhere");
      if (!oldValueReadFirst(
              f, users, old, [&](int32_t u) { return kernel_of[size_t(u)]; }, kernel_of[i]))
        return err(v, "is updated in place before a later kernel reads the old value");
      if (is_result[size_t(old)])
        return err(v, "is updated in place but the old value is also a result");
      break;
    }
    case Home::Alias: {
      ValueId src = vp.index;
      if (src < 0 || size_t(src) >= nv || f.type(src).byteSize() != f.type(v).byteSize())
        return err(v, "aliases a value of another size");
      if (nodes[i].op == ir::OpKind::Reshape && k.kind == KernelKind::View &&
          nodes[i].operands[0] == src)
        break; // a view of its operand
      // An in-place elementwise result over an operand's memory: every value
      // in that memory is dead after this kernel and read here at the same index.
      if (!ir::isElementwise(nodes[i].op))
        return err(v, "shares memory but is neither a view nor elementwise");
      for (size_t w = 0; w < nv; ++w) {
        if (ValueId(w) == v || p.values[w].home == Home::Register ||
            owner(p, ValueId(w)) != owner(p, v) || def[w] >= kernel_of[i])
          continue;
        if (is_result[w] || last[w] > kernel_of[i] || !readsOnlyAtSameIndex(f, k, ValueId(w)))
          return err(v, "takes the memory of " + names[w] + ", which is still needed");
      }
      break;
    }
    }
  }

  // Arena memory: no two values live at the same kernel step overlap, unless
  // they share one owner (checked legal above).
  struct Span {
    ValueId v;
    int64_t lo, hi;
    int32_t start, end;
  };
  std::vector<Span> spans;
  for (size_t i = 0; i < nodes.size(); ++i) {
    ValueId v = nodes[i].result;
    ValueId o = owner(p, v);
    if (p.values[size_t(o)].home != Home::Arena)
      continue;
    int32_t end = is_result[size_t(v)] ? nk : std::max(last[size_t(v)], def[size_t(v)]);
    int64_t lo = p.values[size_t(o)].offset;
    spans.push_back({v, lo, lo + f.type(v).byteSize(), def[size_t(v)], end});
  }
  for (int32_t k = 0; k < nk; ++k) {
    const Kernel &kn = p.kernels[size_t(k)];
    if (kn.workspace_bytes == 0)
      continue;
    if (kn.workspace_offset < 0 || kn.workspace_offset % kAlignment != 0 ||
        kn.workspace_offset + kn.workspace_bytes > p.arena_bytes)
      return Error(f.name() + ": the workspace of kernel k" + std::to_string(k) +
                   " is misaligned or outside the arena");
    for (const Span &s : spans)
      if (s.start <= k && k <= s.end && s.lo < kn.workspace_offset + kn.workspace_bytes &&
          kn.workspace_offset < s.hi)
        return err(s.v, "overlaps the workspace of kernel k" + std::to_string(k));
  }
  for (size_t a = 0; a < spans.size(); ++a)
    for (size_t b = a + 1; b < spans.size(); ++b) {
      const Span &x = spans[a], &y = spans[b];
      if (x.lo >= y.hi || y.lo >= x.hi || x.start > y.end || y.start > x.end)
        continue;
      if (owner(p, x.v) == owner(p, y.v))
        continue;
      return err(y.v, "overlaps " + names[size_t(x.v)] + " in the arena while both are live");
    }
  return Status::ok();
}

} // namespace gradc::plan
