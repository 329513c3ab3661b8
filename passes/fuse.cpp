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

/// Copies node n of `from` into `into` with operands mapped.
ValueId copyNode(ir::Function &into, const ir::Function &from, const ir::Node &n,
                 const std::vector<ValueId> &map) {
  std::vector<ValueId> ops;
  for (ValueId o : n.operands)
    ops.push_back(map[size_t(o)]);
  return into.addNode(n.op, std::move(ops), n.attrs, from.value(n.result).name);
}

/// Rebuilds `f` with every floating node (a broadcast or splat constant read
/// only by elementwise ops, and no result) copied right before each user, so
/// each copy can join its user's kernel and is never materialised.
/// `copied` marks the copies.
ir::Function placeFloating(const ir::Function &f, std::vector<bool> &copied) {
  auto users = ir::valueUsers(f);
  std::vector<bool> is_result(f.values().size(), false);
  for (const ir::Result &r : f.results())
    is_result[size_t(r.value)] = true;
  std::vector<bool> floating(f.nodes().size(), false);
  for (size_t i = 0; i < f.nodes().size(); ++i) {
    const ir::Node &n = f.nodes()[i];
    if (!floatingOp(n.op) || is_result[size_t(n.result)] || users[size_t(n.result)].empty())
      continue;
    bool ok = true;
    for (int32_t u : users[size_t(n.result)])
      ok = ok && ir::isElementwise(f.nodes()[size_t(u)].op);
    floating[i] = ok;
  }
  ir::Function out(f.name());
  std::vector<ValueId> map(f.values().size(), ir::kNoValue);
  for (const ir::Arg &a : f.args())
    map[size_t(a.value)] = out.addArg(a.name, a.role, f.type(a.value));
  for (size_t i = 0; i < f.nodes().size(); ++i) {
    const ir::Node &n = f.nodes()[i];
    if (floating[i])
      continue;
    std::vector<ValueId> local = map; // floating operands copied for this user only
    for (ValueId o : n.operands) {
      const ir::Value &ov = f.value(o);
      if (ov.node >= 0 && floating[size_t(ov.node)] && local[size_t(o)] == map[size_t(o)]) {
        local[size_t(o)] = copyNode(out, f, f.nodes()[size_t(ov.node)], map);
        copied.resize(out.nodes().size(), false);
        copied.back() = true;
      }
    }
    map[size_t(n.result)] = copyNode(out, f, n, local);
  }
  for (const ir::Result &r : f.results())
    out.addResult(r.name, r.role, map[size_t(r.value)], r.updates);
  copied.resize(out.nodes().size(), false);
  return out;
}

/// What the open kernel accepts next.
enum class Open { None, Chain, Epilogue };

} // namespace

ir::Function fuseKernels(const ir::Function &in) {
  std::vector<bool> copied;
  ir::Function f = placeFloating(in, copied);
  const auto &nodes = f.nodes();
  int32_t kernel = -1;
  Open open = Open::None;
  ir::Shape shape;           // the open kernel's element shape
  std::vector<bool> in_open; // by ValueId: computed in the open kernel
  in_open.assign(f.values().size(), false);
  size_t pending = 0; // floating nodes waiting for their user
  auto start = [&](Open kind, const ir::Shape &s) {
    ++kernel;
    open = kind;
    shape = s;
    std::fill(in_open.begin(), in_open.end(), false);
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
      reads_open = reads_open || in_open[size_t(o)];
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
      in_open[size_t(nodes[p].result)] = open != Open::None || p == i;
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
