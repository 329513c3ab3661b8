// LLVM lowering of the sliding-window ops: conv2d and its two gradients, max
// and average pooling and their gradients (NCHW, OIHW weights). Positions
// outside the input are padding: skipped by conv and avgpool (zeros), never
// chosen by maxpool (-inf).
#include "codegen/emit.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace gradc::codegen {
namespace {

/// The attributes of one window op along H and W.
struct Window {
  int64_t stride[2], pad[2], dilation[2] = {1, 1};

  explicit Window(const ir::Attrs &a) {
    for (int d = 0; d < 2; ++d) {
      stride[d] = a.ints("stride")[size_t(d)];
      pad[d] = a.ints("padding")[size_t(d)];
      if (a.has("dilation"))
        dilation[d] = a.ints("dilation")[size_t(d)];
    }
  }

  /// Input coordinate along axis d of output position o and kernel tap k.
  llvm::Value *in(EmitContext &c, int d, llvm::Value *o, llvm::Value *k) const {
    auto &b = c.b;
    llvm::Value *base = b.CreateSub(b.CreateMul(o, c.i64(stride[d])), c.i64(pad[d]));
    return b.CreateAdd(base, b.CreateMul(k, c.i64(dilation[d])));
  }
};

/// 0 <= ih < h && 0 <= iw < w, as two unsigned compares.
llvm::Value *inBounds(EmitContext &c, llvm::Value *ih, llvm::Value *iw, int64_t h, int64_t w) {
  return c.b.CreateAnd(c.b.CreateICmpULT(ih, c.i64(h)), c.b.CreateICmpULT(iw, c.i64(w)));
}

llvm::Value *at4(EmitContext &c, ir::ValueId v, llvm::Value *i0, llvm::Value *i1, llvm::Value *i2,
                 llvm::Value *i3) {
  return flatIndex(c.b, {i0, i1, i2, i3}, c.shape(v));
}

void addTo(EmitContext &c, ir::ValueId v, llvm::Value *flat, llvm::Value *x) {
  c.store(v, flat, c.b.CreateFAdd(c.load(v, flat), x));
}

void accumulate(EmitContext &c, llvm::Value *acc, llvm::Value *x) {
  c.b.CreateStore(c.b.CreateFAdd(c.b.CreateLoad(c.f32Ty(), acc), x), acc);
}

/// Whether v replaces the window's maximum m so far: v > m, or v is NaN (a
/// NaN wins, the last one if several, as in PyTorch and the interpreter).
llvm::Value *beats(EmitContext &c, llvm::Value *v, llvm::Value *m) {
  return c.b.CreateOr(c.b.CreateFCmpOGT(v, m), c.b.CreateFCmpUNO(v, v));
}

} // namespace

void emitConv2d(EmitContext &c, const ir::Node &n, PointHook point) {
  Window win(n.attrs);
  ir::ValueId x = n.operands[0], w = n.operands[1], y = n.result;
  const ir::Shape &xs = c.shape(x), &ws = c.shape(w);
  llvm::Value *acc = c.entryAlloca("acc");
  emitLoopNest(c.b, c.shape(y), [&](llvm::ArrayRef<llvm::Value *> o) {
    c.b.CreateStore(c.f32(0), acc);
    emitLoopNest(c.b, {ws[1], ws[2], ws[3]}, [&](llvm::ArrayRef<llvm::Value *> k) {
      llvm::Value *ih = win.in(c, 0, o[2], k[1]), *iw = win.in(c, 1, o[3], k[2]);
      emitIf(c.b, inBounds(c, ih, iw, xs[2], xs[3]), [&] {
        llvm::Value *xv = c.load(x, at4(c, x, o[0], k[0], ih, iw));
        llvm::Value *wv = c.load(w, at4(c, w, o[1], k[0], k[1], k[2]));
        accumulate(c, acc, c.b.CreateFMul(xv, wv));
      });
    });
    llvm::Value *flat = flatIndex(c.b, o, c.shape(y));
    llvm::Value *sum = c.b.CreateLoad(c.f32Ty(), acc);
    if (point)
      point(c, o, flat, sum, nullptr);
    else
      c.store(y, flat, sum);
  });
}

// dx[n, c, ih, iw] += dy[n, o, oh, ow] * w[o, c, kh, kw] over every tap.
void emitConv2dGradInput(EmitContext &c, const ir::Node &n) {
  Window win(n.attrs);
  ir::ValueId dy = n.operands[0], w = n.operands[1], dx = n.result;
  const ir::Shape &ws = c.shape(w), &xs = c.shape(dx);
  c.zero(dx);
  emitLoopNest(c.b, c.shape(dy), [&](llvm::ArrayRef<llvm::Value *> o) {
    llvm::Value *g = c.load(dy, flatIndex(c.b, o, c.shape(dy)));
    emitLoopNest(c.b, {ws[1], ws[2], ws[3]}, [&](llvm::ArrayRef<llvm::Value *> k) {
      llvm::Value *ih = win.in(c, 0, o[2], k[1]), *iw = win.in(c, 1, o[3], k[2]);
      emitIf(c.b, inBounds(c, ih, iw, xs[2], xs[3]), [&] {
        llvm::Value *wv = c.load(w, at4(c, w, o[1], k[0], k[1], k[2]));
        addTo(c, dx, at4(c, dx, o[0], k[0], ih, iw), c.b.CreateFMul(g, wv));
      });
    });
  });
}

// dw[o, c, kh, kw] = sum over n, oh, ow of x[n, c, ih, iw] * dy[n, o, oh, ow].
void emitConv2dGradWeight(EmitContext &c, const ir::Node &n) {
  Window win(n.attrs);
  ir::ValueId x = n.operands[0], dy = n.operands[1], dw = n.result;
  const ir::Shape &xs = c.shape(x), &ys = c.shape(dy);
  llvm::Value *acc = c.entryAlloca("acc");
  emitLoopNest(c.b, c.shape(dw), [&](llvm::ArrayRef<llvm::Value *> k) {
    c.b.CreateStore(c.f32(0), acc);
    emitLoopNest(c.b, {ys[0], ys[2], ys[3]}, [&](llvm::ArrayRef<llvm::Value *> o) {
      llvm::Value *ih = win.in(c, 0, o[1], k[2]), *iw = win.in(c, 1, o[2], k[3]);
      emitIf(c.b, inBounds(c, ih, iw, xs[2], xs[3]), [&] {
        llvm::Value *xv = c.load(x, at4(c, x, o[0], k[1], ih, iw));
        llvm::Value *gv = c.load(dy, at4(c, dy, o[0], k[0], o[1], o[2]));
        accumulate(c, acc, c.b.CreateFMul(xv, gv));
      });
    });
    c.store(dw, flatIndex(c.b, k, c.shape(dw)), c.b.CreateLoad(c.f32Ty(), acc));
  });
}

namespace {

/// Runs `body` over a pooling op's output columns in blocks of `vw` lanes:
/// o = {n, c, oh} (i64), `ow` the block's columns (<vw x i32>) and `valid`
/// whether each is a column of the output (the last block's tail is not).
/// The N x C planes are split into ranges run as parallel tasks when the work
/// (`window` operations per output) is large; `body` gets the task's context.
/// A plane stays whole in one task, visited in the same order, so a
/// gradient's additions into an input plane keep their order at any thread
/// count. With `zero_in` (a gradient's dx), the task first zeroes the input
/// plane of each of its planes, so the zeroing runs in parallel too.
void emitColumnBlocks(EmitContext &c, const ir::Shape &ys, int vw, int64_t window,
                      llvm::function_ref<void(EmitContext &, llvm::ArrayRef<llvm::Value *>,
                                              llvm::Value *, llvm::Value *)>
                          body,
                      std::optional<ir::ValueId> zero_in = std::nullopt) {
  emitParallelRanges(
      c, ys[0] * ys[1], ys[2] * ys[3] * window, true,
      [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
        EmitContext &tc = t.c;
        auto &b = tc.b;
        llvm::Constant *ids = laneIds(tc, vw);
        emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *i) {
          llvm::Value *plane = b.CreateAdd(lo, i);
          if (zero_in) {
            const ir::Shape &xs = tc.shape(*zero_in);
            int64_t bytes = xs[2] * xs[3] * 4;
            b.CreateMemSet(b.CreateInBoundsGEP(b.getInt8Ty(), tc.ptr[size_t(*zero_in)],
                                               b.CreateMul(plane, tc.i64(bytes))),
                           b.getInt8(0), tc.i64(bytes), llvm::MaybeAlign(4));
          }
          llvm::Value *image = b.CreateUDiv(plane, tc.i64(ys[1]));
          llvm::Value *channel = b.CreateURem(plane, tc.i64(ys[1]));
          emitLoopNest(b, {ys[2], (ys[3] + vw - 1) / vw}, [&](llvm::ArrayRef<llvm::Value *> iv) {
            llvm::Value *ow0 = b.CreateMul(iv[1], tc.i64(vw));
            llvm::Value *ow = b.CreateAdd(asLanes(tc, ow0, ids), ids);
            body(tc, {image, channel, iv[0]}, ow, b.CreateICmpULT(ow, cst(ow, ys[3])));
          });
        });
      });
}

/// Flat index (i64) of the first column of output row o = {n, c, oh} plus
/// the block's first lane: where a block of dy or y starts.
llvm::Value *rowStart(EmitContext &c, const ir::Shape &ys, llvm::ArrayRef<llvm::Value *> o,
                      llvm::Value *ow) {
  llvm::Value *ow0 = c.b.CreateSExt(c.b.CreateExtractElement(ow, uint64_t(0)), c.b.getInt64Ty());
  return flatIndex(c.b, {o[0], o[1], o[2], ow0}, ys);
}

/// One window tap (ki, kj) of a block of output columns: the input's flat
/// indices (lanes) and which lanes read a real input (not padding, not past
/// the last column).
struct Tap {
  llvm::Value *idx, *mask;
};
Tap tapAt(EmitContext &c, const Window &win, const ir::Shape &xs, llvm::ArrayRef<llvm::Value *> o,
          llvm::Value *ow, llvm::Value *valid, llvm::Value *ki, llvm::Value *kj) {
  auto &b = c.b;
  llvm::Value *ih = win.in(c, 0, o[2], ki);
  llvm::Value *iw =
      b.CreateAdd(b.CreateSub(b.CreateMul(ow, cst(ow, win.stride[1])), cst(ow, win.pad[1])),
                  asLanes(c, b.CreateMul(kj, c.i64(win.dilation[1])), ow));
  llvm::Value *rowOk =
      asLanes(c, b.CreateZExt(b.CreateICmpULT(ih, c.i64(xs[2])), b.getInt32Ty()), ow);
  llvm::Value *mask = b.CreateAnd(b.CreateAnd(valid, b.CreateICmpULT(iw, cst(iw, xs[3]))),
                                  b.CreateICmpNE(rowOk, cst(rowOk, 0)));
  llvm::Value *base = flatIndex(b, {o[0], o[1], ih, c.i64(0)}, xs);
  return {b.CreateAdd(asLanes(c, base, ow), iw), mask};
}

llvm::Value *splat(EmitContext &c, llvm::Value *like, llvm::Value *x) {
  return c.b.CreateVectorSplat(llvm::cast<llvm::FixedVectorType>(like->getType())->getNumElements(),
                               x);
}

/// A block of a window op's rows: masked vector load or store at row start.
llvm::Value *loadBlock(EmitContext &c, ir::ValueId v, llvm::Value *start, llvm::Value *valid) {
  llvm::Type *vecTy = floatsLike(c, valid);
  return c.b.CreateMaskedLoad(vecTy, c.b.CreateInBoundsGEP(c.f32Ty(), c.ptr[size_t(v)], start),
                              llvm::Align(4), valid, llvm::Constant::getNullValue(vecTy));
}
void storeBlock(EmitContext &c, ir::ValueId v, llvm::Value *start, llvm::Value *x,
                llvm::Value *valid) {
  c.b.CreateMaskedStore(x, c.b.CreateInBoundsGEP(c.f32Ty(), c.ptr[size_t(v)], start),
                        llvm::Align(4), valid);
}

/// Shuffle indices that interleave two vectors of `vw` lanes: lanes
/// [half * vw / 2, (half + 1) * vw / 2) of a and b, alternately.
llvm::SmallVector<int, 32> interleaved(unsigned vw, unsigned half) {
  llvm::SmallVector<int, 32> ids;
  for (unsigned l = 0; l < vw / 2; ++l) {
    ids.push_back(int(half * vw / 2 + l));
    ids.push_back(int(vw + half * vw / 2 + l));
  }
  return ids;
}

/// x at a tap's lanes (`passthru` where t.mask is off). On vectors of 8
/// floats or more with stride 1 or 2 along W, the lanes' inputs lie in one
/// stretch of a row: one masked load, or two and a shuffle of their even
/// elements, instead of a gather (which measured most of a max pool's time).
/// Only the lanes' own elements are read.
llvm::Value *readTap(EmitContext &c, const Window &win, ir::ValueId x, const Tap &t,
                     llvm::Value *passthru) {
  auto &b = c.b;
  unsigned vw = llvm::cast<llvm::FixedVectorType>(t.idx->getType())->getNumElements();
  if (vw < 8 || (win.stride[1] != 1 && win.stride[1] != 2))
    return gatherLanes(c, x, t.idx, t.mask, passthru);
  llvm::Type *vecTy = floatsLike(c, t.idx);
  // Lane 0's index: off the row (padding) when its lane is masked off.
  llvm::Value *first = b.CreateSExt(b.CreateExtractElement(t.idx, uint64_t(0)), b.getInt64Ty());
  auto load = [&](int64_t offset, llvm::Value *mask) {
    llvm::Value *at = b.CreateGEP(c.f32Ty(), c.ptr[size_t(x)], b.CreateAdd(first, c.i64(offset)));
    return b.CreateMaskedLoad(vecTy, at, llvm::Align(4), mask, passthru);
  };
  if (win.stride[1] == 1)
    return load(0, t.mask);
  // Element j of the stretch is lane j / 2's input when j is even.
  llvm::Value *none = llvm::Constant::getNullValue(t.mask->getType());
  llvm::Value *lo = load(0, b.CreateShuffleVector(t.mask, none, interleaved(vw, 0)));
  llvm::Value *hi = load(vw, b.CreateShuffleVector(t.mask, none, interleaved(vw, 1)));
  llvm::SmallVector<int, 32> even;
  for (unsigned l = 0; l < vw; ++l)
    even.push_back(int(2 * l));
  return b.CreateSelect(t.mask, b.CreateShuffleVector(lo, hi, even), passthru);
}

/// Each lane's window maximum and its flat input index (-1 when the window
/// holds no input) for a block of output columns: the first maximum in
/// row-major window order, a NaN winning as in `beats`.
std::pair<llvm::Value *, llvm::Value *> windowMax(EmitContext &c, const ir::Node &n, int vw,
                                                  llvm::ArrayRef<llvm::Value *> o, llvm::Value *ow,
                                                  llvm::Value *valid) {
  auto &b = c.b;
  Window win(n.attrs);
  ir::ValueId x = n.operands[0];
  const auto &kernel = n.attrs.ints("kernel");
  llvm::Type *vecTy = floatsLike(c, ow);
  llvm::Value *best = c.entryAlloca("max", vecTy), *arg = c.entryAlloca("argmax", ow->getType());
  llvm::Value *ninf = splat(c, ow, c.f32(-INFINITY));
  b.CreateStore(ninf, best);
  b.CreateStore(cst(ow, -1), arg);
  emitLoopNest(b, {kernel[0], kernel[1]}, [&](llvm::ArrayRef<llvm::Value *> k) {
    Tap t = tapAt(c, win, c.shape(x), o, ow, valid, k[0], k[1]);
    llvm::Value *v = readTap(c, win, x, t, ninf);
    llvm::Value *m = b.CreateLoad(vecTy, best), *a = b.CreateLoad(ow->getType(), arg);
    llvm::Value *none = b.CreateICmpSLT(a, cst(a, 0));
    llvm::Value *better = b.CreateAnd(t.mask, b.CreateOr(none, beats(c, v, m)));
    b.CreateStore(b.CreateSelect(better, v, m), best);
    b.CreateStore(b.CreateSelect(better, t.idx, a), arg);
  });
  return {b.CreateLoad(vecTy, best), b.CreateLoad(ow->getType(), arg)};
}

/// Output rows per vector for a pooling op whose output rows are at most half
/// a vector (a CNN's last pools: rows of 5 or 6 on 16 lanes), else 0: lane l
/// of a vector is column l % OW of the vector's output row l / OW. Without
/// padding and with H = OH * stride along H, output row rho (over all
/// planes, rho = plane * OH + oh) reads input rows from rho * stride on, so
/// a vector of rows reads one stretch of x: a few plain loads, then each tap's
/// lanes picked from them by shuffles (pickLanes) instead of a masked load
/// pair per row (which left 11 of 16 lanes idle on rows of 5). Only windows of
/// at most 9 taps, each unrolled, and stretches of at most kMaxStretchVectors
/// vectors (a 1x1 window with a stride of 256 would otherwise unroll a load
/// for each of 61,000 vectors).
constexpr int64_t kMaxStretchVectors = 8;

/// Elements of x from the first one a vector of `per` output rows reads to
/// its last (RowStretch).
int64_t stretchSpan(const Window &win, const std::vector<int64_t> &kernel, const ir::Shape &xs,
                    const ir::Shape &ys, int64_t per) {
  const int64_t w = xs[3];
  return (per - 1) * win.stride[0] * w + (kernel[0] - 1) * win.dilation[0] * w +
         (ys[3] - 1) * win.stride[1] + (kernel[1] - 1) * win.dilation[1] + 1;
}

int64_t rowsPerVector(const Window &win, const ir::Node &n, const ir::Shape &xs,
                      const ir::Shape &ys, int vw) {
  const auto &kernel = n.attrs.ints("kernel");
  if (vw < 8 || ys[3] * 2 > vw || win.pad[0] != 0 || win.pad[1] != 0 ||
      xs[2] != ys[2] * win.stride[0] || kernel[0] * kernel[1] > 9)
    return 0;
  const int64_t per = vw / ys[3];
  return stretchSpan(win, kernel, xs, ys, per) <= kMaxStretchVectors * vw ? per : 0;
}

/// Lane l of the result is element idx[l] of the concatenation of `vecs`
/// (each vw lanes), poison where idx[l] < 0: two-source shuffles, a tree
/// over the vectors the lanes come from.
llvm::Value *pickLanes(EmitContext &c, llvm::ArrayRef<llvm::Value *> vecs,
                       llvm::ArrayRef<int> idx) {
  auto &b = c.b;
  const int vw = int(idx.size());
  int lo = int(vecs.size()), hi = -1;
  for (int i : idx)
    if (i >= 0)
      lo = std::min(lo, i / vw), hi = std::max(hi, i / vw);
  if (hi < 0)
    return llvm::PoisonValue::get(vecs[0]->getType());
  llvm::SmallVector<int, 32> mask;
  if (hi - lo <= 1) {
    for (int i : idx)
      mask.push_back(i < 0 ? -1 : i / vw == lo ? i % vw : vw + i % vw);
    llvm::Value *second = hi > lo ? vecs[size_t(hi)] : llvm::PoisonValue::get(vecs[0]->getType());
    return b.CreateShuffleVector(vecs[size_t(lo)], second, mask);
  }
  const int mid = (lo + hi + 1) / 2;
  llvm::SmallVector<int, 32> left, right;
  for (int i : idx) {
    left.push_back(i >= 0 && i / vw < mid ? i : -1);
    right.push_back(i >= 0 && i / vw >= mid ? i : -1);
  }
  llvm::Value *l = pickLanes(c, vecs, left), *r = pickLanes(c, vecs, right);
  for (int k = 0; k < vw; ++k)
    mask.push_back(idx[size_t(k)] < 0 ? -1 : idx[size_t(k)] / vw < mid ? k : vw + k);
  return b.CreateShuffleVector(l, r, mask);
}

/// One vector of rowsPerVector's output rows: rho0 (i64) its first row over
/// all planes, `rows` (i64) how many of its rows exist (fewer in the last
/// vector), and its place in the output (y, or a gradient's dy): flat index
/// `at` and the `mask` of its rows' lanes.
struct RowGroup {
  llvm::Value *rho0, *rows, *at, *mask;
};

/// Runs body(task context, group) over the vectors of `per` output rows each,
/// in parallel ranges of vectors; each output and input row belongs to one.
void emitRowGroups(EmitContext &c, const ir::Shape &ys, int64_t per, int64_t window, int vw,
                   llvm::function_ref<void(EmitContext &, const RowGroup &)> body) {
  const int64_t total = ys[0] * ys[1] * ys[2], groups = (total + per - 1) / per;
  emitParallelRanges(
      c, groups, per * ys[3] * window, true, [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
        EmitContext &tc = t.c;
        auto &b = tc.b;
        emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *i) {
          llvm::Value *rho0 = b.CreateMul(b.CreateAdd(lo, i), tc.i64(per));
          llvm::Value *left = b.CreateSub(tc.i64(total), rho0);
          llvm::Value *rows = b.CreateSelect(b.CreateICmpSLT(left, tc.i64(per)), left, tc.i64(per));
          body(tc, {rho0, rows, b.CreateMul(rho0, tc.i64(ys[3])),
                    firstLanes(tc, unsigned(vw), b.CreateMul(rows, tc.i64(ys[3])))});
        });
      });
}

/// The stretch of x a vector of `per` output rows from row rho0 reads, as
/// vectors (masked at x's end), and each tap's lanes from it.
struct RowStretch {
  std::vector<llvm::Value *> vecs;
  const Window &win;
  const ir::Shape &xs, &ys;
  int64_t per;

  RowStretch(EmitContext &c, const Window &win, ir::ValueId x, const ir::Shape &xs,
             const ir::Shape &ys, const std::vector<int64_t> &kernel, int64_t per,
             llvm::Value *rho0, int vw)
      : win(win), xs(xs), ys(ys), per(per) {
    auto &b = c.b;
    const int64_t w = xs[3];
    const int64_t span = stretchSpan(win, kernel, xs, ys, per);
    const int64_t size = xs[0] * xs[1] * xs[2] * w;
    llvm::Type *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
    llvm::Value *start = b.CreateMul(rho0, c.i64(win.stride[0] * w));
    for (int64_t v = 0; v * vw < span; ++v) {
      llvm::Value *at = b.CreateAdd(start, c.i64(v * vw));
      vecs.push_back(b.CreateMaskedLoad(vecTy, b.CreateInBoundsGEP(c.f32Ty(), c.ptr[size_t(x)], at),
                                        llvm::Align(4),
                                        firstLanes(c, unsigned(vw), b.CreateSub(c.i64(size), at)),
                                        llvm::Constant::getNullValue(vecTy)));
    }
  }
  /// Tap (ki, kj)'s input for each lane (poison in lanes past per * OW).
  llvm::Value *tap(EmitContext &c, int64_t ki, int64_t kj) const {
    const int vw = int(llvm::cast<llvm::FixedVectorType>(vecs[0]->getType())->getNumElements());
    llvm::SmallVector<int, 32> idx;
    for (int l = 0; l < vw; ++l) {
      const int64_t r = l / ys[3], col = l % ys[3];
      idx.push_back(r >= per ? -1
                             : int(r * win.stride[0] * xs[3] + ki * win.dilation[0] * xs[3] +
                                   col * win.stride[1] + kj * win.dilation[1]));
    }
    return pickLanes(c, vecs, idx);
  }
};

/// Each lane's window maximum and its first tap (row-major window order,
/// ki * kernel[1] + kj) holding it, from every tap's lanes (`tap`), a NaN
/// winning as in `beats`. For windows that hold only inputs.
std::pair<llvm::Value *, llvm::Value *>
tapsMax(EmitContext &c, const std::vector<int64_t> &kernel, int vw,
        llvm::function_ref<llvm::Value *(int64_t ki, int64_t kj)> tap) {
  auto &b = c.b;
  llvm::Value *best = nullptr, *arg = nullptr;
  for (int64_t ki = 0; ki < kernel[0]; ++ki)
    for (int64_t kj = 0; kj < kernel[1]; ++kj) {
      llvm::Value *v = tap(ki, kj);
      llvm::Value *id =
          b.CreateVectorSplat(unsigned(vw), b.getInt32(uint32_t(ki * kernel[1] + kj)));
      if (!best) {
        best = v, arg = id;
        continue;
      }
      llvm::Value *better = beats(c, v, best);
      best = b.CreateSelect(better, v, best);
      arg = b.CreateSelect(better, id, arg);
    }
  return {best, arg};
}

/// tapsMax over a RowStretch.
std::pair<llvm::Value *, llvm::Value *> stretchMax(EmitContext &c, const RowStretch &s,
                                                   const std::vector<int64_t> &kernel, int vw) {
  return tapsMax(c, kernel, vw, [&](int64_t ki, int64_t kj) { return s.tap(c, ki, kj); });
}

/// Whether a pooling op's windows are pairs of columns with stride 2 that
/// tile x exactly (no padding, kernel[0] == stride[0] rows, W = 2 OW), on
/// vectors of 8 floats or more: a block of vw output columns then reads 2 vw
/// consecutive elements of each of its input rows, two plain vectors whose
/// even and odd elements are its windows' two taps (pairTaps).
bool pairWindows(const Window &win, const std::vector<int64_t> &kernel, const ir::Shape &xs,
                 const ir::Shape &ys, int vw) {
  return vw >= 8 && kernel[1] == 2 && win.stride[1] == 2 && kernel[0] == win.stride[0] &&
         win.pad[0] == 0 && win.pad[1] == 0 && xs[2] == ys[2] * kernel[0] && xs[3] == ys[3] * 2;
}

/// Flat index (i64) of the first input element of a block of pairWindows:
/// row oh * kernel[0] + ki of plane {n, c}, column 2 ow0.
llvm::Value *pairRowStart(EmitContext &c, const ir::Shape &xs, int64_t kh,
                          llvm::ArrayRef<llvm::Value *> o, llvm::Value *ow, int64_t ki) {
  auto &b = c.b;
  llvm::Value *ow0 = b.CreateSExt(b.CreateExtractElement(ow, uint64_t(0)), b.getInt64Ty());
  llvm::Value *ih = b.CreateAdd(b.CreateMul(o[2], c.i64(kh)), c.i64(ki));
  return flatIndex(b, {o[0], o[1], ih, b.CreateMul(ow0, c.i64(2))}, xs);
}

/// Tap (ki, kj) of a block of pairWindows (`valid` its output columns): the
/// even (kj 0) or odd (kj 1) elements of the two vectors of its input row.
/// Each row's two vectors are loaded once, by its kj 0 tap.
struct PairTaps {
  EmitContext &c;
  ir::ValueId x;
  const ir::Shape &xs;
  int64_t kh;
  llvm::ArrayRef<llvm::Value *> o;
  llvm::Value *ow, *valid;
  int vw;
  llvm::Value *lo = nullptr, *hi = nullptr;

  llvm::Value *operator()(int64_t ki, int64_t kj) {
    auto &b = c.b;
    if (kj == 0) {
      llvm::Value *start = pairRowStart(c, xs, kh, o, ow, ki);
      lo = loadBlock(c, x, start, b.CreateShuffleVector(valid, valid, interleaved(vw, 0)));
      hi = loadBlock(c, x, b.CreateAdd(start, c.i64(vw)),
                     b.CreateShuffleVector(valid, valid, interleaved(vw, 1)));
    }
    llvm::SmallVector<int, 32> lanes;
    for (int l = 0; l < vw; ++l)
      lanes.push_back(int(2 * l + kj));
    return b.CreateShuffleVector(lo, hi, lanes);
  }
};

} // namespace

void emitMaxPool2d(EmitContext &c, const ir::Node &n, int vw) {
  const ir::Shape &ys = c.shape(n.result);
  const auto &kernel = n.attrs.ints("kernel");
  Window win(n.attrs);
  if (int64_t per = rowsPerVector(win, n, c.shape(n.operands[0]), ys, vw)) {
    emitRowGroups(c, ys, per, kernel[0] * kernel[1], vw, [&](EmitContext &c, const RowGroup &g) {
      RowStretch s(c, win, n.operands[0], c.shape(n.operands[0]), ys, kernel, per, g.rho0, vw);
      storeBlock(c, n.result, g.at, stretchMax(c, s, kernel, vw).first, g.mask);
    });
    return;
  }
  const bool pairs = pairWindows(win, kernel, c.shape(n.operands[0]), ys, vw);
  emitColumnBlocks(
      c, ys, vw, kernel[0] * kernel[1],
      [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o, llvm::Value *ow, llvm::Value *valid) {
        llvm::Value *best = nullptr;
        if (pairs) {
          PairTaps taps{c, n.operands[0], c.shape(n.operands[0]), kernel[0], o, ow, valid, vw};
          best = tapsMax(c, kernel, vw, taps).first;
        } else {
          best = windowMax(c, n, vw, o, ow, valid).first;
        }
        storeBlock(c, n.result, rowStart(c, ys, o, ow), best, valid);
      });
}

// Each window's dy goes to its first maximum in row-major window order.
// Windows of 2 columns with stride 2 that tile dx exactly (pairWindows)
// write dx whole, row by row: each tap's lanes (dy or 0) interleaved with
// its neighbour's into two vectors of one row, so dx is neither zeroed first
// nor scattered into, and x's taps are read as pairTaps (in place of
// windowMax's per-tap index vectors and loads, which took 139 us of
// cnn_fashion's pool1 gradient against 62 now); with rows of at most half a
// vector, several rows a vector (rowsPerVector), each vector of dx's rows
// picked from the lanes' dy by shuffles. Other windows that do not overlap
// along W send a block's lanes to distinct inputs: one gather, add and
// scatter. Otherwise lanes are added one by one, in column order.
void emitMaxPool2dGrad(EmitContext &c, const ir::Node &n, int vw) {
  Window win(n.attrs);
  ir::ValueId dy = n.operands[1], dx = n.result;
  const ir::Shape &ys = c.shape(dy), &xs = c.shape(dx);
  const auto &kernel = n.attrs.ints("kernel");
  bool disjoint = win.stride[1] >= (kernel[1] - 1) * win.dilation[1] + 1;
  bool tiles = pairWindows(win, kernel, xs, ys, vw);
  if (int64_t per = tiles ? rowsPerVector(win, n, xs, ys, vw) : 0) {
    // Vectors of output rows: the rows of dx their windows tile, from
    // (rho0 * kernel[0]) on, written whole a vector at a time: element e of
    // the stretch is tap (ki, kj) of lane l's window, and gets its dy where
    // that tap is the lane's first maximum.
    const int64_t band = kernel[0] * xs[3]; // dx's elements per output row
    emitRowGroups(
        c, ys, per, kernel[0] * kernel[1], vw, [&](EmitContext &c, const RowGroup &group) {
          auto &b = c.b;
          RowStretch s(c, win, n.operands[0], xs, ys, kernel, per, group.rho0, vw);
          llvm::Value *arg = stretchMax(c, s, kernel, vw).second;
          llvm::Value *g = loadBlock(c, dy, group.at, group.mask);
          llvm::Value *zero = llvm::Constant::getNullValue(g->getType());
          llvm::Value *start = b.CreateMul(group.rho0, c.i64(band));
          llvm::Value *count = b.CreateMul(group.rows, c.i64(band));
          for (int64_t v = 0; v * vw < per * band; ++v) {
            llvm::SmallVector<int, 32> lane;
            llvm::SmallVector<llvm::Constant *, 32> tap;
            for (int64_t e = v * vw; e < (v + 1) * vw; ++e) {
              const int64_t r = e / band, ki = e % band / xs[3], col = e % xs[3];
              lane.push_back(r < per ? int(r * ys[3] + col / 2) : -1);
              tap.push_back(b.getInt32(uint32_t(ki * 2 + col % 2)));
            }
            llvm::Value *mine =
                b.CreateICmpEQ(b.CreateShuffleVector(arg, lane), llvm::ConstantVector::get(tap));
            llvm::Value *at = b.CreateAdd(start, c.i64(v * vw));
            c.storeLanes(dx, at, b.CreateSelect(mine, b.CreateShuffleVector(g, lane), zero),
                         firstLanes(c, unsigned(vw), b.CreateSub(count, c.i64(v * vw))));
          }
        });
    return;
  }
  if (tiles) {
    // Each window row's two taps from two vectors of its input row (pairTaps);
    // that row of dx is the two taps' lanes (dy or 0) interleaved.
    emitColumnBlocks(
        c, ys, vw, kernel[0] * kernel[1],
        [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o, llvm::Value *ow, llvm::Value *valid) {
          auto &b = c.b;
          PairTaps taps{c, n.operands[0], xs, kernel[0], o, ow, valid, vw};
          llvm::Value *arg = tapsMax(c, kernel, vw, taps).second;
          llvm::Value *g = loadBlock(c, dy, rowStart(c, ys, o, ow), valid);
          llvm::Value *zero = llvm::Constant::getNullValue(g->getType());
          unsigned lanes = unsigned(vw);
          for (int64_t ki = 0; ki < kernel[0]; ++ki) {
            auto mine = [&](int64_t kj) {
              return b.CreateSelect(b.CreateICmpEQ(arg, cst(arg, ki * 2 + kj)), g, zero);
            };
            llvm::Value *v0 = mine(0), *v1 = mine(1);
            llvm::Value *start = pairRowStart(c, xs, kernel[0], o, ow, ki);
            for (unsigned half = 0; half < 2; ++half)
              c.storeLanes(dx, b.CreateAdd(start, c.i64(half * lanes)),
                           b.CreateShuffleVector(v0, v1, interleaved(lanes, half)),
                           b.CreateShuffleVector(valid, valid, interleaved(lanes, half)));
          }
        });
    return;
  }
  emitColumnBlocks(
      c, ys, vw, kernel[0] * kernel[1],
      [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o, llvm::Value *ow, llvm::Value *valid) {
        auto &b = c.b;
        auto [best, arg] = windowMax(c, n, vw, o, ow, valid);
        llvm::Value *g = loadBlock(c, dy, rowStart(c, ys, o, ow), valid);
        llvm::Value *has = b.CreateAnd(valid, b.CreateICmpSGE(arg, cst(arg, 0)));
        if (disjoint) {
          llvm::Value *cur = gatherLanes(c, dx, arg, has);
          scatterLanes(c, dx, arg, b.CreateFAdd(cur, g), has);
          return;
        }
        for (int l = 0; l < vw; ++l)
          emitIf(b, b.CreateExtractElement(has, uint64_t(l)), [&] {
            llvm::Value *at =
                b.CreateSExt(b.CreateExtractElement(arg, uint64_t(l)), b.getInt64Ty());
            addTo(c, dx, at, b.CreateExtractElement(g, uint64_t(l)));
          });
      },
      dx);
}

void emitAvgPool2d(EmitContext &c, const ir::Node &n, int vw) {
  Window win(n.attrs);
  ir::ValueId x = n.operands[0], y = n.result;
  const ir::Shape &ys = c.shape(y);
  const auto &kernel = n.attrs.ints("kernel");
  if (int64_t per = rowsPerVector(win, n, c.shape(x), ys, vw)) {
    emitRowGroups(c, ys, per, kernel[0] * kernel[1], vw, [&](EmitContext &c, const RowGroup &g) {
      auto &b = c.b;
      RowStretch s(c, win, x, c.shape(x), ys, kernel, per, g.rho0, vw);
      // From +0, as the interpreter sums: -0 windows give +0.
      llvm::Value *sum = llvm::Constant::getNullValue(floatsLike(c, g.mask));
      for (int64_t ki = 0; ki < kernel[0]; ++ki)
        for (int64_t kj = 0; kj < kernel[1]; ++kj)
          sum = b.CreateFAdd(sum, s.tap(c, ki, kj));
      llvm::Value *avg = b.CreateFDiv(
          sum, b.CreateVectorSplat(unsigned(vw), c.f32(double(kernel[0] * kernel[1]))));
      storeBlock(c, y, g.at, avg, g.mask);
    });
    return;
  }
  emitColumnBlocks(
      c, ys, vw, kernel[0] * kernel[1],
      [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o, llvm::Value *ow, llvm::Value *valid) {
        auto &b = c.b;
        llvm::Type *vecTy = floatsLike(c, ow);
        llvm::Value *acc = c.entryAlloca("acc", vecTy);
        b.CreateStore(llvm::Constant::getNullValue(vecTy), acc);
        emitLoopNest(b, {kernel[0], kernel[1]}, [&](llvm::ArrayRef<llvm::Value *> k) {
          Tap t = tapAt(c, win, c.shape(x), o, ow, valid, k[0], k[1]);
          llvm::Value *v = readTap(c, win, x, t, llvm::Constant::getNullValue(vecTy));
          b.CreateStore(b.CreateFAdd(b.CreateLoad(vecTy, acc), v), acc);
        });
        llvm::Value *avg = b.CreateFDiv(b.CreateLoad(vecTy, acc),
                                        splat(c, ow, c.f32(double(kernel[0] * kernel[1]))));
        storeBlock(c, y, rowStart(c, ys, o, ow), avg, valid);
      });
}

// Within one tap, a block's lanes read distinct inputs (the stride is at
// least 1): one gather, add and scatter per tap.
void emitAvgPool2dGrad(EmitContext &c, const ir::Node &n, int vw) {
  Window win(n.attrs);
  ir::ValueId dy = n.operands[0], dx = n.result;
  const ir::Shape &ys = c.shape(dy);
  const auto &kernel = n.attrs.ints("kernel");
  emitColumnBlocks(
      c, ys, vw, kernel[0] * kernel[1],
      [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o, llvm::Value *ow, llvm::Value *valid) {
        auto &b = c.b;
        llvm::Value *g = b.CreateFDiv(loadBlock(c, dy, rowStart(c, ys, o, ow), valid),
                                      splat(c, ow, c.f32(double(kernel[0] * kernel[1]))));
        emitLoopNest(b, {kernel[0], kernel[1]}, [&](llvm::ArrayRef<llvm::Value *> k) {
          Tap t = tapAt(c, win, c.shape(dx), o, ow, valid, k[0], k[1]);
          scatterLanes(c, dx, t.idx, b.CreateFAdd(gatherLanes(c, dx, t.idx, t.mask), g), t.mask);
        });
      },
      dx);
}

} // namespace gradc::codegen
