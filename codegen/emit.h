// Internal to codegen: the state shared by the per-op-family LLVM emitters
// and their entry points. Each emitter reads its operands' buffers and
// writes its result's buffer through the context.
#pragma once

#include "codegen/loops.h"
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
  /// A stack slot (float unless `type` given) in the entry block (promoted to a register by SROA).
  llvm::Value *entryAlloca(const char *name, llvm::Type *type = nullptr);
  /// Sets all of value v's bytes to zero.
  void zero(ir::ValueId v);
  /// Calls a float(float) libm function such as "tanhf".
  llvm::Value *callLibm(const char *name, llvm::Value *x);
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
/// x[idx] in each lane where `mask` is set, `passthru` (default 0) elsewhere.
llvm::Value *gatherLanes(EmitContext &c, ir::ValueId x, llvm::Value *idx, llvm::Value *mask,
                         llvm::Value *passthru = nullptr);
/// x[idx] = v in each lane where `mask` is set (lanes must not collide).
void scatterLanes(EmitContext &c, ir::ValueId x, llvm::Value *idx, llvm::Value *v,
                  llvm::Value *mask);

/// Called once per finished output row of a matmul (`m`, i64) or per
/// finished output element of a conv2d (`idx`, the NCHW induction variables,
/// with `flat` and the accumulated value `acc`): where a kernel's epilogue runs.
using RowHook = llvm::function_ref<void(llvm::Value *m)>;
using PointHook = llvm::function_ref<void(llvm::ArrayRef<llvm::Value *> idx, llvm::Value *flat,
                                          llvm::Value *acc)>;

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
void emitPackedMatMul(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      PointHook point = nullptr);
/// conv2d and its gradients as implicit GEMMs on the same micro-kernel (the
/// im2col matrix is read in place by the packing): `workspace` holds
/// plan::convWorkspaceBytes.
void emitPackedConv2d(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      PointHook point = nullptr);
void emitPackedConv2dGradWeight(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw);
void emitPackedConv2dGradInput(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw);
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
