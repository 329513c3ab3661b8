// The packed matmul: C[m, n] = op(A)[m, k] op(B)[k, n] in the manner of Goto
// and BLIS. A is packed into kGemmRows-row panels and B into NR-column panels
// (zero-padded, in the kernel's arena workspace), so every transpose reads
// the same layout; a register-blocked micro-kernel then keeps a
// kGemmRows x NR tile of C in vector registers, with one broadcast of A and
// NR / VW vector loads of B per FMA group, and hands each finished element
// to the epilogue (or stores it). Tiles on the edges compute padding and
// write only the valid part.
#include "codegen/emit.h"

#include "plan/plan.h"

#include <llvm/IR/Intrinsics.h>

namespace gradc::codegen {
namespace {

llvm::Value *mad(EmitContext &c, llvm::Value *a, int64_t k, llvm::Value *b) {
  return c.b.CreateAdd(c.b.CreateMul(a, c.i64(k), "", true, true), b, "", true, true);
}

/// Packs op(X)[rows, depth] into panels of `width` rows of X (zero past
/// `rows`): P[(p * depth + d) * width + r] = op(X)[p * width + r, d].
/// `trans` says X is stored [depth, rows].
void packPanels(EmitContext &c, ir::ValueId x, bool trans, int64_t rows, int64_t depth,
                int64_t width, llvm::Value *dst) {
  auto &b = c.b;
  int64_t panels = (rows + width - 1) / width;
  emitLoopNest(b, {panels, depth, width}, [&](llvm::ArrayRef<llvm::Value *> iv) {
    llvm::Value *r = mad(c, iv[0], width, iv[2]);
    llvm::Value *inside = b.CreateICmpSLT(r, c.i64(rows));
    llvm::Value *rc = b.CreateSelect(inside, r, c.i64(rows - 1));
    llvm::Value *src = trans ? mad(c, iv[1], rows, rc) : mad(c, rc, depth, iv[1]);
    llvm::Value *v = b.CreateSelect(inside, c.load(x, src), c.f32(0));
    llvm::Value *at = mad(c, mad(c, iv[0], depth, iv[1]), width, iv[2]);
    b.CreateStore(v, b.CreateInBoundsGEP(c.f32Ty(), dst, at));
  });
}

} // namespace

void emitPackedMatMul(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      PointHook point) {
  auto &b = c.b;
  bool ta = n.attrs.b("transpose_a"), tb = n.attrs.b("transpose_b");
  ir::ValueId a = n.operands[0], bv = n.operands[1];
  const ir::Shape &sa = c.shape(a);
  int64_t m = ta ? sa[1] : sa[0], k = ta ? sa[0] : sa[1], cols = c.shape(n.result)[1];
  const int64_t mr = plan::kGemmRows;
  // Two vectors of columns, or one when that covers the matrix.
  int64_t nr = std::min<int64_t>(plan::kGemmMaxCols, cols <= vw ? vw : 2 * vw);
  int64_t nv = nr / vw;
  int64_t np = (cols + nr - 1) / nr, mp = (m + mr - 1) / mr;
  // op(B)[k, cols] packed as panels of nr columns: the rows of op(B)^T.
  llvm::Value *bp = workspace;
  llvm::Value *ap = b.CreateConstInBoundsGEP1_64(c.f32Ty(), workspace, uint64_t(np * nr * k));
  packPanels(c, bv, !tb, cols, k, nr, bp);
  packPanels(c, a, ta, m, k, mr, ap);

  llvm::Type *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
  llvm::Type *tileTy = llvm::ArrayType::get(c.f32Ty(), uint64_t(mr * nr));
  llvm::Value *tile = c.entryAlloca("tile", tileTy);
  std::vector<llvm::Value *> acc;
  for (int64_t i = 0; i < mr * nv; ++i)
    acc.push_back(c.entryAlloca("acc", vecTy));
  llvm::Function *fma =
      llvm::Intrinsic::getDeclaration(&c.module, llvm::Intrinsic::fmuladd, {vecTy});
  llvm::Value *zero = llvm::ConstantAggregateZero::get(vecTy);

  emitLoopNest(b, {np, mp}, [&](llvm::ArrayRef<llvm::Value *> pj) {
    llvm::Value *bpanel = b.CreateInBoundsGEP(c.f32Ty(), bp, b.CreateMul(pj[0], c.i64(nr * k)));
    llvm::Value *apanel = b.CreateInBoundsGEP(c.f32Ty(), ap, b.CreateMul(pj[1], c.i64(mr * k)));
    for (llvm::Value *x : acc)
      b.CreateStore(zero, x);
    emitLoopNest(b, {k}, [&](llvm::ArrayRef<llvm::Value *> kk) {
      std::vector<llvm::Value *> bvec;
      for (int64_t v = 0; v < nv; ++v) {
        llvm::Value *at = mad(c, kk[0], nr, c.i64(v * vw));
        bvec.push_back(
            b.CreateAlignedLoad(vecTy, b.CreateInBoundsGEP(c.f32Ty(), bpanel, at), llvm::Align(4)));
      }
      for (int64_t i = 0; i < mr; ++i) {
        llvm::Value *ai = b.CreateLoad(
            c.f32Ty(), b.CreateInBoundsGEP(c.f32Ty(), apanel, mad(c, kk[0], mr, c.i64(i))));
        llvm::Value *splat = b.CreateVectorSplat(unsigned(vw), ai);
        for (int64_t v = 0; v < nv; ++v) {
          llvm::Value *x = acc[size_t(i * nv + v)];
          llvm::Value *sum = b.CreateCall(fma, {splat, bvec[size_t(v)], b.CreateLoad(vecTy, x)});
          b.CreateStore(sum, x);
        }
      }
    });
    // The tile to memory, then its valid part to the epilogue or to C.
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t v = 0; v < nv; ++v)
        b.CreateAlignedStore(
            b.CreateLoad(vecTy, acc[size_t(i * nv + v)]),
            b.CreateConstInBoundsGEP1_64(c.f32Ty(), tile, uint64_t(i * nr + v * vw)),
            llvm::Align(4));
    emitLoopNest(b, {mr, nr}, [&](llvm::ArrayRef<llvm::Value *> ij) {
      llvm::Value *row = mad(c, pj[1], mr, ij[0]);
      llvm::Value *col = mad(c, pj[0], nr, ij[1]);
      llvm::Value *valid =
          b.CreateAnd(b.CreateICmpSLT(row, c.i64(m)), b.CreateICmpSLT(col, c.i64(cols)));
      emitIf(b, valid, [&] {
        llvm::Value *x =
            b.CreateLoad(c.f32Ty(), b.CreateInBoundsGEP(c.f32Ty(), tile, mad(c, ij[0], nr, ij[1])));
        llvm::Value *flat = mad(c, row, cols, col);
        if (point)
          point({row, col}, flat, x);
        else
          c.store(n.result, flat, x);
      });
    });
  });
}

} // namespace gradc::codegen
