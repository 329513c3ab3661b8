// LLVM lowering of the sliding-window ops: conv2d and its two gradients, max
// and average pooling and their gradients (NCHW, OIHW weights). Positions
// outside the input are padding: skipped by conv and avgpool (zeros), never
// chosen by maxpool (-inf).
#include "codegen/emit.h"

#include <cmath>

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
      point(c, o, flat, sum);
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

/// The loop nest over an NCHW `shape`, its N x C planes split into ranges run
/// as parallel tasks when the work (`window` operations per element) is large.
/// A plane stays whole in one task, visited in the same order, so a gradient's
/// additions into an input plane keep their order at any thread count.
void emitPlanes(EmitContext &c, const ir::Shape &shape, int64_t window,
                llvm::function_ref<void(EmitContext &, llvm::ArrayRef<llvm::Value *>)> body) {
  emitParallelRanges(c, shape[0] * shape[1], shape[2] * shape[3] * window, true,
                     [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
                       EmitContext &tc = t.c;
                       emitCountedLoop(tc.b, tc.b.CreateSub(hi, lo), [&](llvm::Value *i) {
                         llvm::Value *plane = tc.b.CreateAdd(lo, i);
                         llvm::Value *image = tc.b.CreateUDiv(plane, tc.i64(shape[1]));
                         llvm::Value *channel = tc.b.CreateURem(plane, tc.i64(shape[1]));
                         emitLoopNest(tc.b, {shape[2], shape[3]},
                                      [&](llvm::ArrayRef<llvm::Value *> hw) {
                                        body(tc, {image, channel, hw[0], hw[1]});
                                      });
                       });
                     });
}

} // namespace

void emitMaxPool2d(EmitContext &c, const ir::Node &n) {
  Window win(n.attrs);
  ir::ValueId x = n.operands[0], y = n.result;
  const ir::Shape &xs = c.shape(x);
  const auto &kernel = n.attrs.ints("kernel");
  emitPlanes(c, c.shape(y), kernel[0] * kernel[1],
             [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o) {
               llvm::Value *best = c.entryAlloca("max");
               c.b.CreateStore(c.f32(-INFINITY), best);
               emitLoopNest(c.b, {kernel[0], kernel[1]}, [&](llvm::ArrayRef<llvm::Value *> k) {
                 llvm::Value *ih = win.in(c, 0, o[2], k[0]), *iw = win.in(c, 1, o[3], k[1]);
                 emitIf(c.b, inBounds(c, ih, iw, xs[2], xs[3]), [&] {
                   llvm::Value *v = c.load(x, at4(c, x, o[0], o[1], ih, iw));
                   llvm::Value *m = c.b.CreateLoad(c.f32Ty(), best);
                   c.b.CreateStore(c.b.CreateSelect(beats(c, v, m), v, m), best);
                 });
               });
               c.store(y, flatIndex(c.b, o, c.shape(y)), c.b.CreateLoad(c.f32Ty(), best));
             });
}

// Each window's dy goes to its first maximum in row-major window order.
void emitMaxPool2dGrad(EmitContext &c, const ir::Node &n) {
  Window win(n.attrs);
  ir::ValueId x = n.operands[0], dy = n.operands[1], dx = n.result;
  const ir::Shape &xs = c.shape(x);
  const auto &kernel = n.attrs.ints("kernel");
  c.zero(dx);
  emitPlanes(
      c, c.shape(dy), kernel[0] * kernel[1], [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o) {
        auto &b = c.b;
        llvm::Value *best = c.entryAlloca("max");
        llvm::Value *pos = c.entryAlloca("argmax", b.getInt64Ty());
        b.CreateStore(c.f32(-INFINITY), best);
        b.CreateStore(c.i64(-1), pos);
        emitLoopNest(b, {kernel[0], kernel[1]}, [&](llvm::ArrayRef<llvm::Value *> k) {
          llvm::Value *ih = win.in(c, 0, o[2], k[0]), *iw = win.in(c, 1, o[3], k[1]);
          emitIf(b, inBounds(c, ih, iw, xs[2], xs[3]), [&] {
            llvm::Value *flat = at4(c, x, o[0], o[1], ih, iw);
            llvm::Value *v = c.load(x, flat);
            llvm::Value *none = b.CreateICmpSLT(b.CreateLoad(b.getInt64Ty(), pos), c.i64(0));
            llvm::Value *better = beats(c, v, b.CreateLoad(c.f32Ty(), best));
            emitIf(b, b.CreateOr(none, better), [&] {
              b.CreateStore(v, best);
              b.CreateStore(flat, pos);
            });
          });
        });
        addTo(c, dx, b.CreateLoad(b.getInt64Ty(), pos), c.load(dy, flatIndex(b, o, c.shape(dy))));
      });
}

void emitAvgPool2d(EmitContext &c, const ir::Node &n) {
  Window win(n.attrs);
  ir::ValueId x = n.operands[0], y = n.result;
  const ir::Shape &xs = c.shape(x);
  const auto &kernel = n.attrs.ints("kernel");
  emitPlanes(
      c, c.shape(y), kernel[0] * kernel[1], [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o) {
        llvm::Value *acc = c.entryAlloca("acc");
        c.b.CreateStore(c.f32(0), acc);
        emitLoopNest(c.b, {kernel[0], kernel[1]}, [&](llvm::ArrayRef<llvm::Value *> k) {
          llvm::Value *ih = win.in(c, 0, o[2], k[0]), *iw = win.in(c, 1, o[3], k[1]);
          emitIf(c.b, inBounds(c, ih, iw, xs[2], xs[3]),
                 [&] { accumulate(c, acc, c.load(x, at4(c, x, o[0], o[1], ih, iw))); });
        });
        llvm::Value *avg =
            c.b.CreateFDiv(c.b.CreateLoad(c.f32Ty(), acc), c.f32(double(kernel[0] * kernel[1])));
        c.store(y, flatIndex(c.b, o, c.shape(y)), avg);
      });
}

void emitAvgPool2dGrad(EmitContext &c, const ir::Node &n) {
  Window win(n.attrs);
  ir::ValueId dy = n.operands[0], dx = n.result;
  const ir::Shape &xs = c.shape(dx);
  const auto &kernel = n.attrs.ints("kernel");
  c.zero(dx);
  emitPlanes(c, c.shape(dy), kernel[0] * kernel[1],
             [&](EmitContext &c, llvm::ArrayRef<llvm::Value *> o) {
               llvm::Value *g = c.b.CreateFDiv(c.load(dy, flatIndex(c.b, o, c.shape(dy))),
                                               c.f32(double(kernel[0] * kernel[1])));
               emitLoopNest(c.b, {kernel[0], kernel[1]}, [&](llvm::ArrayRef<llvm::Value *> k) {
                 llvm::Value *ih = win.in(c, 0, o[2], k[0]), *iw = win.in(c, 1, o[3], k[1]);
                 emitIf(c.b, inBounds(c, ih, iw, xs[2], xs[3]),
                        [&] { addTo(c, dx, at4(c, dx, o[0], o[1], ih, iw), g); });
               });
             });
}

} // namespace gradc::codegen
