// Test functions for the packed GEMM and the implicit-GEMM convolutions,
// shared by gemm_test (against the interpreter) and threads_test (the same
// bits at every thread count).
#pragma once

#include "codegen_test_util.h"

#include "passes/fuse.h"

namespace gradc::codegen::testing {

inline const int64_t kSizes[] = {1, 7, 15, 17, 31, 33, 64, 65, 257};

/// Adds C = A B (with transposes `ta`, `tb`) of m x n x k to `f` as result
/// out<i>; with `epilogue`, relu(C + bias).
inline void addMatmul(ir::Function &f, int i, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
                      bool epilogue) {
  std::string s = std::to_string(i);
  ir::ValueId a =
      f.addArg("a" + s, ir::ArgRole::Input, ir::f32(ta ? ir::Shape{k, m} : ir::Shape{m, k}));
  ir::ValueId b =
      f.addArg("b" + s, ir::ArgRole::Input, ir::f32(tb ? ir::Shape{n, k} : ir::Shape{k, n}));
  ir::Attrs at;
  at.set("transpose_a", ta);
  at.set("transpose_b", tb);
  ir::ValueId c = f.addNode(ir::OpKind::MatMul, {a, b}, at);
  if (epilogue) {
    ir::ValueId bias = f.addArg("bias" + s, ir::ArgRole::Input, ir::f32({n}));
    ir::Attrs bc;
    bc.set("shape", std::vector<int64_t>{m, n});
    bc.set("dims", std::vector<int64_t>{1});
    c = f.addNode(ir::OpKind::Relu,
                  {f.addNode(ir::OpKind::Add, {c, f.addNode(ir::OpKind::Broadcast, {bias}, bc)})});
  }
  f.addResult("out" + s, ir::ResultRole::Output, c);
}

/// One function holding `count` matmuls of sampled shapes (always including
/// the smallest and the largest), each with transposes `ta`, `tb`; every
/// other one gets a bias-and-relu epilogue.
inline ir::Module matmuls(bool ta, bool tb, int count, uint32_t seed) {
  std::mt19937 rng(seed);
  ir::Function f("f");
  for (int i = 0; i < count; ++i) {
    int64_t m = kSizes[rng() % 9], n = kSizes[rng() % 9], k = kSizes[rng() % 9];
    if (i == 0)
      m = n = k = 257;
    if (i == 1)
      m = 1, n = 257, k = 65;
    addMatmul(f, i, m, n, k, ta, tb, i % 2);
  }
  return moduleOf(passes::fuseKernels(f));
}

/// One function holding a matmul of each m x n x k of `shapes`, with
/// transposes `ta`, `tb`; every other one gets a bias-and-relu epilogue.
template <size_t N> ir::Module matmulsOf(const int64_t (&shapes)[N][3], bool ta, bool tb) {
  ir::Function f("f");
  for (size_t i = 0; i < N; ++i)
    addMatmul(f, int(i), shapes[i][0], shapes[i][1], shapes[i][2], ta, tb, i % 2);
  return moduleOf(passes::fuseKernels(f));
}

/// C = A B^T with C's columns from plan::kDotMinCols to kDotMaxCols, run as
/// dot products of rows (plan::MatMulForm::Dot): depths with and without a vector
/// tail, row counts that leave every remainder of a tile's rows, one large
/// enough for parallel tasks; every other one with an epilogue.
inline ir::Module dotMatmuls() {
  const int64_t shapes[][3] = {{64, 8, 32},   {65, 10, 33}, {67, 12, 100}, {70, 9, 64},
                               {64, 10, 84},  {65, 11, 47}, {13, 10, 257}, {1025, 10, 512},
                               {33, 12, 128}, {7, 8, 300},  {1, 12, 2048}};
  return matmulsOf(shapes, false, true);
}

struct ConvCase {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw;
};

/// conv2d, conv2d_grad_input and conv2d_grad_weight of one geometry, each a
/// result, fused as the pipeline would.
inline ir::Module convModule(const ConvCase &k) {
  auto out = [](int64_t in, int64_t kern, int64_t s, int64_t p, int64_t d) {
    return (in + 2 * p - d * (kern - 1) - 1) / s + 1;
  };
  int64_t oh = out(k.h, k.kh, k.sh, k.ph, k.dh), ow = out(k.w, k.kw, k.sw, k.pw, k.dw);
  ir::Function f("f");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({k.n, k.c, k.h, k.w}));
  ir::ValueId w = f.addArg("w", ir::ArgRole::Param, ir::f32({k.o, k.c, k.kh, k.kw}));
  ir::ValueId dy = f.addArg("dy", ir::ArgRole::Input, ir::f32({k.n, k.o, oh, ow}));
  ir::Attrs a;
  a.set("stride", std::vector<int64_t>{k.sh, k.sw});
  a.set("padding", std::vector<int64_t>{k.ph, k.pw});
  a.set("dilation", std::vector<int64_t>{k.dh, k.dw});
  f.addResult("y", ir::ResultRole::Output,
              f.addNode(ir::OpKind::Relu, {f.addNode(ir::OpKind::Conv2d, {x, w}, a)}));
  ir::Attrs gi = a;
  gi.set("input_size", std::vector<int64_t>{k.h, k.w});
  f.addResult("dx", ir::ResultRole::Output, f.addNode(ir::OpKind::Conv2dGradInput, {dy, w}, gi));
  ir::Attrs gw = a;
  gw.set("kernel", std::vector<int64_t>{k.kh, k.kw});
  f.addResult("dw", ir::ResultRole::Output, f.addNode(ir::OpKind::Conv2dGradWeight, {x, dy}, gw));
  return moduleOf(passes::fuseKernels(f));
}

/// C = A B with a depth of at most plan::kOuterMaxDepth, run with A and B
/// in place (plan::MatMulForm::Outer): every remainder of a tile's rows and
/// columns (whole vectors past C's edge among them), one row, one depth, the
/// deepest, two large enough for parallel tasks (split by C's columns, B
/// the larger operand, and by rows); every other one with an epilogue.
inline ir::Module outerMatmuls() {
  const int64_t shapes[][3] = {{64, 84, 10},  {32, 84, 64},    {64, 128, 10},  {65, 100, 16},
                               {7, 300, 9},   {127, 70, 3},    {37, 31, 16},   {1, 2048, 8},
                               {128, 130, 1}, {128, 257, 256}, {128, 128, 256}};
  return matmulsOf(shapes, false, false);
}

/// C = A^T B (dY^T X): alone in its kernel (the even ones) in the Outer form
/// with A^T's rows read in place, up to plan::kOuterMaxRowsAlone rows; with
/// an epilogue (the odd ones) packed. Every remainder of a tile's rows and
/// columns, one row, one depth, and large ones for parallel tasks (split by
/// C's columns, and by rows).
inline ir::Module outerTransposedAMatmuls() {
  const int64_t shapes[][3] = {{10, 84, 32},   {84, 120, 64},   {65, 100, 16},  {7, 300, 9},
                               {127, 70, 3},   {37, 31, 16},    {1, 2048, 8},   {200, 130, 1},
                               {256, 784, 64}, {128, 257, 256}, {256, 128, 250}};
  return matmulsOf(shapes, true, false);
}

/// C = A B^T with A of at most plan::kOuterMaxRows rows, run as C^T = B A^T
/// (plan::MatMulForm::Transposed): A's rows and depths not multiples of a
/// vector (its transposition's edges), C's columns that leave every
/// remainder of a tile's rows, one row, two large enough for parallel tasks
/// (split by C's columns, B's rows, and by C's rows); every other one with
/// an epilogue.
inline ir::Module transposedMatmuls() {
  const int64_t shapes[][3] = {{64, 120, 250}, {33, 13, 129},   {17, 100, 31},
                               {1, 257, 64},   {128, 257, 200}, {65, 31, 17},
                               {7, 64, 300},   {31, 84, 120},   {128, 64, 520}};
  return matmulsOf(shapes, false, true);
}

/// A matmul of each form whose epilogue sums down C's columns (a bias
/// gradient: tanh(C), then its sum over the rows), which runs on one thread
/// and must see each column's rows in order: Dot, Outer (one large enough
/// to be parallel without the sum), Transposed and Packed.
inline ir::Module summedMatmuls() {
  ir::Function f("f");
  struct Case {
    int64_t m, n, k;
    bool ta, tb;
  };
  const Case cases[] = {{64, 10, 84, false, true},
                        {64, 84, 10, false, false},
                        {128, 128, 256, false, false},
                        {64, 120, 200, false, true},
                        {84, 120, 64, true, false}};
  ir::Attrs rows;
  rows.set("axes", std::vector<int64_t>{0});
  int i = 0;
  for (const Case &k : cases) {
    std::string s = std::to_string(i++);
    ir::ValueId a = f.addArg("a" + s, ir::ArgRole::Input,
                             ir::f32(k.ta ? ir::Shape{k.k, k.m} : ir::Shape{k.m, k.k}));
    ir::ValueId b = f.addArg("b" + s, ir::ArgRole::Input,
                             ir::f32(k.tb ? ir::Shape{k.n, k.k} : ir::Shape{k.k, k.n}));
    ir::Attrs at;
    at.set("transpose_a", k.ta);
    at.set("transpose_b", k.tb);
    ir::ValueId c = f.addNode(ir::OpKind::Tanh, {f.addNode(ir::OpKind::MatMul, {a, b}, at)});
    f.addResult("c" + s, ir::ResultRole::Output, c);
    f.addResult("sum" + s, ir::ResultRole::Output, f.addNode(ir::OpKind::ReduceSum, {c}, rows));
  }
  return moduleOf(passes::fuseKernels(f));
}

} // namespace gradc::codegen::testing
