// conv2d's weight gradient computed directly, without packing, where
// plan::convGradWeightForm picks Direct (stride 1 along W):
//   dw[o, c, kh, kw] = sum over n, oh, ow of dy[n, o, oh, ow] x[n, c, ih, iw],
//   ih = oh * stride - pad + kh * dil,  iw = ow - pad + kw * dil.
// A block of MO output channels x MT taps (c, kh, kw) is summed in MO x MT
// vector registers over vectors of output columns: for each image, output
// row and vector of columns, MO loads of dy and MT masked loads of x (the
// mask covers the padding and the row's tail) feed MO x MT FMAs. The lanes
// are added up once, in order, when the block is done. A parallel task
// takes up to four tap blocks of one channel block, image by image (their
// sums parked on its stack between images), so that an image's rows of dy
// are read from L1 by all four: each element of dw is summed by one task in
// a fixed order (images, rows, columns), so any thread count gives the same
// bits. Without padding, rows whose width is no multiple of the vector run
// as one flat plane (below), so that no lane idles at a row's end.
#include "codegen/emit.h"

#include <llvm/IR/Intrinsics.h>

#include <algorithm>

namespace gradc::codegen {

void emitDirectConv2dGradWeight(EmitContext &c, const ir::Node &n, int vw) {
  c.markCleanupOnly();
  if (vw >= 8)
    c.markNoLoopStrengthReduction(); // its loops address from opaque bases (below)
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
  // A task sums up to kGroup tap blocks of one row block, all of them for
  // one image before the next, so that the image's mo rows of dy stay in L1
  // while every tap block reads them (one tap block a task read all of dy
  // once per tap block from L2: conv1's weight gradient spent its time
  // waiting on those loads). The tap blocks' sums are parked in the task's
  // stack between images; each sum still runs over the images, rows and
  // columns in order.
  constexpr int64_t kGroup = 4;
  const int64_t group = std::min(tap_blocks, kGroup);
  const int64_t groups = (tap_blocks + group - 1) / group;
  const int64_t chunks = (ow + vw - 1) / vw;
  // A flat plane (flatPeriod, emit.h) without padding: dy's vectors are plain
  // loads of its contiguous plane, x's a plain load or two masked ones where
  // the vector crosses a row end. Each vector only feeds the block's sums, so
  // periods of up to kFlatPeriodSums vectors: our_cnn's rows of 28 (7 vectors
  // over 4 rows) ran 337 -> 302 us. Its cold compile cost 19 ms more until
  // the clamped rows and taps and the base addresses below were made opaque
  // (EmitContext::opaque); with them the flat function compiles in about the
  // time the segments took before (39 -> 46 ms of JIT compile, 29 for the
  // segments made opaque), and the model's compile work is unchanged.
  constexpr int64_t kFlatPeriodSums = 8;
  const int64_t period = pad[0] == 0 && pad[1] == 0 ? flatPeriod(ow, oh, vw, kFlatPeriodSums) : 0;
  const bool flat = period > 0;
  const int64_t period_rows = flat ? period * vw / ow : 0;
  const int64_t task_work = group * mo * mt * batch * (flat ? oh * ow : oh * chunks * vw);
  emitParallelRanges(
      c, row_blocks * groups, task_work, true, [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
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
        llvm::Type *parkTy = llvm::ArrayType::get(vecTy, uint64_t(group * mo * mt));
        llvm::Value *park = tc.entryAlloca("park", parkTy);
        auto parked = [&](llvm::Value *j, int64_t k) {
          return b.CreateInBoundsGEP(vecTy, park,
                                     b.CreateAdd(b.CreateMul(j, tc.i64(mo * mt)), tc.i64(k)));
        };
        auto minOf = [&](llvm::Value *a, int64_t most) {
          return b.CreateSelect(b.CreateICmpSLT(a, tc.i64(most)), a, tc.i64(most));
        };
        emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *i) {
          llvm::Value *task = b.CreateAdd(lo, i);
          llvm::Value *o0 = b.CreateMul(b.CreateUDiv(task, tc.i64(groups)), tc.i64(mo));
          llvm::Value *tb0 = b.CreateMul(b.CreateURem(task, tc.i64(groups)), tc.i64(group));
          llvm::Value *blocks = minOf(b.CreateSub(tc.i64(tap_blocks), tb0), group);
          // The block's rows, clamped into range for reading (a tail block's
          // extra sums are computed and dropped).
          std::vector<llvm::Value *> orow;
          for (int64_t r = 0; r < mo; ++r)
            orow.push_back(tc.opaque(minOf(b.CreateAdd(o0, tc.i64(r)), out_c - 1)));
          b.CreateMemSet(park, b.getInt8(0), tc.i64(group * mo * mt * vw * int64_t(sizeof(float))),
                         llvm::MaybeAlign(4));
          emitCountedLoop(b, tc.i64(batch), [&](llvm::Value *img) {
            llvm::Value *image = b.CreateMul(img, tc.i64(in_c * h * w));
            emitCountedLoop(b, blocks, [&](llvm::Value *j) {
              llvm::Value *t0 = b.CreateMul(b.CreateAdd(tb0, j), tc.i64(mt));
              std::vector<llvm::Value *> xoff, rowoff, coloff;
              for (int64_t q = 0; q < mt; ++q) {
                llvm::Value *tap = tc.opaque(minOf(b.CreateAdd(t0, tc.i64(q)), taps - 1));
                llvm::Value *ch = b.CreateUDiv(tap, tc.i64(kh * kw));
                llvm::Value *ki = b.CreateURem(b.CreateUDiv(tap, tc.i64(kw)), tc.i64(kh));
                llvm::Value *kj = b.CreateURem(tap, tc.i64(kw));
                xoff.push_back(b.CreateMul(ch, tc.i64(h * w)));
                rowoff.push_back(b.CreateSub(b.CreateMul(ki, tc.i64(dil[0])), tc.i64(pad[0])));
                coloff.push_back(b.CreateSub(b.CreateMul(kj, tc.i64(dil[1])), tc.i64(pad[1])));
              }
              for (int64_t k = 0; k < mo * mt; ++k)
                b.CreateStore(b.CreateLoad(vecTy, parked(j, k)), acc[size_t(k)]);
              // The block's rows of dy in this image, and x where tap q reads
              // output position (0, 0) (before x's start in the padding:
              // plain GEPs), both opaque.
              std::vector<llvm::Value *> dy0, x0;
              for (int64_t o = 0; o < mo; ++o)
                dy0.push_back(tc.opaque(b.CreateInBoundsGEP(
                    tc.f32Ty(), tc.ptr[size_t(dy)],
                    flatIndex(b, {img, orow[size_t(o)], tc.i64(0), tc.i64(0)}, ys))));
              for (int64_t q = 0; q < mt; ++q)
                x0.push_back(tc.opaque(
                    b.CreateGEP(tc.f32Ty(), tc.ptr[size_t(x)],
                                b.CreateAdd(b.CreateAdd(image, xoff[size_t(q)]),
                                            b.CreateAdd(b.CreateMul(rowoff[size_t(q)], tc.i64(w)),
                                                        coloff[size_t(q)])))));
              // Row `out_row`'s element `col` of dy's row o, and x's element
              // that tap q reads for it (offsets from dy0, x0).
              auto dyAt = [&](llvm::Value *out_row, llvm::Value *col) {
                return b.CreateAdd(b.CreateMul(out_row, tc.i64(ow)), col);
              };
              auto xAt = [&](llvm::Value *out_row, llvm::Value *col) {
                return b.CreateAdd(b.CreateMul(out_row, tc.i64(stride * w)), col);
              };
              auto fmas = [&](const std::vector<llvm::Value *> &dyv, int64_t q, llvm::Value *xv) {
                for (int64_t r = 0; r < mo; ++r) {
                  llvm::Value *a = acc[size_t(r * mt + q)];
                  b.CreateStore(b.CreateCall(fma, {dyv[size_t(r)], xv, b.CreateLoad(vecTy, a)}), a);
                }
              };
              if (flat) {
                emitCountedLoop(b, tc.i64(oh / period_rows), [&](llvm::Value *g) {
                  llvm::Value *row0 = b.CreateMul(g, tc.i64(period_rows));
                  for (int64_t v = 0; v < period; ++v) {
                    const int64_t r = v * vw / ow, c0 = v * vw % ow, first = ow - c0;
                    llvm::Value *row = b.CreateAdd(row0, tc.i64(r));
                    std::vector<llvm::Value *> dyv;
                    for (int64_t o = 0; o < mo; ++o)
                      dyv.push_back(b.CreateAlignedLoad(
                          vecTy,
                          b.CreateInBoundsGEP(tc.f32Ty(), dy0[size_t(o)], dyAt(row, tc.i64(c0))),
                          llvm::Align(4)));
                    for (int64_t q = 0; q < mt; ++q) {
                      llvm::Value *xv = loadAcrossRowEnd(
                          tc, x0[size_t(q)], xAt(row, tc.i64(c0)),
                          xAt(b.CreateAdd(row, tc.i64(1)), tc.i64(-first)), first, vw);
                      fmas(dyv, q, xv);
                    }
                  }
                });
              } else {
                emitLoopNest(b, {oh, chunks}, [&](llvm::ArrayRef<llvm::Value *> iv) {
                  llvm::Value *orow_i = iv[0];
                  llvm::Value *ow0 = b.CreateMul(iv[1], tc.i64(vw));
                  llvm::Value *lanes = b.CreateAdd(asLanes(tc, ow0, ids), ids);
                  llvm::Value *valid = b.CreateICmpULT(lanes, cst(lanes, ow));
                  std::vector<llvm::Value *> dyv;
                  for (int64_t r = 0; r < mo; ++r)
                    dyv.push_back(b.CreateMaskedLoad(
                        vecTy, b.CreateInBoundsGEP(tc.f32Ty(), dy0[size_t(r)], dyAt(orow_i, ow0)),
                        llvm::Align(4), valid, zero));
                  for (int64_t q = 0; q < mt; ++q) {
                    llvm::Value *ih =
                        b.CreateAdd(b.CreateMul(orow_i, tc.i64(stride)), rowoff[size_t(q)]);
                    llvm::Value *row_ok = b.CreateICmpULT(ih, tc.i64(h));
                    // Without padding along W a valid column's every tap lies inside x.
                    llvm::Value *mask = valid;
                    if (pad[1] != 0) {
                      llvm::Value *iw = b.CreateAdd(lanes, asLanes(tc, coloff[size_t(q)], lanes));
                      mask = b.CreateAnd(mask, b.CreateICmpULT(iw, cst(iw, w)));
                    }
                    if (pad[0] != 0)
                      mask = b.CreateAnd(mask, b.CreateVectorSplat(unsigned(vw), row_ok));
                    // Plain GEP: in the padding the row start lies outside x (masked off).
                    fmas(dyv, q,
                         b.CreateMaskedLoad(
                             vecTy, b.CreateGEP(tc.f32Ty(), x0[size_t(q)], xAt(orow_i, ow0)),
                             llvm::Align(4), mask, zero));
                  }
                });
              }
              for (int64_t k = 0; k < mo * mt; ++k)
                b.CreateStore(b.CreateLoad(vecTy, acc[size_t(k)]), parked(j, k));
            });
          });
          // Each valid sum's lanes, added in order, to dw.
          emitCountedLoop(b, blocks, [&](llvm::Value *j) {
            llvm::Value *t0 = b.CreateMul(b.CreateAdd(tb0, j), tc.i64(mt));
            for (int64_t r = 0; r < mo; ++r)
              for (int64_t q = 0; q < mt; ++q) {
                llvm::Value *o = b.CreateAdd(o0, tc.i64(r)), *tap = b.CreateAdd(t0, tc.i64(q));
                llvm::Value *inside = b.CreateAnd(b.CreateICmpSLT(o, tc.i64(out_c)),
                                                  b.CreateICmpSLT(tap, tc.i64(taps)));
                emitIf(b, inside, [&] {
                  llvm::Value *sum =
                      b.CreateFAddReduce(tc.f32(0), b.CreateLoad(vecTy, parked(j, r * mt + q)));
                  tc.store(dw, b.CreateAdd(b.CreateMul(o, tc.i64(taps)), tap), sum);
                });
              }
          });
        });
      });
}

} // namespace gradc::codegen
