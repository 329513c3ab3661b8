// The execution plan: built once from a module after the passes, and the one
// source of truth for where every value lives. Lowering, the C header and the
// JIT all read it; `gradc dump --stage plan|memory` prints it.
//
// For each function it holds
//   - the kernels, in order: runs of nodes the fusion pass grouped (one node
//     each when fusion did not run), each with a kind that says how codegen
//     emits it;
//   - for each value its home: an ABI argument, a result buffer, a register
//     inside one kernel, an offset in the function's arena, an alias of
//     another value's memory (a reshape view, an in-place elementwise
//     result), or in place in the parameter or state it updates;
//   - the arena: every temporary that needs memory is a buffer with a live
//     range in kernel steps, placed by greedy-by-size offset assignment.
#pragma once

#include "ir/function.h"
#include "support/error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gradc::plan {

/// Every buffer offset is a multiple of this (one cache line, one AVX-512 vector).
inline constexpr int64_t kAlignment = 64;

inline int64_t alignUp(int64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

/// One tensor inside a packed buffer (params, grads, state).
struct TensorSlot {
  std::string name;
  ir::TensorType type;
  int64_t offset = 0; ///< bytes from the start of the buffer
};

/// How codegen emits a kernel.
enum class KernelKind : uint8_t {
  /// One loop nest over `space` evaluating a chain of elementwise ops (with
  /// the broadcasts and splat constants they read, never materialised), then
  /// optionally one reduce_sum of a chain value, accumulated in the same nest.
  Elementwise,
  /// A matmul; elementwise ops after it (the epilogue: bias, activation) run
  /// on each finished row of the product.
  MatMul,
  /// A conv2d; elementwise ops after it run on each output element as it is
  /// finished, from the accumulator register.
  Conv2d,
  /// A log_softmax over the rows of a matrix; elementwise ops after it run on
  /// each element as its row is normalised (the cross-entropy loss).
  LogSoftmax,
  /// A reshape whose result aliases its operand: no code.
  View,
  /// Any other single op, emitted over whole buffers.
  Generic,
};
const char *kernelKindName(KernelKind k);

struct Kernel {
  KernelKind kind = KernelKind::Generic;
  int32_t first = 0, end = 0; ///< node indices [first, end)
  /// The matmul or conv2d node (MatMul, Conv2d), else -1.
  int32_t root = -1;
  /// Elementwise: the loop nest's extents (the chain's shape).
  ir::Shape space;
  /// Arena bytes the kernel uses while it runs (a matmul's packed panels),
  /// at `workspace_offset`; 0 for none.
  int64_t workspace_bytes = 0;
  int64_t workspace_offset = -1;
  /// Copies of the per-image part of the workspace (a conv2d's or its input
  /// gradient's packed image): more than 1 when the kernel runs one task per
  /// image on that many pool workers at most (kConvWorkerSlots).
  int64_t workspace_slots = 1;
};

/// Bounds of the packed matmul's register tile, which codegen chooses per
/// target and shape (codegen/emit_gemm.cpp, registerTile): A's panels have
/// at most kGemmMaxRows rows, and at least kGemmMinRows unless A has fewer
/// rows; B's panels at most kGemmMaxCols columns (two vectors of AVX-512).
inline constexpr int64_t kGemmMinRows = 6;
inline constexpr int64_t kGemmMaxRows = 16;
inline constexpr int64_t kGemmMaxCols = 32;

/// Rows of A's packed panels, zero padding included, for any tile within
/// those bounds: m rows in p = ceil(m / r) panels of ceil(m / p) rows each
/// (r the tile's most rows) pad by at most p - 1 <= m / kGemmMinRows rows.
inline int64_t gemmPaddedRows(int64_t m) { return m + m / kGemmMinRows; }

/// Bounds of the depth (KC) of a blocked matmul's cache blocks, which
/// codegen chooses from the target's L1 within them: a matmul deeper than
/// kGemmMinDepthBlock may run in depth blocks, keeping C's partial sums in
/// its workspace between them.
inline constexpr int64_t kGemmMinDepthBlock = 128;
inline constexpr int64_t kGemmMaxDepthBlock = 512;

/// Kernels doing fewer multiply-adds (or element operations) than this run on
/// the calling thread: waking the thread pool would cost more than it saves.
inline constexpr int64_t kParallelMinWork = int64_t(1) << 16;
/// A matmul of fewer multiply-adds than this runs on the calling thread: the
/// threads would read its operands, written by the kernels before it on both
/// cores, across the cores' caches. Where that is slow it decides the
/// threshold: on a Zen 4 machine a 64 x 128 x 256 matmul (2.1 M, about 30 us
/// on one thread) took as long on two or longer, and serial below 2^22
/// mlp_fashion's two-thread train step went 0.38 -> 0.35 ms. On the Zen 5
/// machines the project now runs on, the same three 2.1 M matmuls of
/// mlp_fashion's step gain on two threads: from 2^20, its two-thread step
/// went 0.186 -> 0.172 ms and its forward 83 -> 74 us, the CNNs' steps were
/// unchanged (0.93-0.95 ms, 0.86-0.87), and 2^18 measured no better.
inline constexpr int64_t kParallelMinGemmWork = int64_t(1) << 20;
/// The most pool workers one per-image convolution (conv2d, conv2d_grad_input)
/// runs on, each packing its images into its own slot of the workspace.
inline constexpr int64_t kConvWorkerSlots = 8;

/// How a matmul is computed, by a stated cost rule, in order. One too small to
/// pack (gemmWorkspaceBytes) takes the Outer form when it is an A B within
/// Outer's bounds (below: depth and rows; not A^T B, even alone in its
/// kernel) and runs as plain loops otherwise (Packed without a workspace): smol_mlp's
/// 4 x 5 x 4 dY W took 22 ns as a plain m-k-n nest that stored C after each
/// step of the depth (OpenBLAS: 15 ns), 12 ns as Outer. A larger one:
/// - Dot: when A is not transposed and B is (C = A B^T: both operands' rows
///   run along the depth, as in x W^T), C has kDotMinCols to kDotMaxCols
///   columns (an output layer's classes) and the depth is at least
///   kDotMinDepth. A register tile of a few rows of C x all of its columns
///   sums vectors of the depth, A and B read in place; each row's sums are
///   then reduced across lanes into one vector of C's row (codegen/
///   emit_gemm.cpp, emitDotMatMul). Packing such a GEMM transposes all of A
///   for a tile of a few columns: it took as long as the multiply-adds.
/// - Outer: when B is not transposed, the depth is at most kOuterMaxDepth
///   and A has at most kOuterMaxRows rows (dY W of the shared models'
///   layers). The packed micro-kernel's register tile inline, with A's
///   elements broadcast from its rows and B's rows read in place
///   (emitOuterMatMul). On those shapes packing A cost more than the cache
///   blocking saved: against OpenBLAS, 10-deep dY W 0.79x -> 0.90x, 32 x 120
///   x 84 0.88x -> 1.01x; in the CNNs' train step, d.flat 101 -> 92 us. Not
///   for A^T B (dY^T X): the bare product ran faster (84 x 120 x 64 0.86x ->
///   0.98x) but its epilogue, the optimizer's update of a weight's rows,
///   slower (fc1 of cnn_fashion 97-118 -> 123-133 us): A^T B takes this form
///   only alone in its kernel (the backward function's weight gradients),
///   A^T's rows read a depth m floats apart, up to kOuterMaxRowsAlone rows;
///   alone it now stores from registers: 84 x 120 x 64 0.90x -> 1.06x, the
///   output layers' 10 x 84 x 32/64 0.90-0.91x -> 1.14-1.19x.
/// - Transposed: when B is transposed and A has at most kOuterMaxRows rows
///   (x W^T of every layer but the output one): C^T = B A^T, with A (the
///   batch's rows, the smaller operand) transposed once into the workspace
///   and B (the weight) read in place as Outer's A, its rows broadcast
///   (emitTransposedMatMul). Packing W^T, a weight's every element copied
///   each step, took a quarter of the forward GEMM; now it is read once.
///   Each tile's columns, rows of C, become vectors for the epilogue by a
///   transpose in registers. In the train steps: fc1 of mlp_fashion 205-214 -> 165-167 us,
///   of cnn_fashion 121 -> 92, of our_cnn 120-125 -> 62-65.
/// - Packed: panels packed into the workspace (emitPackedMatMul).
/// Dot and Outer need no workspace; Transposed holds A^T.
enum class MatMulForm : uint8_t { Packed, Dot, Outer, Transposed };
MatMulForm matMulForm(const ir::Function &f, const ir::Node &n);

/// Whether node `n` of kernel `k` must keep its value in memory even when
/// only `k` reads it: a reduction accumulates there, generic and view
/// kernels work on whole buffers, and so does a small matmul's plain loop
/// nest (Packed without a workspace), which accumulates in C. The other
/// matmul forms hand C's tiles to the epilogue from registers.
bool accumulatesInMemory(const ir::Function &f, const Kernel &k, const ir::Node &n);

inline constexpr int64_t kDotMinCols = 8;
inline constexpr int64_t kDotMaxCols = 12;
inline constexpr int64_t kDotMinDepth = 32;
inline constexpr int64_t kOuterMaxDepth = 256;
inline constexpr int64_t kOuterMaxRows = 128;
/// A^T B alone in its kernel takes the Outer form up to this many rows:
/// mlp_fashion's 256 x 784 x 64 went 0.94-0.98x -> 1.03-1.07x OpenBLAS.
inline constexpr int64_t kOuterMaxRowsAlone = 256;

/// Workspace of a matmul C[m, n] = A[m, k] B[k, n] through packed panels
/// (A in panels of gemmPaddedRows rows in all, B in kGemmMaxCols-column
/// panels, zero-padded),
/// with `b_slots` copies of B's panels, or 0 when it is small enough for plain
/// loops. A `blocked` matmul (one B, packed whole, its tiles run in cache
/// blocks) also keeps C's partial sums when deeper than kGemmMinDepthBlock.
int64_t gemmWorkspaceBytes(int64_t m, int64_t n, int64_t k, int64_t b_slots = 1,
                           bool blocked = false);

/// How many workspace slots a conv2d or conv2d_grad_input node gets: one per
/// worker that may run its images at once (kConvWorkerSlots), or 1 when it
/// runs on one thread (too little work, one image, or an epilogue that sums
/// across elements: `sums`).
int64_t convWorkspaceSlots(const ir::Function &f, const ir::Node &n, bool sums);

/// How a conv2d_grad_weight node is computed, by a stated cost rule:
/// - Channels: on vectors of output channels, when there is no padding and
///   the output channels are a multiple of kChannelLanes. dy is transposed
///   once per image (each position's channels contiguous, zero-padded to
///   whole vectors) into the workspace; a register tile of a channel's
///   window taps x two vectors of output channels then sums over every
///   position with one broadcast of x per tap (read in place: without
///   padding every tap of a position lies inside x) and two vector loads of
///   dy per position. Every lane does work however narrow the rows are.
/// - Direct: on vectors of output columns (codegen/emit_conv_direct.cpp),
///   when the stride along W is 1, so that an output row of dy and the input
///   row it reads are both contiguous vectors, and the output is at least
///   kDirectMinRow columns wide, so that most vector lanes do work; both
///   operands read in place.
/// - Packed: an implicit GEMM that packs (gathers) the im2col matrix.
enum class GradWeightForm : uint8_t { Packed, Direct, Channels };
/// Whether a conv2d or conv2d_grad_weight node can run on vectors of output
/// channels: no padding (every tap of an output position lies inside x, so x
/// is read in place by broadcasts) and output channels a multiple of
/// kChannelLanes (whole vectors). A conv2d that can keeps a register tile of
/// an output row's positions x two vectors of channels over the taps, with
/// one broadcast of x per position and tap and its weights transposed once
/// into the workspace; its epilogue is the same.
bool channelVectorConv(const ir::Function &f, const ir::Node &n);
GradWeightForm convGradWeightForm(const ir::Function &f, const ir::Node &n);
inline constexpr int64_t kDirectMinRow = 8;

/// How a conv2d node is computed, by a stated cost rule, in order:
/// - Channels: channelVectorConv (above).
/// - Direct: with stride 1 along W, an output row's positions read one
///   contiguous row of x per tap, so a masked vector load replaces the
///   packing of the im2col matrix (which copies each element of x once per
///   tap, and took about as long as the GEMM where the depth, the taps, is
///   short: conv1 of the shared CNNs); when the rows are at least
///   kDirectMinRow wide, so that most vector lanes do work. A register tile
///   of output channels x two vectors of a row's positions (x three along a
///   flat plane of rows of 1.5 vectors: codegen/emit.h, flatPeriod); its
///   epilogue takes those vectors. The workspace holds W's panels only
///   (codegen/emit_gemm.cpp, emitDirectConv2d).
/// - Packed: an implicit GEMM that packs (gathers) the im2col matrix, one
///   image at a time, its epilogue on vectors of positions across rows.
enum class ConvForm : uint8_t { Packed, Direct, Channels };
ConvForm convForm(const ir::Function &f, const ir::Node &n);

/// How a conv2d_grad_input node is computed, by a stated cost rule, in order:
/// - Columns: with stride 1, at least kColumnsMinDepth output channels and
///   fewer positions in dy than in dx (a "full" correlation, whose taps at
///   dx's border read zeros of dy): per image, one GEMM of W^T (input
///   channel x tap rows) and dy (output channels x positions), of depth
///   out_c, into the column matrix C[(c, kh, kw), (oh, ow)] in the
///   workspace; then each row of dx sums its window's taps from C (col2im
///   as a gather: each element written once). Its multiply-adds are the
///   forward pass's, none on a zero of the border; the depth bound keeps the
///   writes and reads of C small beside them.
/// - Direct: with stride 1 an input row's positions read one contiguous row
///   of dy per tap, so a masked vector load replaces the packing (which
///   copies each element of dy once per tap); when the rows are at least
///   kDirectMinRow wide, so that most vector lanes do work. Its workspace is
///   W's panels only (codegen/emit_gemm.cpp, emitDirectConv2dGradInput).
/// - Packed: the transposed convolution as an implicit GEMM that gathers dy.
enum class GradInputForm : uint8_t { Packed, Direct, Columns };
GradInputForm convGradInputForm(const ir::Function &f, const ir::Node &n);
inline constexpr int64_t kColumnsMinDepth = 16;
/// How many images one column-matrix GEMM of a Columns input gradient takes
/// (its columns are their positions, side by side): of 1 to 4 (and at most
/// the batch), the fewest whose columns fill kGemmMaxCols-wide panels best,
/// so that 100 positions a image (a last panel of 4 columns in 32) become
/// 400 (16 in 32).
int64_t columnsImages(const ir::Function &f, const ir::Node &n);
inline constexpr int64_t kChannelLanes = 8;

/// Workspace of a conv2d, conv2d_grad_input or conv2d_grad_weight node
/// computed as an implicit GEMM (codegen/emit_gemm.cpp) with `slots` copies of
/// an image's panels, or 0 for plain loops.
int64_t convWorkspaceBytes(const ir::Function &f, const ir::Node &n, int64_t slots = 1);

/// Where a value lives while its function runs.
enum class Home : uint8_t {
  Arg,      ///< an ABI argument (input, param, grad, state, scalar)
  Result,   ///< computed straight into a result's output buffer (`index`)
  Register, ///< only inside its kernel; never in memory
  Arena,    ///< at `offset` in the function's arena (scratch)
  Alias,    ///< the memory of value `index` (a view, or an elementwise result
            ///< taking its dead operand's buffer)
  Update,   ///< in place in the param or state argument `index` it updates
};
const char *homeName(Home h);

struct ValuePlan {
  Home home = Home::Register;
  int32_t index = -1;  ///< argument (Arg, Update), result (Result) or value (Alias)
  int64_t offset = -1; ///< Arena: byte offset in the arena
  int32_t kernel = -1; ///< defining kernel, -1 for arguments
  int32_t buffer = -1; ///< Arena and arena aliases: index into FunctionPlan::buffers
};

/// One arena allocation: a value and the values that share its memory.
struct Buffer {
  std::vector<ir::ValueId> values; ///< the owner first, then its aliases;
                                   ///< empty for a kernel's workspace
  int64_t bytes = 0;               ///< aligned
  int32_t start = 0, end = 0;      ///< live over kernels [start, end]; end == kernels
                                   ///< means until the results are copied out
  int64_t offset = 0;
};

struct FunctionPlan {
  std::string name;
  std::vector<Kernel> kernels;
  std::vector<ValuePlan> values; ///< by ValueId
  std::vector<Buffer> buffers;
  int64_t arena_bytes = 0;       ///< the scratch the function needs
  int64_t naive_bytes = 0;       ///< every temporary in its own slot (no fusion, no reuse)
  int64_t lower_bound_bytes = 0; ///< most buffer bytes live at one kernel step
  /// Whether value v is read or written in memory by codegen (not a register).
  bool inMemory(ir::ValueId v) const { return values[size_t(v)].home != Home::Register; }
};

struct ModulePlan {
  std::vector<TensorSlot> params; ///< grads ("grad.<p>") use the same layout
  int64_t params_bytes = 0;
  std::vector<TensorSlot> state;
  int64_t state_bytes = 0;
  std::vector<FunctionPlan> functions; ///< in Module::functions order

  /// The slot called `name` in `slots`, or nullptr.
  static const TensorSlot *find(const std::vector<TensorSlot> &slots, const std::string &name);
};

/// Whether kernel `k` of `f` reads value `v` only at the index it writes:
/// `v` is read only as a direct operand of the kernel's elementwise ops (not
/// by a broadcast, a reduction or the kernel's matmul/conv root), so an
/// in-place result or update may overwrite it element by element.
bool readsOnlyAtSameIndex(const ir::Function &f, const Kernel &k, ir::ValueId v);

/// Whether every read of `old`'s memory (ir::memoryReaders; `users` from
/// ir::valueUsers) runs no later than an in-place update of it in kernel
/// `update_kernel`: its own reads in an earlier kernel or that one (where
/// readsOnlyAtSameIndex must hold), reads through a view in an earlier one.
/// `kernel_of` gives a node's kernel.
bool oldValueReadFirst(const ir::Function &f, const std::vector<std::vector<int32_t>> &users,
                       ir::ValueId old, const std::function<int32_t(int32_t)> &kernel_of,
                       int32_t update_kernel);

/// The floating-point operations of kernel `k` of `f`: ir::nodeFlops summed
/// over its nodes (broadcasts and constants it evaluates in its loop count 0).
double kernelFlops(const ir::Function &f, const Kernel &k);

/// Builds the plan of every function of `m` (which must verify). A function
/// without kernel assignments gets one kernel per node.
ModulePlan buildPlan(const ir::Module &m);
FunctionPlan buildFunctionPlan(const ir::Function &f);

/// Checks the invariants codegen relies on, independently of how the plan was
/// made: every value in memory has a home; arena buffers are aligned, inside
/// the arena, and no two live at the same kernel step overlap; values sharing
/// memory do so only where it is legal (a view, an elementwise result over an
/// operand that no later kernel reads and that its kernel reads only at the
/// same index, an update after every other read of the old value). Returns
/// the first violation.
Status checkPlan(const ir::Function &f, const FunctionPlan &p);

/// The plan as text: kernels with their nodes, then every value's home.
std::string printPlan(const ir::Function &f, const FunctionPlan &p, const std::string &module);
/// The arena as text: each buffer's offset, size and live range, and the totals.
std::string printMemory(const ir::Function &f, const FunctionPlan &p, const std::string &module);
/// The arena as JSON (docs/cli.md): naive_bytes, planned_bytes,
/// lower_bound_bytes and the buffers.
std::string memoryJson(const ir::Function &f, const FunctionPlan &p);

/// Whether a result with this role may be computed in place in its output
/// buffer: outputs always; grads when the function reads no Grad argument
/// (the grads buffer is then write-only).
bool resultWrittenDirectly(const ir::Function &f, const ir::Result &r);

} // namespace gradc::plan
