// Internal to codegen: the state shared by the per-op-family LLVM emitters
// and their entry points. Each emitter reads its operands' buffers and
// writes its result's buffer through the context.
#pragma once

#include "codegen/loops.h"
#include "codegen/lower.h"
#include "ir/function.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <vector>

namespace gradc::plan {
struct FunctionPlan;
struct Kernel;
} // namespace gradc::plan

namespace gradc::codegen {

/// One function being lowered: the builder and every value's base pointer.
struct EmitContext {
  llvm::IRBuilder<> &b;
  llvm::Module &module;
  const ir::Function &f;
  std::vector<llvm::Value *> ptr; ///< base pointer of each value, by ValueId
  /// Vector registers of the target (LowerOptions::vector_registers): with
  /// the vector width, what the matmul micro-kernel's tile is chosen from.
  int vector_registers = 16;
  /// Data cache sizes of the target (LowerOptions::caches): what the matmul's
  /// cache blocks are chosen from.
  CacheSizes caches;
  /// Parallel loops may run on the thread pool (LowerOptions::threads); else
  /// every one runs in place.
  bool threads = true;

  /// A context for another function of the module (a kernel, a task's body)
  /// built by `nb`: the same IR function and target, no value bound yet.
  EmitContext child(llvm::IRBuilder<> &nb) const {
    return {nb,     module, f, std::vector<llvm::Value *>(ptr.size(), nullptr), vector_registers,
            caches, threads};
  }

  llvm::Type *f32Ty() { return b.getFloatTy(); }
  llvm::Value *i64(int64_t v) { return b.getInt64(uint64_t(v)); }
  llvm::Value *f32(double v) { return llvm::ConstantFP::get(b.getFloatTy(), v); }
  const ir::Shape &shape(ir::ValueId v) const { return f.type(v).shape; }
  llvm::Type *elemTy(ir::ValueId v) {
    return f.type(v).dtype == ir::DType::I32 ? b.getInt32Ty() : b.getFloatTy();
  }
  /// Element `flat` (i64) of value v.
  llvm::Value *load(ir::ValueId v, llvm::Value *flat) {
    return b.CreateLoad(elemTy(v), b.CreateInBoundsGEP(elemTy(v), ptr[size_t(v)], flat));
  }
  void store(ir::ValueId v, llvm::Value *flat, llvm::Value *x) {
    b.CreateStore(x, b.CreateInBoundsGEP(elemTy(v), ptr[size_t(v)], flat));
  }
  /// Elements [flat, flat + lanes) of f32 value v as one vector; with `mask`,
  /// only its set lanes are read (the others are 0).
  llvm::Value *loadLanes(ir::ValueId v, llvm::Value *flat, unsigned lanes, llvm::Value *mask);
  /// `x`, a scalar or a vector of consecutive elements, to value v from
  /// element `flat` on; with `mask`, only its set lanes are written.
  void storeLanes(ir::ValueId v, llvm::Value *flat, llvm::Value *x, llvm::Value *mask);
  /// `x` (a float or a vector of them) into f32 buffer `base` (a workspace,
  /// not a value of the function) from element `flat` on, as storeLanes.
  void storeLanesAt(llvm::Value *base, llvm::Value *flat, llvm::Value *x, llvm::Value *mask);
  /// A stack slot (float unless `type` given) in the entry block (promoted to a register by SROA).
  llvm::Value *entryAlloca(const char *name, llvm::Type *type = nullptr);
  /// Sets all of value v's bytes to zero.
  void zero(ir::ValueId v);
  /// Calls a float(float) libm function such as "tanhf".
  llvm::Value *callLibm(const char *name, llvm::Value *x);
  /// Marks the function being emitted (and the task bodies of its parallel
  /// loops, declared after this) kCleanupOnly (lower.h): for code whose
  /// vectors and register tiles are explicit, not for scalar loops that
  /// LLVM's vectoriser would make faster.
  void markCleanupOnly() { b.GetInsertBlock()->getParent()->addFnAttr(kCleanupOnly); }
  /// Marks the function being emitted (and its parallel tasks, declared
  /// after this) kNoLoopStrengthReduction (lower.h).
  void markNoLoopStrengthReduction() {
    b.GetInsertBlock()->getParent()->addFnAttr(kNoLoopStrengthReduction);
  }
  /// `v` behind a freeze (no code), which scalar evolution does not look
  /// through: addresses built on it are a base plus the inner loops' strides.
  /// For a clamped index or a base address over clamps and divisions of outer
  /// induction variables, whose full expressions loop strength reduction
  /// would otherwise search formulae over in every loop they reach: conv1's
  /// weight gradient (our_cnn) spent 12 of its 31 ms of code generation there,
  /// 1.4 ms with its clamped rows and taps and its base addresses opaque.
  llvm::Value *opaque(llvm::Value *v) { return b.CreateFreeze(v); }
};

// Vector lanes (lanes.cpp). Lane index math is 32-bit: no tensor has more
// than ir::kMaxElements elements.

/// The integer `v` of the type of `like` (a splat when `like` is a vector).
llvm::Constant *cst(llvm::Value *like, int64_t v);
/// `x` as i32 lanes of the shape of `like` (a vector): a splat of the scalar
/// integer `x` truncated to i32, or `x` itself when it is a vector already.
llvm::Value *asLanes(EmitContext &c, llvm::Value *x, llvm::Value *like);
/// <0, 1, ..., n - 1> as i32 lanes.
llvm::Constant *laneIds(EmitContext &c, int64_t n);
/// <n x float> for lanes of the shape of `lanes`.
llvm::Type *floatsLike(EmitContext &c, llvm::Value *lanes);
/// The mask of the first `count` (i64, clamped to [0, lanes]) of `lanes` lanes.
llvm::Value *firstLanes(EmitContext &c, unsigned lanes, llvm::Value *count);
/// x[idx] in each lane where `mask` is set, `passthru` (default 0) elsewhere.
llvm::Value *gatherLanes(EmitContext &c, ir::ValueId x, llvm::Value *idx, llvm::Value *mask,
                         llvm::Value *passthru = nullptr);
/// x[idx] = v in each lane where `mask` is set (lanes must not collide).
void scatterLanes(EmitContext &c, ir::ValueId x, llvm::Value *idx, llvm::Value *v,
                  llvm::Value *mask);

// Flat planes: rows of `width` positions that are no multiple of the vector
// leave lanes idle at each row's end (a quarter of them on rows of 24 at 16
// floats). Where nothing reads outside the source, the direct convolutions
// instead run vectors along the flat plane of the rows, in periods of vectors
// that cover whole rows (rows of 24: 3 vectors over 2 rows), unrolled, so that
// the vectors that cross a row end are known.

/// The most vectors a flat period may take where its vectors stay in
/// registers (the forward's and the input gradient's sums).
inline constexpr int64_t kFlatPeriod = 3;
/// How many vectors of `vw` floats make a period of whole rows of `width`
/// positions, when `rows` rows run as a flat plane: wider than a vector and
/// no multiple of it, at most `most` vectors, and a whole number of periods
/// in the plane. 0 where they do not (the rows run as segments).
int64_t flatPeriod(int64_t width, int64_t rows, int vw, int64_t most = kFlatPeriod);
/// The vector of `vw` floats of a flat plane from `src` (f32 elements) at
/// `here`: one plain load, or, when only its first `first` lanes remain in the
/// row, a masked load of those and one of the next row's start, at `next`
/// (the next row's first element minus `first`: lane `first` reads it).
llvm::Value *loadAcrossRowEnd(EmitContext &c, llvm::Value *src, llvm::Value *here,
                              llvm::Value *next, int64_t first, int vw);

/// Called once per finished output row of a matmul (`m`, i64) or per
/// finished output element of a conv2d (`idx`, the NCHW induction variables,
/// with `flat` and the accumulated value `acc`): where a kernel's epilogue runs.
/// A point hook emits through `c`, which is a parallel task's context when the
/// element is computed in one (emitParallelFor).
using RowHook = llvm::function_ref<void(llvm::Value *m)>;
/// An emitter told that its hook takes vectors may pass `acc` as a vector of
/// consecutive elements in flat order, lane 0 at `idx` and `flat`, and `mask`
/// (null: all) the lanes that are elements; a scalar comes with a null mask.
/// The lanes run along the last axis (a matmul's C), or along the last two
/// (a conv2d's output positions, which cross its rows).
using PointHook = llvm::function_ref<void(EmitContext &c, llvm::ArrayRef<llvm::Value *> idx,
                                          llvm::Value *flat, llvm::Value *acc, llvm::Value *mask)>;

/// One task of a parallel loop, as its body sees it: the context to emit with
/// (inside the task's own function, c.ptr holds the kernel's buffers there),
/// the task's index and the pool worker running it (both i64).
struct Task {
  EmitContext &c;
  llvm::Value *index, *worker;
  /// The kernel function and the task's function (both null when the task
  /// runs in place): arg() maps the first's arguments to the second's.
  llvm::Function *outer = nullptr, *inner = nullptr;
  /// The task's copy of `v`, an argument of the kernel function (its workspace).
  llvm::Value *arg(llvm::Value *v) const;
};

/// Runs body(task) for every task in [0, tasks). With `parallel`, the body is
/// outlined into a function of the kernel's buffers and the task, which the
/// thread pool (rtlib/) runs on at most `max_workers` threads; otherwise it is
/// a plain loop in place, on worker 0. Tasks must be independent: none reads
/// what another writes, and no two add into one sum, so any thread count gives
/// the same bits. Only the kernel function's arguments may be used inside.
void emitParallelFor(EmitContext &c, int64_t tasks, int64_t max_workers, bool parallel,
                     llvm::function_ref<void(Task &)> body);

/// Splits `units` (each `unit_work` multiply-adds or element operations) into
/// ranges of whole units and runs body(task, lo, hi) over each range [lo, hi)
/// (i64, lo < hi): in parallel when the total work reaches
/// plan::kParallelMinWork and `parallel` is set, else as one range in place.
void emitParallelRanges(EmitContext &c, int64_t units, int64_t unit_work, bool parallel,
                        llvm::function_ref<void(Task &, llvm::Value *lo, llvm::Value *hi)> body);

/// Emits the body of one planned kernel: a fused loop nest (elementwise
/// chain, reduction, matmul or conv2d epilogue), a view, or one op over whole
/// buffers. Every value the kernel reads or writes in memory has c.ptr set.
/// `workspace` is the kernel's arena workspace (null when it has none) and
/// `vw` the target's vector width in floats.
void emitKernel(EmitContext &c, const plan::FunctionPlan &p, const plan::Kernel &k,
                llvm::Value *workspace, int vw);

/// The scalar formula of an elementwise op (Unary or Binary) on `args`.
llvm::Value *emitScalarOp(EmitContext &c, const ir::Node &n, llvm::ArrayRef<llvm::Value *> args);

// Emitters, one per op family file; each handles the ops listed.
// emit_elementwise.cpp: Constant and every Unary / Binary op.
void emitConstant(EmitContext &c, const ir::Node &n);
void emitElementwise(EmitContext &c, const ir::Node &n);
// emit_linalg.cpp
/// C = A·B into C's buffer, m-k-n; `row` (if given) runs after each row of C.
void emitMatMul(EmitContext &c, const ir::Node &n, RowHook row = nullptr);
/// The same product through packed panels in `workspace`
/// (plan::gemmWorkspaceBytes) and a register-tiled micro-kernel on vectors
/// of `vw` floats; each element of C goes to `point`, or to C's buffer.
/// With `point_lanes` the point hook takes vectors along C's rows (PointHook).
/// How a packed matmul's tiles may be split into parallel tasks: not at all
/// (its epilogue sums across rows of C), by any tiles (no sums), or by whole
/// column ranges (it sums down the columns only: each column's rows stay in
/// order in one task).
enum class GemmSplit : uint8_t { None, Tiles, Columns };
void emitPackedMatMul(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      GemmSplit split, PointHook point = nullptr, bool point_lanes = false);
/// C = A B^T as dot products of rows (plan::MatMulForm::Dot): a tile of a few rows
/// of C x all of its columns sums vectors of the depth, A and B read in
/// place, then reduces each sum's lanes; tiles run in parallel tasks with
/// `parallel`. With `point_lanes` the point hook takes vectors along C's rows.
void emitDotMatMul(EmitContext &c, const ir::Node &n, int vw, bool parallel,
                   PointHook point = nullptr, bool point_lanes = false);
/// C = A B of a short depth with A and B read in place
/// (plan::MatMulForm::Outer): the packed micro-kernel's register tile inline,
/// A broadcast from A's rows and B's rows loaded as vectors, its sums
/// through a buffer to the epilogue; tiles run in row order for each column
/// (an epilogue that sums down columns sees them in order), in parallel
/// tasks of rows or of columns as `split` allows.
void emitOuterMatMul(EmitContext &c, const ir::Node &n, int vw, GemmSplit split,
                     PointHook point = nullptr, bool point_lanes = false);
/// C = A B^T as C^T = B A^T (plan::MatMulForm::Transposed): A transposed
/// once into `workspace`, B's rows (C's columns) the register tile's rows,
/// broadcast from where B lies, as emitOuterMatMul's A; each column of a
/// tile, a row of C, transposed in registers into vectors for the point hook
/// (or C; gathered below 8 floats); with
/// `point_lanes` the hook takes vectors along C's rows. Tiles of C's columns
/// run in parallel tasks with `parallel`.
void emitTransposedMatMul(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                          bool parallel, PointHook point = nullptr, bool point_lanes = false);
/// conv2d and its gradients as implicit GEMMs on the same micro-kernel (the
/// im2col matrix is read in place by the packing): `workspace` holds
/// plan::convWorkspaceBytes with `slots` copies of an image's panels. The
/// forward pass and the input gradient run one task per image on at most
/// `slots` workers; the weight gradient's tiles run in parallel with `parallel`.
/// With `point_lanes` the forward pass's point hook takes vectors of output
/// positions (PointHook).
void emitPackedConv2d(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      int64_t slots, PointHook point = nullptr, bool point_lanes = false);
void emitPackedConv2dGradWeight(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                                bool parallel);
/// conv2d on vectors of output channels (plan::channelVectorConv): its
/// weights transposed into `workspace`; row tiles in parallel with `parallel`.
/// With `point_lanes` the point hook takes vectors of a row's positions.
void emitChannelsConv2d(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                        bool parallel, PointHook point, bool point_lanes = false);
/// conv2d with x read in place (plan::ConvForm::Direct): W's panels in
/// `workspace`; images and tiles in parallel with `parallel`. With
/// `point_lanes` the point hook takes vectors of a row's positions (in a flat
/// plane, flatPeriod, vectors that run on into the next row).
void emitDirectConv2d(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      bool parallel, PointHook point, bool point_lanes = false);
/// conv2d's weight gradient on vectors of output channels
/// (plan::GradWeightForm::Channels): dy transposed into `workspace`.
void emitChannelsConv2dGradWeight(EmitContext &c, const ir::Node &n, llvm::Value *workspace,
                                  int vw);
/// conv2d's weight gradient without packing (plan::GradWeightForm::Direct),
/// on vectors of `vw` output columns (emit_conv_direct.cpp).
void emitDirectConv2dGradWeight(EmitContext &c, const ir::Node &n, int vw);
/// conv2d's input gradient with dy read in place (plan::GradInputForm::Direct):
/// W's panels in `workspace`.
void emitDirectConv2dGradInput(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw);
/// conv2d's input gradient through each image's column matrix
/// (plan::GradInputForm::Columns), in `slots` worker slots of `workspace`.
void emitColumnsConv2dGradInput(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                                int64_t slots);
void emitPackedConv2dGradInput(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                               int64_t slots);
void emitBroadcast(EmitContext &c, const ir::Node &n);
void emitReduceSum(EmitContext &c, const ir::Node &n);
void emitReshape(EmitContext &c, const ir::Node &n);
/// With `point` (a row-wise log_softmax of a matrix only), each output
/// element goes to `point` instead of the result buffer.
void emitSoftmax(EmitContext &c, const ir::Node &n, bool log, PointHook point = nullptr);
void emitOneHot(EmitContext &c, const ir::Node &n);
// emit_window.cpp
/// With `point`, each output element goes to `point` instead of the result buffer.
void emitConv2d(EmitContext &c, const ir::Node &n, PointHook point = nullptr);
void emitConv2dGradInput(EmitContext &c, const ir::Node &n);
void emitConv2dGradWeight(EmitContext &c, const ir::Node &n);
/// Pooling and its gradients on `vw` output columns at a time.
void emitMaxPool2d(EmitContext &c, const ir::Node &n, int vw);
void emitMaxPool2dGrad(EmitContext &c, const ir::Node &n, int vw);
void emitAvgPool2d(EmitContext &c, const ir::Node &n, int vw);
void emitAvgPool2dGrad(EmitContext &c, const ir::Node &n, int vw);

} // namespace gradc::codegen
