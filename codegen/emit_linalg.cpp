// LLVM lowering of matmul, broadcast, reduce_sum, reshape, softmax,
// log_softmax and one_hot. Reductions accumulate in f32 in row-major order.
#include "codegen/emit.h"

#include <llvm/IR/Intrinsics.h>

#include <algorithm>
#include <cmath>

namespace gradc::codegen {
namespace {

int64_t product(const ir::Shape &s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    p *= s[i];
  return p;
}

llvm::Value *mulAdd(EmitContext &c, llvm::Value *a, int64_t k, llvm::Value *b) {
  return c.b.CreateAdd(c.b.CreateMul(a, c.i64(k), "", true, true), b, "", true, true);
}

} // namespace

// C[m, n] = sum_k A[m, k] * B[k, n], as m-k-n loops over a zeroed C so the
// inner loop runs along contiguous rows of B and C.
void emitMatMul(EmitContext &c, const ir::Node &n, RowHook row) {
  bool ta = n.attrs.b("transpose_a"), tb = n.attrs.b("transpose_b");
  ir::ValueId a = n.operands[0], b = n.operands[1];
  const ir::Shape &sa = c.shape(a);
  int64_t m = ta ? sa[1] : sa[0], k = ta ? sa[0] : sa[1];
  int64_t nn = c.shape(n.result)[1];
  c.zero(n.result);
  emitLoopNest(c.b, {m}, [&](llvm::ArrayRef<llvm::Value *> mi) {
    emitLoopNest(c.b, {k}, [&](llvm::ArrayRef<llvm::Value *> ki) {
      llvm::Value *ai = ta ? mulAdd(c, ki[0], m, mi[0]) : mulAdd(c, mi[0], k, ki[0]);
      llvm::Value *av = c.load(a, ai);
      emitLoopNest(c.b, {nn}, [&](llvm::ArrayRef<llvm::Value *> j) {
        llvm::Value *bi = tb ? mulAdd(c, j[0], k, ki[0]) : mulAdd(c, ki[0], nn, j[0]);
        llvm::Value *ci = mulAdd(c, mi[0], nn, j[0]);
        llvm::Value *prod = c.b.CreateFMul(av, c.load(b, bi));
        c.store(n.result, ci, c.b.CreateFAdd(c.load(n.result, ci), prod));
      });
    });
    if (row)
      row(mi[0]);
  });
}

void emitBroadcast(EmitContext &c, const ir::Node &n) {
  ir::ValueId x = n.operands[0];
  const auto &dims = n.attrs.ints("dims");
  const ir::Shape &out = c.shape(n.result);
  emitLoopNest(c.b, out, [&](llvm::ArrayRef<llvm::Value *> iv) {
    std::vector<llvm::Value *> in_idx;
    for (int64_t d : dims)
      in_idx.push_back(iv[size_t(d)]);
    llvm::Value *v = c.load(x, flatIndex(c.b, in_idx, c.shape(x)));
    c.store(n.result, flatIndex(c.b, iv, out), v);
  });
}

void emitReduceSum(EmitContext &c, const ir::Node &n) {
  ir::ValueId x = n.operands[0];
  const auto &axes = n.attrs.ints("axes");
  const ir::Shape &in = c.shape(x);
  c.zero(n.result);
  emitLoopNest(c.b, in, [&](llvm::ArrayRef<llvm::Value *> iv) {
    std::vector<llvm::Value *> out_idx;
    for (size_t d = 0; d < iv.size(); ++d)
      if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end())
        out_idx.push_back(iv[d]);
    llvm::Value *oi = flatIndex(c.b, out_idx, c.shape(n.result));
    llvm::Value *sum = c.b.CreateFAdd(c.load(n.result, oi), c.load(x, flatIndex(c.b, iv, in)));
    c.store(n.result, oi, sum);
  });
}

void emitReshape(EmitContext &c, const ir::Node &n) {
  c.b.CreateMemCpy(c.ptr[size_t(n.result)], llvm::MaybeAlign(4), c.ptr[size_t(n.operands[0])],
                   llvm::MaybeAlign(4), c.i64(c.f.type(n.result).byteSize()));
}

// Along `axis`: m = max; s = sum exp(x - m); softmax exp(x - m) / s,
// log_softmax x - m - log(s).
void emitSoftmax(EmitContext &c, const ir::Node &n, bool log, PointHook point) {
  ir::ValueId x = n.operands[0];
  const ir::Shape &s = c.shape(x);
  size_t axis = size_t(n.attrs.i("axis"));
  int64_t outer = product(s, 0, axis), len = s[axis], inner = product(s, axis + 1, s.size());
  llvm::Value *mx = c.entryAlloca("max");
  llvm::Value *sum = c.entryAlloca("sum");
  auto &b = c.b;
  emitLoopNest(b, {outer, inner}, [&](llvm::ArrayRef<llvm::Value *> oi) {
    llvm::Value *base = mulAdd(c, oi[0], len * inner, oi[1]);
    auto at = [&](llvm::Value *a) { return mulAdd(c, a, inner, base); };
    b.CreateStore(c.f32(-INFINITY), mx);
    b.CreateStore(c.f32(0), sum);
    emitLoopNest(b, {len}, [&](llvm::ArrayRef<llvm::Value *> a) {
      llvm::Value *v = c.load(x, at(a[0])), *m = b.CreateLoad(c.f32Ty(), mx);
      b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(v, m), v, m), mx);
    });
    llvm::Value *m = b.CreateLoad(c.f32Ty(), mx);
    emitLoopNest(b, {len}, [&](llvm::ArrayRef<llvm::Value *> a) {
      llvm::Value *e =
          b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, b.CreateFSub(c.load(x, at(a[0])), m));
      b.CreateStore(b.CreateFAdd(b.CreateLoad(c.f32Ty(), sum), e), sum);
    });
    llvm::Value *total = b.CreateLoad(c.f32Ty(), sum);
    llvm::Value *log_total = b.CreateUnaryIntrinsic(llvm::Intrinsic::log, total);
    emitLoopNest(b, {len}, [&](llvm::ArrayRef<llvm::Value *> a) {
      llvm::Value *d = b.CreateFSub(c.load(x, at(a[0])), m);
      llvm::Value *y = log ? b.CreateFSub(d, log_total)
                           : b.CreateFDiv(b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, d), total);
      if (point)
        point(c, {oi[0], a[0]}, at(a[0]), y, nullptr); // [outer, axis] when inner == 1
      else
        c.store(n.result, at(a[0]), y);
    });
  });
}

void emitOneHot(EmitContext &c, const ir::Node &n) {
  ir::ValueId idx = n.operands[0];
  int64_t depth = n.attrs.i("depth");
  emitLoopNest(c.b, {c.f.type(idx).numElements(), depth}, [&](llvm::ArrayRef<llvm::Value *> iv) {
    llvm::Value *k = c.b.CreateSExt(c.load(idx, iv[0]), c.b.getInt64Ty());
    llvm::Value *y = c.b.CreateSelect(c.b.CreateICmpEQ(k, iv[1]), c.f32(1), c.f32(0));
    c.store(n.result, mulAdd(c, iv[0], depth, iv[1]), y);
  });
}

} // namespace gradc::codegen
