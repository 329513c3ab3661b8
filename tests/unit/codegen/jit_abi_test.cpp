// The ABI through the JIT: params / grads / state buffers, scalars, a loss,
// in-place updates applied only after every read, results that alias
// arguments, and two threads running two instances.
#include "codegen_test_util.h"

#include "codegen/abi.h"
#include "plan/plan.h"

#include <thread>

namespace gradc::codegen::testing {
namespace {

using ir::OpKind;
using ir::Shape;

ir::ValueId bcast(ir::Function &f, ir::ValueId v, Shape shape, Shape dims) {
  return f.addNode(OpKind::Broadcast, {v}, {{"shape", shape}, {"dims", dims}});
}

/// A train-step-like function: forward, loss, a gradient, and updates of a
/// param and a state tensor; "out.w_before" returns the param argument itself.
ir::Function trainLike() {
  ir::Function f("train");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({3, 4}));
  ir::ValueId w = f.addArg("w", ir::ArgRole::Param, ir::f32({4, 2}));
  ir::ValueId b = f.addArg("b", ir::ArgRole::Param, ir::f32({2}));
  ir::ValueId m = f.addArg("m", ir::ArgRole::State, ir::f32({4, 2}));
  ir::ValueId lr = f.addArg("lr", ir::ArgRole::Scalar, ir::f32({}));
  ir::ValueId xw =
      f.addNode(OpKind::MatMul, {x, w}, {{"transpose_a", false}, {"transpose_b", false}});
  ir::ValueId y = f.addNode(OpKind::Add, {xw, bcast(f, b, {3, 2}, {1})}, {}, "y");
  ir::ValueId loss =
      f.addNode(OpKind::ReduceSum, {f.addNode(OpKind::Mul, {y, y})}, {{"axes", Shape{0, 1}}});
  ir::ValueId gb = f.addNode(OpKind::ReduceSum, {y}, {{"axes", Shape{0}}});
  ir::ValueId m2 =
      f.addNode(OpKind::Add, {f.addNode(OpKind::Affine, {m}, {{"scale", 0.9}, {"shift", 0.0}}), w});
  ir::ValueId step = f.addNode(OpKind::Mul, {bcast(f, lr, {4, 2}, {}), m2});
  ir::ValueId w2 = f.addNode(OpKind::Sub, {w, step});
  f.addResult("out.y", ir::ResultRole::Output, y);
  f.addResult("out.w_before", ir::ResultRole::Output, w);
  f.addResult("loss", ir::ResultRole::Loss, loss);
  f.addResult("grad.b", ir::ResultRole::Grad, gb);
  f.addResult("w", ir::ResultRole::Update, w2, 1);
  f.addResult("m", ir::ResultRole::Update, m2, 3);
  return f;
}

/// An optimizer-step-like function reading Grad arguments.
ir::Function optimizerLike() {
  ir::Function f("opt");
  ir::ValueId w = f.addArg("w", ir::ArgRole::Param, ir::f32({4, 2}));
  ir::ValueId b = f.addArg("b", ir::ArgRole::Param, ir::f32({2}));
  ir::ValueId gw = f.addArg("grad.w", ir::ArgRole::Grad, ir::f32({4, 2}));
  ir::ValueId gb = f.addArg("grad.b", ir::ArgRole::Grad, ir::f32({2}));
  ir::ValueId lr = f.addArg("lr", ir::ArgRole::Scalar, ir::f32({}));
  ir::ValueId w2 =
      f.addNode(OpKind::Sub, {w, f.addNode(OpKind::Mul, {bcast(f, lr, {4, 2}, {}), gw})});
  ir::ValueId b2 = f.addNode(OpKind::Sub, {b, f.addNode(OpKind::Mul, {bcast(f, lr, {2}, {}), gb})});
  f.addResult("w", ir::ResultRole::Update, w2, 0);
  f.addResult("b", ir::ResultRole::Update, b2, 1);
  return f;
}

ir::Module abiModule() {
  ir::Module m = moduleOf(trainLike(), "abi");
  m.functions.push_back(optimizerLike());
  return m;
}

TEST(JitAbi, SignatureFollowsRoles) {
  ir::Module m = abiModule();
  FunctionAbi train = functionAbi(m, m.functions[0]);
  std::vector<std::string> names;
  for (const AbiParam &p : train.params)
    names.push_back(p.c_name);
  EXPECT_EQ(train.symbol, "abi_train");
  EXPECT_EQ(names, (std::vector<std::string>{"params", "grads", "state", "in_x", "lr", "out_y",
                                             "out_w_before", "scratch"}));
  EXPECT_FALSE(train.params[0].is_const);
  EXPECT_EQ(train.loss_result, 2);
  FunctionAbi opt = functionAbi(m, m.functions[1]);
  ASSERT_EQ(opt.params.size(), 4u);
  EXPECT_TRUE(opt.params[1].is_const); // grads are only read
}

TEST(JitAbi, LayoutIsAligned) {
  ir::Module m = abiModule();
  plan::ModulePlan l = plan::buildPlan(m);
  ASSERT_EQ(l.params.size(), 2u);
  EXPECT_EQ(l.params[0].offset, 0);
  EXPECT_EQ(l.params[1].offset, 64);
  EXPECT_EQ(l.params_bytes, 128);
  EXPECT_EQ(l.state_bytes, 64);
  for (size_t i = 0; i < l.functions.size(); ++i) {
    for (const plan::ValuePlan &vp : l.functions[i].values)
      EXPECT_EQ(vp.offset % plan::kAlignment, vp.offset < 0 ? vp.offset % plan::kAlignment : 0);
    EXPECT_TRUE(bool(plan::checkPlan(m.functions[i], l.functions[i])));
  }
}

TEST(JitAbi, TrainAndOptimizerMatchInterpreter) { expectJitMatchesInterpreter(abiModule(), 11); }

TEST(JitAbi, UpdatesDoNotLeakIntoReads) {
  ir::Module m = abiModule();
  auto jit = jitOf(m);
  runtime::TensorMap args = randomArgs(m.functions[0], 5);
  auto out = jit->call("train", args);
  ASSERT_TRUE(bool(out)) << out.error().message();
  EXPECT_EQ(out->at("out.w_before").f32, args.at("w").f32);
  EXPECT_NE(out->at("w").f32, args.at("w").f32);
  EXPECT_EQ(out->count("loss"), 1u);
}

#if defined(__x86_64__)
// Subnormal floats are flushed to zero during a call (FTZ and DAZ), and the
// caller's MXCSR is as it was afterwards.
TEST(JitAbi, SubnormalsFlushedAndCallersModeRestored) {
  ir::Function f("f");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({37}));
  ir::ValueId y = f.addNode(ir::OpKind::Add, {x, x}, {}, "y");
  f.addResult("out.y", ir::ResultRole::Output, y);
  auto jit = jitOf(moduleOf(std::move(f)));
  ASSERT_TRUE(jit);
  runtime::Tensor in = runtime::Tensor::zeros(ir::f32({37}));
  for (float &v : in.f32)
    v = 1e-39f; // subnormal
  unsigned before = __builtin_ia32_stmxcsr();
  auto out = jit->call("f", {{"x", in}});
  EXPECT_EQ(__builtin_ia32_stmxcsr(), before);
  ASSERT_TRUE(bool(out)) << out.error().message();
  for (float v : out->at("out.y").f32)
    EXPECT_EQ(v, 0.0f);
  EXPECT_NE(in.f32[0] + in.f32[0], 0.0f); // the caller still computes with subnormals
}
#endif

TEST(JitAbi, MissingArgumentIsAnError) {
  ir::Module m = abiModule();
  auto jit = jitOf(m);
  runtime::TensorMap args = randomArgs(m.functions[0], 5);
  args.erase("lr");
  auto out = jit->call("train", args);
  ASSERT_FALSE(bool(out));
  EXPECT_NE(out.error().message().find("'lr'"), std::string::npos);
  EXPECT_FALSE(bool(jit->call("nope", args)));
}

TEST(JitAbi, CompileTimeIsReported) {
  runtime::JitStats stats;
  auto jit = runtime::makeJitExecutor(abiModule(), &stats);
  ASSERT_TRUE(bool(jit));
  EXPECT_GT(stats.compile_ms, 0.0);
}

ir::Module convModule() {
  ir::Function f("forward");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({2, 3, 9, 9}));
  ir::ValueId w = f.addArg("w", ir::ArgRole::Param, ir::f32({4, 3, 3, 3}));
  ir::ValueId y =
      f.addNode(OpKind::Conv2d, {x, w},
                {{"stride", Shape{1, 1}}, {"padding", Shape{1, 1}}, {"dilation", Shape{1, 1}}});
  ir::ValueId p =
      f.addNode(OpKind::MaxPool2d, {f.addNode(OpKind::Tanh, {y})},
                {{"kernel", Shape{2, 2}}, {"stride", Shape{2, 2}}, {"padding", Shape{0, 0}}});
  f.addResult("out.p", ir::ResultRole::Output, p);
  return moduleOf(std::move(f), "conv");
}

TEST(JitAbi, TwoThreadsTwoInstancesAgree) {
  ir::Module m = convModule();
  auto a = jitOf(m), b = jitOf(m);
  runtime::TensorMap args = randomArgs(m.functions[0], 9);
  auto want = a->call("forward", args);
  ASSERT_TRUE(bool(want));
  std::vector<float> ra, rb;
  auto run = [&](runtime::Executor &e, std::vector<float> &out) {
    for (int i = 0; i < 200; ++i) {
      auto r = e.call("forward", args);
      if (r && (i == 0 || r->at("out.p").f32 == out))
        out = r->at("out.p").f32;
      else
        out.clear();
    }
  };
  std::thread ta(run, std::ref(*a), std::ref(ra)), tb(run, std::ref(*b), std::ref(rb));
  ta.join();
  tb.join();
  EXPECT_EQ(ra, want->at("out.p").f32);
  EXPECT_EQ(rb, want->at("out.p").f32);
}

} // namespace
} // namespace gradc::codegen::testing
