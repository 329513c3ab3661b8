// Packed GEMM in the manner of Goto and BLIS, and the ops built on it:
// matmul, and conv2d with both gradients as implicit GEMMs (im2col done by
// the packing, never materialised).
//
// C[m, n] = sum_d A(i, d) B(d, j), where A and B are read through loaders, so
// a transpose or an im2col window is just another loader. A is packed into
// MR-row panels and B into NR-column panels (zero-padded past the
// edges) in the kernel's arena workspace, but for a small GEMM's row-major B,
// whose full panels are read where B lies (GemmLayout::b_in_place); a
// register-blocked micro-kernel
// keeps an MR x NR tile of C in vector registers, with one broadcast of A and
// NR / VW vector loads of B per group of FMAs (the tile chosen from the
// target's vector width and register count, registerTile), and hands each finished
// element of the tile's valid part to a sink (the epilogue, a store, or a
// scatter-add).
#include "codegen/emit.h"

#include "plan/plan.h"

#include <llvm/IR/Intrinsics.h>

#include <functional>

namespace gradc::codegen {
namespace {

/// Receives C's element (i, j), or with GemmLayout::lanes a vector of
/// elements (i, j + lane) with `mask` (null: all lanes) the lanes inside C.
using Sink = std::function<void(EmitContext &c, llvm::Value *i, llvm::Value *j, llvm::Value *x,
                                llvm::Value *mask)>;

llvm::Value *mad(EmitContext &c, llvm::Value *a, int64_t k, llvm::Value *b) {
  return c.b.CreateAdd(c.b.CreateMul(a, c.i64(k), "", true, true), b, "", true, true);
}

llvm::Value *minOf(EmitContext &c, llvm::Value *a, llvm::Value *b) {
  return c.b.CreateSelect(c.b.CreateICmpSLT(a, b), a, b);
}

/// One panel of rows as vector lanes: row0 + l for each lane l, and which
/// lanes are rows of the matrix (the last panel's tail is not).
struct Lanes {
  llvm::Value *row0;  ///< i64
  llvm::Value *rows;  ///< <width x i32>
  llvm::Value *valid; ///< <width x i1>
};

/// X(rows, depth) for one panel's lanes, as a <width x float> with 0 in the
/// lanes that are not rows, emitted in context `c` (a task's, when packing
/// runs in parallel). A transpose, an im2col window or a batch layout is just
/// another loader.
using Loader = std::function<llvm::Value *(EmitContext &c, const Lanes &l, llvm::Value *depth)>;

/// x[base + row * stride] for a panel's lanes (`base` i64): one masked load
/// when the rows are adjacent in memory (stride 1), else a gather.
llvm::Value *loadRows(EmitContext &c, ir::ValueId x, llvm::Value *base, int64_t stride,
                      const Lanes &l) {
  auto &b = c.b;
  if (stride == 1) {
    llvm::Type *vecTy = floatsLike(c, l.rows);
    llvm::Value *at =
        b.CreateInBoundsGEP(c.f32Ty(), c.ptr[size_t(x)], b.CreateAdd(base, l.row0, "", true, true));
    return b.CreateMaskedLoad(vecTy, at, llvm::Align(4), l.valid,
                              llvm::Constant::getNullValue(vecTy));
  }
  llvm::Value *idx =
      b.CreateAdd(asLanes(c, base, l.rows), b.CreateMul(l.rows, cst(l.rows, stride)));
  return gatherLanes(c, x, idx, l.valid);
}

/// Where element (panel p, depth d, lane r) of packed panels of `width` rows
/// and `depth` depths lies: (p * depth + d) * width + r. Every packer writes
/// this layout and the micro-kernel reads it.
llvm::Value *panelIndex(EmitContext &c, llvm::Value *p, llvm::Value *d, int64_t depth,
                        int64_t width, llvm::Value *r) {
  return mad(c, mad(c, p, depth, d), width, r);
}

/// Packs panel row (p, d) of X: X(p * width + r', d) for r' < width (zero
/// past `rows`) as one vector, stored at `at` (floats) in `dst`.
void packPanelRow(EmitContext &c, const Loader &x, int64_t rows, int64_t width, llvm::Value *p,
                  llvm::Value *d, llvm::Value *dst, llvm::Value *at) {
  auto &b = c.b;
  llvm::Constant *ids = laneIds(c, width);
  llvm::Value *row0 = b.CreateMul(p, c.i64(width), "", true, true);
  llvm::Value *lanes = b.CreateAdd(asLanes(c, row0, ids), ids);
  Lanes l{row0, lanes, b.CreateICmpULT(lanes, cst(lanes, rows))};
  b.CreateAlignedStore(x(c, l, d), b.CreateInBoundsGEP(c.f32Ty(), dst, at), llvm::Align(4));
}

/// Packs X(r, d) for r < rows into panels of `width` rows (zero past `rows`),
/// a panel's `width` rows at a time as one vector:
/// P[(p * depth + d) * width + r'] = X(p * width + r', d).
void packPanels(EmitContext &c, const Loader &x, int64_t rows, int64_t depth, int64_t width,
                llvm::Value *dst) {
  int64_t panels = (rows + width - 1) / width;
  emitLoopNest(c.b, {panels, depth}, [&](llvm::ArrayRef<llvm::Value *> iv) {
    packPanelRow(c, x, rows, width, iv[0], iv[1], dst,
                 panelIndex(c, iv[0], iv[1], depth, width, c.i64(0)));
  });
}

/// The same for panel rows q in [lo, hi) only, where q = p * depth + d: what
/// one task of a parallel packing does.
void packPanelRows(EmitContext &c, const Loader &x, int64_t rows, int64_t depth, int64_t width,
                   llvm::Value *dst, llvm::Value *lo, llvm::Value *hi) {
  auto &b = c.b;
  emitIf(b, b.CreateICmpSLT(lo, hi), [&] {
    emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *i) {
      llvm::Value *q = b.CreateAdd(lo, i);
      llvm::Value *p = b.CreateUDiv(q, c.i64(depth)), *d = b.CreateURem(q, c.i64(depth));
      packPanelRow(c, x, rows, width, p, d, dst, b.CreateMul(q, c.i64(width), "", true, true));
    });
  });
}

/// B^T for a GEMM whose columns are the positions of a grid_h x grid_w grid
/// and read one plane of `src` shifted per depth d:
/// B^T(gr * grid_w + gc, d) = src[plane + row * src_w + gc + col_shift],
/// row = gr * row_mul + row_add, and 0 where (row, gc + col_shift) lies
/// outside the src_h x src_w plane. A convolution's im2col with stride 1
/// along the rows, and its transpose for the input gradient, have this form:
/// a grid row's positions read consecutive elements, so packing takes masked
/// vector loads where the general loader gathers.
struct ShiftedRows {
  ir::ValueId src;
  int64_t grid_h, grid_w, src_h, src_w, row_mul;
  struct Shift {
    llvm::Value *plane, *row_add, *col_shift; ///< i64
  };
  std::function<Shift(EmitContext &c, llvm::Value *d)> at;
};

/// Packs ShiftedRows into panels of `width` positions, as packPanels does
/// (P[(p * depth + d) * width + r'], zero past the last position): for each
/// depth and grid row, vw positions at a time, one masked load and two masked
/// stores (the part in panel p and the part in panel p + 1).
void packShiftedRows(EmitContext &c, const ShiftedRows &s, int64_t depth, int64_t width, int vw,
                     llvm::Value *dst) {
  auto &b = c.b;
  const int64_t n = s.grid_h * s.grid_w, panels = (n + width - 1) / width;
  llvm::Constant *ids = laneIds(c, vw);
  llvm::Type *vecTy = floatsLike(c, ids);
  llvm::Value *zero = llvm::Constant::getNullValue(vecTy);
  auto lanesBelow = [&](llvm::Value *bound) {
    return b.CreateICmpSLT(ids, asLanes(c, bound, ids));
  };
  auto storeAt = [&](llvm::Value *v, llvm::Value *at, llvm::Value *mask) {
    b.CreateMaskedStore(v, b.CreateGEP(c.f32Ty(), dst, at), llvm::Align(4), mask);
  };
  emitLoopNest(b, {depth}, [&](llvm::ArrayRef<llvm::Value *> dv) {
    llvm::Value *d = dv[0];
    ShiftedRows::Shift sh = s.at(c, d);
    // The last panel's lanes past the grid.
    for (int64_t t = n % width; t > 0 && t < width; t += vw)
      storeAt(zero, panelIndex(c, c.i64(panels - 1), d, depth, width, c.i64(t)),
              lanesBelow(c.i64(width - t)));
    emitLoopNest(b, {s.grid_h, (s.grid_w + vw - 1) / vw}, [&](llvm::ArrayRef<llvm::Value *> iv) {
      llvm::Value *gr = iv[0], *col0 = b.CreateMul(iv[1], c.i64(vw));
      llvm::Value *row = b.CreateAdd(b.CreateMul(gr, c.i64(s.row_mul)), sh.row_add);
      llvm::Value *row_ok =
          b.CreateAnd(b.CreateICmpSGE(row, c.i64(0)), b.CreateICmpSLT(row, c.i64(s.src_h)));
      llvm::Value *cols = b.CreateAdd(asLanes(c, col0, ids), ids);
      llvm::Value *in_grid = b.CreateICmpSLT(cols, cst(cols, s.grid_w));
      llvm::Value *src_col = b.CreateAdd(cols, asLanes(c, sh.col_shift, ids));
      llvm::Value *ok = b.CreateAnd(b.CreateAnd(in_grid, b.CreateICmpSGE(src_col, cst(src_col, 0))),
                                    b.CreateAnd(b.CreateICmpSLT(src_col, cst(src_col, s.src_w)),
                                                b.CreateVectorSplat(unsigned(vw), row_ok)));
      llvm::Value *from = b.CreateAdd(b.CreateAdd(sh.plane, b.CreateMul(row, c.i64(s.src_w))),
                                      b.CreateAdd(col0, sh.col_shift));
      llvm::Value *v = b.CreateMaskedLoad(vecTy, b.CreateGEP(c.f32Ty(), c.ptr[size_t(s.src)], from),
                                          llvm::Align(4), ok, zero);
      llvm::Value *pos0 = mad(c, gr, s.grid_w, col0);
      llvm::Value *p0 = b.CreateUDiv(pos0, c.i64(width)), *r0 = b.CreateURem(pos0, c.i64(width));
      llvm::Value *cut = b.CreateSub(c.i64(width), r0);
      llvm::Value *first = lanesBelow(cut);
      storeAt(v, panelIndex(c, p0, d, depth, width, r0), b.CreateAnd(in_grid, first));
      storeAt(v,
              b.CreateSub(panelIndex(c, b.CreateAdd(p0, c.i64(1)), d, depth, width, c.i64(0)), cut),
              b.CreateAnd(in_grid, b.CreateNot(first)));
    });
  });
}

/// X(r, d) = x[r * stride + d]: a row-major matrix read row by row, with
/// its rows as a panel's lanes (W of x W^T, as B^T).
struct RowMajor {
  ir::ValueId x;
  int64_t stride;
  llvm::Value *base = nullptr; ///< i64 offset of X(0, 0) in x (null: 0)
};

/// Where a GEMM operand's panels come from: the loader, and a faster packer
/// for the forms that have one. Every packer writes the same panels.
struct PanelSource {
  const Loader &load;
  const ShiftedRows *shifted = nullptr; ///< conv2d's im2col with stride 1 (one thread)
  const RowMajor *row_major = nullptr;  ///< rows of a row-major matrix
};

/// Transposes n vectors of n lanes (n a power of two) in place:
/// v[i][l] becomes v[l][i]. log2(n) stages, each swapping the off-diagonal
/// blocks of size s of the vector pairs (i, i + s): n two-source shuffles
/// a stage.
void transposeSquare(EmitContext &c, std::vector<llvm::Value *> &v) {
  const int n = int(v.size());
  for (int s = n / 2; s >= 1; s /= 2) {
    std::vector<int> lo(static_cast<size_t>(n)), hi(static_cast<size_t>(n));
    for (int l = 0; l < n; ++l) {
      lo[size_t(l)] = (l & s) ? n + l - s : l;
      hi[size_t(l)] = (l & s) ? n + l : l + s;
    }
    for (int i = 0; i < n; ++i)
      if (!(i & s)) {
        llvm::Value *a = v[size_t(i)], *b = v[size_t(i + s)];
        v[size_t(i)] = c.b.CreateShuffleVector(a, b, lo);
        v[size_t(i + s)] = c.b.CreateShuffleVector(a, b, hi);
      }
  }
}

/// One vw x vw block of a row-major matrix into panel layout: vw rows at a
/// time, one masked load of vw depths per row, a transpose in registers, and
/// one store per depth (where a gather per depth would read vw rows). Lane l of
/// depth dd is src[l * stride + dd] for l < rows and dd < depths, else 0, and
/// goes to dst[dd * width + l] for dd < depths and l < lanes (a panel
/// narrower than a vector stores its width only). `rows`, `depths` and
/// `lanes` are i64 and may exceed vw.
void emitPackBlock(EmitContext &c, int vw, llvm::Value *src, llvm::Value *stride, llvm::Value *rows,
                   llvm::Value *depths, llvm::Value *dst, llvm::Value *width, llvm::Value *lanes) {
  auto &b = c.b;
  llvm::Constant *ids = laneIds(c, vw);
  llvm::Type *vecTy = floatsLike(c, ids);
  llvm::Value *zero = llvm::Constant::getNullValue(vecTy);
  llvm::Value *depth_lanes = b.CreateICmpSLT(ids, asLanes(c, depths, ids));
  llvm::Value *store_lanes = b.CreateICmpSLT(ids, asLanes(c, lanes, ids));
  std::vector<llvm::Value *> v;
  for (int64_t l = 0; l < vw; ++l) {
    llvm::Value *mask = b.CreateAnd(
        depth_lanes, b.CreateVectorSplat(unsigned(vw), b.CreateICmpSLT(c.i64(l), rows)));
    llvm::Value *from = b.CreateGEP(c.f32Ty(), src, b.CreateMul(c.i64(l), stride));
    v.push_back(b.CreateMaskedLoad(vecTy, from, llvm::Align(4), mask, zero));
  }
  transposeSquare(c, v);
  for (int64_t dd = 0; dd < vw; ++dd) {
    llvm::Value *mask = b.CreateAnd(
        store_lanes, b.CreateVectorSplat(unsigned(vw), b.CreateICmpSLT(c.i64(dd), depths)));
    b.CreateMaskedStore(v[size_t(dd)], b.CreateGEP(c.f32Ty(), dst, b.CreateMul(c.i64(dd), width)),
                        llvm::Align(4), mask);
  }
}

/// The module's `void gradc.pack_block.<vw>(ptr src, i64 stride, i64 rows,
/// i64 depths, ptr dst, i64 width, i64 lanes)`, emitPackBlock as a function. Every GEMM
/// of the module that packs a row-major operand calls it: its vw loads, vw
/// log2(vw) shuffles and vw stores are then compiled once per module, not
/// once per kernel (a quarter of a CNN's code, and of its compile time).
llvm::Function *packBlockFunction(EmitContext &c, int vw) {
  std::string name = "gradc.pack_block." + std::to_string(vw);
  if (llvm::Function *fn = c.module.getFunction(name))
    return fn;
  llvm::LLVMContext &ctx = c.module.getContext();
  llvm::Type *ptrTy = llvm::PointerType::get(ctx, 0), *i64 = llvm::Type::getInt64Ty(ctx);
  auto *fty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                      {ptrTy, i64, i64, i64, ptrTy, i64, i64}, false);
  auto *fn = llvm::Function::Create(fty, llvm::Function::InternalLinkage, name, c.module);
  fn->setDoesNotThrow();
  fn->addFnAttr(llvm::Attribute::NoInline);
  fn->addFnAttr(kCleanupOnly);
  for (unsigned i : {0u, 4u}) {
    fn->getArg(i)->addAttr(llvm::Attribute::NoAlias);
    fn->getArg(i)->addAttr(llvm::Attribute::NoCapture);
  }
  llvm::IRBuilder<> ib(llvm::BasicBlock::Create(ctx, "entry", fn));
  EmitContext hc = c.child(ib);
  emitPackBlock(hc, vw, fn->getArg(0), fn->getArg(1), fn->getArg(2), fn->getArg(3), fn->getArg(4),
                fn->getArg(5), fn->getArg(6));
  ib.CreateRetVoid();
  return fn;
}

/// emitPackBlock through the module's packBlockFunction with vectors of 8
/// floats or more; narrower blocks are emitted in place.
void packBlock(EmitContext &c, int vw, llvm::Value *src, llvm::Value *stride, llvm::Value *rows,
               llvm::Value *depths, llvm::Value *dst, llvm::Value *width, llvm::Value *lanes) {
  if (vw >= 8)
    c.b.CreateCall(packBlockFunction(c, vw), {src, stride, rows, depths, dst, width, lanes});
  else
    emitPackBlock(c, vw, src, stride, rows, depths, dst, width, lanes);
}

/// Packs panel p's depths [d, d + vw) of a RowMajor X, as packPanels would,
/// a vw x vw block at a time (the last of a panel whose width is not a
/// multiple of vw stores only the panel's lanes), by packBlock.
void packRowMajorBlock(EmitContext &c, const RowMajor &x, int64_t rows, int64_t depth,
                       int64_t width, int vw, llvm::Value *p, llvm::Value *d, llvm::Value *dst) {
  auto &b = c.b;
  llvm::Value *left = b.CreateSub(c.i64(depth), d); // depths of the matrix from d on
  for (int64_t g = 0; g * vw < width; ++g) {
    llvm::Value *lanes = c.i64(std::min<int64_t>(vw, width - g * vw));
    llvm::Value *row0 = b.CreateAdd(b.CreateMul(p, c.i64(width)), c.i64(g * vw));
    llvm::Value *at = b.CreateAdd(b.CreateMul(row0, c.i64(x.stride)), d);
    if (x.base)
      at = b.CreateAdd(x.base, at);
    llvm::Value *src = b.CreateGEP(c.f32Ty(), c.ptr[size_t(x.x)], at);
    llvm::Value *to = b.CreateGEP(c.f32Ty(), dst, panelIndex(c, p, d, depth, width, c.i64(g * vw)));
    llvm::Value *rows_left = minOf(c, b.CreateSub(c.i64(rows), row0), lanes);
    packBlock(c, vw, src, c.i64(x.stride), rows_left, left, to, c.i64(width), lanes);
  }
}

/// Packs all of an operand's `rows` into panels of `width` (one thread).
void packOperand(EmitContext &c, const PanelSource &x, int64_t rows, int64_t depth, int64_t width,
                 int vw, llvm::Value *dst) {
  if (x.shifted)
    packShiftedRows(c, *x.shifted, depth, width, vw, dst);
  else if (x.row_major)
    emitLoopNest(c.b, {(rows + width - 1) / width, (depth + vw - 1) / vw},
                 [&](llvm::ArrayRef<llvm::Value *> iv) {
                   packRowMajorBlock(c, *x.row_major, rows, depth, width, vw, iv[0],
                                     c.b.CreateMul(iv[1], c.i64(vw)), dst);
                 });
  else
    packPanels(c, x.load, rows, depth, width, dst);
}

/// Packs an operand's panel rows q = p * depth + d in [lo, hi), as one task
/// of a parallel packing does; for a RowMajor operand, the depth blocks that
/// start in the range.
void packOperandRows(EmitContext &c, const PanelSource &x, int64_t rows, int64_t depth,
                     int64_t width, int vw, llvm::Value *dst, llvm::Value *lo, llvm::Value *hi) {
  GRADC_CHECK(!x.shifted, "shifted rows are packed on one thread");
  if (!x.row_major) {
    packPanelRows(c, x.load, rows, depth, width, dst, lo, hi);
    return;
  }
  auto &b = c.b;
  emitIf(b, b.CreateICmpSLT(lo, hi), [&] {
    emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *i) {
      llvm::Value *q = b.CreateAdd(lo, i);
      llvm::Value *p = b.CreateUDiv(q, c.i64(depth)), *d = b.CreateURem(q, c.i64(depth));
      emitIf(b, b.CreateICmpEQ(b.CreateURem(d, c.i64(vw)), c.i64(0)),
             [&] { packRowMajorBlock(c, *x.row_major, rows, depth, width, vw, p, d, dst); });
    });
  });
}

/// Where a GEMM's panels live in its workspace (offsets in floats; B's slot
/// `w` is at b_off + w * b_slot), the register tile, and the cache blocks:
/// depth blocks of kc (the last one shorter), and blocks of mcp A panels and
/// ncp B panels. With more than one depth block, C's partial sums wait in
/// the workspace at c_off, a tile's mr x nr after another's.
struct GemmLayout {
  int64_t m, n, k, mr, nr, nv, np, mp;
  llvm::Value *ws;
  int64_t a_off, b_off, b_slot;
  int64_t kc, mcp, ncp, c_off;
  /// The sink takes a tile row's vectors (Sink): the epilogue runs on whole
  /// vectors, not element by element.
  bool lanes = false;
  /// Tiles run A panel major (tile t is A panel t / np, B panel t % np), so
  /// that parallel ranges split C by rows; else B panel major.
  bool a_major = false;
  /// B's first b_in_place panels are read where B lies (row-major k x n, value
  /// b_src) instead of packed: only the panels after them are packed.
  int64_t b_in_place = 0;
  ir::ValueId b_src = 0;
  /// Where the sink is a plain store of C row-major, `c_ld` floats a row, at
  /// c_direct (a pointer of the task's own function: set it on the layout
  /// in(t) returns): whole tiles store from the micro-kernel's registers
  /// straight there, and only edge tiles go through the tile buffer to the
  /// sink.
  llvm::Value *c_direct = nullptr;
  int64_t c_ld = 0;
  /// Panel rows (p * k + d) of B that are packed: those of the panels after
  /// the ones read in place.
  int64_t bPackedFrom() const { return b_in_place * k; }
  /// Tile t's B and A panels.
  std::pair<llvm::Value *, llvm::Value *> panels(EmitContext &c, llvm::Value *t) const {
    if (a_major)
      return {c.b.CreateURem(t, c.i64(np)), c.b.CreateUDiv(t, c.i64(np))};
    return {c.b.CreateUDiv(t, c.i64(mp)), c.b.CreateURem(t, c.i64(mp))};
  }

  int64_t depthBlocks() const { return (k + kc - 1) / kc; }
  llvm::Value *cp(EmitContext &c) const {
    return c.b.CreateConstInBoundsGEP1_64(c.f32Ty(), ws, uint64_t(c_off));
  }

  llvm::Value *ap(EmitContext &c) const {
    return c.b.CreateConstInBoundsGEP1_64(c.f32Ty(), ws, uint64_t(a_off));
  }
  llvm::Value *bp(EmitContext &c, llvm::Value *slot = nullptr) const {
    llvm::Value *at = c.i64(b_off);
    if (slot)
      at = c.b.CreateAdd(at, c.b.CreateMul(slot, c.i64(b_slot)));
    return c.b.CreateInBoundsGEP(c.f32Ty(), ws, at);
  }
  /// The layout as a task sees it.
  GemmLayout in(const Task &t) const {
    GRADC_CHECK(!c_direct, "c_direct set on a layout outside the task that uses it");
    GemmLayout g = *this;
    g.ws = t.arg(ws);
    return g;
  }
};

/// The most rows of A a GEMM may have for its B to be read in place
/// (GemmLayout::b_in_place, emitPackedMatMul).
constexpr int64_t kGemmInPlaceMaxRows = 256;

/// The register tile for C[m, n] on `vw`-float vectors with `registers`
/// vector registers: nv vectors of columns (nr = nv * vw) and mr rows, with
/// mr * nv accumulators, nv vectors of B and one broadcast of A in registers.
/// Of nv in {1, 2, 4}, the one with the most multiply-adds per element
/// loaded, mr * nv / (mr + nv), times the share of B's padded columns that
/// are columns of C. Then A's rows are cut into the fewest panels of at most
/// mr rows, all of one size: 64 rows as 5 x 13 rather than 4 x 14 + 8.
struct RegisterTile {
  int64_t mr, nv;
  double score; ///< FMAs per element loaded, times the padded rows' and columns' use
};
RegisterTile registerTile(int64_t m, int64_t n, int vw, int registers) {
  RegisterTile best{0, 0, 0};
  double best_score = 0;
  for (int64_t nv : {1, 2, 4}) {
    int64_t nr = nv * vw;
    if (nr > plan::kGemmMaxCols)
      break;
    int64_t mr = std::min<int64_t>(plan::kGemmMaxRows, (registers - nv - 1) / nv);
    if (mr < plan::kGemmMinRows)
      break;
    double used = double(n) / double((n + nr - 1) / nr * nr);
    double score = double(mr * nv) / double(mr + nv) * used;
    if (score > best_score + 1e-9)
      best = {mr, nv, 0}, best_score = score;
  }
  GRADC_CHECK(best.nv > 0, "no register tile for " + std::to_string(registers) + " registers of " +
                               std::to_string(vw) + " floats");
  int64_t panels = (m + best.mr - 1) / best.mr;
  best.mr = (m + panels - 1) / panels;
  best.score = best_score * double(m) / double(panels * best.mr);
  return best;
}

/// The cache blocks of a blocked GEMM (Goto and van de Geijn), from the
/// target's caches: a depth block kc such that a B panel's nr x kc floats
/// take half of L1 (the panel stays there while the A panels of an MC block
/// stream past it), within the plan's bounds and cut into equal blocks; MC
/// A panels of mr x kc floats in half of L2; NC B panels of nr x kc in half
/// of L3. A GEMM no deeper than kc runs in one depth block.
void chooseCacheBlocks(const CacheSizes &caches, GemmLayout &g) {
  int64_t kc = caches.l1 / 2 / (g.nr * 4) / 16 * 16;
  kc = std::clamp(kc, plan::kGemmMinDepthBlock, plan::kGemmMaxDepthBlock);
  int64_t blocks = (g.k + kc - 1) / kc;
  g.kc = (g.k + blocks - 1) / blocks;
  g.mcp = std::max<int64_t>(1, caches.l2 / 2 / (g.mr * g.kc * 4));
  g.ncp = std::max<int64_t>(1, caches.l3 / 2 / (g.nr * g.kc * 4));
}

/// The layout of C[m, n] = A[m, k] B[k, n]: B's panels first, then A's, then
/// C's partial sums, tiles run in cache blocks; or, with `a_first`, A's
/// panels and then B's (an image's, per worker slot), in one block: A is
/// packed once for every image.
GemmLayout gemmLayout(EmitContext &c, int64_t m, int64_t n, int64_t k, int vw,
                      llvm::Value *workspace, bool a_first = false) {
  RegisterTile tile = registerTile(m, n, vw, c.vector_registers);
  GemmLayout g{m, n, k, tile.mr, tile.nv * vw, tile.nv, 0, 0, workspace, 0, 0, 0, k, 1, 1, 0};
  g.np = (n + g.nr - 1) / g.nr;
  g.mp = (m + g.mr - 1) / g.mr;
  GRADC_CHECK(g.mp * g.mr <= plan::gemmPaddedRows(m), "A's panels outgrow the plan's workspace");
  g.b_slot = g.np * g.nr * k;
  if (a_first) {
    g.b_off = g.mp * g.mr * k;
    g.mcp = g.mp, g.ncp = g.np;
    return g;
  }
  g.a_off = g.b_slot;
  chooseCacheBlocks(c.caches, g);
  GRADC_CHECK(g.depthBlocks() == 1 || k > plan::kGemmMinDepthBlock,
              "depth blocks the plan gave no room for");
  g.c_off = g.a_off + g.mp * g.mr * k;
  return g;
}

/// A register tile of C: rows x nv vectors of vw floats, in stack slots of
/// the entry block that SROA promotes to registers. Every micro-kernel here
/// sums with it: one broadcast of A per row and nv vectors of B per step.
struct TileSums {
  EmitContext &c;
  int64_t rows, nv;
  int vw;
  llvm::Type *vecTy;
  llvm::Function *fma;
  std::vector<llvm::Value *> acc; ///< row i's vector v at i * nv + v

  TileSums(EmitContext &c, int64_t rows, int64_t nv, int vw)
      : c(c), rows(rows), nv(nv), vw(vw),
        vecTy(llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw))),
        fma(llvm::Intrinsic::getDeclaration(&c.module, llvm::Intrinsic::fmuladd, {vecTy})) {
    for (int64_t i = 0; i < rows * nv; ++i)
      acc.push_back(c.entryAlloca("acc", vecTy));
  }
  void zero() {
    for (llvm::Value *x : acc)
      c.b.CreateStore(llvm::ConstantAggregateZero::get(vecTy), x);
  }
  /// The nv vectors of B at `at` (floats) from `base`, one after another.
  std::vector<llvm::Value *> loadB(llvm::Value *base, llvm::Value *at) {
    std::vector<llvm::Value *> v;
    for (int64_t x = 0; x < nv; ++x)
      v.push_back(c.b.CreateAlignedLoad(
          vecTy, c.b.CreateInBoundsGEP(c.f32Ty(), base, c.b.CreateAdd(at, c.i64(x * vw))),
          llvm::Align(4)));
    return v;
  }
  /// Row i += a(i) * bv for the first `used` rows, a(i) a float broadcast.
  void step(const std::vector<llvm::Value *> &bv, int64_t used,
            llvm::function_ref<llvm::Value *(int64_t i)> a) {
    for (int64_t i = 0; i < used; ++i) {
      llvm::Value *splat = c.b.CreateVectorSplat(unsigned(vw), a(i));
      for (int64_t v = 0; v < nv; ++v) {
        llvm::Value *x = acc[size_t(i * nv + v)];
        c.b.CreateStore(c.b.CreateCall(fma, {splat, bv[size_t(v)], c.b.CreateLoad(vecTy, x)}), x);
      }
    }
  }
  /// The first `used` rows to `tile`, rows of nv * vw floats.
  void store(llvm::Value *tile, int64_t used) { storeRows(tile, c.i64(nv * vw), used); }
  /// The first `used` rows to `dst`, rows `ld` (i64) floats apart.
  void storeRows(llvm::Value *dst, llvm::Value *ld, int64_t used) {
    for (int64_t i = 0; i < used; ++i) {
      llvm::Value *row = c.b.CreateInBoundsGEP(c.f32Ty(), dst, c.b.CreateMul(c.i64(i), ld));
      for (int64_t v = 0; v < nv; ++v)
        c.b.CreateAlignedStore(c.b.CreateLoad(vecTy, acc[size_t(i * nv + v)]),
                               c.b.CreateConstInBoundsGEP1_64(c.f32Ty(), row, uint64_t(v * vw)),
                               llvm::Align(4));
    }
  }
  /// How many vectors of rows storeColumns(tile, used) gives each column.
  static int64_t columnGroups(int64_t used, int vw) { return (used + vw - 1) / vw; }
  /// The first `used` rows by columns, transposed in registers
  /// (transposeSquare, zeros past them): column x's rows [g vw, g vw + vw)
  /// as one vector at float (x * columnGroups(used, vw) + g) * vw of `tile`,
  /// which holds nv * vw * columnGroups(used, vw) vectors. For an epilogue
  /// that takes vectors down the tile's columns, where a gather per column
  /// cost a fifth of the channel-vector conv2d and 3-9% of the Transposed
  /// form's GEMMs.
  void storeColumns(llvm::Value *tile, int64_t used) {
    const int64_t groups = columnGroups(used, vw);
    for (int64_t v = 0; v < nv; ++v)
      for (int64_t g = 0; g < groups; ++g) {
        std::vector<llvm::Value *> col(size_t(vw), llvm::Constant::getNullValue(vecTy));
        for (int64_t r = g * vw; r < std::min<int64_t>(used, (g + 1) * vw); ++r)
          col[size_t(r - g * vw)] = c.b.CreateLoad(vecTy, acc[size_t(r * nv + v)]);
        transposeSquare(c, col);
        for (int64_t l = 0; l < vw; ++l)
          c.b.CreateAlignedStore(col[size_t(l)],
                                 c.b.CreateConstInBoundsGEP1_64(
                                     c.f32Ty(), tile, uint64_t(((v * vw + l) * groups + g) * vw)),
                                 llvm::Align(4));
      }
  }
};

/// The module's micro-kernel for tiles of mr rows and nv vectors of vw floats:
/// `void gradc.tile.<mr>x<nv>x<vw>(ptr a, ptr b, i64 depth, ptr partial,
/// i1 first, i1 last, ptr tile, i64 b_step, i64 ld)` sums A's panel (mr
/// floats a depth, from `a`) times B's (nv * vw floats a depth, from `b`,
/// b_step floats apart: nv * vw when packed, B's row length when B is read in
/// place, GemmLayout::b_in_place) over `depth` depths onto the tile's sums,
/// kept in registers: from zero when `first`, else from `partial`; to `tile`
/// (mr rows of nv * vw floats, rows `ld` floats apart: nv * vw for the tile
/// buffer, C's row length for a whole tile stored into C, GemmLayout::c_direct)
/// when `last`, else back to `partial`. Every packed GEMM of the module with that tile calls it:
/// one copy of its unrolled multiply-adds to compile, where each kernel had its own (the bulk of a
/// model's code), and the register allocator sees the sums alone, whatever the kernel's epilogue
/// keeps in registers. (A constant step instead of b_step measured no faster, and a second function
/// for B in place cost the CNNs 8 ms of compile time.)
llvm::Function *tileFunction(EmitContext &c, int64_t mr, int64_t nv, int vw) {
  std::string name =
      "gradc.tile." + std::to_string(mr) + "x" + std::to_string(nv) + "x" + std::to_string(vw);
  if (llvm::Function *fn = c.module.getFunction(name))
    return fn;
  llvm::LLVMContext &ctx = c.module.getContext();
  llvm::Type *ptrTy = llvm::PointerType::get(ctx, 0), *i64 = llvm::Type::getInt64Ty(ctx),
             *i1 = llvm::Type::getInt1Ty(ctx);
  auto *fty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                      {ptrTy, ptrTy, i64, ptrTy, i1, i1, ptrTy, i64, i64}, false);
  auto *fn = llvm::Function::Create(fty, llvm::Function::InternalLinkage, name, c.module);
  fn->setDoesNotThrow();
  fn->addFnAttr(llvm::Attribute::NoInline);
  fn->addFnAttr(kCleanupOnly);
  for (unsigned i : {0u, 1u, 3u, 6u}) {
    fn->getArg(i)->addAttr(llvm::Attribute::NoAlias);
    fn->getArg(i)->addAttr(llvm::Attribute::NoCapture);
  }
  llvm::IRBuilder<> ib(llvm::BasicBlock::Create(ctx, "entry", fn));
  EmitContext hc = c.child(ib);
  auto &b = hc.b;
  llvm::Value *ap = fn->getArg(0), *bp = fn->getArg(1), *depth = fn->getArg(2),
              *partial = fn->getArg(3), *first = fn->getArg(4), *last = fn->getArg(5),
              *tile = fn->getArg(6);
  llvm::Value *b_step = fn->getArg(7), *ld = fn->getArg(8);
  TileSums sums(hc, mr, nv, vw);
  auto partialAt = [&](size_t x) {
    return b.CreateConstInBoundsGEP1_64(hc.f32Ty(), partial, uint64_t(x) * uint64_t(vw));
  };
  emitIf(b, first, [&] { sums.zero(); });
  emitIf(b, b.CreateNot(first), [&] {
    for (size_t x = 0; x < sums.acc.size(); ++x)
      b.CreateStore(b.CreateAlignedLoad(sums.vecTy, partialAt(x), llvm::Align(4)), sums.acc[x]);
  });
  emitCountedLoop(
      b, depth,
      [&](llvm::Value *d) {
        sums.step(sums.loadB(bp, b.CreateMul(d, b_step)), mr, [&](int64_t i) {
          return b.CreateLoad(hc.f32Ty(),
                              b.CreateInBoundsGEP(hc.f32Ty(), ap, mad(hc, d, mr, hc.i64(i))));
        });
      },
      false);
  emitIf(b, b.CreateNot(last), [&] {
    for (size_t x = 0; x < sums.acc.size(); ++x)
      b.CreateAlignedStore(b.CreateLoad(sums.vecTy, sums.acc[x]), partialAt(x), llvm::Align(4));
  });
  emitIf(b, last, [&] { sums.storeRows(tile, ld, mr); });
  b.CreateRetVoid();
  return fn;
}

/// The micro-kernel over tiles [lo, hi) of the np x mp tiles, B panel major
/// (tile t is B panel t / mp and A panel t % mp), B's panels at `bp`, in
/// cache blocks: for each depth block, each block of ncp B panels and each
/// block of mcp A panels, the range's tiles in that block, in order. Each
/// element's sum runs over the depth in order whatever the blocks, and a
/// column's tiles come in row order, as a sink that sums down the columns
/// needs.
void emitTiles(EmitContext &c, const GemmLayout &g, llvm::Value *bp, llvm::Value *lo,
               llvm::Value *hi, int vw, const Sink &sink) {
  auto &b = c.b;
  const int64_t m = g.m, n = g.n, k = g.k, mr = g.mr, nr = g.nr, nv = g.nv, mp = g.mp;
  llvm::Value *ap = g.ap(c);
  llvm::Value *tile = c.entryAlloca("tile", llvm::ArrayType::get(c.f32Ty(), uint64_t(mr * nr)));
  llvm::Type *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
  llvm::Function *micro = tileFunction(c, mr, nv, vw);
  const int64_t blocks_k = g.depthBlocks(), blocks_n = (g.np + g.ncp - 1) / g.ncp,
                blocks_m = (mp + g.mcp - 1) / g.mcp;

  // One tile over depths [d0, d0 + depth): from zero in the first depth
  // block, else from its partial sums; to the sink in the last, else back.
  auto emitTile = [&](llvm::Value *t, llvm::Value *d0, llvm::Value *depth) {
    auto [pb, pa] = g.panels(c, t);
    llvm::Value *bpanel = b.CreateInBoundsGEP(
        c.f32Ty(), bp, b.CreateAdd(b.CreateMul(pb, c.i64(nr * k)), b.CreateMul(d0, c.i64(nr))));
    llvm::Value *b_step = c.i64(nr);
    if (g.b_in_place > 0) {
      // Panel pb's columns of B where B lies, rows n floats apart.
      llvm::Value *in_place = b.CreateICmpSLT(pb, c.i64(g.b_in_place));
      llvm::Value *at =
          b.CreateInBoundsGEP(c.f32Ty(), c.ptr[size_t(g.b_src)],
                              b.CreateAdd(b.CreateMul(pb, c.i64(nr)), b.CreateMul(d0, c.i64(n))));
      bpanel = b.CreateSelect(in_place, at, bpanel);
      b_step = b.CreateSelect(in_place, c.i64(n), b_step);
    }
    llvm::Value *apanel = b.CreateInBoundsGEP(
        c.f32Ty(), ap, b.CreateAdd(b.CreateMul(pa, c.i64(mr * k)), b.CreateMul(d0, c.i64(mr))));
    llvm::Value *first = b.CreateICmpEQ(d0, c.i64(0));
    llvm::Value *last = b.CreateICmpEQ(b.CreateAdd(d0, depth), c.i64(k));
    // The tile's partial sums between depth blocks (unused with one block).
    llvm::Value *partial =
        blocks_k > 1
            ? b.CreateInBoundsGEP(c.f32Ty(), g.cp(c), b.CreateMul(t, c.i64(mr * nr)))
            : llvm::ConstantPointerNull::get(llvm::PointerType::get(c.module.getContext(), 0));
    llvm::Value *row0 = b.CreateMul(pa, c.i64(mr)), *col0 = b.CreateMul(pb, c.i64(nr));
    // With c_direct, a whole tile's last depth block stores straight into C.
    llvm::Value *dst = tile, *ld = c.i64(nr), *to_sink = last;
    if (g.c_direct) {
      llvm::Value *whole =
          b.CreateAnd(b.CreateICmpSLE(row0, c.i64(m - mr)), b.CreateICmpSLE(col0, c.i64(n - nr)));
      dst = b.CreateSelect(
          whole, b.CreateInBoundsGEP(c.f32Ty(), g.c_direct, mad(c, row0, g.c_ld, col0)), tile);
      ld = b.CreateSelect(whole, c.i64(g.c_ld), ld);
      to_sink = b.CreateAnd(last, b.CreateNot(whole));
    }
    b.CreateCall(micro, {apanel, bpanel, depth, partial, first, last, dst, b_step, ld});
    emitIf(b, to_sink, [&] {
      // The tile in memory: its valid part to the sink.
      // Only the valid part of an edge tile: min(mr, m - row0) rows and
      // min(nr, n - col0) columns, as counted loops without a test per
      // element: a vector at a time with g.lanes, else element by element
      // (and LLVM vectorises along the columns).
      llvm::Value *rows = minOf(c, b.CreateSub(c.i64(m), row0), c.i64(mr));
      llvm::Value *colsLeft = minOf(c, b.CreateSub(c.i64(n), col0), c.i64(nr));
      if (g.lanes) {
        llvm::Value *vecs = b.CreateUDiv(b.CreateAdd(colsLeft, c.i64(vw - 1)), c.i64(vw));
        emitCountedLoop(b, rows, [&](llvm::Value *i) {
          emitCountedLoop(b, vecs, [&](llvm::Value *v) {
            llvm::Value *j = b.CreateMul(v, c.i64(vw));
            llvm::Value *x = b.CreateAlignedLoad(
                vecTy, b.CreateInBoundsGEP(c.f32Ty(), tile, mad(c, i, nr, j)), llvm::Align(4));
            llvm::Value *mask = firstLanes(c, unsigned(vw), b.CreateSub(colsLeft, j));
            sink(c, b.CreateAdd(row0, i), b.CreateAdd(col0, j), x, mask);
          });
        });
        return;
      }
      emitCountedLoop(b, rows, [&](llvm::Value *i) {
        emitCountedLoop(b, colsLeft, [&](llvm::Value *j) {
          llvm::Value *x =
              b.CreateLoad(c.f32Ty(), b.CreateInBoundsGEP(c.f32Ty(), tile, mad(c, i, nr, j)));
          sink(c, b.CreateAdd(row0, i), b.CreateAdd(col0, j), x, nullptr);
        });
      });
    });
  };

  emitIf(b, b.CreateICmpSLT(lo, hi), [&] {
    emitLoopNest(b, {blocks_k, blocks_n, blocks_m}, [&](llvm::ArrayRef<llvm::Value *> blk) {
      llvm::Value *d0 = b.CreateMul(blk[0], c.i64(g.kc));
      llvm::Value *depth = minOf(c, c.i64(g.kc), b.CreateSub(c.i64(k), d0));
      emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *ti) {
        llvm::Value *t = b.CreateAdd(lo, ti);
        if (blocks_n == 1 && blocks_m == 1)
          return emitTile(t, d0, depth);
        auto [pb, pa] = g.panels(c, t);
        llvm::Value *in_block = b.CreateAnd(b.CreateICmpEQ(b.CreateUDiv(pb, c.i64(g.ncp)), blk[1]),
                                            b.CreateICmpEQ(b.CreateUDiv(pa, c.i64(g.mcp)), blk[2]));
        emitIf(b, in_block, [&] { emitTile(t, d0, depth); });
      });
    });
  });
}

/// The driver on one thread: packs B into slot `slot` (and A, unless `a` is
/// null: packed already) and runs the micro-kernel over all tiles.
void emitGemm(EmitContext &c, const GemmLayout &g, const PanelSource *a, const PanelSource &bt,
              int vw, const Sink &sink, llvm::Value *slot = nullptr) {
  llvm::Value *bp = g.bp(c, slot);
  // B^T(j, d) = B(d, j): columns of B as panel rows
  if (g.b_in_place > 0)
    packOperandRows(c, bt, g.n, g.k, g.nr, vw, bp, c.i64(g.bPackedFrom()), c.i64(g.np * g.k));
  else
    packOperand(c, bt, g.n, g.k, g.nr, vw, bp);
  if (a)
    packOperand(c, *a, g.m, g.k, g.mr, vw, g.ap(c));
  emitTiles(c, g, bp, c.i64(0), c.i64(g.np * g.mp), vw, sink);
}

/// The driver over parallel tasks: A and B packed by ranges of panel rows,
/// then the tiles by ranges, each tile's sum over k whole in one task. With
/// `whole_columns`, ranges hold whole B panels (every tile of a column range,
/// rows in order), for a sink that sums down the columns.
void emitParallelGemm(EmitContext &c, const GemmLayout &g, const PanelSource &a,
                      const PanelSource &bt, int vw, const Sink &sink, bool whole_columns) {
  // Each task packs the same share of B's panel rows as of A's: the
  // threads then split B (x W^T's weight rows) as its tiles do, and a
  // weight's rows stay in one core's cache from the forward pass to their
  // update (emitPackedMatMul's a_major).
  const int64_t b_from = g.bPackedFrom(), b_rows = g.np * g.k - b_from, a_rows = g.mp * g.k,
                units = b_rows + a_rows;
  emitParallelRanges(c, units, g.nr, true, [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
    EmitContext &tc = t.c;
    GemmLayout tg = g.in(t);
    auto share = [&](llvm::Value *u, int64_t rows) {
      return tc.b.CreateUDiv(tc.b.CreateMul(u, tc.i64(rows)), tc.i64(units));
    };
    packOperandRows(tc, bt, g.n, g.k, g.nr, vw, tg.bp(tc),
                    tc.b.CreateAdd(tc.i64(b_from), share(lo, b_rows)),
                    tc.b.CreateAdd(tc.i64(b_from), share(hi, b_rows)));
    packOperandRows(tc, a, g.m, g.k, g.mr, vw, tg.ap(tc), share(lo, a_rows), share(hi, a_rows));
  });
  int64_t per_unit = whole_columns ? g.mp : 1; // tiles per unit of work
  emitParallelRanges(c, g.np * g.mp / per_unit, per_unit * g.mr * g.nr * g.k, true,
                     [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
                       GemmLayout tg = g.in(t);
                       EmitContext &tc = t.c;
                       emitTiles(tc, tg, tg.bp(tc), tc.b.CreateMul(lo, tc.i64(per_unit)),
                                 tc.b.CreateMul(hi, tc.i64(per_unit)), vw, sink);
                     });
}

/// One conv2d's geometry (NCHW input, OIHW weight) and its im2col view: the
/// column matrix has a row per (c, kh, kw) and a column per (oh, ow).
struct ConvGeometry {
  int64_t batch, in_c, h, w, out_c, kh, kw, oh, ow;
  int64_t stride[2], pad[2], dil[2];

  ConvGeometry(const ir::Attrs &a, const ir::Shape &x, const ir::Shape &wt, const ir::Shape &y) {
    batch = x[0], in_c = x[1], h = x[2], w = x[3];
    out_c = wt[0], kh = wt[2], kw = wt[3], oh = y[2], ow = y[3];
    for (int d = 0; d < 2; ++d) {
      stride[d] = a.ints("stride")[size_t(d)];
      pad[d] = a.ints("padding")[size_t(d)];
      dil[d] = a.ints("dilation")[size_t(d)];
    }
  }
  int64_t taps() const { return in_c * kh * kw; }
  int64_t positions() const { return oh * ow; }

  /// The input position behind column-matrix row `r` (a tap) and column `p`
  /// (an output position): channel, row, column, and whether it is inside
  /// the image (not padding). `r` and `p` are both i64 scalars or both i32
  /// lanes; the results are of their type.
  struct Position {
    llvm::Value *ch, *ih, *iw, *inside;
  };
  Position at(EmitContext &c, llvm::Value *r, llvm::Value *p) const {
    auto &b = c.b;
    llvm::Value *ki = b.CreateURem(b.CreateUDiv(r, cst(r, kw)), cst(r, kh));
    llvm::Value *kj = b.CreateURem(r, cst(r, kw));
    auto coord = [&](llvm::Value *o, llvm::Value *k, int d) {
      return b.CreateAdd(b.CreateSub(b.CreateMul(o, cst(o, stride[d])), cst(o, pad[d])),
                         b.CreateMul(k, cst(k, dil[d])));
    };
    llvm::Value *ih = coord(b.CreateUDiv(p, cst(p, ow)), ki, 0);
    llvm::Value *iw = coord(b.CreateURem(p, cst(p, ow)), kj, 1);
    llvm::Value *inside =
        b.CreateAnd(b.CreateICmpULT(ih, cst(ih, h)), b.CreateICmpULT(iw, cst(iw, w)));
    return {b.CreateUDiv(r, cst(r, kh * kw)), ih, iw, inside};
  }

  /// Flat index of (image, position) in an NCHW input, of the position's
  /// type; outside the image (padding) it points outside the input, and the
  /// masked gather of `col` never reads it.
  llvm::Value *flat(EmitContext &c, llvm::Value *image, const Position &q) const {
    auto &b = c.b;
    llvm::Value *img = q.ch->getType()->isVectorTy() ? asLanes(c, image, q.ch) : image;
    auto madT = [&](llvm::Value *a, int64_t k, llvm::Value *x) {
      return b.CreateAdd(b.CreateMul(a, cst(a, k)), x);
    };
    return madT(madT(madT(img, in_c, q.ch), h, q.ih), w, q.iw);
  }

  /// x[image, position(r, p)] for lanes of taps (`r`) or of positions (`p`),
  /// the other one an i64 scalar; 0 in the padding and where `valid` is not
  /// set: the im2col matrix, read in place by masked gathers.
  llvm::Value *col(EmitContext &c, ir::ValueId x, llvm::Value *image, llvm::Value *r,
                   llvm::Value *p, llvm::Value *valid) const {
    llvm::Value *lanes = r->getType()->isVectorTy() ? r : p;
    Position q = at(c, asLanes(c, r, lanes), asLanes(c, p, lanes));
    return gatherLanes(c, x, flat(c, image, q), c.b.CreateAnd(q.inside, valid));
  }
};

} // namespace

void emitPackedMatMul(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      GemmSplit split, PointHook point, bool point_lanes) {
  bool ta = n.attrs.b("transpose_a"), tb = n.attrs.b("transpose_b");
  ir::ValueId a = n.operands[0], bv = n.operands[1];
  const ir::Shape &sa = c.shape(a);
  int64_t m = ta ? sa[1] : sa[0], k = ta ? sa[0] : sa[1], cols = c.shape(n.result)[1];
  // A(i, d) and B^T(j, d), rows i or j as lanes.
  Loader la = [&](EmitContext &c, const Lanes &l, llvm::Value *d) {
    return ta ? loadRows(c, a, c.b.CreateMul(d, c.i64(m)), 1, l) : loadRows(c, a, d, k, l);
  };
  Loader lbt = [&](EmitContext &c, const Lanes &l, llvm::Value *d) {
    return tb ? loadRows(c, bv, d, k, l) : loadRows(c, bv, c.b.CreateMul(d, c.i64(cols)), 1, l);
  };
  Sink sink = [&](EmitContext &c, llvm::Value *i, llvm::Value *j, llvm::Value *x,
                  llvm::Value *mask) {
    llvm::Value *flat = mad(c, i, cols, j);
    if (point)
      point(c, {i, j}, flat, x, mask);
    else
      c.storeLanes(n.result, flat, x, mask);
  };
  // A C narrower than a vector (an output layer's 10 columns on 16-float
  // vectors) runs as C^T = B^T A^T when that tile fills its registers better
  // and its panels fit the plan's workspace; the sink swaps the indices back.
  // Only then: the swapped epilogue writes C down its columns, which measured
  // slower than the lanes it saves on wider C (64 x 84 x 10: 0.87x OpenBLAS
  // -> 0.48x). Not with a sink that sums down C's columns (it needs them
  // whole, in order).
  auto score = [&](int64_t rows, int64_t n_cols) {
    return registerTile(rows, n_cols, vw, c.vector_registers).score;
  };
  bool swap = split != GemmSplit::Columns && cols < vw && score(cols, m) > 1.1 * score(m, cols) &&
              plan::gemmWorkspaceBytes(cols, m, k, 1, true) <=
                  plan::gemmWorkspaceBytes(m, cols, k, 1, true);
  Sink swapped = [&](EmitContext &c, llvm::Value *j, llvm::Value *i, llvm::Value *x,
                     llvm::Value *mask) { sink(c, i, j, x, mask); };
  // B^T(j, d) = B[j, d] when B is transposed, and A(i, d) = A[i, d] when A
  // is not: row-major panel rows, packed a vw x vw block at a time, for A's
  // panels of mr < vw rows too (where a gather per depth took a fifth of
  // 64 x 120 x 800 A B^T: 121 -> 131 GFLOP/s, 64 x 256 x 128 A B 159 -> 181).
  RowMajor b_rows{bv, k}, a_rows{a, k};
  PanelSource pa = swap ? PanelSource{lbt, nullptr, tb ? &b_rows : nullptr}
                        : PanelSource{la, nullptr, ta ? nullptr : &a_rows};
  PanelSource pb = swap ? PanelSource{la, nullptr, ta ? nullptr : &a_rows}
                        : PanelSource{lbt, nullptr, tb ? &b_rows : nullptr};
  // Whole vectors to the epilogue along C's rows (its lanes run down a
  // column when swapped), on targets whose masked vector loads and stores
  // are instructions (8 floats and more).
  GemmLayout g =
      swap ? gemmLayout(c, cols, m, k, vw, workspace) : gemmLayout(c, m, cols, k, vw, workspace);
  g.lanes = !swap && vw >= 8 && (!point || point_lanes);
  // Otherwise C's tiles go to the epilogue element by element, in loops that
  // LLVM's vectoriser makes vector code.
  if (g.lanes)
    c.markCleanupOnly();
  // dW = dY^T X splits its rows, a weight's rows, over the threads, as the
  // forward x W^T packs and splits them: each core updates the rows it read.
  g.a_major = ta && !swap && split == GemmSplit::Tiles;
  // A row-major B (not transposed) is read in place, but for the panel at
  // its right edge: packing it cost more than it saved on the models' GEMMs
  // (64 x 128 x 10: 105 -> 124 GFLOP/s, 10 x 128 x 64 A^T B: 87 -> 196), all
  // of them at most kGemmInPlaceMaxRows rows, where each B panel is read by
  // few A panels. Not on larger ones (512^3: 176 -> 160 GFLOP/s, a B panel's
  // rows 2 KiB apart share a few cache sets), nor with rows a multiple of
  // 2 KiB apart on any.
  if (!swap && !tb && m <= kGemmInPlaceMaxRows && (cols * 4) % 2048 != 0) {
    g.b_in_place = cols / g.nr;
    g.b_src = bv;
  }
  const Sink &to = swap ? swapped : sink;
  if (split != GemmSplit::None && m * cols * k >= plan::kParallelMinGemmWork)
    emitParallelGemm(c, g, pa, pb, vw, to, split == GemmSplit::Columns);
  else
    emitGemm(c, g, &pa, pb, vw, to);
}

namespace {

/// Lane l of the result is the sum of v[l]'s lanes, for l < v.size() <= vw
/// (0 past it): the vectors padded with zeros to vw, then log2(vw) levels
/// that each add pairs (v[i], v[i + half]) into one vector holding the
/// partial sums of both in blocks of half the size; pairing across halves
/// leaves the sums in v's order. vw - 1 additions and twice as many shuffles
/// for vw sums, where reducing each vector alone takes log2(vw) of each per
/// sum.
llvm::Value *sumLanesOf(EmitContext &c, std::vector<llvm::Value *> v, int vw) {
  auto *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
  v.resize(size_t(vw), llvm::Constant::getNullValue(vecTy));
  while (v.size() > 1) {
    const int half = int(v.size()) / 2, block = int(v.size());
    std::vector<int> lo(static_cast<size_t>(vw)), hi(static_cast<size_t>(vw));
    for (int l = 0; l < vw; ++l) {
      int q = l / (block / 2), o = l % (block / 2);
      lo[size_t(l)] = (q % 2 ? vw : 0) + q / 2 * block + o;
      hi[size_t(l)] = lo[size_t(l)] + block / 2;
    }
    std::vector<llvm::Value *> next;
    for (int i = 0; i < half; ++i) {
      llvm::Value *a = v[size_t(i)], *b = v[size_t(i + half)];
      next.push_back(
          c.b.CreateFAdd(c.b.CreateShuffleVector(a, b, lo), c.b.CreateShuffleVector(a, b, hi)));
    }
    v = std::move(next);
  }
  return v[0];
}

/// How the in-place matmul forms (Dot, Outer) hand C to the epilogue: row
/// i's columns [j, j + valid) from x's first lanes (`valid` i64, at most vw;
/// null: all, none when not positive), as one vector to `point` (or C) when
/// the epilogue takes vectors, else lane by lane.
struct RowSink {
  const ir::Node &n;
  PointHook point;
  bool lanes;
  int vw;

  void operator()(EmitContext &c, llvm::Value *i, llvm::Value *j, llvm::Value *x,
                  llvm::Value *valid) const {
    auto to = [&](llvm::Value *j, llvm::Value *v, llvm::Value *mask) {
      llvm::Value *flat = mad(c, i, c.shape(n.result)[1], j);
      if (point)
        point(c, {i, j}, flat, v, mask);
      else
        c.storeLanes(n.result, flat, v, mask);
    };
    if (lanes)
      return to(j, x, valid ? firstLanes(c, unsigned(vw), valid) : nullptr);
    for (int64_t l = 0; l < vw; ++l) {
      auto lane = [&] {
        to(c.b.CreateAdd(j, c.i64(l)), c.b.CreateExtractElement(x, uint64_t(l)), nullptr);
      };
      if (valid)
        emitIf(c.b, c.b.CreateICmpSLT(c.i64(l), valid), lane);
      else
        lane();
    }
  }
};

/// The in-place forms' tiles of `block` rows of C (`block_work`
/// multiply-adds each), ceil(m / block) blocks: range(c, lo, hi) for ranges
/// of blocks [lo, hi) (i64) that run as parallel tasks with `parallel` when
/// the matmul has at least plan::kParallelMinGemmWork multiply-adds, as the
/// packed form's do.
void emitRowBlocks(EmitContext &c, int64_t m, int64_t block, int64_t block_work, bool parallel,
                   llvm::function_ref<void(Task &t, llvm::Value *lo, llvm::Value *hi)> range) {
  const int64_t blocks = (m + block - 1) / block;
  emitParallelRanges(c, blocks, block_work,
                     parallel && blocks * block_work >= plan::kParallelMinGemmWork,
                     [&](Task &t, llvm::Value *lo, llvm::Value *hi) { range(t, lo, hi); });
}

/// tile(i0, rows) for each block [lo, hi) of `block` rows of a matrix of m:
/// i0 its first row and `rows` (null: all `block`) how many of its rows are
/// rows of the matrix. The last block of m rows not a multiple of `block`
/// has fewer, and one tile body serves both (a second one for the last
/// block cost the CNNs 40 ms of compile).
void emitEachRowBlock(EmitContext &c, llvm::Value *lo, llvm::Value *hi, int64_t block, int64_t m,
                      llvm::function_ref<void(llvm::Value *i0, llvm::Value *rows)> tile) {
  auto &b = c.b;
  emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *x) {
    llvm::Value *i0 = b.CreateMul(b.CreateAdd(lo, x), c.i64(block));
    tile(i0, m % block ? minOf(c, c.i64(block), b.CreateSub(c.i64(m), i0)) : nullptr);
  });
}

/// Row r of a tile from row i0 of a matrix with m rows, of which the tile's
/// first `rows` (null: all) are rows: a row to read (the last row of the
/// matrix for the rows past it, whose results are dropped) and whether it
/// is one (null: always).
std::pair<llvm::Value *, llvm::Value *> tileRow(EmitContext &c, llvm::Value *i0, int64_t r,
                                                llvm::Value *rows, int64_t m) {
  llvm::Value *i = c.b.CreateAdd(i0, c.i64(r));
  if (!rows)
    return {i, nullptr};
  return {minOf(c, i, c.i64(m - 1)), c.b.CreateICmpSLT(c.i64(r), rows)};
}

} // namespace

void emitDotMatMul(EmitContext &c, const ir::Node &n, int vw, bool parallel, PointHook point,
                   bool point_lanes) {
  ir::ValueId a = n.operands[0], bv = n.operands[1];
  const int64_t m = c.shape(a)[0], k = c.shape(a)[1], cols = c.shape(n.result)[1];
  // Rows of C a tile: its rows x cols sums, a vector of each row of A and
  // one of B's in registers.
  const int64_t rows = std::clamp<int64_t>((c.vector_registers - 1) / (cols + 1), 1, 4);
  const int64_t full = k / vw, tail = k % vw;
  auto *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
  llvm::Function *fma =
      llvm::Intrinsic::getDeclaration(&c.module, llvm::Intrinsic::fmuladd, {vecTy});
  const RowSink sink{n, point, vw >= 8 && (!point || point_lanes), vw};
  if (sink.lanes)
    c.markCleanupOnly();
  // A tile of rows [i0, i0 + rows) of which `used` (null: all) are C's.
  auto tile = [&](EmitContext &c, llvm::Value *i0, llvm::Value *used) {
    auto &b = c.b;
    std::vector<llvm::Value *> acc, row, is_row;
    for (int64_t r = 0; r < rows; ++r) {
      auto [i, valid] = tileRow(c, i0, r, used, m);
      row.push_back(i), is_row.push_back(valid);
    }
    for (int64_t x = 0; x < rows * cols; ++x) {
      acc.push_back(c.entryAlloca("dot", vecTy));
      b.CreateStore(llvm::Constant::getNullValue(vecTy), acc.back());
    }
    // Depths [d, d + vw), the lanes of `mask` (null: all) only.
    auto step = [&](llvm::Value *d, llvm::Value *mask) {
      auto load = [&](ir::ValueId x, llvm::Value *i) {
        llvm::Value *at = b.CreateInBoundsGEP(c.f32Ty(), c.ptr[size_t(x)], mad(c, i, k, d));
        if (!mask)
          return static_cast<llvm::Value *>(b.CreateAlignedLoad(vecTy, at, llvm::Align(4)));
        return static_cast<llvm::Value *>(b.CreateMaskedLoad(vecTy, at, llvm::Align(4), mask,
                                                             llvm::Constant::getNullValue(vecTy)));
      };
      std::vector<llvm::Value *> av;
      for (int64_t r = 0; r < rows; ++r)
        av.push_back(load(a, row[size_t(r)]));
      for (int64_t j = 0; j < cols; ++j) {
        llvm::Value *bj = load(bv, c.i64(j));
        for (int64_t r = 0; r < rows; ++r) {
          llvm::Value *s = acc[size_t(r * cols + j)];
          b.CreateStore(b.CreateCall(fma, {av[size_t(r)], bj, b.CreateLoad(vecTy, s)}), s);
        }
      }
    };
    if (full > 0)
      emitCountedLoop(
          b, c.i64(full), [&](llvm::Value *v) { step(b.CreateMul(v, c.i64(vw)), nullptr); }, false);
    if (tail > 0)
      step(c.i64(full * vw), firstLanes(c, unsigned(vw), c.i64(tail)));
    for (int64_t r = 0; r < rows; ++r) {
      auto out = [&] {
        for (int64_t j0 = 0; j0 < cols; j0 += vw) {
          std::vector<llvm::Value *> sums;
          for (int64_t j = j0; j < std::min(cols, j0 + vw); ++j)
            sums.push_back(b.CreateLoad(vecTy, acc[size_t(r * cols + j)]));
          sink(c, row[size_t(r)], c.i64(j0), sumLanesOf(c, sums, vw),
               int64_t(sums.size()) == vw ? nullptr : c.i64(int64_t(sums.size())));
        }
      };
      if (is_row[size_t(r)])
        emitIf(b, is_row[size_t(r)], out);
      else
        out();
    }
  };
  emitRowBlocks(
      c, m, rows, rows * cols * k, parallel, [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
        emitEachRowBlock(t.c, lo, hi, rows, m,
                         [&](llvm::Value *i0, llvm::Value *used) { tile(t.c, i0, used); });
      });
}

namespace {

/// Where a task finds a row-major operand of an in-place GEMM.
using OperandAt = std::function<llvm::Value *(Task &t)>;
/// Receives a finished tile of C: rows [i0, i0 + rows) x columns
/// [j0, j0 + nr) in `buf` (mr rows of nr floats, or with
/// OuterTileLayout::Columns its columns: see there), `rows` i64.
using TileOut = std::function<void(EmitContext &c, llvm::Value *buf, llvm::Value *i0,
                                   llvm::Value *rows, llvm::Value *j0)>;
/// How emitOuterTiles lays a finished tile out in its buffer: row by row
/// (TileSums::store), or column by column for an `out` that reads the
/// tile's columns (TileSums::storeColumns).
enum class OuterTileLayout : uint8_t { Rows, Columns };
/// Stores row i's columns [j, j + valid) of a finished tile from a register
/// (`valid` i64, null: a whole vector): for a matmul without an epilogue,
/// which then needs no buffer.
using RowStore = std::function<void(EmitContext &c, llvm::Value *i, llvm::Value *j, llvm::Value *x,
                                    llvm::Value *valid)>;

/// C[m, cols] = A[m, k] B[k, cols], both row-major and read where they lie:
/// the packed micro-kernel's register tile inline, A's elements broadcast
/// from its rows (the last row of A for a tile's rows past it) and B's rows
/// loaded as vectors over the depths; then the sums through a buffer to
/// `out`. (Handed over from registers, the epilogue is copied once per sum:
/// on a 10-deep dY W that ran 1.3x as fast, and cost the CNNs 15-20 ms of
/// compile.) Row block by row block, each a column block at a time (the last
/// one's vectors masked to C's columns at run time: one tile body for all),
/// so that each column of C gets its rows in order (column blocks
/// outermost, to keep one of B in L1 while A's rows pass, ran no faster).
/// Large ones run in parallel ranges of row blocks, or of column blocks when
/// B is the larger operand or `split` asks for whole columns; `direct`
/// (with no `out`'s buffer) takes the sums from registers, and
/// `a_transposed` reads A's rows a depth m floats apart (A^T B).
void emitOuterTiles(EmitContext &c, int64_t m, int64_t k, int64_t cols, int vw, GemmSplit split,
                    const OperandAt &a_at, const OperandAt &b_at, const RegisterTile &rt,
                    const TileOut &out, OuterTileLayout layout = OuterTileLayout::Rows,
                    const RowStore *direct = nullptr, bool a_transposed = false) {
  const int64_t mr = rt.mr, nv = rt.nv, nr = nv * vw;
  auto *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
  // Rows [i0, i0 + used) (null: mr) x columns [j0, j0 + nr); past C's last
  // column, B's vectors are masked (valid[v]: lanes of vector v inside C).
  auto tile = [&](EmitContext &c, llvm::Value *ap, llvm::Value *bp, llvm::Value *i0,
                  llvm::Value *used, llvm::Value *j0) {
    auto &b = c.b;
    std::vector<llvm::Value *> valid(size_t(nv), nullptr);
    if (cols % nr)
      for (int64_t v = 0; v < nv; ++v)
        valid[size_t(v)] = b.CreateSub(c.i64(cols - v * vw), j0);
    std::vector<llvm::Value *> row;
    for (int64_t r = 0; r < mr; ++r)
      row.push_back(tileRow(c, i0, r, used, m).first);
    TileSums sums(c, mr, nv, vw);
    sums.zero();
    auto depth = [&](llvm::Value *d) {
      std::vector<llvm::Value *> bvec;
      for (int64_t v = 0; v < nv; ++v) {
        llvm::Value *at =
            b.CreateInBoundsGEP(c.f32Ty(), bp, b.CreateAdd(mad(c, d, cols, j0), c.i64(v * vw)));
        bvec.push_back(
            valid[size_t(v)]
                ? b.CreateMaskedLoad(vecTy, at, llvm::Align(4),
                                     firstLanes(c, unsigned(vw), valid[size_t(v)]),
                                     llvm::Constant::getNullValue(vecTy))
                : static_cast<llvm::Value *>(b.CreateAlignedLoad(vecTy, at, llvm::Align(4))));
      }
      sums.step(bvec, mr, [&](int64_t r) {
        return b.CreateLoad(c.f32Ty(),
                            b.CreateInBoundsGEP(c.f32Ty(), ap,
                                                a_transposed ? mad(c, d, m, row[size_t(r)])
                                                             : mad(c, row[size_t(r)], k, d)));
      });
    };
    emitCountedLoop(b, c.i64(k), depth, false);
    if (direct) {
      // Rows past C's last one repeat it (tileRow): the same values again.
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t v = 0; v < nv; ++v)
          (*direct)(c, row[size_t(r)], b.CreateAdd(j0, c.i64(v * vw)),
                    b.CreateLoad(vecTy, sums.acc[size_t(r * nv + v)]), valid[size_t(v)]);
      return;
    }
    if (layout == OuterTileLayout::Rows) {
      llvm::Value *buf = c.entryAlloca("tile", llvm::ArrayType::get(c.f32Ty(), uint64_t(mr * nr)));
      sums.store(buf, mr);
      return out(c, buf, i0, used ? used : c.i64(mr), j0);
    }
    llvm::Value *buf = c.entryAlloca(
        "tile",
        llvm::ArrayType::get(c.f32Ty(), uint64_t(nr * TileSums::columnGroups(mr, vw) * vw)));
    sums.storeColumns(buf, mr);
    out(c, buf, i0, used ? used : c.i64(mr), j0);
  };
  // Column block p's tiles for the row blocks [lo, hi).
  auto columnBlock = [&](EmitContext &tc, llvm::Value *ap, llvm::Value *bp, llvm::Value *p,
                         llvm::Value *lo, llvm::Value *hi) {
    llvm::Value *j0 = tc.b.CreateMul(p, tc.i64(nr));
    emitEachRowBlock(tc, lo, hi, mr, m,
                     [&](llvm::Value *i0, llvm::Value *used) { tile(tc, ap, bp, i0, used, j0); });
  };
  const int64_t col_blocks = (cols + nr - 1) / nr, row_blocks = (m + mr - 1) / mr;
  if (split == GemmSplit::Columns || (split == GemmSplit::Tiles && cols > m)) {
    // B the larger operand: threads split its columns, each reading its share
    // of B and all of A (the CNNs' d.flat, 64 x 800 x 120, on two threads:
    // 89-91 -> 61 us; split by rows each read all of B, 384 KB). An epilogue
    // that sums down C's columns (a bias gradient) takes this split only:
    // each column's rows stay in order in one task.
    emitParallelRanges(c, col_blocks, nr * m * k, m * cols * k >= plan::kParallelMinGemmWork,
                       [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
                         EmitContext &tc = t.c;
                         llvm::Value *ap = a_at(t), *bp = b_at(t);
                         emitCountedLoop(tc.b, tc.b.CreateSub(hi, lo), [&](llvm::Value *x) {
                           columnBlock(tc, ap, bp, tc.b.CreateAdd(lo, x), tc.i64(0),
                                       tc.i64(row_blocks));
                         });
                       });
    return;
  }
  emitRowBlocks(c, m, mr, mr * cols * k, split == GemmSplit::Tiles,
                [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
                  EmitContext &tc = t.c;
                  llvm::Value *ap = a_at(t), *bp = b_at(t);
                  emitEachRowBlock(tc, lo, hi, mr, m, [&](llvm::Value *i0, llvm::Value *used) {
                    emitCountedLoop(tc.b, tc.i64(col_blocks), [&](llvm::Value *p) {
                      tile(tc, ap, bp, i0, used, tc.b.CreateMul(p, tc.i64(nr)));
                    });
                  });
                });
}

} // namespace

void emitOuterMatMul(EmitContext &c, const ir::Node &n, int vw, GemmSplit split, PointHook point,
                     bool point_lanes) {
  ir::ValueId a = n.operands[0], bv = n.operands[1];
  const RowSink sink{n, point, vw >= 8 && (!point || point_lanes), vw};
  if (sink.lanes)
    c.markCleanupOnly();
  // A^T B (dY^T X without an epilogue): A^T's rows are A's columns, a depth
  // m floats apart.
  const bool ta = n.attrs.b("transpose_a");
  const int64_t m = c.shape(a)[ta ? 1 : 0], k = c.shape(a)[ta ? 0 : 1];
  const int64_t cols = c.shape(n.result)[1];
  const RegisterTile rt = registerTile(m, cols, vw, c.vector_registers);
  const int64_t nv = rt.nv, nr = nv * vw;
  auto *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
  // A tile's rows, a vector at a time, to the epilogue.
  auto out = [&](EmitContext &c, llvm::Value *buf, llvm::Value *i0, llvm::Value *rows,
                 llvm::Value *j0) {
    auto &b = c.b;
    emitCountedLoop(
        b, rows,
        [&](llvm::Value *r) {
          emitCountedLoop(
              b, c.i64(nv),
              [&](llvm::Value *v) {
                llvm::Value *x = b.CreateAlignedLoad(
                    vecTy,
                    b.CreateInBoundsGEP(c.f32Ty(), buf, b.CreateMul(mad(c, r, nv, v), c.i64(vw))),
                    llvm::Align(4));
                llvm::Value *off = b.CreateMul(v, c.i64(vw));
                sink(c, b.CreateAdd(i0, r), b.CreateAdd(j0, off), x,
                     cols % nr ? b.CreateSub(b.CreateSub(c.i64(cols), j0), off) : nullptr);
              },
              false);
        },
        false);
  };
  // Without an epilogue and at most kDirectMaxDepth deep, C's rows straight
  // from the registers (10-deep dY W of the output layers: 0.86-0.91x ->
  // 0.93-1.17x OpenBLAS; A^T B of a batch's depth, 84 x 120 x 64: 0.90x ->
  // 1.06x). Deeper ones gained nothing (d.flat, 120 deep), and the stores
  // cost our_cnn's cold compile 15 ms.
  constexpr int64_t kDirectMaxDepth = 64;
  const RowStore direct = sink;
  emitOuterTiles(
      c, m, k, cols, vw, split, [&](Task &t) { return t.c.ptr[size_t(a)]; },
      [&](Task &t) { return t.c.ptr[size_t(bv)]; }, rt, out, OuterTileLayout::Rows,
      !point && sink.lanes && k <= kDirectMaxDepth ? &direct : nullptr, ta);
}

void emitTransposedMatMul(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                          bool parallel, PointHook point, bool point_lanes) {
  ir::ValueId a = n.operands[0], w = n.operands[1];
  const int64_t m = c.shape(a)[0], k = c.shape(a)[1], cols = c.shape(n.result)[1];
  auto &b = c.b;
  // A^T into the workspace, k x m, a vw x vw block at a time.
  emitLoopNest(b, {(m + vw - 1) / vw, (k + vw - 1) / vw}, [&](llvm::ArrayRef<llvm::Value *> iv) {
    llvm::Value *i0 = b.CreateMul(iv[0], c.i64(vw)), *d0 = b.CreateMul(iv[1], c.i64(vw));
    llvm::Value *src = b.CreateGEP(c.f32Ty(), c.ptr[size_t(a)], mad(c, i0, k, d0));
    llvm::Value *dst = b.CreateGEP(c.f32Ty(), workspace, mad(c, d0, m, i0));
    llvm::Value *rows = minOf(c, b.CreateSub(c.i64(m), i0), c.i64(vw));
    llvm::Value *depths = b.CreateSub(c.i64(k), d0);
    packBlock(c, vw, src, c.i64(k), rows, depths, dst, c.i64(m), rows);
  });
  // C^T = W A^T: W's rows (C's columns) as the tile's rows, read in place.
  // A tile's columns are rows of C: each one a vector along C's row to the
  // epilogue, from the tile stored by columns (or, below 8 floats, gathered
  // from its rows, nr floats apart).
  const RegisterTile rt = registerTile(cols, m, vw, c.vector_registers);
  const int64_t mr = rt.mr, nr = rt.nv * vw;
  const RowSink sink{n, point, vw >= 8 && (!point || point_lanes), vw};
  if (sink.lanes)
    c.markCleanupOnly();
  // The tile's columns transposed in registers, or else gathered from its rows.
  const bool columns = vw >= 8;
  auto out = [&](EmitContext &c, llvm::Value *buf, llvm::Value *j0, llvm::Value *used,
                 llvm::Value *i0) {
    auto &b = c.b;
    llvm::Value *rows_left = b.CreateSub(c.i64(m), i0); // C's rows from i0 on
    emitCountedLoop(
        b, minOf(c, rows_left, c.i64(nr)),
        [&](llvm::Value *x) {
          if (columns) {
            const int64_t groups = TileSums::columnGroups(mr, vw);
            for (int64_t g = 0; g < groups; ++g) {
              llvm::Value *at =
                  b.CreateMul(b.CreateAdd(b.CreateMul(x, c.i64(groups)), c.i64(g)), c.i64(vw));
              llvm::Value *v =
                  b.CreateAlignedLoad(llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw)),
                                      b.CreateInBoundsGEP(c.f32Ty(), buf, at), llvm::Align(4));
              sink(c, b.CreateAdd(i0, x), b.CreateAdd(j0, c.i64(g * vw)), v,
                   b.CreateSub(used, c.i64(g * vw)));
            }
            return;
          }
          for (int64_t g = 0; g < mr; g += vw) {
            llvm::Constant *ids = laneIds(c, vw);
            llvm::Value *r = b.CreateAdd(ids, cst(ids, g));
            llvm::Value *valid = b.CreateSub(used, c.i64(g));
            llvm::Value *mask = firstLanes(c, unsigned(vw), valid);
            llvm::Value *at = b.CreateAdd(b.CreateMul(r, cst(r, nr)), asLanes(c, x, r));
            llvm::Value *ptrs = b.CreateInBoundsGEP(c.f32Ty(), buf, at);
            llvm::Value *v = b.CreateMaskedGather(floatsLike(c, ids), ptrs, llvm::Align(4), mask,
                                                  llvm::Constant::getNullValue(floatsLike(c, ids)));
            sink(c, b.CreateAdd(i0, x), b.CreateAdd(j0, c.i64(g)), v, valid);
          }
        },
        false);
  };
  emitOuterTiles(
      c, cols, k, m, vw, parallel ? GemmSplit::Tiles : GemmSplit::None,
      [&](Task &t) { return t.c.ptr[size_t(w)]; }, [&](Task &t) { return t.arg(workspace); }, rt,
      out, columns ? OuterTileLayout::Columns : OuterTileLayout::Rows);
}

// y[n] = W[out_c, taps] . col(x[n])[taps, positions], one GEMM per image.
void emitPackedConv2d(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      int64_t slots, PointHook point, bool point_lanes) {
  ir::ValueId x = n.operands[0], w = n.operands[1], y = n.result;
  ConvGeometry g(n.attrs, c.shape(x), c.shape(w), c.shape(y));
  int64_t taps = g.taps(), pos = g.positions();
  GemmLayout gl = gemmLayout(c, g.out_c, pos, taps, vw, workspace, true);
  // Whole vectors of an output channel's positions to the epilogue (as a
  // matmul's rows), on targets whose masked loads and stores are instructions.
  gl.lanes = vw >= 8 && (!point || point_lanes);
  if (gl.lanes)
    c.markCleanupOnly(); // else an element-by-element epilogue, for LLVM to vectorise
  Loader lw = [&](EmitContext &c, const Lanes &o, llvm::Value *d) {
    return loadRows(c, w, d, taps, o);
  };
  packPanels(c, lw, gl.m, gl.k, gl.mr, gl.ap(c));
  // One task per image, packing it into its worker's slot.
  emitParallelFor(c, g.batch, slots, slots > 1, [&](Task &t) {
    EmitContext &tc = t.c;
    llvm::Value *img = t.index;
    Loader lbt = [&](EmitContext &c, const Lanes &p, llvm::Value *d) {
      return g.col(c, x, img, d, p.rows, p.valid);
    };
    // With stride 1 along the rows, an output row's positions read
    // consecutive input columns of tap r's channel and row.
    ShiftedRows rows{x, g.oh, g.ow, g.h, g.w, g.stride[0], [&](EmitContext &c, llvm::Value *r) {
                       auto &b = c.b;
                       llvm::Value *ch = b.CreateUDiv(r, c.i64(g.kh * g.kw));
                       llvm::Value *ki = b.CreateURem(b.CreateUDiv(r, c.i64(g.kw)), c.i64(g.kh));
                       llvm::Value *kj = b.CreateURem(r, c.i64(g.kw));
                       return ShiftedRows::Shift{
                           b.CreateMul(mad(c, img, g.in_c, ch), c.i64(g.h * g.w)),
                           b.CreateSub(b.CreateMul(ki, c.i64(g.dil[0])), c.i64(g.pad[0])),
                           b.CreateSub(b.CreateMul(kj, c.i64(g.dil[1])), c.i64(g.pad[1]))};
                     }};
    emitGemm(
        tc, gl.in(t), nullptr, PanelSource{lbt, g.stride[1] == 1 ? &rows : nullptr}, vw,
        [&](EmitContext &c, llvm::Value *o, llvm::Value *p, llvm::Value *v, llvm::Value *mask) {
          llvm::Value *flat = mad(c, mad(c, img, g.out_c, o), pos, p);
          llvm::Value *ohv = c.b.CreateUDiv(p, c.i64(g.ow));
          llvm::Value *owv = c.b.CreateURem(p, c.i64(g.ow));
          if (point)
            point(c, {img, o, ohv, owv}, flat, v, mask);
          else
            c.storeLanes(y, flat, v, mask);
        },
        t.worker);
  });
}

// dw[out_c, taps] = dy[out_c, (n, positions)] . col(x)[(n, positions), taps]:
// one GEMM whose depth runs over every image and output position. Split by
// tiles of dw only, never along the depth, so each sum keeps its order.
void emitPackedConv2dGradWeight(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                                bool parallel) {
  ir::ValueId x = n.operands[0], dy = n.operands[1], dw = n.result;
  const ir::Shape &ws = c.shape(dw);
  ConvGeometry g(n.attrs, c.shape(x), ws, c.shape(dy));
  int64_t taps = g.taps(), pos = g.positions();
  // The depth q runs over (image, position) pairs.
  Loader la = [&](EmitContext &c, const Lanes &o, llvm::Value *q) {
    llvm::Value *img = c.b.CreateUDiv(q, c.i64(pos)), *p = c.b.CreateURem(q, c.i64(pos));
    return loadRows(c, dy, mad(c, img, g.out_c * pos, p), pos, o);
  };
  Loader lbt = [&](EmitContext &c, const Lanes &d, llvm::Value *q) {
    llvm::Value *img = c.b.CreateUDiv(q, c.i64(pos)), *p = c.b.CreateURem(q, c.i64(pos));
    return g.col(c, x, img, d.rows, p, d.valid);
  };
  Sink sink = [&](EmitContext &c, llvm::Value *o, llvm::Value *d, llvm::Value *v, llvm::Value *) {
    c.store(dw, mad(c, o, taps, d), v);
  };
  GemmLayout gl = gemmLayout(c, g.out_c, taps, g.batch * pos, vw, workspace);
  if (parallel && g.out_c * taps * g.batch * pos >= plan::kParallelMinWork)
    emitParallelGemm(c, gl, PanelSource{la}, PanelSource{lbt}, vw, sink, false);
  else {
    PanelSource pa{la};
    emitGemm(c, gl, &pa, PanelSource{lbt}, vw, sink);
  }
}

// The channel-vector forms' tile: up to two vectors of output channels, and
// as many rows as the registers leave.
struct ChannelTile {
  int64_t nv, nr, np, most_rows;
  ChannelTile(EmitContext &c, int64_t channels, int vw) {
    nv = std::min<int64_t>(2, (channels + vw - 1) / vw);
    nr = nv * vw;
    np = (channels + nr - 1) / nr;
    most_rows = std::min<int64_t>(plan::kGemmMaxRows, (c.vector_registers - nv - 1) / nv);
  }

  /// Runs `units` x np units of `unit_work` each in parallel ranges (with
  /// `parallel`): body(task context, sums of `rows` rows, a tile of rows x nr
  /// floats, the task's workspace, the unit, its channel panel).
  using UnitBody = llvm::function_ref<void(EmitContext &c, TileSums &sums, llvm::Value *tile,
                                           llvm::Value *ws, llvm::Value *unit, llvm::Value *pb)>;
  void forEachUnit(EmitContext &c, llvm::Value *workspace, int64_t units, int64_t unit_work,
                   bool parallel, int64_t rows, int vw, UnitBody body) const {
    const int64_t panels = np;
    emitParallelRanges(
        c, units * panels, unit_work, parallel, [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
          EmitContext &tc = t.c;
          TileSums sums(tc, rows, nv, vw);
          // Page-aligned with vectors of 8 floats and more (x86's AVX; not on
          // a microcontroller's small stack): at the stack's random offset
          // within a page, the tile's stores made the next tile's loads of x
          // wait on them (4 KiB aliasing) in about a third of the processes:
          // our_cnn's conv2 forward took 0.5-0.85 ms there, 0.35 ms elsewhere
          // and now always. (The channel-vector weight gradient shares it.)
          // Room for rows x nv vectors, or nv * vw channels of vw positions.
          const int64_t floats = std::max<int64_t>(rows, vw) * nv * vw;
          auto *tile = llvm::cast<llvm::AllocaInst>(
              tc.entryAlloca("tile", llvm::ArrayType::get(tc.f32Ty(), uint64_t(floats))));
          if (vw >= 8)
            tile->setAlignment(llvm::Align(4096));
          emitCountedLoop(tc.b, tc.b.CreateSub(hi, lo), [&](llvm::Value *i) {
            llvm::Value *u = tc.b.CreateAdd(lo, i);
            body(tc, sums, tile, t.arg(workspace), tc.b.CreateUDiv(u, tc.i64(panels)),
                 tc.b.CreateURem(u, tc.i64(panels)));
          });
        });
  }
};

// y[n, o, oh, ow] = sum over (c, kh, kw) of W[o, c, kh, kw] x[n, c, ih, iw]
// (no padding) on vectors of output channels (plan::channelVectorConv): W is
// transposed once into panels of nr channels per tap, as B's panels are
// packed; then one task per (image, output row, block of the row's
// positions, channel panel) keeps positions x nv vectors of sums in
// registers over the taps: per tap, nv vector loads of W's panel and one
// broadcast of x per position, at offsets that are constants of the block.
// Each output element goes to `point` (the epilogue) or to y.
void emitChannelsConv2d(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                        bool parallel, PointHook point, bool point_lanes) {
  ir::ValueId x = n.operands[0], w = n.operands[1], y = n.result;
  ConvGeometry g(n.attrs, c.shape(x), c.shape(w), c.shape(y));
  GRADC_CHECK(g.pad[0] == 0 && g.pad[1] == 0, "a channel-vector conv2d with padding");
  const int64_t taps = g.taps();
  const ChannelTile ct(c, g.out_c, vw);
  const int64_t nr = ct.nr;
  const int64_t blocks = (g.ow + ct.most_rows - 1) / ct.most_rows;
  const int64_t mr = (g.ow + blocks - 1) / blocks, tail = g.ow - (blocks - 1) * mr;
  // The epilogue gets vectors of a row's positions (below), or else single
  // elements, in loops for LLVM to vectorise.
  if (vw >= 8 && mr <= vw && (!point || point_lanes))
    c.markCleanupOnly();
  if (vw >= 8)
    c.markNoLoopStrengthReduction(); // each unit's opaque indices (below)
  RowMajor rows_of_w{w, taps};
  Loader lw = [&](EmitContext &c, const Lanes &l, llvm::Value *d) {
    return loadRows(c, w, d, taps, l);
  };
  packOperand(c, PanelSource{lw, nullptr, &rows_of_w}, g.out_c, taps, nr, vw, workspace);

  ct.forEachUnit(
      c, workspace, g.batch * g.oh * blocks, mr * nr * taps, parallel, mr, vw,
      [&](EmitContext &tc, TileSums &sums, llvm::Value *tile, llvm::Value *ws, llvm::Value *u,
          llvm::Value *pb) {
        auto &b = tc.b;
        llvm::Value *blk = b.CreateURem(u, tc.i64(blocks));
        u = b.CreateUDiv(u, tc.i64(blocks));
        // The unit's row, image and first column, opaque (EmitContext::opaque):
        // LSR 4.9 -> 2.7 ms of our_cnn's conv2's code generation.
        llvm::Value *orow = tc.opaque(b.CreateURem(u, tc.i64(g.oh)));
        llvm::Value *img = tc.opaque(b.CreateUDiv(u, tc.i64(g.oh)));
        llvm::Value *ow0 = tc.opaque(b.CreateMul(blk, tc.i64(mr)));
        auto body = [&](int64_t rows) {
          sums.zero();
          // Over (channel, kernel row) pairs, then the kernel row's taps.
          emitCountedLoop(
              b, tc.i64(g.in_c * g.kh),
              [&](llvm::Value *q) {
                llvm::Value *ch = b.CreateUDiv(q, tc.i64(g.kh)),
                            *ki = b.CreateURem(q, tc.i64(g.kh));
                llvm::Value *ih = b.CreateAdd(b.CreateMul(orow, tc.i64(g.stride[0])),
                                              b.CreateMul(ki, tc.i64(g.dil[0])));
                llvm::Value *plane = mad(tc, img, g.in_c, ch);
                llvm::Value *xrow = b.CreateAdd(b.CreateMul(mad(tc, plane, g.h, ih), tc.i64(g.w)),
                                                b.CreateMul(ow0, tc.i64(g.stride[1])));
                emitLoopNest(b, {g.kw}, [&](llvm::ArrayRef<llvm::Value *> kj) {
                  llvm::Value *tap = mad(tc, q, g.kw, kj[0]);
                  llvm::Value *at = b.CreateMul(mad(tc, pb, taps, tap), tc.i64(nr));
                  llvm::Value *x0 = b.CreateAdd(xrow, b.CreateMul(kj[0], tc.i64(g.dil[1])));
                  sums.step(sums.loadB(ws, at), rows, [&](int64_t j) {
                    return tc.load(x, b.CreateAdd(x0, tc.i64(j * g.stride[1])));
                  });
                });
              },
              false);
          // Channel by channel, the block's positions to the epilogue: as one
          // vector where the epilogue takes vectors and the positions fit one
          // (the tile transposed in registers and stored a channel's
          // positions at a time: a gather down the row-major tile's column
          // per channel took a fifth of cnn_fashion's conv2), else one by one.
          llvm::Value *o0 = b.CreateMul(pb, tc.i64(nr));
          llvm::Value *lanes = minOf(tc, b.CreateSub(tc.i64(g.out_c), o0), tc.i64(nr));
          if (vw >= 8 && rows <= vw && (!point || point_lanes)) {
            llvm::Value *mask = firstLanes(tc, unsigned(vw), tc.i64(rows));
            llvm::Type *vecTy = llvm::FixedVectorType::get(tc.f32Ty(), unsigned(vw));
            sums.storeColumns(tile, rows); // one group: rows <= vw
            emitCountedLoop(b, lanes, [&](llvm::Value *l) {
              llvm::Value *o = b.CreateAdd(o0, l);
              llvm::Value *v = b.CreateAlignedLoad(
                  vecTy, b.CreateInBoundsGEP(tc.f32Ty(), tile, b.CreateMul(l, tc.i64(vw))),
                  llvm::Align(4));
              llvm::Value *flat = mad(tc, mad(tc, mad(tc, img, g.out_c, o), g.oh, orow), g.ow, ow0);
              if (point)
                point(tc, {img, o, orow, ow0}, flat, v, mask);
              else
                tc.storeLanes(y, flat, v, mask);
            });
            return;
          }
          sums.store(tile, rows);
          emitCountedLoop(b, lanes, [&](llvm::Value *l) {
            llvm::Value *o = b.CreateAdd(o0, l);
            emitLoopNest(b, {rows}, [&](llvm::ArrayRef<llvm::Value *> j) {
              llvm::Value *v = b.CreateLoad(
                  tc.f32Ty(), b.CreateInBoundsGEP(tc.f32Ty(), tile, mad(tc, j[0], nr, l)));
              llvm::Value *ocol = b.CreateAdd(ow0, j[0]);
              llvm::Value *flat =
                  mad(tc, mad(tc, mad(tc, img, g.out_c, o), g.oh, orow), g.ow, ocol);
              if (point)
                point(tc, {img, o, orow, ocol}, flat, v, nullptr);
              else
                tc.store(y, flat, v);
            });
          });
        };
        if (tail == mr)
          return body(mr);
        emitIf(b, b.CreateICmpULT(blk, tc.i64(blocks - 1)), [&] { body(mr); });
        emitIf(b, b.CreateICmpEQ(blk, tc.i64(blocks - 1)), [&] { body(tail); });
      });
}

// dw[o, (c, kh, kw)] = sum over n, oh, ow of x[n, c, ih, iw] dy[n, o, oh, ow],
// ih = oh * stride + kh * dil, iw likewise (no padding), on vectors of output
// channels (plan::GradWeightForm::Channels). dy is first transposed, one task
// per image, into panels of nr channels: P[img][panel][position][nr], zero
// past out_c, as B's panels are packed. Then one task per (input channel,
// block of window taps, channel panel) keeps taps x nv vectors of sums in
// registers over every image and position: per position, nv vector loads of
// the panel and one broadcast of x per tap, at an offset from the position's
// that is a constant of the tap block. Each sum runs over the images and
// positions in order within one task, so any thread count gives its bits.
void emitChannelsConv2dGradWeight(EmitContext &c, const ir::Node &n, llvm::Value *workspace,
                                  int vw) {
  c.markCleanupOnly();
  ir::ValueId x = n.operands[0], dy = n.operands[1], dw = n.result;
  ConvGeometry g(n.attrs, c.shape(x), c.shape(dw), c.shape(dy));
  GRADC_CHECK(g.pad[0] == 0 && g.pad[1] == 0, "a channel-vector weight gradient with padding");
  const int64_t pos = g.positions(), window = g.kh * g.kw, taps = g.taps();
  const ChannelTile ct(c, g.out_c, vw);
  const int64_t nr = ct.nr, image_floats = ct.np * nr * pos;
  const int64_t tap_blocks = (window + ct.most_rows - 1) / ct.most_rows;
  const int64_t mt = (window + tap_blocks - 1) / tap_blocks;

  // dy[img] as the rows (channels) of a row-major matrix of positions.
  emitParallelFor(
      c, g.batch, g.batch, g.batch * g.out_c * pos >= plan::kParallelMinWork, [&](Task &t) {
        EmitContext &tc = t.c;
        llvm::Value *base = tc.b.CreateMul(t.index, tc.i64(g.out_c * pos));
        RowMajor rows{dy, pos, base};
        Loader load = [&](EmitContext &c, const Lanes &l, llvm::Value *d) {
          return loadRows(c, dy, c.b.CreateAdd(base, d), pos, l);
        };
        llvm::Value *dst = tc.b.CreateInBoundsGEP(tc.f32Ty(), t.arg(workspace),
                                                  tc.b.CreateMul(t.index, tc.i64(image_floats)));
        packOperand(tc, PanelSource{load, nullptr, &rows}, g.out_c, pos, nr, vw, dst);
      });

  ct.forEachUnit(
      c, workspace, g.in_c * tap_blocks, mt * nr * g.batch * pos, true, mt, vw,
      [&](EmitContext &tc, TileSums &sums, llvm::Value *tile, llvm::Value *ws, llvm::Value *rest,
          llvm::Value *pb) {
        auto &b = tc.b;
        llvm::Value *tb = b.CreateURem(rest, tc.i64(tap_blocks));
        llvm::Value *ch = b.CreateUDiv(rest, tc.i64(tap_blocks));
        // The tap block's code, with its taps' offsets as constants.
        for (int64_t blk = 0; blk < tap_blocks; ++blk)
          emitIf(b, b.CreateICmpEQ(tb, tc.i64(blk)), [&] {
            const int64_t j0 = blk * mt, rows = std::min(mt, window - j0);
            sums.zero();
            emitLoopNest(b, {g.batch, g.oh}, [&](llvm::ArrayRef<llvm::Value *> iv) {
              llvm::Value *img = iv[0], *r = iv[1];
              llvm::Value *plane = b.CreateAdd(b.CreateMul(img, tc.i64(g.in_c)), ch);
              llvm::Value *xrow = b.CreateMul(
                  b.CreateAdd(b.CreateMul(plane, tc.i64(g.h)), b.CreateMul(r, tc.i64(g.stride[0]))),
                  tc.i64(g.w));
              llvm::Value *panel =
                  b.CreateMul(b.CreateAdd(b.CreateMul(img, tc.i64(ct.np)), pb), tc.i64(pos * nr));
              emitCountedLoop(
                  b, tc.i64(g.ow),
                  [&](llvm::Value *col) {
                    llvm::Value *p = mad(tc, r, g.ow, col);
                    llvm::Value *dp = b.CreateAdd(panel, b.CreateMul(p, tc.i64(nr)));
                    llvm::Value *xo = b.CreateAdd(xrow, b.CreateMul(col, tc.i64(g.stride[1])));
                    sums.step(sums.loadB(ws, dp), rows, [&](int64_t j) {
                      int64_t ki = (j0 + j) / g.kw, kj = (j0 + j) % g.kw;
                      return tc.load(x,
                                     b.CreateAdd(xo, tc.i64(ki * g.dil[0] * g.w + kj * g.dil[1])));
                    });
                  },
                  false);
            });
            // The sums to dw: tap row j, channel lane l of panel pb.
            sums.store(tile, rows);
            llvm::Value *o0 = b.CreateMul(pb, tc.i64(nr));
            llvm::Value *lanes = minOf(tc, b.CreateSub(tc.i64(g.out_c), o0), tc.i64(nr));
            llvm::Value *tap0 = b.CreateAdd(b.CreateMul(ch, tc.i64(window)), tc.i64(j0));
            emitLoopNest(b, {rows}, [&](llvm::ArrayRef<llvm::Value *> jv) {
              emitCountedLoop(b, lanes, [&](llvm::Value *l) {
                llvm::Value *sum = b.CreateLoad(
                    tc.f32Ty(), b.CreateInBoundsGEP(tc.f32Ty(), tile, mad(tc, jv[0], nr, l)));
                llvm::Value *o = b.CreateAdd(o0, l);
                tc.store(dw, mad(tc, o, taps, b.CreateAdd(tap0, jv[0])), sum);
              });
            });
          });
      });
}

/// A convolution whose output rows read rows of a source in place, one row
/// per tap (stride 1 along the rows' columns): out[img, ch, r, col] = sum
/// over taps e = (src_ch, ki, kj) of A(ch, e) src[img, src_ch, r * row_mul +
/// ki * ki_mul + row_add, col + kj * kj_mul + col_add], where rows or
/// columns outside src read 0. conv2d's forward pass (src x, A = W) and its
/// input gradient (src dy, A = W transposed per tap) have this form.
struct DirectRows {
  ir::ValueId src;
  int64_t src_c, src_h, src_w;      ///< src per image: channels, rows, columns
  int64_t out_c, out_h, out_w;      ///< out per image
  int64_t kh, kw;                   ///< the window: taps per source channel
  int64_t row_mul, ki_mul, row_add; ///< the source row of output row r, tap row ki
  int64_t kj_mul, col_add;          ///< the column shift of tap column kj
};

/// The DirectRows GEMM: A (out_c x src_c * kh * kw, read by `la`) packed once
/// as panels in `workspace`; then one task per (image, block of nv row
/// segments, channel panel) keeps mr output channels x nv vectors of output
/// positions (vw columns of one output row each) in registers over every
/// tap: per tap, nv masked loads of the source row it reads, shifted by it
/// (the mask keeps rows and columns outside src and the row's tail out), and
/// mr broadcasts of A. In a flat plane (below) a block is a period of vectors
/// over whole rows instead, each vector lane 0's row and column on, loaded
/// plainly or across a row end. Each output element goes to `sink` once, with
/// indices (image, channel, row, column) and its flat index in the output;
/// with `sink_lanes`, as a vector (lane 0's indices; the mask keeps a row
/// segment's tail out, null in a flat plane).
void emitDirectRows(EmitContext &c, const DirectRows &d, const Loader &la, llvm::Value *workspace,
                    int vw, bool parallel, PointHook sink, bool sink_lanes = false) {
  const int64_t window = d.kh * d.kw, depth = d.src_c * window;
  // Whether some tap reads outside src's rows, or columns, of a valid output
  // position (padding): else the loads need only the row's tail masked off,
  // a mask of the segment alone, hoisted out of the taps.
  auto outside = [](int64_t last_out, int64_t out_mul, int64_t taps, int64_t tap_mul, int64_t add,
                    int64_t src) {
    const int64_t far = (taps - 1) * tap_mul;
    return std::min<int64_t>(0, far) + add < 0 ||
           last_out * out_mul + std::max<int64_t>(0, far) + add >= src;
  };
  const bool row_check = outside(d.out_h - 1, d.row_mul, d.kh, d.ki_mul, d.row_add, d.src_h);
  const bool col_check = outside(d.out_w - 1, 1, d.kw, d.kj_mul, d.col_add, d.src_w);
  // A flat plane (flatPeriod, emit.h) where no tap reads outside src and the
  // sink takes vectors: a block is then one period, each vector a plain load
  // or two masked ones where it crosses a row end. Only where the period's
  // vectors leave room for a tile of kGemmMinRows channels (AVX-512's 32
  // registers; with 16, the plan's padded rows would not hold the panels).
  const int64_t period = flatPeriod(d.out_w, d.out_h, vw);
  const bool flat = sink_lanes && !row_check && !col_check && period > 0 &&
                    (c.vector_registers - period - 1) / period >= plan::kGemmMinRows;
  const int64_t period_rows = flat ? period * vw / d.out_w : 0;
  const int64_t segs = (d.out_w + vw - 1) / vw;
  const int64_t colvecs = flat ? d.out_h * d.out_w / vw : d.out_h * segs;
  const int64_t nv = flat ? period : colvecs >= 2 ? 2 : 1;
  const int64_t cblocks = (colvecs + nv - 1) / nv;
  const int64_t most = std::min<int64_t>(plan::kGemmMaxRows, (c.vector_registers - nv - 1) / nv);
  const int64_t mp = (d.out_c + most - 1) / most, mr = (d.out_c + mp - 1) / mp;
  GRADC_CHECK(mp * mr <= plan::gemmPaddedRows(d.out_c), "A's panels outgrow the plan's workspace");
  packPanels(c, la, d.out_c, depth, mr, workspace);
  const int64_t batch = c.shape(d.src)[0];

  emitParallelRanges(
      c, batch * cblocks * mp, mr * nv * vw * depth, parallel,
      [&](Task &t, llvm::Value *lo, llvm::Value *hi) {
        EmitContext &tc = t.c;
        auto &b = tc.b;
        llvm::Value *ws = t.arg(workspace);
        TileSums sums(tc, mr, nv, vw);
        llvm::Value *tile =
            tc.entryAlloca("tile", llvm::ArrayType::get(tc.f32Ty(), uint64_t(mr * nv * vw)));
        llvm::Constant *ids = laneIds(tc, vw);
        llvm::Value *zero = llvm::Constant::getNullValue(sums.vecTy);
        emitCountedLoop(b, b.CreateSub(hi, lo), [&](llvm::Value *i) {
          llvm::Value *u = b.CreateAdd(lo, i);
          llvm::Value *pa = b.CreateURem(u, tc.i64(mp));
          u = b.CreateUDiv(u, tc.i64(mp));
          llvm::Value *cb = b.CreateURem(u, tc.i64(cblocks)),
                      *img = b.CreateUDiv(u, tc.i64(cblocks));
          // Segment v of the block: output row r[v], columns col0[v] + lane
          // (flat: lane 0's row and column; the lanes run on into the next row).
          std::vector<llvm::Value *> q, r, col0, cols, live;
          for (int64_t v = 0; v < nv; ++v) {
            q.push_back(b.CreateAdd(b.CreateMul(cb, tc.i64(nv)), tc.i64(v)));
            r.push_back(
                flat ? b.CreateAdd(b.CreateMul(cb, tc.i64(period_rows)), tc.i64(v * vw / d.out_w))
                     : b.CreateUDiv(q.back(), tc.i64(segs)));
            col0.push_back(flat ? tc.i64(v * vw % d.out_w)
                                : b.CreateMul(b.CreateURem(q.back(), tc.i64(segs)), tc.i64(vw)));
            cols.push_back(b.CreateAdd(asLanes(tc, col0.back(), ids), ids));
            live.push_back(b.CreateAnd(
                b.CreateICmpULT(cols.back(), cst(cols.back(), d.out_w)),
                b.CreateVectorSplat(unsigned(vw), b.CreateICmpULT(q.back(), tc.i64(colvecs)))));
          }
          llvm::Value *apanel =
              b.CreateInBoundsGEP(tc.f32Ty(), ws, b.CreateMul(pa, tc.i64(mr * depth)));
          sums.zero();
          emitCountedLoop(
              b, tc.i64(d.src_c * d.kh),
              [&](llvm::Value *ck) {
                llvm::Value *sc = b.CreateUDiv(ck, tc.i64(d.kh)),
                            *ki = b.CreateURem(ck, tc.i64(d.kh));
                llvm::Value *plane = mad(tc, img, d.src_c, sc);
                emitLoopNest(b, {d.kw}, [&](llvm::ArrayRef<llvm::Value *> kj) {
                  llvm::Value *e = mad(tc, ck, d.kw, kj[0]);
                  // Signed offsets: no wrap flags (mad's would make them poison).
                  llvm::Value *shift =
                      b.CreateAdd(b.CreateMul(kj[0], tc.i64(d.kj_mul)), tc.i64(d.col_add));
                  std::vector<llvm::Value *> bv;
                  for (int64_t v = 0; v < nv; ++v) {
                    auto sourceRow = [&](llvm::Value *out_row) {
                      return b.CreateAdd(
                          b.CreateMul(out_row, tc.i64(d.row_mul)),
                          b.CreateAdd(b.CreateMul(ki, tc.i64(d.ki_mul)), tc.i64(d.row_add)));
                    };
                    // src's element at source row `row`, output column `col`.
                    auto at = [&](llvm::Value *row, llvm::Value *col) {
                      return b.CreateAdd(
                          b.CreateMul(b.CreateAdd(b.CreateMul(plane, tc.i64(d.src_h)), row),
                                      tc.i64(d.src_w)),
                          b.CreateAdd(col, shift));
                    };
                    llvm::Value *sr = sourceRow(r[size_t(v)]);
                    if (flat) {
                      // In range everywhere (no padding).
                      const int64_t first = d.out_w - v * vw % d.out_w;
                      bv.push_back(loadAcrossRowEnd(
                          tc, tc.ptr[size_t(d.src)], at(sr, col0[size_t(v)]),
                          at(sourceRow(b.CreateAdd(r[size_t(v)], tc.i64(1))), tc.i64(-first)),
                          first, vw));
                      continue;
                    }
                    llvm::Value *mask = live[size_t(v)];
                    if (col_check) {
                      llvm::Value *scol = b.CreateAdd(cols[size_t(v)], asLanes(tc, shift, ids));
                      mask = b.CreateAnd(mask, b.CreateICmpULT(scol, cst(scol, d.src_w)));
                    }
                    if (row_check)
                      mask = b.CreateAnd(
                          mask,
                          b.CreateVectorSplat(unsigned(vw), b.CreateICmpULT(sr, tc.i64(d.src_h))));
                    // Plain GEP: outside src the row lies outside it (masked off).
                    bv.push_back(b.CreateMaskedLoad(
                        sums.vecTy,
                        b.CreateGEP(tc.f32Ty(), tc.ptr[size_t(d.src)], at(sr, col0[size_t(v)])),
                        llvm::Align(4), mask, zero));
                  }
                  sums.step(bv, mr, [&](int64_t row) {
                    return b.CreateLoad(
                        tc.f32Ty(),
                        b.CreateInBoundsGEP(tc.f32Ty(), apanel, mad(tc, e, mr, tc.i64(row))));
                  });
                });
              },
              false);
          llvm::Value *c0 = b.CreateMul(pa, tc.i64(mr));
          auto flatOf = [&](llvm::Value *ch, int64_t v) {
            return mad(tc, mad(tc, mad(tc, img, d.out_c, ch), d.out_h, r[size_t(v)]), d.out_w,
                       col0[size_t(v)]);
          };
          if (sink_lanes) {
            // Each valid vector of the tile from its register, rows unrolled.
            for (int64_t row = 0; row < mr; ++row) {
              llvm::Value *ch = b.CreateAdd(c0, tc.i64(row));
              auto vectors = [&] {
                for (int64_t v = 0; v < nv; ++v) {
                  auto one = [&] {
                    sink(tc, {img, ch, r[size_t(v)], col0[size_t(v)]}, flatOf(ch, v),
                         b.CreateLoad(sums.vecTy, sums.acc[size_t(row * nv + v)]),
                         !flat && d.out_w % vw ? live[size_t(v)] : nullptr);
                  };
                  if (v == 0 || colvecs % nv == 0)
                    one(); // the block's first vector is always a segment
                  else
                    emitIf(b, b.CreateICmpULT(q[size_t(v)], tc.i64(colvecs)), one);
                }
              };
              if (d.out_c % mr == 0)
                vectors();
              else
                emitIf(b, b.CreateICmpULT(ch, tc.i64(d.out_c)), vectors);
            }
            return;
          }
          sums.store(tile, mr);
          // The valid rows (channels) and columns of the tile, row by row.
          llvm::Value *rows = minOf(tc, b.CreateSub(tc.i64(d.out_c), c0), tc.i64(mr));
          emitCountedLoop(b, rows, [&](llvm::Value *row) {
            llvm::Value *ch = b.CreateAdd(c0, row);
            for (int64_t v = 0; v < nv; ++v)
              emitIf(b, b.CreateICmpULT(q[size_t(v)], tc.i64(colvecs)), [&] {
                llvm::Value *n_cols =
                    minOf(tc, b.CreateSub(tc.i64(d.out_w), col0[size_t(v)]), tc.i64(vw));
                llvm::Value *flat0 = flatOf(ch, v);
                emitCountedLoop(b, n_cols, [&](llvm::Value *l) {
                  llvm::Value *x = b.CreateLoad(
                      tc.f32Ty(),
                      b.CreateInBoundsGEP(tc.f32Ty(), tile,
                                          b.CreateAdd(mad(tc, row, nv * vw, l), tc.i64(v * vw))));
                  sink(tc, {img, ch, r[size_t(v)], b.CreateAdd(col0[size_t(v)], l)},
                       b.CreateAdd(flat0, l), x, nullptr);
                });
              });
          });
        });
      });
}

// y[n, o, oh, ow] = sum over e = (c, kh, kw) of W[o, c, kh, kw] x[n, c, ih, iw]
// with ih = oh * stride - pad + kh * dil and iw = ow - pad + kw * dil (stride 1
// along W), on DirectRows (plan::ConvForm::Direct): y's rows read x's rows in
// place, W's rows as A.
void emitDirectConv2d(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                      bool parallel, PointHook point, bool point_lanes) {
  ir::ValueId x = n.operands[0], w = n.operands[1];
  ConvGeometry g(n.attrs, c.shape(x), c.shape(w), c.shape(n.result));
  GRADC_CHECK(g.stride[1] == 1, "a direct conv2d with a stride along W");
  // Whole vectors to the epilogue, on targets whose masked loads and stores
  // are instructions (as emitPackedConv2d).
  const bool lanes = vw >= 8 && point_lanes;
  if (lanes)
    c.markCleanupOnly();
  const int64_t taps = g.taps();
  Loader lw = [&](EmitContext &c, const Lanes &o, llvm::Value *e) {
    return loadRows(c, w, e, taps, o);
  };
  DirectRows d{x,    g.in_c, g.h,         g.w,      g.out_c,   g.oh,     g.ow,
               g.kh, g.kw,   g.stride[0], g.dil[0], -g.pad[0], g.dil[1], -g.pad[1]};
  emitDirectRows(c, d, lw, workspace, vw, parallel, point, lanes);
}

// dx[n, c, ih, iw] = sum over e = (o, kh, kw) of W[o, c, kh, kw] dy[n, o, oh, ow]
// with oh = ih + pad - kh * dil (ow likewise) and stride 1, on DirectRows
// (plan::GradInputForm::Direct): dx's rows read dy's rows in place, W
// transposed per tap as A (input channels as rows, as the transposed
// convolution below packs it).
void emitDirectConv2dGradInput(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw) {
  ir::ValueId dy = n.operands[0], w = n.operands[1], dx = n.result;
  ConvGeometry g(n.attrs, c.shape(dx), c.shape(w), c.shape(dy));
  GRADC_CHECK(g.stride[0] == 1 && g.stride[1] == 1, "a direct input gradient with a stride");
  const int64_t window = g.kh * g.kw, taps = g.taps();
  // A(c, e) = W[o, c, kh, kw] with e = o * window + (kh * kw + kw).
  Loader lw = [&](EmitContext &c, const Lanes &ch, llvm::Value *e) {
    llvm::Value *o = c.b.CreateUDiv(e, c.i64(window)), *r = c.b.CreateURem(e, c.i64(window));
    return loadRows(c, w, mad(c, o, taps, r), window, ch);
  };
  DirectRows d{dy,   g.out_c, g.oh, g.ow,      g.in_c,   g.h,       g.w,
               g.kh, g.kw,    1,    -g.dil[0], g.pad[0], -g.dil[1], g.pad[1]};
  // Whole vectors of dx's rows, on targets whose masked stores are instructions.
  const bool lanes = vw >= 8;
  if (lanes)
    c.markCleanupOnly();
  emitDirectRows(
      c, d, lw, workspace, vw, true,
      [&](EmitContext &c, llvm::ArrayRef<llvm::Value *>, llvm::Value *flat, llvm::Value *v,
          llvm::Value *mask) { c.storeLanes(dx, flat, v, mask); },
      lanes);
}

// dx[n, c, ih, iw] = sum over taps (kh, kw) of C[(c, kh, kw), (oh, ow)] with
// oh = ih + pad - kh * dil inside dy (ow likewise; stride 1), where C = W^T
// dy[n] is the image's column matrix: a GEMM of depth out_c into the task's
// slot of the workspace, then col2im as a gather, a vector of dx's row at a
// time (plan::GradInputForm::Columns). One GEMM takes plan::columnsImages
// images, their positions side by side as its columns, so that the columns
// fill whole B panels. One task per group of images, in its worker's slot:
// [W^T's panels | each slot's dy panels | each slot's C].
void emitColumnsConv2dGradInput(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                                int64_t slots) {
  ir::ValueId dy = n.operands[0], w = n.operands[1], dx = n.result;
  ConvGeometry g(n.attrs, c.shape(dx), c.shape(w), c.shape(dy));
  GRADC_CHECK(g.stride[0] == 1 && g.stride[1] == 1, "a column-matrix input gradient with a stride");
  const int64_t window = g.kh * g.kw, rows = g.in_c * window, pos = g.oh * g.ow;
  const int64_t images = plan::columnsImages(c.f, n), cols = images * pos;
  const int64_t groups = (g.batch + images - 1) / images;
  GemmLayout gl = gemmLayout(c, rows, cols, g.out_c, vw, workspace, true);
  gl.lanes = vw >= 8;
  if (vw >= 8)
    c.markNoLoopStrengthReduction(); // C's opaque base (below)
  // A(e, o) = W[o, e]: W's rows are A's columns.
  Loader lw = [&](EmitContext &c, const Lanes &e, llvm::Value *o) {
    return loadRows(c, w, c.b.CreateMul(o, c.i64(rows)), 1, e);
  };
  packPanels(c, lw, gl.m, gl.k, gl.mr, gl.ap(c));
  // The column matrices follow every slot's B panels (within the plan's workspace).
  const int64_t c_off = gl.b_off + slots * gl.b_slot;
  llvm::Type *vecTy = llvm::FixedVectorType::get(c.f32Ty(), unsigned(vw));
  emitParallelFor(c, groups, slots, slots > 1, [&](Task &t) {
    EmitContext &tc = t.c;
    auto &b = tc.b;
    llvm::Value *img0 = b.CreateMul(t.index, tc.i64(images));
    GemmLayout tg = gl.in(t);
    // Opaque (EmitContext::opaque): the GEMM's sink and col2im address C
    // from it (LSR 10.4 -> 7.7 ms of this function's code generation).
    llvm::Value *cm = tc.opaque(b.CreateInBoundsGEP(
        tc.f32Ty(), tg.ws, b.CreateAdd(tc.i64(c_off), b.CreateMul(t.worker, tc.i64(rows * cols)))));
    // B^T(j, o) = dy[img0 + j / pos, o, j % pos]: an output channel's plane
    // is a row of B per image; columns past the batch read 0.
    Loader lbt = [&](EmitContext &c, const Lanes &q, llvm::Value *o) {
      if (images == 1)
        return loadRows(c, dy, c.b.CreateMul(mad(c, img0, g.out_c, o), c.i64(pos)), 1, q);
      auto &b = c.b;
      unsigned width = llvm::cast<llvm::FixedVectorType>(q.rows->getType())->getNumElements();
      if (pos >= int64_t(width)) {
        // The lanes span at most two images: the first image's lanes are one
        // masked load from the plane they start in, the second's one from
        // the next image's plane of channel o, out_c - 1 planes further on.
        llvm::Value *first = b.CreateUDiv(q.row0, c.i64(pos));
        llvm::Value *img = b.CreateAdd(img0, first);
        llvm::Value *start = b.CreateAdd(b.CreateMul(mad(c, img, g.out_c, o), c.i64(pos)),
                                         b.CreateURem(q.row0, c.i64(pos)));
        llvm::Value *in_first =
            b.CreateICmpEQ(b.CreateUDiv(q.rows, cst(q.rows, pos)), asLanes(c, first, q.rows));
        auto part = [&](llvm::Value *lanes, llvm::Value *image, int64_t offset) {
          llvm::Value *ok =
              b.CreateAnd(b.CreateAnd(q.valid, lanes),
                          b.CreateVectorSplat(width, b.CreateICmpULT(image, c.i64(g.batch))));
          llvm::Type *vecTy = floatsLike(c, q.rows);
          return b.CreateMaskedLoad(
              vecTy, b.CreateGEP(c.f32Ty(), c.ptr[size_t(dy)], b.CreateAdd(start, c.i64(offset))),
              llvm::Align(4), ok, llvm::Constant::getNullValue(vecTy));
        };
        return b.CreateSelect(
            in_first, part(in_first, img, 0),
            part(b.CreateNot(in_first), b.CreateAdd(img, c.i64(1)), (g.out_c - 1) * pos));
      }
      llvm::Value *img =
          b.CreateAdd(asLanes(c, img0, q.rows), b.CreateUDiv(q.rows, cst(q.rows, pos)));
      llvm::Value *p = b.CreateURem(q.rows, cst(q.rows, pos));
      llvm::Value *plane = b.CreateAdd(b.CreateMul(img, cst(img, g.out_c)), asLanes(c, o, img));
      llvm::Value *idx = b.CreateAdd(b.CreateMul(plane, cst(plane, pos)), p);
      return gatherLanes(c, dy, idx, b.CreateAnd(q.valid, b.CreateICmpULT(img, cst(img, g.batch))));
    };
    // C's whole tiles straight from the micro-kernel (GemmLayout::c_direct),
    // its edge tiles through the sink.
    tg.c_direct = cm;
    tg.c_ld = cols;
    emitGemm(
        tc, tg, nullptr, PanelSource{lbt}, vw,
        [&](EmitContext &c, llvm::Value *e, llvm::Value *q, llvm::Value *x, llvm::Value *mask) {
          c.storeLanesAt(cm, mad(c, e, cols, q), x, mask);
        },
        t.worker);
    // col2im, image by image of the group: each vector of dx's row sums the
    // taps whose dy row lies inside.
    llvm::Constant *ids = laneIds(tc, vw);
    llvm::Value *zero = llvm::Constant::getNullValue(vecTy);
    llvm::Value *acc = tc.entryAlloca("acc", vecTy);
    const int64_t segs = (g.w + vw - 1) / vw;
    emitLoopNest(b, {images}, [&](llvm::ArrayRef<llvm::Value *> k) {
      llvm::Value *img = b.CreateAdd(img0, k[0]);
      llvm::Value *col0 = b.CreateMul(k[0], tc.i64(pos)); // the image's first column of C
      emitIf(b, b.CreateICmpULT(img, tc.i64(g.batch)), [&] {
        emitLoopNest(b, {g.in_c, g.h, segs}, [&](llvm::ArrayRef<llvm::Value *> ix) {
          llvm::Value *ch = ix[0], *ih = ix[1], *iw0 = b.CreateMul(ix[2], tc.i64(vw));
          llvm::Value *iw = b.CreateAdd(asLanes(tc, iw0, ids), ids);
          llvm::Value *inside = b.CreateICmpULT(iw, cst(iw, g.w));
          b.CreateStore(zero, acc);
          // A kernel row's taps are summed as a tree, then added to the row's
          // sum: one long chain of dependent adds, a tap at a time, made
          // col2im wait on the adds' latency.
          std::vector<llvm::Value *> shifts, masks;
          for (int64_t kj = 0; kj < g.kw; ++kj) {
            // Signed offsets: no wrap flags (mad's would make them poison).
            shifts.push_back(tc.i64(g.pad[1] - kj * g.dil[1]));
            llvm::Value *ow = b.CreateAdd(iw, asLanes(tc, shifts.back(), ids));
            masks.push_back(b.CreateAnd(inside, b.CreateICmpULT(ow, cst(ow, g.ow))));
          }
          emitLoopNest(b, {g.kh}, [&](llvm::ArrayRef<llvm::Value *> ki) {
            llvm::Value *oh = b.CreateSub(b.CreateAdd(ih, tc.i64(g.pad[0])),
                                          b.CreateMul(ki[0], tc.i64(g.dil[0])));
            emitIf(b, b.CreateICmpULT(oh, tc.i64(g.oh)), [&] {
              std::vector<llvm::Value *> taps;
              for (int64_t kj = 0; kj < g.kw; ++kj) {
                llvm::Value *e = mad(tc, mad(tc, ch, g.kh, ki[0]), g.kw, tc.i64(kj));
                llvm::Value *at = b.CreateAdd(b.CreateAdd(b.CreateMul(e, tc.i64(cols)), col0),
                                              b.CreateAdd(b.CreateMul(oh, tc.i64(g.ow)),
                                                          b.CreateAdd(iw0, shifts[size_t(kj)])));
                // Plain GEP: a masked-off lane may point outside C.
                taps.push_back(b.CreateMaskedLoad(vecTy, b.CreateGEP(tc.f32Ty(), cm, at),
                                                  llvm::Align(4), masks[size_t(kj)], zero));
              }
              while (taps.size() > 1) {
                std::vector<llvm::Value *> next;
                for (size_t i = 0; i + 1 < taps.size(); i += 2)
                  next.push_back(b.CreateFAdd(taps[i], taps[i + 1]));
                if (taps.size() % 2)
                  next.push_back(taps.back());
                taps = std::move(next);
              }
              b.CreateStore(b.CreateFAdd(b.CreateLoad(vecTy, acc), taps[0]), acc);
            });
          });
          llvm::Value *flat = mad(tc, mad(tc, mad(tc, img, g.in_c, ch), g.h, ih), g.w, iw0);
          tc.storeLanes(dx, flat, b.CreateLoad(vecTy, acc), inside);
        });
      });
    });
  });
}

// dx[n][c, q] = sum over e = (o, kh, kw) of W[o, c, kh, kw] dy[n, o, oh, ow],
// per image, as a transposed convolution: the GEMM's columns are the input
// positions q = (ih, iw), its depth the taps e of every output channel, and
// (oh, ow) is the output position that reads (ih, iw) through tap (kh, kw):
// oh = (ih + pad - kh * dil) / stride when that divides and lies inside dy,
// else the term is 0. Each element of dx is written once, by the GEMM's
// sink: no zeroing and no scatter. One task per image, in its worker's slot.
void emitPackedConv2dGradInput(EmitContext &c, const ir::Node &n, llvm::Value *workspace, int vw,
                               int64_t slots) {
  ir::ValueId dy = n.operands[0], w = n.operands[1], dx = n.result;
  ConvGeometry g(n.attrs, c.shape(dx), c.shape(w), c.shape(dy));
  int64_t window = g.kh * g.kw, taps = g.taps(), hw = g.h * g.w;
  GemmLayout gl = gemmLayout(c, g.in_c, hw, g.out_c * window, vw, workspace, true);
  // A(c, e) = W[o, c, kh, kw] with e = o * window + (kh * kw + kw).
  Loader lw = [&](EmitContext &c, const Lanes &ch, llvm::Value *e) {
    llvm::Value *o = c.b.CreateUDiv(e, c.i64(window)), *r = c.b.CreateURem(e, c.i64(window));
    return loadRows(c, w, mad(c, o, taps, r), window, ch);
  };
  packPanels(c, lw, gl.m, gl.k, gl.mr, gl.ap(c));
  emitParallelFor(c, g.batch, slots, slots > 1, [&](Task &t) {
    llvm::Value *img = t.index;
    // B^T(q, e) = dy[img, o, oh, ow] for the input positions q as lanes.
    Loader lbt = [&](EmitContext &c, const Lanes &q, llvm::Value *e) {
      auto &b = c.b;
      llvm::Value *o = b.CreateUDiv(e, c.i64(window)), *r = b.CreateURem(e, c.i64(window));
      llvm::Value *ki = b.CreateUDiv(r, c.i64(g.kw)), *kj = b.CreateURem(r, c.i64(g.kw));
      llvm::Value *valid = q.valid;
      // The output coordinate along one axis that reads input coordinate `in`.
      auto outAt = [&](llvm::Value *in, llvm::Value *k, int d, int64_t extent) {
        llvm::Value *num = b.CreateSub(b.CreateAdd(in, cst(in, g.pad[d])),
                                       asLanes(c, b.CreateMul(k, c.i64(g.dil[d])), in));
        llvm::Value *out = num;
        if (g.stride[d] > 1) {
          valid = b.CreateAnd(
              valid, b.CreateICmpEQ(b.CreateSRem(num, cst(num, g.stride[d])), cst(num, 0)));
          out = b.CreateSDiv(num, cst(num, g.stride[d]));
        }
        valid = b.CreateAnd(valid, b.CreateICmpSGE(num, cst(num, 0)));
        valid = b.CreateAnd(valid, b.CreateICmpSLT(out, cst(out, extent)));
        return out;
      };
      llvm::Value *oh = outAt(b.CreateUDiv(q.rows, cst(q.rows, g.w)), ki, 0, g.oh);
      llvm::Value *ow = outAt(b.CreateURem(q.rows, cst(q.rows, g.w)), kj, 1, g.ow);
      llvm::Value *plane = b.CreateMul(mad(c, img, g.out_c, o), c.i64(g.oh * g.ow));
      llvm::Value *idx =
          b.CreateAdd(asLanes(c, plane, oh), b.CreateAdd(b.CreateMul(oh, cst(oh, g.ow)), ow));
      return gatherLanes(c, dy, idx, valid);
    };
    // With stride 1, an input row's positions read consecutive columns of
    // dy's row ih + pad - kh * dil in channel o.
    ShiftedRows rows{dy, g.h, g.w, g.oh, g.ow, 1, [&](EmitContext &c, llvm::Value *e) {
                       auto &b = c.b;
                       llvm::Value *o = b.CreateUDiv(e, c.i64(window));
                       llvm::Value *r = b.CreateURem(e, c.i64(window));
                       llvm::Value *ki = b.CreateUDiv(r, c.i64(g.kw));
                       llvm::Value *kj = b.CreateURem(r, c.i64(g.kw));
                       return ShiftedRows::Shift{
                           b.CreateMul(mad(c, img, g.out_c, o), c.i64(g.oh * g.ow)),
                           b.CreateSub(c.i64(g.pad[0]), b.CreateMul(ki, c.i64(g.dil[0]))),
                           b.CreateSub(c.i64(g.pad[1]), b.CreateMul(kj, c.i64(g.dil[1])))};
                     }};
    bool unit_stride = g.stride[0] == 1 && g.stride[1] == 1;
    emitGemm(
        t.c, gl.in(t), nullptr, PanelSource{lbt, unit_stride ? &rows : nullptr}, vw,
        [&](EmitContext &c, llvm::Value *ch, llvm::Value *q, llvm::Value *v, llvm::Value *) {
          c.store(dx, mad(c, mad(c, img, g.in_c, ch), hw, q), v);
        },
        t.worker);
  });
}

} // namespace gradc::codegen
