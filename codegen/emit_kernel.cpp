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

/// Whether `op` is evaluated by a libm call (or an intrinsic that becomes
/// one): on a vector, a call per lane.
bool callsLibm(ir::OpKind op) {
  switch (op) {
  case ir::OpKind::Exp:
  case ir::OpKind::Log:
  case ir::OpKind::Tanh:
  case ir::OpKind::Sigmoid:
  case ir::OpKind::Softplus:
    return true;
  default:
    return false;
  }
}

/// The nodes [from, k.end) of a kernel evaluated at one point of its space,
/// or, after vectorize(), at a vector of consecutive points.
class PointEval {
public:
  PointEval(EmitContext &c, const plan::FunctionPlan &p, const plan::Kernel &k)
      : c_(c), p_(p), k_(k) {}

  /// Whether nodes [from, k.end) can run on vectors of points that are
  /// consecutive in the kernel's flat order and vary in its axes from
  /// `varying` on (the last axis, or every axis: the flat space): every
  /// value they read either lies contiguously along those axes or is one
  /// value for all lanes, and each sum keeps all of them or sums all of them.
  /// Ops that call libm stay scalar (a call per lane), as do i32 values but
  /// one_hot's labels.
  /// With `lane_sums`, a sum may also cover every lane axis: its lanes then
  /// add up in a register (sumLanesIn) until the emitter adds them into the
  /// sum once per stretch of the lane axes.
  static bool vectorizable(const ir::Function &f, const plan::Kernel &k, int32_t from,
                           size_t varying, bool lane_sums = false) {
    const size_t rank = k.space.size();
    if (varying >= rank)
      return false;
    for (int32_t i = from; i < k.end; ++i) {
      const ir::Node &n = f.nodes()[size_t(i)];
      if (f.type(n.result).dtype != ir::DType::F32)
        return false;
      switch (n.op) {
      case ir::OpKind::Constant:
        break;
      case ir::OpKind::OneHot:
        // [i, j] is labels[i] == j: lanes along j only.
        if (rank != 2 || varying != 1)
          return false;
        break;
      case ir::OpKind::Broadcast: {
        const auto &dims = n.attrs.ints("dims");
        const ir::Shape &src = f.type(n.operands[0]).shape;
        size_t lane_dims = 0;
        for (int64_t d : dims)
          lane_dims += size_t(d) >= varying;
        if (lane_dims == 0)
          break; // one value for every lane
        // The varying axes, all of them and in order, are the source's last
        // axes with the same extents: the lanes read consecutive elements.
        if (lane_dims != rank - varying || dims.size() < lane_dims)
          return false;
        for (size_t a = 0; a < lane_dims; ++a) {
          size_t s = dims.size() - lane_dims + a;
          if (size_t(dims[s]) != varying + a || src[s] != k.space[varying + a])
            return false;
        }
        break;
      }
      case ir::OpKind::ReduceSum: {
        size_t summed = 0;
        for (int64_t a : n.attrs.ints("axes"))
          summed += size_t(a) >= varying;
        // Lanes summed into one element would take a horizontal sum per
        // vector, chained through memory: LLVM's own vectoriser keeps such a
        // sum in registers (measured 4x faster on the CNNs' bias gradients).
        // A flat space that keeps an axis has no index per lane to sum into.
        if (lane_sums && varying > 0 && summed == rank - varying)
          break;
        if (summed != 0 || (varying == 0 && rank > 1))
          return false;
        break;
      }
      default:
        if (!ir::isElementwise(n.op) || callsLibm(n.op))
          return false;
        for (ir::ValueId o : n.operands)
          if (f.type(o).dtype != ir::DType::F32)
            return false;
      }
    }
    return true;
  }

  /// From now on each value is a vector of `lanes` consecutive points from
  /// the one run() is given, varying in the axes from `varying` on (which
  /// vectorizable() accepted); `mask` (null: all) holds the lanes inside the
  /// space. With varying 0 the point's index may be empty: only `flat` is used.
  void vectorize(unsigned lanes, size_t varying, llvm::Value *mask) {
    lanes_ = lanes;
    varying_ = varying;
    mask_ = mask;
  }

  /// Sums whose lanes all add up go into a vector in `partials` (a stack
  /// slot per sum, which the caller zeroes and adds into the sum's element).
  void sumLanesIn(const std::map<ir::ValueId, llvm::Value *> &partials) { partials_ = &partials; }

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
        x = splat(c_.f32(float(n.attrs.f("value"))));
      } else if (n.op == ir::OpKind::OneHot) {
        // [i, j] of one_hot(labels) is labels[i] == j.
        llvm::Value *label = c_.load(n.operands[0], iv[0]);
        if (lanes_ > 1) {
          llvm::Constant *ids = laneIds(c_, lanes_);
          llvm::Value *j = c_.b.CreateAdd(asLanes(c_, iv[1], ids), ids);
          x = c_.b.CreateSelect(c_.b.CreateICmpEQ(asLanes(c_, label, ids), j), splat(c_.f32(1)),
                                splat(c_.f32(0)));
        } else {
          label = c_.b.CreateSExt(label, c_.b.getInt64Ty());
          x = c_.b.CreateSelect(c_.b.CreateICmpEQ(label, iv[1]), c_.f32(1), c_.f32(0));
        }
      } else if (n.op == ir::OpKind::Broadcast) {
        x = broadcast(n, iv, flat);
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
      c_.storeLanes(v, flat, x, mask_);
  }

private:
  llvm::Value *splat(llvm::Value *x) { return lanes_ > 1 ? c_.b.CreateVectorSplat(lanes_, x) : x; }

  llvm::Value *get(ir::ValueId v, llvm::Value *flat) {
    auto it = at_.find(v);
    if (it != at_.end())
      return it->second;
    return at_[v] = lanes_ > 1 ? c_.loadLanes(v, flat, lanes_, mask_) : c_.load(v, flat);
  }

  /// The source element under the point: one for every lane (splat) unless
  /// the lanes' axes are the source's last ones (then consecutive elements).
  llvm::Value *broadcast(const ir::Node &n, llvm::ArrayRef<llvm::Value *> iv, llvm::Value *flat) {
    ir::ValueId src = n.operands[0];
    const auto &dims = n.attrs.ints("dims");
    bool per_lane = false;
    for (int64_t d : dims)
      per_lane = per_lane || (lanes_ > 1 && size_t(d) >= varying_);
    // A flat space's lanes cover every axis: the source has the point's shape.
    if (per_lane && varying_ == 0)
      return c_.loadLanes(src, flat, lanes_, mask_);
    std::vector<llvm::Value *> idx;
    for (int64_t d : dims)
      idx.push_back(iv[size_t(d)]);
    llvm::Value *at = flatIndex(c_.b, idx, c_.shape(src));
    return per_lane ? c_.loadLanes(src, at, lanes_, mask_) : splat(c_.load(src, at));
  }

  /// out[the point without the reduced axes] += the operand at this point;
  /// on vectors, lane by lane when the lanes' axes are kept, else their sum.
  void reduce(const ir::Node &n, llvm::ArrayRef<llvm::Value *> iv, llvm::Value *flat) {
    const auto &axes = n.attrs.ints("axes");
    std::vector<llvm::Value *> out_idx;
    bool lanes_summed = false;
    for (size_t d = 0; d < k_.space.size(); ++d) {
      bool summed = std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
      lanes_summed = lanes_summed || (summed && d >= varying_);
      if (!summed)
        out_idx.push_back(iv[d]);
    }
    llvm::Value *oi = flatIndex(c_.b, out_idx, c_.shape(n.result));
    llvm::Value *x = get(n.operands[0], flat);
    auto &b = c_.b;
    if (lanes_ > 1 && !lanes_summed) {
      llvm::Value *sum = b.CreateFAdd(c_.loadLanes(n.result, oi, lanes_, mask_), x);
      c_.storeLanes(n.result, oi, sum, mask_);
      return;
    }
    if (lanes_ > 1 && partials_) {
      if (mask_)
        x = b.CreateSelect(mask_, x, llvm::Constant::getNullValue(x->getType()));
      llvm::Value *slot = partials_->at(n.result);
      b.CreateStore(b.CreateFAdd(b.CreateLoad(x->getType(), slot), x), slot);
      return;
    }
    if (lanes_ > 1) {
      if (mask_)
        x = b.CreateSelect(mask_, x, llvm::Constant::getNullValue(x->getType()));
      x = b.CreateFAddReduce(llvm::ConstantFP::getNegativeZero(c_.f32Ty()), x);
      llvm::cast<llvm::Instruction>(x)->setHasAllowReassoc(true);
    }
    // Reassociable, so that LLVM keeps a run of the sum in vector registers
    // (a sum is never split across threads: the same code runs at any count).
    llvm::Value *sum = b.CreateFAdd(c_.load(n.result, oi), x);
    llvm::cast<llvm::Instruction>(sum)->setHasAllowReassoc(true);
    c_.store(n.result, oi, sum);
  }

  EmitContext &c_;
  const plan::FunctionPlan &p_;
  const plan::Kernel &k_;
  std::map<ir::ValueId, llvm::Value *> at_;
  unsigned lanes_ = 1;
  size_t varying_ = 0;
  llvm::Value *mask_ = nullptr;
  const std::map<ir::ValueId, llvm::Value *> *partials_ = nullptr;
};

/// Whether rows of `len` elements, on a target whose vectors gradc emits
/// itself (8 floats and more), are too short for two of its vectors. Loops
/// over such rows stay scalar and cleanup-only: LLVM's vectoriser would turn
/// them into gathers across rows and their exps into scalar calls again (on
/// the CNNs' 64 x 10 logits, 9-15 ms of code generation a kernel for none of
/// the speed; smol_mlp's matmuls ran 20% faster without).
bool shortRows(int64_t len, int vw) { return vw >= 8 && len < 2 * int64_t(vw); }

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

/// Runs body(context, point) over every point of `nest`: in place, or, for
/// `elements` points of `ops` operations each that reach
/// plan::kParallelMinWork, split into parallel ranges along its first axis of
/// at least 2 that no sum of `reduced` covers (each output element then comes
/// from one task, its sum in the same order as on one thread).
void emitNestSplitForSums(
    EmitContext &c, llvm::ArrayRef<int64_t> nest, const std::vector<int64_t> &reduced,
    int64_t elements, int64_t ops,
    llvm::function_ref<void(EmitContext &, std::vector<llvm::Value *>)> body) {
  size_t axis = 0;
  while (axis < nest.size() &&
         (nest[axis] < 2 || std::count(reduced.begin(), reduced.end(), int64_t(axis))))
    ++axis;
  if (axis == nest.size() || elements * ops < plan::kParallelMinWork) {
    emitLoopNest(c.b, nest, [&](llvm::ArrayRef<llvm::Value *> iv) {
      body(c, std::vector<llvm::Value *>(iv.begin(), iv.end()));
    });
    return;
  }
  int64_t unit_work = elements / nest[axis] * ops;
  emitParallelRanges(
      c, nest[axis], unit_work, true, [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
        EmitContext &tc = t.c;
        emitLoopNest(tc.b, nest.take_front(axis), [&](llvm::ArrayRef<llvm::Value *> before) {
          emitCountedLoop(tc.b, tc.b.CreateSub(hi, lo), [&](llvm::Value *i) {
            emitLoopNest(tc.b, nest.drop_front(axis + 1), [&](llvm::ArrayRef<llvm::Value *> after) {
              std::vector<llvm::Value *> iv(before.begin(), before.end());
              iv.push_back(tc.b.CreateAdd(lo, i));
              iv.insert(iv.end(), after.begin(), after.end());
              body(tc, iv);
            });
          });
        });
      });
}

/// The first axis of the trailing axes that every reduction of the kernel
/// sums over (rank when there is none, or no reduction).
size_t summedTail(EmitContext &c, const plan::Kernel &k) {
  const size_t rank = k.space.size();
  size_t tail = 0;
  bool any = false;
  for (int32_t i = k.first; i < k.end; ++i) {
    const ir::Node &n = c.f.nodes()[size_t(i)];
    if (n.op != ir::OpKind::ReduceSum)
      continue;
    any = true;
    const auto &axes = n.attrs.ints("axes");
    size_t from = rank;
    while (from > 0 && std::count(axes.begin(), axes.end(), int64_t(from - 1)))
      --from;
    tail = std::max(tail, from);
  }
  return any ? tail : rank;
}

/// An elementwise kernel whose reductions all sum its trailing axes [tail,
/// rank) (conv2d's bias gradient sums a channel's planes): vectors along the
/// flat stretch of those axes, each sum's lanes added up in a register over
/// the stretch and into the sum once at its end. Split into parallel tasks
/// as emitElementwiseKernel does.
void emitSummedTailKernel(EmitContext &c, const plan::FunctionPlan &p, const plan::Kernel &k,
                          int vw, size_t tail) {
  const size_t rank = k.space.size();
  int64_t stretch = 1, elements = 1;
  for (size_t a = 0; a < rank; ++a) {
    elements *= k.space[a];
    if (a >= tail)
      stretch *= k.space[a];
  }
  const unsigned lanes = unsigned(vw);
  llvm::Type *vecTy = llvm::FixedVectorType::get(c.f32Ty(), lanes);
  std::vector<int64_t> outer(k.space.begin(), k.space.begin() + std::ptrdiff_t(tail));
  std::vector<int64_t> reduced = reducedAxes(c, k);
  // One stretch: zero the partial sums, run its vectors, add each into its sum.
  auto runStretch = [&](EmitContext &ec, std::vector<llvm::Value *> iv) {
    auto &b = ec.b;
    std::map<ir::ValueId, llvm::Value *> partials;
    for (int32_t i = k.first; i < k.end; ++i)
      if (c.f.nodes()[size_t(i)].op == ir::OpKind::ReduceSum) {
        llvm::Value *slot = ec.entryAlloca("partial", vecTy);
        b.CreateStore(llvm::Constant::getNullValue(vecTy), slot);
        partials[c.f.nodes()[size_t(i)].result] = slot;
      }
    llvm::Value *base = b.CreateMul(flatIndex(b, iv, outer), ec.i64(stretch));
    emitCountedLoop(b, ec.i64((stretch + vw - 1) / vw), [&](llvm::Value *blk) {
      llvm::Value *q = b.CreateMul(blk, ec.i64(vw));
      // Lane 0's index along each tail axis.
      std::vector<llvm::Value *> point = iv, rest;
      llvm::Value *r = q;
      for (size_t a = rank; a-- > tail;) {
        rest.push_back(b.CreateURem(r, ec.i64(k.space[a])));
        r = b.CreateUDiv(r, ec.i64(k.space[a]));
      }
      point.insert(point.end(), rest.rbegin(), rest.rend());
      PointEval pe(ec, p, k);
      llvm::Value *mask = nullptr;
      if (stretch % vw != 0)
        mask = firstLanes(ec, lanes, b.CreateSub(ec.i64(stretch), q));
      pe.vectorize(lanes, tail, mask);
      pe.sumLanesIn(partials);
      pe.run(point, b.CreateAdd(base, q), k.first);
    });
    for (int32_t i = k.first; i < k.end; ++i) {
      const ir::Node &n = c.f.nodes()[size_t(i)];
      if (n.op != ir::OpKind::ReduceSum)
        continue;
      ir::ValueId v = n.result;
      llvm::Value *slot = partials.at(v);
      const auto &axes = n.attrs.ints("axes");
      std::vector<llvm::Value *> out_idx;
      for (size_t a = 0; a < tail; ++a)
        if (!std::count(axes.begin(), axes.end(), int64_t(a)))
          out_idx.push_back(iv[a]);
      llvm::Value *oi = flatIndex(b, out_idx, ec.shape(v));
      llvm::Value *sum = b.CreateFAddReduce(llvm::ConstantFP::getNegativeZero(ec.f32Ty()),
                                            b.CreateLoad(vecTy, slot));
      llvm::cast<llvm::Instruction>(sum)->setHasAllowReassoc(true);
      ec.store(v, oi, b.CreateFAdd(ec.load(v, oi), sum));
    }
  };
  emitNestSplitForSums(c, outer, reduced, elements, k.end - k.first, runStretch);
}

/// An elementwise kernel's loop nest: on vectors of `vw` points where
/// PointEval can (8 floats and more: masked loads and stores are
/// instructions) and there are two vectors' worth, along the whole flat
/// space when nothing reads it by axis, else along the last axis; sums over
/// trailing axes by emitSummedTailKernel; else point by point, and LLVM
/// vectorises. Large ones run in parallel ranges (emitNestSplitForSums).
void emitElementwiseKernel(EmitContext &c, const plan::FunctionPlan &p, const plan::Kernel &k,
                           int vw) {
  const size_t rank = k.space.size();
  int64_t elements = 1;
  for (int64_t e : k.space)
    elements *= e;
  // At least two vectors' worth along the lanes: LLVM unrolls a smaller loop
  // whole (smol_mlp's train step: 0.33 us scalar, 0.38 us on masked vectors).
  const int64_t least = 2 * int64_t(vw);
  bool flat =
      vw >= 8 && rank > 1 && elements >= least && PointEval::vectorizable(c.f, k, k.first, 0);
  bool rows = vw >= 8 && !flat && rank >= 1 && k.space.back() >= least &&
              PointEval::vectorizable(c.f, k, k.first, rank - 1);
  // Sums over trailing axes whose lanes would all add into one element: in
  // registers over each stretch of those axes, one horizontal sum a stretch.
  if (vw >= 8 && !flat) {
    size_t tail = summedTail(c, k);
    int64_t stretch = 1;
    for (size_t a = tail; a < rank; ++a)
      stretch *= k.space[a];
    if (tail > 0 && tail < rank && stretch >= vw &&
        PointEval::vectorizable(c.f, k, k.first, tail, true)) {
      c.markCleanupOnly();
      return emitSummedTailKernel(c, p, k, vw, tail);
    }
  }
  const unsigned lanes = flat || rows ? unsigned(vw) : 1;
  // Vectorised here, or rows too short for it (the logits' gradient: 3.0 ->
  // 1.6 us without LLVM's vectoriser).
  if (lanes > 1 || (!flat && shortRows(rank == 0 ? 1 : k.space.back(), vw)))
    c.markCleanupOnly();
  // The space the loops run over: the kernel's, or its flat form; its last
  // axis in blocks of `lanes` points.
  std::vector<int64_t> space = flat ? std::vector<int64_t>{elements} : k.space;
  std::vector<int64_t> reduced = reducedAxes(c, k);
  if (flat && !reduced.empty())
    reduced = {0};
  const int64_t last = space.empty() ? 1 : space.back();
  std::vector<int64_t> blocks = space;
  if (!blocks.empty())
    blocks.back() = (last + lanes - 1) / lanes;
  // The point at block index `iv`: lane 0's index and flat position.
  auto point = [&](EmitContext &ec, std::vector<llvm::Value *> iv) {
    PointEval pe(ec, p, k);
    if (lanes > 1) {
      iv.back() = ec.b.CreateMul(iv.back(), ec.i64(lanes), "", true, true);
      llvm::Value *mask = nullptr;
      if (last % lanes != 0)
        mask = firstLanes(ec, lanes, ec.b.CreateSub(ec.i64(last), iv.back()));
      pe.vectorize(lanes, flat ? 0 : rank - 1, mask);
    }
    llvm::Value *at = flatIndex(ec.b, iv, space);
    pe.run(flat ? llvm::ArrayRef<llvm::Value *>() : llvm::ArrayRef<llvm::Value *>(iv), at, k.first);
  };
  emitNestSplitForSums(c, blocks, reduced, elements, k.end - k.first, point);
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
    if (k.workspace_bytes > 0 && n.op == ir::OpKind::Conv2dGradInput) {
      switch (plan::convGradInputForm(c.f, n)) {
      case plan::GradInputForm::Columns:
        return emitColumnsConv2dGradInput(c, n, workspace, vw, k.workspace_slots);
      case plan::GradInputForm::Direct:
        return emitDirectConv2dGradInput(c, n, workspace, vw);
      case plan::GradInputForm::Packed:
        return emitPackedConv2dGradInput(c, n, workspace, vw, k.workspace_slots);
      }
    }
    return emitNode(c, n, vw);
  }
  case plan::KernelKind::Elementwise:
    zeroReductions(c, k);
    return emitElementwiseKernel(c, p, k, vw);
  case plan::KernelKind::MatMul:
  case plan::KernelKind::Conv2d:
  case plan::KernelKind::LogSoftmax: {
    GRADC_CHECK(k.root == k.first, "an epilogue kernel starts with its root op");
    zeroReductions(c, k);
    const ir::Node &root = nodes[size_t(k.root)];
    // Vectors of the epilogue run along C's rows, or along a conv2d's output
    // positions (its last two axes).
    const size_t lane_axes = k.kind == plan::KernelKind::Conv2d ? 2 : k.space.size() - 1;
    auto epilogue = [&](EmitContext &ec, llvm::ArrayRef<llvm::Value *> o, llvm::Value *flat,
                        llvm::Value *x, llvm::Value *mask) {
      PointEval pe(ec, p, k);
      if (auto *vt = llvm::dyn_cast<llvm::FixedVectorType>(x->getType()))
        pe.vectorize(vt->getNumElements(), lane_axes, mask);
      pe.set(root.result, x);
      if (p.inMemory(root.result))
        ec.storeLanes(root.result, flat, x, mask);
      pe.run(o, flat, k.root + 1);
    };
    if (k.kind == plan::KernelKind::Conv2d) {
      if (k.workspace_bytes == 0)
        return emitConv2d(c, root, epilogue);
      const bool lanes = PointEval::vectorizable(c.f, k, k.root + 1, lane_axes);
      switch (plan::convForm(c.f, root)) {
      case plan::ConvForm::Channels:
        return emitChannelsConv2d(c, root, workspace, vw, k.workspace_slots > 1, epilogue, lanes);
      case plan::ConvForm::Direct:
        return emitDirectConv2d(c, root, workspace, vw, k.workspace_slots > 1, epilogue, lanes);
      case plan::ConvForm::Packed:
        return emitPackedConv2d(c, root, workspace, vw, k.workspace_slots, epilogue, lanes);
      }
    }
    if (k.kind == plan::KernelKind::LogSoftmax) {
      // Scalar loops along the softmax axis (the classes); long ones keep O2.
      if (shortRows(c.shape(root.operands[0])[size_t(root.attrs.i("axis"))], vw))
        c.markCleanupOnly();
      return emitSoftmax(c, root, true, epilogue);
    }
    const bool lanes = PointEval::vectorizable(c.f, k, k.root + 1, k.space.size() - 1);
    const std::vector<int64_t> sums = reducedAxes(c, k);
    // Tasks may split C's tiles any way without sums; by whole columns when
    // the epilogue sums down them only (a bias gradient).
    const GemmSplit split = sums.empty() ? GemmSplit::Tiles
                            : std::count(sums.begin(), sums.end(), 0) == long(sums.size())
                                ? GemmSplit::Columns
                                : GemmSplit::None;
    switch (plan::matMulForm(c.f, root)) {
    case plan::MatMulForm::Dot:
      return emitDotMatMul(c, root, vw, sums.empty(), epilogue, lanes);
    case plan::MatMulForm::Outer: // without an epilogue C's rows go straight from registers
      return emitOuterMatMul(c, root, vw, split, k.end == k.root + 1 ? PointHook() : epilogue,
                             lanes);
    case plan::MatMulForm::Transposed:
      return emitTransposedMatMul(c, root, workspace, vw, sums.empty(), epilogue, lanes);
    case plan::MatMulForm::Packed:
      break;
    }
    if (k.workspace_bytes > 0)
      return emitPackedMatMul(c, root, workspace, vw, split, epilogue, lanes);
    // Small: plain loops, accumulating in C's buffer; the epilogue per row.
    if (shortRows(k.space[1], vw))
      c.markCleanupOnly();
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
