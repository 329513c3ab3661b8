// Kernel fusion: duplicate floating nodes next to their users, then grow
// kernels greedily along the node order.
#include "passes/fuse.h"

#include "ir/graph_algorithms.h"

#include <algorithm>
#include <map>

namespace gradc::passes {
namespace {

using ir::ValueId;

/// Ops a fused loop evaluates at each point from their operand's memory (or
/// from nothing): copied next to each elementwise user, never materialised.
bool floatingOp(ir::OpKind op) {
  return op == ir::OpKind::Broadcast || op == ir::OpKind::Constant || op == ir::OpKind::OneHot;
}

/// A row-wise log_softmax over the last axis of a matrix (the
/// cross-entropy's) takes an epilogue like a matmul.
bool rowLogSoftmax(const ir::Function &f, const ir::Node &n) {
  return n.op == ir::OpKind::LogSoftmax && f.type(n.result).shape.size() == 2 &&
         n.attrs.i("axis") == 1;
}

/// Rebuilds `f` with every floating node (floatingNodes) copied right before
/// each user, its own floating operands first, so each copy can join its
/// user's kernel and none is materialised. `copied` marks the copies.
ir::Function placeFloating(const ir::Function &f, std::vector<bool> &copied) {
  std::vector<bool> floating = floatingNodes(f);
  ir::Function out(f.name());
  std::vector<ValueId> map(f.values().size(), ir::kNoValue);
  for (const ir::Arg &a : f.args())
    map[size_t(a.value)] = out.addArg(a.name, a.role, f.type(a.value));
  // The value of `v` for one user: a fresh copy of a floating node (once per
  // user), or the value already built.
  std::map<ValueId, ValueId> local;
  auto place = [&](auto &self, ValueId v) -> ValueId {
    int32_t node = f.value(v).node;
    if (node < 0 || !floating[size_t(node)])
      return map[size_t(v)];
    auto it = local.find(v);
    if (it != local.end())
      return it->second;
    const ir::Node &n = f.nodes()[size_t(node)];
    std::vector<ValueId> ops;
    for (ValueId o : n.operands)
      ops.push_back(self(self, o));
    out.setOrigin(n.origin);
    ValueId copy = out.addNode(n.op, std::move(ops), n.attrs, f.value(v).name);
    copied.resize(out.nodes().size(), false);
    copied.back() = true;
    return local[v] = copy;
  };
  for (size_t i = 0; i < f.nodes().size(); ++i) {
    const ir::Node &n = f.nodes()[i];
    if (floating[i])
      continue;
    local.clear();
    std::vector<ValueId> ops;
    for (ValueId o : n.operands)
      ops.push_back(place(place, o));
    out.setOrigin(n.origin);
    map[size_t(n.result)] = out.addNode(n.op, std::move(ops), n.attrs, f.value(n.result).name);
  }
  for (const ir::Result &r : f.results())
    out.addResult(r.name, r.role, map[size_t(r.value)], r.updates);
  copied.resize(out.nodes().size(), false);
  return out;
}

/// What the open kernel accepts next.
enum class Open { None, Chain, Epilogue };

} // namespace

std::vector<bool> floatingNodes(const ir::Function &f) {
  auto users = ir::valueUsers(f);
  std::vector<bool> is_result(f.values().size(), false);
  for (const ir::Result &r : f.results())
    is_result[size_t(r.value)] = true;
  // Values a non-elementwise op reads: in memory whatever the fusion does.
  std::vector<bool> in_memory = is_result;
  for (const ir::Node &n : f.nodes())
    if (!ir::isElementwise(n.op))
      for (ValueId o : n.operands)
        in_memory[size_t(o)] = true;
  std::vector<bool> floating(f.nodes().size(), false);
  for (size_t i = 0; i < f.nodes().size(); ++i) {
    const ir::Node &n = f.nodes()[i];
    const auto &us = users[size_t(n.result)];
    if (is_result[size_t(n.result)] || us.empty())
      continue;
    bool ok = true;
    for (int32_t u : us)
      ok = ok && ir::isElementwise(f.nodes()[size_t(u)].op);
    if (ir::isElementwise(n.op)) {
      // An elementwise op of arguments (and floating values) with one reader:
      // computed in that reader's loop instead (the optimizer's decay of its
      // state, say), never twice. A step (a mask: one compare) may also read
      // values that are in memory anyway: relu's mask from relu's output,
      // recomputed by the backward pass instead of stored by the forward.
      ok = ok && us.size() == 1;
      for (ValueId o : n.operands) {
        int32_t src = f.value(o).node;
        ok = ok && (src < 0 || floating[size_t(src)] ||
                    (n.op == ir::OpKind::Step && in_memory[size_t(o)]));
      }
    } else {
      ok = ok && floatingOp(n.op);
    }
    floating[i] = ok;
  }
  return floating;
}

ir::Function fuseKernels(const ir::Function &in) {
  std::vector<bool> copied;
  ir::Function f = placeFloating(in, copied);
  const auto &nodes = f.nodes();
  int32_t kernel = -1;
  Open open = Open::None;
  ir::Shape shape;                                     // the open kernel's element shape
  std::vector<int32_t> made_in(f.values().size(), -1); // by ValueId: the kernel computing it
  size_t pending = 0;                                  // floating nodes waiting for their user
  auto start = [&](Open kind, const ir::Shape &s) {
    ++kernel;
    open = kind;
    shape = s;
  };
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node &n = nodes[i];
    const ir::Shape &s = f.type(n.result).shape;
    if (copied[i]) {
      ++pending; // a copy placed right before its elementwise user: joins its kernel
      continue;
    }
    bool reads_open = false;
    for (ValueId o : n.operands)
      reads_open = reads_open || made_in[size_t(o)] == kernel;
    if (ir::isElementwise(n.op)) {
      if (!(open != Open::None && s == shape && reads_open))
        start(Open::Chain, s);
    } else if (n.op == ir::OpKind::ReduceSum && open != Open::None && reads_open &&
               f.type(n.operands[0]).shape == shape) {
      open = Open::None; // the reduction closes the chain's loop
    } else if (n.op == ir::OpKind::MatMul || n.op == ir::OpKind::Conv2d || rowLogSoftmax(f, n)) {
      start(Open::Epilogue, s);
    } else {
      start(Open::None, s);
    }
    for (size_t p = i - pending; p <= i; ++p) {
      f.setKernel(p, kernel);
      made_in[size_t(nodes[p].result)] = kernel;
    }
    pending = 0;
  }
  return f;
}

Expected<bool> FusionPass::run(ir::Module &m) {
  for (ir::Function &f : m.functions)
    f = fuseKernels(f);
  return true;
}

} // namespace gradc::passes
