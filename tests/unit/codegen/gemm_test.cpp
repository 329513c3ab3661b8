// The packed matmul against the interpreter on odd shapes that reach every
// vector tail, register-tile edge and panel edge: m, n and k drawn from
// {1, 7, 15, 17, 31, 33, 64, 65, 257}, all four transposes, with and without
// an epilogue. Also at each vector width the micro-kernel is built for
// (16, 8, 4 floats), whatever the host; and the convolutions' forms and
// epilogues, pooling and bias-gradient sums that feed or follow them.
#include "gemm_cases.h"

#include "codegen/lower.h"
#include "plan/plan.h"

#include <tuple>

namespace gradc::codegen::testing {
namespace {

TEST(Gemm, OddShapesAllTransposesMatchInterpreter) {
  int packed = 0;
  for (int t = 0; t < 4; ++t) {
    SCOPED_TRACE("transpose_a " + std::to_string(t & 1) + ", transpose_b " +
                 std::to_string(t >> 1));
    ir::Module m = matmuls(t & 1, t >> 1, 24, uint32_t(t + 1));
    plan::ModulePlan p = plan::buildPlan(m);
    for (const plan::Kernel &k : p.functions[0].kernels)
      packed += k.workspace_bytes > 0 ||
                (k.kind == plan::KernelKind::MatMul &&
                 plan::matMulForm(m.functions[0], m.functions[0].nodes()[size_t(k.root)]) !=
                     plan::MatMulForm::Packed);
    // Sums over k = 257 in a different order: float rounding, not exactness.
    expectJitMatchesInterpreter(m, uint32_t(t), -1, 1, 1e-4, 1e-5);
  }
  EXPECT_GE(packed,
            40); // most shapes take the packed or an in-place form, the tiny ones plain loops
}

/// How many of `m`'s matmul kernels run in `form`.
int matmulsIn(const ir::Module &m, plan::MatMulForm form) {
  int in_form = 0;
  const ir::Function &f = m.functions[0];
  plan::ModulePlan p = plan::buildPlan(m);
  for (const plan::Kernel &k : p.functions[0].kernels)
    in_form += k.kind == plan::KernelKind::MatMul &&
               plan::matMulForm(f, f.nodes()[size_t(k.root)]) == form;
  return in_form;
}

/// `m` compiled with `o` against the interpreter.
void expectOptionsMatchInterpreter(const ir::Module &m, const runtime::JitOptions &o,
                                   uint32_t seed) {
  auto jit = runtime::makeJitExecutor(m, o);
  ASSERT_TRUE(bool(jit)) << jit.error().message();
  auto interp = runtime::makeInterpreterExecutor(m);
  runtime::TensorMap args = randomArgs(m.functions[0], seed, -1, 1);
  auto want = interp->call("f", args);
  auto got = (*jit)->call("f", args);
  ASSERT_TRUE(bool(want) && bool(got));
  expectClose(*want, *got, 1e-4, 1e-5);
}

/// A target class: floats per vector and vector registers.
struct Target {
  int vw, registers;
};

/// `m` built for each target class against the interpreter.
void expectEveryTargetMatchesInterpreter(const ir::Module &m, std::initializer_list<Target> ts) {
  for (Target t : ts) {
    SCOPED_TRACE(std::to_string(t.registers) + " registers of " + std::to_string(t.vw) + " floats");
    runtime::JitOptions o;
    o.vector_floats = t.vw;
    o.vector_registers = t.registers;
    expectOptionsMatchInterpreter(m, o, uint32_t(t.vw + t.registers));
  }
}

/// `m` built for vectors of `vw` floats against the interpreter.
void expectWidthMatchesInterpreter(const ir::Module &m, int vw) {
  runtime::JitOptions o;
  o.vector_floats = vw;
  expectOptionsMatchInterpreter(m, o, uint32_t(vw));
}

TEST(Gemm, EveryVectorWidthMatchesInterpreter) {
  for (int vw : {1, 4, 8, 16}) {
    SCOPED_TRACE("vector width " + std::to_string(vw));
    ir::Module m = matmuls(vw == 8, vw != 16, 10, uint32_t(vw));
    expectWidthMatchesInterpreter(m, vw);
  }
}

/// `m` built for every target class with an in-place matmul form: AVX-512,
/// AVX2 (a dot-product tile of one row), 4-float vectors with 32 and 16
/// registers (SSE, NEON), and scalars.
void expectEveryFormTargetMatchesInterpreter(const ir::Module &m) {
  expectEveryTargetMatchesInterpreter(
      m, {Target{16, 32}, Target{8, 16}, Target{4, 32}, Target{4, 16}, Target{1, 16}});
}

// C = A B^T with an output layer's few columns, as dot products of rows:
// every tile-row remainder, depth tail and epilogue.
TEST(Gemm, DotProductsEveryTargetMatchInterpreter) {
  ir::Module m = dotMatmuls();
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Dot), 11);
  expectEveryFormTargetMatchesInterpreter(m);
}

// C = A B of a short depth with A and B in place.
TEST(Gemm, OuterProductsEveryTargetMatchInterpreter) {
  ir::Module m = outerMatmuls();
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Outer), 11);
  expectEveryFormTargetMatchesInterpreter(m);
}

// C = A^T B alone in its kernel with A^T and B in place; with an epilogue,
// packed.
TEST(Gemm, OuterTransposedAProductsEveryTargetMatchInterpreter) {
  ir::Module m = outerTransposedAMatmuls();
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Outer), 6);
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Packed), 5);
  expectEveryFormTargetMatchesInterpreter(m);
}

// C = A B^T as C^T = B A^T with A^T in the workspace.
TEST(Gemm, TransposedProductsEveryTargetMatchInterpreter) {
  ir::Module m = transposedMatmuls();
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Transposed), 9);
  expectEveryFormTargetMatchesInterpreter(m);
}

// Each form with an epilogue that sums down C's columns.
TEST(Gemm, EveryMatmulFormSumsItsColumnsInOrder) {
  ir::Module m = summedMatmuls();
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Dot), 1);
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Outer), 2);
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Transposed), 1);
  EXPECT_EQ(matmulsIn(m, plan::MatMulForm::Packed), 1);
  expectEveryFormTargetMatchesInterpreter(m);
}

// The register tile and the cache blocks of every target class, on caches
// small enough that the 257-deep matmuls run in three depth blocks and
// their A and B panels in several MC and NC blocks: AVX-512 (14 x 32 tiles),
// AVX2 (6 x 16), AArch64 NEON (6 x 16 of 4-float vectors), 32-bit NEON (6 x 8).
TEST(Gemm, RegisterTilesAndCacheBlocksMatchInterpreter) {
  int t = 0;
  for (Target target : {Target{16, 32}, Target{8, 16}, Target{4, 32}, Target{4, 16}}) {
    SCOPED_TRACE(std::to_string(target.registers) + " registers of " + std::to_string(target.vw) +
                 " floats");
    ir::Module m = matmuls(t & 1, (t >> 1) & 1, 8, uint32_t(40 + t));
    ++t;
    runtime::JitOptions o;
    o.vector_floats = target.vw;
    o.vector_registers = target.registers;
    o.caches = {4 << 10, 32 << 10, 64 << 10};
    expectOptionsMatchInterpreter(m, o, uint32_t(t));
  }
}

TEST(Gemm, ConvolutionsAsImplicitGemmMatchInterpreter) {
  const ConvCase cases[] = {
      {2, 6, 19, 17, 21, 3, 2, 2, 1, 1, 0, 1, 2},  // non-square kernel, stride, dilation
      {3, 8, 12, 12, 17, 3, 3, 1, 1, 1, 1, 1, 1},  // same padding
      {2, 1, 29, 23, 33, 5, 1, 3, 2, 2, 0, 2, 1},  // one channel, tall kernel
      {1, 24, 16, 18, 17, 1, 1, 1, 2, 0, 0, 1, 1}, // 1x1 taps, strided
      {2, 3, 9, 37, 7, 3, 3, 1, 1, 2, 1, 1, 2},    // stride 1: rows packed by masked loads
  };
  int packed = 0, direct = 0, direct_forward = 0;
  for (const ConvCase &k : cases) {
    SCOPED_TRACE("conv " + std::to_string(k.o) + "x" + std::to_string(k.c) + "x" +
                 std::to_string(k.kh) + "x" + std::to_string(k.kw));
    ir::Module m = convModule(k);
    plan::ModulePlan p = plan::buildPlan(m);
    for (const plan::Kernel &kn : p.functions[0].kernels) {
      packed += kn.workspace_bytes > 0;
      const ir::Node &n = m.functions[0].nodes()[size_t(kn.first)];
      direct += n.op == ir::OpKind::Conv2dGradWeight &&
                plan::convGradWeightForm(m.functions[0], n) == plan::GradWeightForm::Direct;
      direct_forward += n.op == ir::OpKind::Conv2d && kn.workspace_bytes > 0 &&
                        plan::convForm(m.functions[0], n) == plan::ConvForm::Direct;
    }
    expectJitMatchesInterpreter(m, 5, -1, 1, 1e-4, 1e-5);
  }
  EXPECT_GE(packed, 6);         // most take the implicit GEMM, tiny ones plain loops
  EXPECT_EQ(direct, 3);         // weight gradients with stride 1 along W, rows of >= 8
  EXPECT_EQ(direct_forward, 3); // forward passes likewise; the strided ones pack
}

// The forward pass with x read in place (stride 1 along W, rows of at least
// 8), its relu epilogue on vectors: padding on both axes, a vertical stride
// and a dilation along W, 13 output channels (a partial panel); and one
// without padding (no masks at all at 8 and 16 floats), 9 rows of 16 columns
// (an odd number of segments at 16 floats: a tile's second vector missing,
// which must not be stored), 6 channels; and one without padding whose rows
// of 24 run as a flat plane at 16 floats (3 vectors over 2 rows, the middle
// one crossing a row end), with a vertical stride and dilation and 11
// channels (a partial panel); and rows of 12 with 5 channels, a flat plane at
// 8 floats where 32 registers hold a tile of 6 channels x 3 vectors, and row
// segments where 16 do not (a flat tile of 4 channels there outgrew the
// plan's workspace and aborted). At each vector width and register budget.
TEST(Gemm, DirectConvolutionEveryTarget) {
  for (const ConvCase &k : {ConvCase{2, 5, 11, 29, 13, 3, 2, 2, 1, 1, 1, 1, 2},
                            ConvCase{3, 3, 11, 18, 6, 3, 3, 1, 1, 0, 0, 1, 1},
                            ConvCase{2, 3, 23, 26, 11, 3, 3, 2, 1, 0, 0, 2, 1},
                            ConvCase{1, 3, 18, 14, 5, 3, 3, 1, 1, 0, 0, 1, 1}}) {
    ir::Module m = convModule(k);
    plan::ModulePlan p = plan::buildPlan(m);
    int direct = 0;
    for (const plan::Kernel &kn : p.functions[0].kernels) {
      const ir::Node &n = m.functions[0].nodes()[size_t(kn.first)];
      direct += n.op == ir::OpKind::Conv2d && kn.workspace_bytes > 0 &&
                plan::convForm(m.functions[0], n) == plan::ConvForm::Direct;
    }
    EXPECT_EQ(direct, 1); // with a workspace (W's panels): not plain loops
    SCOPED_TRACE("padding " + std::to_string(k.ph));
    expectEveryTargetMatchesInterpreter(m, {{16, 32}, {8, 32}, {8, 16}, {4, 32}, {4, 16}, {1, 32}});
  }
}

// A conv2d's epilogue on vectors of output positions: a per-channel bias
// (one value for every lane), a per-position term (consecutive elements)
// and, in a second conv, a per-row term, which no vector of positions can
// read and so stays scalar. With 17 output channels the direct form (its
// vectors are segments of a row; 17 channels a partial panel), or with a
// stride of 2 along W the packed form (its vectors cross the output's rows;
// 11 x 5 outputs leave a partial vector per channel); with 16 the
// channel-vector form (its tile transposed in registers, each channel's
// block of a row's positions one vector). At each vector width.
TEST(Gemm, ConvolutionEpiloguesOnVectorsOfPositions) {
  for (auto [o, sw, form] : {std::tuple{int64_t(17), int64_t(1), plan::ConvForm::Direct},
                             std::tuple{int64_t(17), int64_t(2), plan::ConvForm::Packed},
                             std::tuple{int64_t(16), int64_t(1), plan::ConvForm::Channels}}) {
    ir::Function f("f");
    const int64_t n = 2, c = 4, h = 13, w = 11, oh = 11, ow = (w - 3) / sw + 1;
    ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({n, c, h, w}));
    ir::ValueId wt = f.addArg("w", ir::ArgRole::Param, ir::f32({o, c, 3, 3}));
    ir::ValueId bias = f.addArg("bias", ir::ArgRole::Input, ir::f32({o}));
    ir::ValueId plane = f.addArg("plane", ir::ArgRole::Input, ir::f32({oh, ow}));
    ir::ValueId rows = f.addArg("rows", ir::ArgRole::Input, ir::f32({oh}));
    ir::Attrs a;
    a.set("stride", std::vector<int64_t>{1, sw});
    a.set("padding", std::vector<int64_t>{0, 0});
    a.set("dilation", std::vector<int64_t>{1, 1});
    auto broadcast = [&](ir::ValueId v, std::vector<int64_t> dims) {
      ir::Attrs bc;
      bc.set("shape", std::vector<int64_t>{n, o, oh, ow});
      bc.set("dims", std::move(dims));
      return f.addNode(ir::OpKind::Broadcast, {v}, bc);
    };
    ir::ValueId y = f.addNode(ir::OpKind::Conv2d, {x, wt}, a);
    y = f.addNode(ir::OpKind::Add, {y, broadcast(bias, {1})});
    y = f.addNode(ir::OpKind::Mul, {y, broadcast(plane, {2, 3})});
    f.addResult("y", ir::ResultRole::Output, f.addNode(ir::OpKind::Relu, {y}));
    ir::ValueId z = f.addNode(ir::OpKind::Conv2d, {x, wt}, a);
    z = f.addNode(ir::OpKind::Sub, {z, broadcast(rows, {2})});
    f.addResult("z", ir::ResultRole::Output, f.addNode(ir::OpKind::Relu, {z}));
    ir::Module m = moduleOf(passes::fuseKernels(f));
    plan::ModulePlan p = plan::buildPlan(m);
    int fused = 0, in_form = 0;
    for (const plan::Kernel &k : p.functions[0].kernels) {
      if (k.kind != plan::KernelKind::Conv2d)
        continue;
      fused += k.workspace_bytes > 0 && k.end - k.first > 1;
      in_form += plan::convForm(m.functions[0], m.functions[0].nodes()[size_t(k.root)]) == form;
    }
    EXPECT_EQ(fused, 2); // both convolutions with workspaces, each with its epilogue
    EXPECT_EQ(in_form, 2);
    for (int vw : {1, 4, 8, 16}) {
      SCOPED_TRACE(std::to_string(o) + " channels, stride " + std::to_string(sw) +
                   ", vector width " + std::to_string(vw));
      expectWidthMatchesInterpreter(m, vw);
    }
  }
}

// Sums over an elementwise kernel's trailing axes (a conv2d bias gradient
// sums a channel's planes) on vectors along each plane, the lanes added up in
// a register: one sum over (n, h, w) and one over (h, w) only, a per-position
// term read per lane, a stored product, planes of 42 (a masked tail at 16
// floats) and of 144 split by channel into parallel tasks; at each vector
// width (the path needs 8 floats or more).
TEST(Gemm, SumsOverTrailingAxesOnVectors) {
  for (const ir::Shape &shape : {ir::Shape{3, 5, 7, 6}, ir::Shape{64, 18, 12, 12}}) {
    ir::Function f("f");
    ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32(shape));
    ir::ValueId y = f.addArg("y", ir::ArgRole::Input, ir::f32(shape));
    ir::ValueId plane = f.addArg("plane", ir::ArgRole::Input, ir::f32({shape[2], shape[3]}));
    ir::Attrs bc;
    bc.set("shape", shape);
    bc.set("dims", std::vector<int64_t>{2, 3});
    ir::ValueId mask = f.addNode(ir::OpKind::Step, {y}, {{"low", 0.0}, {"high", 1.0}});
    ir::ValueId t = f.addNode(ir::OpKind::Mul, {x, mask});
    t = f.addNode(ir::OpKind::Add, {t, f.addNode(ir::OpKind::Broadcast, {plane}, bc)});
    f.addResult("t", ir::ResultRole::Output, t);
    ir::Attrs all, planes;
    all.set("axes", std::vector<int64_t>{0, 2, 3});
    planes.set("axes", std::vector<int64_t>{2, 3});
    f.addResult("bias", ir::ResultRole::Output, f.addNode(ir::OpKind::ReduceSum, {t}, all));
    f.addResult("per", ir::ResultRole::Output, f.addNode(ir::OpKind::ReduceSum, {t}, planes));
    ir::Module m = moduleOf(passes::fuseKernels(f));
    for (int vw : {1, 8, 16}) {
      SCOPED_TRACE(ir::shapeStr(shape) + ", vector width " + std::to_string(vw));
      expectWidthMatchesInterpreter(m, vw);
    }
  }
}

// The direct weight gradient at each vector width (its register block
// changes with it), on a geometry with padding, dilation, a row tail and a
// block tail in both channels and taps; and on two without padding, whose
// vectors run along the flat plane where rows are no multiple of the
// vector: 13 output channels (not a multiple of 8) with dilation along H and
// rows of 24 (3 vectors over 2 rows at 16 floats), and 7 channels with a
// vertical stride and rows of 12 (3 vectors over 2 rows at 8 floats); rows
// of 28 (7 vectors over 4 rows at 16 floats, our_cnn's conv1; 7 over 2 at 8)
// and of 20 (5 over 4 at 16), whose longer periods the weight gradient runs
// flat too (kFlatPeriodSums); and rows of 18, whose period of 9 vectors at 16
// floats is too long, without padding as segments.
TEST(Gemm, DirectWeightGradientEveryVectorWidth) {
  for (const ConvCase &k : {ConvCase{2, 5, 11, 29, 13, 3, 2, 2, 1, 1, 1, 1, 2},
                            ConvCase{2, 3, 12, 27, 13, 3, 4, 1, 1, 0, 0, 2, 1},
                            ConvCase{2, 3, 33, 16, 7, 3, 5, 2, 1, 0, 0, 1, 1},
                            ConvCase{2, 2, 10, 30, 5, 3, 3, 1, 1, 0, 0, 1, 1},
                            ConvCase{1, 2, 10, 22, 7, 3, 3, 1, 1, 0, 0, 1, 1},
                            ConvCase{2, 2, 10, 20, 7, 3, 3, 1, 1, 0, 0, 1, 1}}) {
    ir::Module m = convModule(k);
    int direct = 0;
    for (const ir::Node &n : m.functions[0].nodes())
      direct += n.op == ir::OpKind::Conv2dGradWeight &&
                plan::convGradWeightForm(m.functions[0], n) == plan::GradWeightForm::Direct;
    EXPECT_EQ(direct, 1);
    for (int vw : {1, 4, 8, 16}) {
      SCOPED_TRACE("padding " + std::to_string(k.ph) + ", vector width " + std::to_string(vw));
      expectWidthMatchesInterpreter(m, vw);
    }
  }
}

// The weight gradient on vectors of output channels (no padding, channels a
// multiple of 8): 24 channels leave a partial second vector at 16 floats,
// the 5 x 4 window splits into tap blocks that depend on the register
// count, with strides and a dilation; at each vector width and register
// budget.
TEST(Gemm, ChannelVectorWeightGradientEveryTarget) {
  ir::Module m = convModule({3, 3, 11, 13, 24, 5, 4, 2, 1, 0, 0, 1, 2});
  int channels = 0;
  for (const ir::Node &n : m.functions[0].nodes())
    channels += n.op == ir::OpKind::Conv2dGradWeight &&
                plan::convGradWeightForm(m.functions[0], n) == plan::GradWeightForm::Channels;
  EXPECT_EQ(channels, 1);
  expectEveryTargetMatchesInterpreter(m, {{16, 32}, {8, 16}, {4, 32}, {4, 16}});
}

// The input gradient with dy read in place (stride 1, rows of at least 8):
// padding on one axis, a row longer than 16 floats (two segments, the second
// a tail), at each vector width and register budget.
TEST(Gemm, DirectInputGradientEveryTarget) {
  ir::Module m = convModule({2, 5, 10, 19, 13, 3, 3, 1, 1, 1, 0, 1, 1});
  int direct = 0;
  for (const ir::Node &n : m.functions[0].nodes())
    direct += n.op == ir::OpKind::Conv2dGradInput &&
              plan::convGradInputForm(m.functions[0], n) == plan::GradInputForm::Direct;
  EXPECT_EQ(direct, 1);
  expectEveryTargetMatchesInterpreter(m, {{16, 32}, {8, 16}, {4, 32}, {4, 16}, {1, 32}});
}

// The input gradient through each image's column matrix (stride 1, 17
// output channels, dy smaller than dx): padding on one axis and a dilation
// on the other, a non-square window, 99 positions a image and 18 tap rows.
// A GEMM takes 2 images side by side (198 columns: a partial B panel) with a
// batch of 2, and 4 with a batch of 5 (the last group holds one image, the
// GEMM's other columns read 0); and 5 channels of a 3 x 3 window, 45 tap
// rows whose last row panel is part padding, so that whole tiles store into
// C from the micro-kernel (GemmLayout::c_direct) and the edge tiles of both
// C's last rows and last columns go through the sink; at each vector width
// and register budget.
TEST(Gemm, ColumnsInputGradientEveryTarget) {
  const std::pair<ConvCase, int64_t> cases[] = {{{2, 3, 9, 13, 17, 3, 2, 1, 1, 1, 0, 1, 2}, 2},
                                                {{5, 3, 9, 13, 17, 3, 2, 1, 1, 1, 0, 1, 2}, 4},
                                                {{2, 5, 9, 13, 17, 3, 3, 1, 1, 1, 0, 1, 1}, 2}};
  for (const auto &[k, images] : cases) {
    ir::Module m = convModule(k);
    int columns = 0;
    for (const ir::Node &n : m.functions[0].nodes())
      if (n.op == ir::OpKind::Conv2dGradInput &&
          plan::convGradInputForm(m.functions[0], n) == plan::GradInputForm::Columns) {
        ++columns;
        EXPECT_EQ(plan::columnsImages(m.functions[0], n), images);
      }
    EXPECT_EQ(columns, 1);
    SCOPED_TRACE("batch " + std::to_string(k.n) + ", " + std::to_string(k.c) + " channels");
    expectEveryTargetMatchesInterpreter(m, {{16, 32}, {8, 16}, {4, 32}, {4, 16}, {1, 32}});
  }
}

// Stride 1 packs im2col (forward) and its transpose (input gradient) by rows
// of positions, vw at a time, with a segment that crosses a panel edge and
// reads into the padding: at each vector width. Rows of 35 read x in place
// (the direct form); rows of 7, too short for it, pack.
TEST(Gemm, UnitStrideConvolutionsEveryVectorWidth) {
  for (int64_t w : {37, 9}) {
    ir::Module m = convModule({2, 3, 9, w, 7, 3, 3, 1, 1, 2, 1, 1, 2});
    for (const ir::Node &n : m.functions[0].nodes()) {
      if (n.op == ir::OpKind::Conv2d) {
        EXPECT_EQ(plan::convForm(m.functions[0], n),
                  w == 37 ? plan::ConvForm::Direct : plan::ConvForm::Packed);
      }
    }
    for (int vw : {1, 4, 8, 16}) {
      SCOPED_TRACE("width " + std::to_string(w) + ", vector width " + std::to_string(vw));
      expectWidthMatchesInterpreter(m, vw);
    }
  }
}

} // namespace
} // namespace gradc::codegen::testing
