// Emission of one planned kernel. A fused kernel is one loop nest over its
// element space; at each point the chain's nodes are evaluated in order, with
// values of the kernel in registers and every other value loaded once. Stores
// come last in each iteration, so a value updated in place or taking a dead
// operand's memory is read before it is overwritten.
#include "codegen/emit.h"

#include "plan/plan.h"

#include <algorithm>
#include <map>

namespace gradc::codegen {
namespace {

void emitNode(EmitContext &c, const ir::Node &n, int vw) {
  switch (n.op) {
  case ir::OpKind::Constant:
    return emitConstant(c, n);
  case ir::OpKind::MatMul:
    return emitMatMul(c, n);
  case ir::OpKind::Broadcast:
    return emitBroadcast(c, n);
  case ir::OpKind::ReduceSum:
    return emitReduceSum(c, n);
  case ir::OpKind::Reshape:
    return emitReshape(c, n);
  case ir::OpKind::Softmax:
    return emitSoftmax(c, n, false);
  case ir::OpKind::LogSoftmax:
    return emitSoftmax(c, n, true);
  case ir::OpKind::OneHot:
    return emitOneHot(c, n);
  case ir::OpKind::Conv2d:
    return emitConv2d(c, n);
  case ir::OpKind::Conv2dGradInput:
    return emitConv2dGradInput(c, n);
  case ir::OpKind::Conv2dGradWeight:
    return emitConv2dGradWeight(c, n);
  case ir::OpKind::MaxPool2d:
    return emitMaxPool2d(c, n, vw);
  case ir::OpKind::MaxPool2dGrad:
    return emitMaxPool2dGrad(c, n, vw);
  case ir::OpKind::AvgPool2d:
    return emitAvgPool2d(c, n, vw);
  case ir::OpKind::AvgPool2dGrad:
    return emitAvgPool2dGrad(c, n, vw);
  default:
    GRADC_CHECK(ir::isElementwise(n.op), std::string("no emitter for ") + ir::opName(n.op));
    return emitElementwise(c, n);
  }
}

/// The nodes [from, k.end) of a kernel evaluated at one point of its space.
class PointEval {
public:
  PointEval(EmitContext &c, const plan::FunctionPlan &p, const plan::Kernel &k)
      : c_(c), p_(p), k_(k) {}

  /// Sets the value of `v` at this point (the conv2d accumulator).
  void set(ir::ValueId v, llvm::Value *x) { at_[v] = x; }

  void run(llvm::ArrayRef<llvm::Value *> iv, llvm::Value *flat, int32_t from) {
    std::vector<std::pair<ir::ValueId, llvm::Value *>> stores;
    for (int32_t i = from; i < k_.end; ++i) {
      const ir::Node &n = c_.f.nodes()[size_t(i)];
      if (n.op == ir::OpKind::ReduceSum) {
        reduce(n, iv, flat);
        continue;
      }
      llvm::Value *x = nullptr;
      if (n.op == ir::OpKind::Constant) {
        x = c_.f32(float(n.attrs.f("value")));
      } else if (n.op == ir::OpKind::OneHot) {
        // [i, j] of one_hot(labels) is labels[i] == j.
        llvm::Value *label = c_.b.CreateSExt(c_.load(n.operands[0], iv[0]), c_.b.getInt64Ty());
        x = c_.b.CreateSelect(c_.b.CreateICmpEQ(label, iv[1]), c_.f32(1), c_.f32(0));
      } else if (n.op == ir::OpKind::Broadcast) {
        ir::ValueId src = n.operands[0];
        std::vector<llvm::Value *> idx;
        for (int64_t d : n.attrs.ints("dims"))
          idx.push_back(iv[size_t(d)]);
        x = c_.load(src, flatIndex(c_.b, idx, c_.shape(src)));
      } else {
        GRADC_CHECK(ir::isElementwise(n.op),
                    std::string("unfusable op in a kernel: ") + ir::opName(n.op));
        std::vector<llvm::Value *> args;
        for (ir::ValueId o : n.operands)
          args.push_back(get(o, flat));
        x = emitScalarOp(c_, n, args);
      }
      at_[n.result] = x;
      if (p_.inMemory(n.result))
        stores.push_back({n.result, x});
    }
    for (const auto &[v, x] : stores)
      c_.store(v, flat, x);
  }

private:
  llvm::Value *get(ir::ValueId v, llvm::Value *flat) {
    auto it = at_.find(v);
    if (it != at_.end())
      return it->second;
    return at_[v] = c_.load(v, flat);
  }

  /// out[the point without the reduced axes] += the operand at this point.
  void reduce(const ir::Node &n, llvm::ArrayRef<llvm::Value *> iv, llvm::Value *flat) {
    const auto &axes = n.attrs.ints("axes");
    std::vector<llvm::Value *> out_idx;
    for (size_t d = 0; d < iv.size(); ++d)
      if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end())
        out_idx.push_back(iv[d]);
    llvm::Value *oi = flatIndex(c_.b, out_idx, c_.shape(n.result));
    llvm::Value *x = get(n.operands[0], flat);
    // Reassociable, so that LLVM keeps a run of the sum in vector registers
    // (a sum is never split across threads: the same code runs at any count).
    llvm::Value *sum = c_.b.CreateFAdd(c_.load(n.result, oi), x);
    llvm::cast<llvm::Instruction>(sum)->setHasAllowReassoc(true);
    c_.store(n.result, oi, sum);
  }

  EmitContext &c_;
  const plan::FunctionPlan &p_;
  const plan::Kernel &k_;
  std::map<ir::ValueId, llvm::Value *> at_;
};

/// Zeroes the accumulators of the kernel's reductions.
void zeroReductions(EmitContext &c, const plan::Kernel &k) {
  for (int32_t i = k.first; i < k.end; ++i)
    if (c.f.nodes()[size_t(i)].op == ir::OpKind::ReduceSum)
      c.zero(c.f.nodes()[size_t(i)].result);
}

/// Every axis of the kernel's space that one of its reductions sums over.
std::vector<int64_t> reducedAxes(EmitContext &c, const plan::Kernel &k) {
  std::vector<int64_t> axes;
  for (int32_t i = k.first; i < k.end; ++i) {
    const ir::Node &n = c.f.nodes()[size_t(i)];
    if (n.op == ir::OpKind::ReduceSum)
      for (int64_t a : n.attrs.ints("axes"))
        axes.push_back(a);
  }
  return axes;
}

/// An elementwise kernel's loop nest. A large one is split along its first
/// axis that no reduction of the kernel sums over, into ranges run as
/// parallel tasks: each output element is then computed by one task, its sum
/// in the same order as on one thread.
void emitElementwiseKernel(EmitContext &c, const plan::FunctionPlan &p, const plan::Kernel &k) {
  std::vector<int64_t> reduced = reducedAxes(c, k);
  size_t axis = 0;
  while (axis < k.space.size() &&
         (k.space[axis] < 2 || std::count(reduced.begin(), reduced.end(), int64_t(axis))))
    ++axis;
  int64_t elements = 1;
  for (int64_t e : k.space)
    elements *= e;
  if (axis == k.space.size() || elements * (k.end - k.first) < plan::kParallelMinWork) {
    emitLoopNest(c.b, k.space, [&](llvm::ArrayRef<llvm::Value *> iv) {
      PointEval pe(c, p, k);
      pe.run(iv, flatIndex(c.b, iv, k.space), k.first);
    });
    return;
  }
  llvm::ArrayRef<int64_t> space(k.space);
  int64_t unit_work = elements / k.space[axis] * (k.end - k.first);
  emitParallelRanges(
      c, k.space[axis], unit_work, true, [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
        EmitContext &tc = t.c;
        emitLoopNest(tc.b, space.take_front(axis), [&](llvm::ArrayRef<llvm::Value *> outer) {
          emitCountedLoop(tc.b, tc.b.CreateSub(hi, lo), [&](llvm::Value *i) {
            emitLoopNest(tc.b, space.drop_front(axis + 1),
                         [&](llvm::ArrayRef<llvm::Value *> inner) {
                           std::vector<llvm::Value *> iv(outer.begin(), outer.end());
                           iv.push_back(tc.b.CreateAdd(lo, i));
                           iv.insert(iv.end(), inner.begin(), inner.end());
                           PointEval pe(tc, p, k);
                           pe.run(iv, flatIndex(tc.b, iv, k.space), k.first);
                         });
          });
        });
      });
}

} // namespace

void emitKernel(EmitContext &c, const plan::FunctionPlan &p, const plan::Kernel &k,
                llvm::Value *workspace, int vw) {
  const auto &nodes = c.f.nodes();
  switch (k.kind) {
  case plan::KernelKind::View: {
    const ir::Node &n = nodes[size_t(k.first)];
    if (p.values[size_t(n.result)].home != plan::Home::Alias)
      emitReshape(c, n); // a view that must also be a result of its own
    return;
  }
  case plan::KernelKind::Generic: {
    GRADC_CHECK(k.end - k.first == 1, "a generic kernel holds one node");
    const ir::Node &n = nodes[size_t(k.first)];
    if (n.op == ir::OpKind::Conv2dGradWeight) {
      switch (plan::convGradWeightForm(c.f, n)) {
      case plan::GradWeightForm::Direct:
        return emitDirectConv2dGradWeight(c, n, vw);
      case plan::GradWeightForm::Channels:
        return emitChannelsConv2dGradWeight(c, n, workspace, vw);
      case plan::GradWeightForm::Packed:
        if (k.workspace_bytes > 0)
          return emitPackedConv2dGradWeight(c, n, workspace, vw, true);
        break;
      }
    }
    if (k.workspace_bytes > 0 && n.op == ir::OpKind::Conv2dGradInput)
      return plan::directConvGradInput(c.f, n)
                 ? emitDirectConv2dGradInput(c, n, workspace, vw)
                 : emitPackedConv2dGradInput(c, n, workspace, vw, k.workspace_slots);
    return emitNode(c, n, vw);
  }
  case plan::KernelKind::Elementwise:
    zeroReductions(c, k);
    return emitElementwiseKernel(c, p, k);
  case plan::KernelKind::MatMul:
  case plan::KernelKind::Conv2d:
  case plan::KernelKind::LogSoftmax: {
    GRADC_CHECK(k.root == k.first, "an epilogue kernel starts with its root op");
    zeroReductions(c, k);
    const ir::Node &root = nodes[size_t(k.root)];
    auto epilogue = [&](EmitContext &ec, llvm::ArrayRef<llvm::Value *> o, llvm::Value *flat,
                        llvm::Value *x) {
      PointEval pe(ec, p, k);
      pe.set(root.result, x);
      if (p.inMemory(root.result))
        ec.store(root.result, flat, x);
      pe.run(o, flat, k.root + 1);
    };
    if (k.kind == plan::KernelKind::Conv2d && plan::channelVectorConv(c.f, root))
      return emitChannelsConv2d(c, root, workspace, vw, k.workspace_slots > 1, epilogue);
    if (k.kind == plan::KernelKind::Conv2d)
      return k.workspace_bytes > 0
                 ? emitPackedConv2d(c, root, workspace, vw, k.workspace_slots, epilogue)
                 : emitConv2d(c, root, epilogue);
    if (k.kind == plan::KernelKind::LogSoftmax)
      return emitSoftmax(c, root, true, epilogue);
    if (k.workspace_bytes > 0) {
      std::vector<int64_t> sums = reducedAxes(c, k);
      GemmSplit split = sums.empty() ? GemmSplit::Tiles
                        : std::count(sums.begin(), sums.end(), 0) == long(sums.size())
                            ? GemmSplit::Columns
                            : GemmSplit::None;
      return emitPackedMatMul(c, root, workspace, vw, split, epilogue);
    }
    // Small: plain loops, accumulating in C's buffer; the epilogue per row.
    if (k.end == k.root + 1)
      return emitMatMul(c, root);
    int64_t cols = k.space[1];
    return emitMatMul(c, root, [&](llvm::Value *m) {
      emitLoopNest(c.b, {cols}, [&](llvm::ArrayRef<llvm::Value *> j) {
        llvm::Value *flat = c.b.CreateAdd(c.b.CreateMul(m, c.i64(cols)), j[0]);
        PointEval pe(c, p, k);
        pe.run({m, j[0]}, flat, k.root + 1);
      });
    });
  }
  }
}

} // namespace gradc::codegen
