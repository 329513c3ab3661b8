// Vector lanes: integer index math that works on i64 scalars and on <n x i32>
// lanes alike, and masked gathers and scatters of f32 buffers. The packed
// GEMM's loaders and the pooling ops read through these.
#include "codegen/emit.h"

#include <numeric>

namespace gradc::codegen {

llvm::Constant *cst(llvm::Value *like, int64_t v) {
  return llvm::ConstantInt::get(like->getType(), uint64_t(v), true);
}

llvm::Value *asLanes(EmitContext &c, llvm::Value *x, llvm::Value *like) {
  if (x->getType()->isVectorTy())
    return x;
  auto *vt = llvm::cast<llvm::FixedVectorType>(like->getType());
  return c.b.CreateVectorSplat(vt->getNumElements(), c.b.CreateTrunc(x, vt->getElementType()));
}

llvm::Constant *laneIds(EmitContext &c, int64_t n) {
  std::vector<llvm::Constant *> ids;
  for (int64_t l = 0; l < n; ++l)
    ids.push_back(c.b.getInt32(uint32_t(l)));
  return llvm::ConstantVector::get(ids);
}

llvm::Value *firstLanes(EmitContext &c, unsigned lanes, llvm::Value *count) {
  auto &b = c.b;
  // (1 << min(max(count, 0), lanes)) - 1 as lanes bits: a mask register on
  // AVX-512 (kmov), with no vector of lane numbers held in a register.
  llvm::Value *n = b.CreateBinaryIntrinsic(
      llvm::Intrinsic::smin, b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, count, c.i64(0)),
      c.i64(lanes));
  llvm::Value *bits = b.CreateSub(b.CreateShl(c.i64(1), n), c.i64(1));
  return b.CreateBitCast(b.CreateTrunc(bits, b.getIntNTy(lanes)),
                         llvm::FixedVectorType::get(b.getInt1Ty(), lanes));
}

llvm::Type *floatsLike(EmitContext &c, llvm::Value *lanes) {
  return llvm::FixedVectorType::get(
      c.f32Ty(), llvm::cast<llvm::FixedVectorType>(lanes->getType())->getNumElements());
}

// Plain (not inbounds) GEPs: a masked-off lane's index may point outside the
// buffer (padding), and is never read.
llvm::Value *gatherLanes(EmitContext &c, ir::ValueId x, llvm::Value *idx, llvm::Value *mask,
                         llvm::Value *passthru) {
  llvm::Type *vecTy = floatsLike(c, idx);
  llvm::Value *ptrs = c.b.CreateGEP(c.f32Ty(), c.ptr[size_t(x)], idx);
  return c.b.CreateMaskedGather(vecTy, ptrs, llvm::Align(4), mask,
                                passthru ? passthru : llvm::Constant::getNullValue(vecTy));
}

void scatterLanes(EmitContext &c, ir::ValueId x, llvm::Value *idx, llvm::Value *v,
                  llvm::Value *mask) {
  llvm::Value *ptrs = c.b.CreateGEP(c.f32Ty(), c.ptr[size_t(x)], idx);
  c.b.CreateMaskedScatter(v, ptrs, llvm::Align(4), mask);
}

int64_t flatPeriod(int64_t width, int64_t rows, int vw, int64_t most) {
  if (width <= vw || width % vw == 0)
    return 0;
  const int64_t common = std::gcd(width, int64_t(vw));
  const int64_t period = width / common, period_rows = vw / common;
  return period <= most && rows % period_rows == 0 ? period : 0;
}

llvm::Value *loadAcrossRowEnd(EmitContext &c, llvm::Value *src, llvm::Value *here,
                              llvm::Value *next, int64_t first, int vw) {
  auto &b = c.b;
  llvm::Type *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
  if (first >= vw)
    return b.CreateAlignedLoad(vecTy, b.CreateInBoundsGEP(c.f32Ty(), src, here), llvm::Align(4));
  llvm::Value *head = firstLanes(c, unsigned(vw), c.i64(first));
  llvm::Value *x = b.CreateMaskedLoad(vecTy, b.CreateInBoundsGEP(c.f32Ty(), src, here),
                                      llvm::Align(4), head, llvm::Constant::getNullValue(vecTy));
  // Plain GEP: lane 0 of the next row's load lies before its start.
  return b.CreateMaskedLoad(vecTy, b.CreateGEP(c.f32Ty(), src, next), llvm::Align(4),
                            b.CreateNot(head), x);
}

} // namespace gradc::codegen
