// conv2d's weight gradient computed directly, without packing, where
// plan::convGradWeightForm picks Direct (stride 1 along W):
//   dw[o, c, kh, kw] = sum over n, oh, ow of dy[n, o, oh, ow] x[n, c, ih, iw],
//   ih = oh * stride - pad + kh * dil,  iw = ow - pad + kw * dil.
// A block of MO output channels x MT taps (c, kh, kw) is summed in MO x MT
// vector registers over vectors of output columns: for each image, output
// row and vector of columns, MO loads of dy and MT masked loads of x (the
// mask covers the padding and the row's tail) feed MO x MT FMAs. The lanes
// are added up once, in order, when the block is done. Blocks are the
// parallel tasks: each element of dw is summed by one task in a fixed order,
// so any thread count gives the same bits.
#include "codegen/emit.h"

#include <llvm/IR/Intrinsics.h>

namespace gradc::codegen {

void emitDirectConv2dGradWeight(EmitContext &c, const ir::Node &n, int vw) {
  c.markCleanupOnly();
  ir::ValueId x = n.operands[0], dy = n.operands[1], dw = n.result;
  const ir::Shape &xs = c.shape(x), &ys = c.shape(dy), &ws = c.shape(dw);
  const int64_t batch = xs[0], in_c = xs[1], h = xs[2], w = xs[3];
  const int64_t out_c = ws[0], kh = ws[2], kw = ws[3], oh = ys[2], ow = ys[3];
  const int64_t stride = n.attrs.ints("stride")[0];
  const int64_t pad[2] = {n.attrs.ints("padding")[0], n.attrs.ints("padding")[1]};
  const int64_t dil[2] = {n.attrs.ints("dilation")[0], n.attrs.ints("dilation")[1]};
  GRADC_CHECK(n.attrs.ints("stride")[1] == 1, "direct weight gradient with a stride along W");
  const int64_t taps = in_c * kh * kw;
  // 6 x 4 accumulators, 6 dy vectors and x fit AVX-512's 32 registers; half
  // the channels for the 16 registers of AVX2 and SSE.
  const int64_t mo = vw >= 16 ? 6 : 3, mt = 4;
  const int64_t row_blocks = (out_c + mo - 1) / mo, tap_blocks = (taps + mt - 1) / mt;
  const int64_t chunks = (ow + vw - 1) / vw;
  const int64_t block_work = mo * mt * batch * oh * chunks * vw;
  emitParallelRanges(
      c, row_blocks * tap_blocks, block_work, true, [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
        EmitContext &tc = t.c;
        auto &b = tc.b;
        llvm::Type *vecTy = llvm::FixedVectorType::get(tc.f32Ty(), unsigned(vw));
        llvm::Function *fma =
            llvm::Intrinsic::getDeclaration(&tc.module, llvm::Intrinsic::fmuladd, {vecTy});
        llvm::Constant *ids = laneIds(tc, vw);
        llvm::Value *zero = llvm::Constant::getNullValue(vecTy);
        std::vector<llvm::Value *> acc;
        for (int64_t i = 0; i < mo * mt; ++i)
          acc.push_back(tc.entryAlloca("acc", vecTy));
        auto minOf = [&](llvm::Value *a, int64_t most) {
          return b.CreateSelect(b.CreateICmpSLT(a, tc.i64(most)), a, tc.i64(most));
        };
        emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *i) {
          llvm::Value *block = b.CreateAdd(lo, i);
          llvm::Value *o0 = b.CreateMul(b.CreateUDiv(block, tc.i64(tap_blocks)), tc.i64(mo));
          llvm::Value *t0 = b.CreateMul(b.CreateURem(block, tc.i64(tap_blocks)), tc.i64(mt));
          // The block's rows and taps, clamped into range for reading (a
          // tail block's extra sums are computed and dropped).
          std::vector<llvm::Value *> orow, xoff, rowoff, coloff;
          for (int64_t r = 0; r < mo; ++r)
            orow.push_back(minOf(b.CreateAdd(o0, tc.i64(r)), out_c - 1));
          for (int64_t j = 0; j < mt; ++j) {
            llvm::Value *tap = minOf(b.CreateAdd(t0, tc.i64(j)), taps - 1);
            llvm::Value *ch = b.CreateUDiv(tap, tc.i64(kh * kw));
            llvm::Value *ki = b.CreateURem(b.CreateUDiv(tap, tc.i64(kw)), tc.i64(kh));
            llvm::Value *kj = b.CreateURem(tap, tc.i64(kw));
            xoff.push_back(b.CreateMul(ch, tc.i64(h * w)));
            rowoff.push_back(b.CreateSub(b.CreateMul(ki, tc.i64(dil[0])), tc.i64(pad[0])));
            coloff.push_back(b.CreateSub(b.CreateMul(kj, tc.i64(dil[1])), tc.i64(pad[1])));
          }
          for (llvm::Value *a : acc)
            b.CreateStore(zero, a);
          emitLoopNest(b, {batch, oh, chunks}, [&](llvm::ArrayRef<llvm::Value *> iv) {
            llvm::Value *img = iv[0], *orow_i = iv[1];
            llvm::Value *ow0 = b.CreateMul(iv[2], tc.i64(vw));
            llvm::Value *lanes = b.CreateAdd(asLanes(tc, ow0, ids), ids);
            llvm::Value *valid = b.CreateICmpULT(lanes, cst(lanes, ow));
            std::vector<llvm::Value *> dyv;
            for (int64_t r = 0; r < mo; ++r) {
              llvm::Value *at = flatIndex(b, {img, orow[size_t(r)], orow_i, ow0}, ys);
              dyv.push_back(
                  b.CreateMaskedLoad(vecTy, b.CreateInBoundsGEP(tc.f32Ty(), tc.ptr[size_t(dy)], at),
                                     llvm::Align(4), valid, zero));
            }
            llvm::Value *image = b.CreateMul(img, tc.i64(in_c * h * w));
            for (int64_t j = 0; j < mt; ++j) {
              llvm::Value *ih = b.CreateAdd(b.CreateMul(orow_i, tc.i64(stride)), rowoff[size_t(j)]);
              llvm::Value *row_ok = b.CreateICmpULT(ih, tc.i64(h));
              // Without padding along W a valid column's every tap lies inside x.
              llvm::Value *mask = valid;
              if (pad[1] != 0) {
                llvm::Value *iw = b.CreateAdd(lanes, asLanes(tc, coloff[size_t(j)], lanes));
                mask = b.CreateAnd(mask, b.CreateICmpULT(iw, cst(iw, w)));
              }
              if (pad[0] != 0)
                mask = b.CreateAnd(mask, b.CreateVectorSplat(unsigned(vw), row_ok));
              // Plain GEP: in the padding the row start lies outside x (masked off).
              llvm::Value *at = b.CreateAdd(
                  b.CreateAdd(image, xoff[size_t(j)]),
                  b.CreateAdd(b.CreateMul(ih, tc.i64(w)), b.CreateAdd(ow0, coloff[size_t(j)])));
              llvm::Value *xv =
                  b.CreateMaskedLoad(vecTy, b.CreateGEP(tc.f32Ty(), tc.ptr[size_t(x)], at),
                                     llvm::Align(4), mask, zero);
              for (int64_t r = 0; r < mo; ++r) {
                llvm::Value *a = acc[size_t(r * mt + j)];
                b.CreateStore(b.CreateCall(fma, {dyv[size_t(r)], xv, b.CreateLoad(vecTy, a)}), a);
              }
            }
          });
          // Each valid sum's lanes, added in order, to dw.
          for (int64_t r = 0; r < mo; ++r)
            for (int64_t j = 0; j < mt; ++j) {
              llvm::Value *o = b.CreateAdd(o0, tc.i64(r)), *tap = b.CreateAdd(t0, tc.i64(j));
              llvm::Value *inside = b.CreateAnd(b.CreateICmpSLT(o, tc.i64(out_c)),
                                                b.CreateICmpSLT(tap, tc.i64(taps)));
              emitIf(b, inside, [&] {
                llvm::Value *sum =
                    b.CreateFAddReduce(tc.f32(0), b.CreateLoad(vecTy, acc[size_t(r * mt + j)]));
                tc.store(dw, b.CreateAdd(b.CreateMul(o, tc.i64(taps)), tap), sum);
              });
            }
        });
      });
}

} // namespace gradc::codegen
