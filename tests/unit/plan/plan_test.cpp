// The execution plan: the checker on every test model, on a few hundred
// random DAG functions (a property test), and fused code from those random
// functions against the reference interpreter. Also shows the checker fails.
#include "../codegen/codegen_test_util.h"

#include "frontend/model_json.h"
#include "passes/fuse.h"
#include "passes/pipeline.h"
#include "passes/schedule.h"
#include "plan/plan.h"

#include <filesystem>

namespace gradc::plan {
namespace {

using codegen::testing::expectJitMatchesInterpreter;
using codegen::testing::moduleOf;

std::string sourceDir() {
  const char *src = std::getenv("GRADC_SOURCE_DIR");
  return src ? src : GRADC_SOURCE_DIR;
}

void expectPlanHolds(const ir::Module &m) {
  ModulePlan p = buildPlan(m);
  ASSERT_EQ(p.functions.size(), m.functions.size());
  for (size_t i = 0; i < m.functions.size(); ++i) {
    const FunctionPlan &fp = p.functions[i];
    Status s = checkPlan(m.functions[i], fp);
    EXPECT_TRUE(bool(s)) << m.name << "." << m.functions[i].name() << ": "
                         << (s ? "" : s.error().message());
    EXPECT_GE(fp.arena_bytes, fp.lower_bound_bytes);
    EXPECT_LE(fp.arena_bytes, fp.naive_bytes);
    EXPECT_EQ(fp.arena_bytes % kAlignment, 0);
  }
}

TEST(Plan, HoldsOnEveryModel) {
  int models = 0;
  for (const char *dir : {"/examples/models", "/tests/models"})
    for (const auto &e : std::filesystem::directory_iterator(sourceDir() + dir)) {
      if (e.path().extension() != ".json")
        continue;
      SCOPED_TRACE(e.path().string());
      auto m = frontend::loadModel(e.path().string());
      ASSERT_TRUE(bool(m)) << m.error().message();
      ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
      expectPlanHolds(*m);
      ++models;
    }
  EXPECT_GE(models, 16);
}

/// The planned arena of the shared models stays within 5% of the lower bound.
TEST(Plan, ArenaNearTheLowerBound) {
  for (const char *name : {"smol_mlp", "mlp_fashion", "cnn_fashion", "our_cnn"}) {
    auto m = frontend::loadModel(sourceDir() + "/examples/models/" + name + ".json");
    ASSERT_TRUE(bool(m));
    ASSERT_TRUE(bool(passes::buildTrainingFunctions(*m)));
    ModulePlan p = buildPlan(*m);
    for (const FunctionPlan &fp : p.functions)
      EXPECT_LE(double(fp.arena_bytes), 1.05 * double(fp.lower_bound_bytes))
          << name << "." << fp.name;
  }
}

/// Where each matmul product of the shared models' train steps lives: a
/// weight gradient read only by its own kernel's optimizer update stays in
/// registers (it was once written to the arena besides, 800 KB a step for
/// mlp_fashion's fc1), as does a forward product read only by its bias and
/// activation; smol_mlp's small A^T B, which accumulates in C (plain loops),
/// keeps its own in memory, while its small dY W (the Outer form) does not.
TEST(Plan, MatmulProductsStayInRegistersUnlessTheyAccumulateInC) {
  auto homeOf = [](const char *model, const std::string &value) {
    auto m = frontend::loadModel(sourceDir() + "/examples/models/" + model + ".json");
    EXPECT_TRUE(m && passes::buildTrainingFunctions(*m));
    const ir::Function *f = m->find("train_step");
    ModulePlan p = buildPlan(*m);
    const FunctionPlan &fp = p.functions[size_t(f - m->functions.data())];
    for (const ir::Node &n : f->nodes())
      if (f->value(n.result).name == value)
        return fp.values[size_t(n.result)].home;
    ADD_FAILURE() << model << ": no value " << value;
    return Home::Arg;
  };
  EXPECT_EQ(homeOf("mlp_fashion", "d.fc1.weight"), Home::Register);
  EXPECT_EQ(homeOf("mlp_fashion", "d.fc2.weight"), Home::Register);
  EXPECT_EQ(homeOf("cnn_fashion", "d.fc1.weight"), Home::Register);
  EXPECT_EQ(homeOf("cnn_fashion", "d.flat"), Home::Arena); // read by the next kernel
  EXPECT_EQ(homeOf("smol_mlp", "d.fc1.weight"), Home::Arena);
  EXPECT_EQ(homeOf("smol_mlp", "d.sigmoid_1"), Home::Register);
}

// A matmul product nobody reads (IR that skipped dce) is stored by its
// kernel, so it lives in memory; a register home for it is refused. (A small
// A B, now the Outer form, stored through a null pointer.)
TEST(Plan, ValueNobodyReadsLivesInMemory) {
  ir::Function f("forward");
  ir::ValueId a = f.addArg("a", ir::ArgRole::Input, ir::f32({3, 3}));
  ir::ValueId b = f.addArg("b", ir::ArgRole::Input, ir::f32({3, 5}));
  ir::ValueId dead = f.addNode(ir::OpKind::MatMul, {a, b},
                               {{"transpose_a", false}, {"transpose_b", false}}, "dead");
  f.addResult("out", ir::ResultRole::Output, f.addNode(ir::OpKind::Exp, {b}));
  ir::Function g = passes::fuseKernels(f);
  FunctionPlan p = buildFunctionPlan(g);
  ASSERT_TRUE(bool(checkPlan(g, p)));
  EXPECT_EQ(p.values[size_t(dead)].home, Home::Arena);
  FunctionPlan bad = p;
  bad.values[size_t(dead)] = {Home::Register, -1, -1, p.values[size_t(dead)].kernel, -1};
  Status s = checkPlan(g, bad);
  ASSERT_FALSE(bool(s));
  EXPECT_NE(s.error().message().find("nobody reads it"), std::string::npos) << s.error().message();
  expectJitMatchesInterpreter(moduleOf(std::move(g)), 3, -1, 1);
}

/// A random function over a few shapes: elementwise chains, broadcasts of
/// rows and scalars, reductions, matmuls, reshapes, with outputs, and
/// updates of params and state (as optimizer steps have).
ir::Function randomFunction(std::mt19937 &rng) {
  const int64_t r = 3, c = 5;
  ir::Function f("train_step");
  std::vector<ir::ValueId> mats, rows, scalars;
  mats.push_back(f.addArg("x", ir::ArgRole::Input, ir::f32({r, c})));
  mats.push_back(f.addArg("w", ir::ArgRole::Param, ir::f32({r, c})));
  ir::ValueId s = f.addArg("m", ir::ArgRole::State, ir::f32({r, c}));
  mats.push_back(s);
  rows.push_back(f.addArg("b", ir::ArgRole::Param, ir::f32({c})));
  scalars.push_back(f.addArg("lr", ir::ArgRole::Scalar, ir::f32({})));
  auto pick = [&](const std::vector<ir::ValueId> &vs) {
    return vs[std::uniform_int_distribution<size_t>(0, vs.size() - 1)(rng)];
  };
  const ir::OpKind unary[] = {ir::OpKind::Relu, ir::OpKind::Sigmoid, ir::OpKind::Tanh,
                              ir::OpKind::Abs, ir::OpKind::Exp};
  const ir::OpKind binary[] = {ir::OpKind::Add, ir::OpKind::Sub, ir::OpKind::Mul};
  int steps = std::uniform_int_distribution<int>(3, 24)(rng);
  for (int i = 0; i < steps; ++i) {
    switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0:
    case 1:
      mats.push_back(f.addNode(unary[rng() % 5], {pick(mats)}));
      break;
    case 2:
    case 3:
    case 4:
      mats.push_back(f.addNode(binary[rng() % 3], {pick(mats), pick(mats)}));
      break;
    case 5: {
      ir::Attrs a;
      a.set("shape", std::vector<int64_t>{r, c});
      a.set("dims", rng() % 2 ? std::vector<int64_t>{1} : std::vector<int64_t>{});
      ir::ValueId src = a.ints("dims").empty() ? pick(scalars) : pick(rows);
      mats.push_back(f.addNode(ir::OpKind::Broadcast, {src}, a));
      break;
    }
    case 6: {
      ir::Attrs a;
      a.set("axes", rng() % 2 ? std::vector<int64_t>{0} : std::vector<int64_t>{0, 1});
      ir::ValueId v = f.addNode(ir::OpKind::ReduceSum, {pick(mats)}, a);
      (a.ints("axes").size() == 1 ? rows : scalars).push_back(v);
      break;
    }
    case 7: {
      ir::Attrs a; // [r, c] x [r, c]^T -> [r, r], then [r, r] x [r, c] -> [r, c]
      a.set("transpose_a", false);
      a.set("transpose_b", true);
      ir::ValueId p = f.addNode(ir::OpKind::MatMul, {pick(mats), pick(mats)}, a); // [r, r]
      ir::Attrs b;
      b.set("transpose_a", false);
      b.set("transpose_b", false);
      mats.push_back(f.addNode(ir::OpKind::MatMul, {p, pick(mats)}, b)); // [r, c]
      break;
    }
    case 8: {
      ir::Attrs a;
      a.set("shape", std::vector<int64_t>{r * c});
      ir::ValueId flat = f.addNode(ir::OpKind::Reshape, {pick(mats)}, a);
      ir::Attrs b;
      b.set("shape", std::vector<int64_t>{r, c});
      mats.push_back(f.addNode(ir::OpKind::Reshape, {flat}, b));
      break;
    }
    default: {
      ir::Attrs a;
      a.set("value", 0.5);
      a.set("shape", std::vector<int64_t>{r, c});
      ir::ValueId k = f.addNode(ir::OpKind::Constant, {}, a);
      mats.push_back(f.addNode(ir::OpKind::Mul, {k, pick(mats)}));
    }
    }
  }
  f.addResult("out", ir::ResultRole::Output, mats.back());
  if (rng() % 2)
    f.addResult("out2", ir::ResultRole::Output, pick(mats));
  f.addResult("new.w", ir::ResultRole::Update, f.addNode(ir::OpKind::Sub, {mats[1], pick(mats)}),
              f.findArg("w"));
  if (rng() % 2)
    f.addResult("new.m", ir::ResultRole::Update, f.addNode(ir::OpKind::Mul, {s, pick(mats)}),
                f.findArg("m"));
  return f;
}

TEST(Plan, HoldsOnRandomFunctions) {
  std::mt19937 rng(2026);
  for (int i = 0; i < 300; ++i) {
    ir::Function r = randomFunction(rng);
    ir::Function f = passes::fuseKernels(i % 2 ? passes::scheduleForMemory(r) : r);
    ASSERT_TRUE(bool(ir::verify(f))) << i;
    FunctionPlan p = buildFunctionPlan(f);
    Status s = checkPlan(f, p);
    ASSERT_TRUE(bool(s)) << "function " << i << ": " << s.error().message();
  }
}

TEST(Plan, FusedRandomFunctionsMatchTheInterpreter) {
  std::mt19937 rng(7);
  for (int i = 0; i < 40; ++i) {
    SCOPED_TRACE("function " + std::to_string(i));
    ir::Function r = randomFunction(rng);
    ir::Module m = moduleOf(passes::fuseKernels(i % 2 ? passes::scheduleForMemory(r) : r));
    expectJitMatchesInterpreter(m, uint32_t(i), -1, 1);
  }
}

// A param read through views (reshapes of it) after its update: the update
// may not take the param's memory until that read is done, in the given
// order or any the scheduler picks. (Found when a schedule change moved an
// update before such a read: the JIT read the new value.)
TEST(Plan, UpdateWaitsForReadsThroughViews) {
  ir::Function f("train_step");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({3, 5}));
  ir::ValueId w = f.addArg("w", ir::ArgRole::Param, ir::f32({3, 5}));
  ir::Attrs flat, back;
  flat.set("shape", std::vector<int64_t>{15});
  back.set("shape", std::vector<int64_t>{3, 5});
  ir::ValueId v = f.addNode(ir::OpKind::Reshape, {f.addNode(ir::OpKind::Reshape, {w}, flat)}, back);
  ir::ValueId updated = f.addNode(ir::OpKind::Sub, {w, x});
  ir::ValueId out = f.addNode(ir::OpKind::Exp, {f.addNode(ir::OpKind::Add, {v, x})});
  f.addResult("out", ir::ResultRole::Output, out);
  f.addResult("new.w", ir::ResultRole::Update, updated, w);
  for (bool scheduled : {false, true}) {
    SCOPED_TRACE(scheduled ? "scheduled" : "as built");
    ir::Function g = passes::fuseKernels(scheduled ? passes::scheduleForMemory(f) : f);
    Status s = checkPlan(g, buildFunctionPlan(g));
    ASSERT_TRUE(bool(s)) << s.error().message();
    expectJitMatchesInterpreter(moduleOf(std::move(g)), 5, -1, 1);
  }
}

// A reader of the old value that also needs the new one (hand-written IR
// can say so): the scheduler used to require it before the update and abort
// on the cycle; the update now runs first and the plan keeps the result
// right, directly and through views.
TEST(Plan, ReaderOfOldAndNewValueNeedsNoCycle) {
  for (bool through_view : {false, true}) {
    SCOPED_TRACE(through_view ? "through a view" : "directly");
    ir::Function f("train_step");
    ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({3, 5}));
    ir::ValueId w = f.addArg("w", ir::ArgRole::Param, ir::f32({3, 5}));
    ir::ValueId old = w;
    if (through_view) {
      ir::Attrs flat, back;
      flat.set("shape", std::vector<int64_t>{15});
      back.set("shape", std::vector<int64_t>{3, 5});
      old = f.addNode(ir::OpKind::Reshape, {f.addNode(ir::OpKind::Reshape, {w}, flat)}, back);
    }
    ir::ValueId updated = f.addNode(ir::OpKind::Sub, {w, x});
    f.addResult("out", ir::ResultRole::Output, f.addNode(ir::OpKind::Add, {old, updated}));
    f.addResult("new.w", ir::ResultRole::Update, updated, w);
    ir::Function g = passes::fuseKernels(passes::scheduleForMemory(f));
    Status s = checkPlan(g, buildFunctionPlan(g));
    ASSERT_TRUE(bool(s)) << s.error().message();
    expectJitMatchesInterpreter(moduleOf(std::move(g)), 6, -1, 1);
  }
}

TEST(Plan, CheckerRejectsOverlapAndIllegalSharing) {
  std::mt19937 rng(11);
  int broken = 0;
  for (int i = 0; i < 50 && broken < 10; ++i) {
    ir::Function f = passes::fuseKernels(randomFunction(rng));
    FunctionPlan p = buildFunctionPlan(f);
    // Two arena buffers live at the same time put at one offset must be refused.
    for (size_t a = 0; a < p.buffers.size(); ++a)
      for (size_t b = a + 1; b < p.buffers.size(); ++b) {
        const Buffer &x = p.buffers[a], &y = p.buffers[b];
        if (x.start > y.end || y.start > x.end)
          continue;
        FunctionPlan bad = p;
        for (ir::ValueId v : bad.buffers[b].values)
          if (bad.values[size_t(v)].home == Home::Arena)
            bad.values[size_t(v)].offset = x.offset;
        EXPECT_FALSE(bool(checkPlan(f, bad))) << "function " << i;
        ++broken;
        a = b = p.buffers.size();
      }
  }
  EXPECT_GE(broken, 5);
}

} // namespace
} // namespace gradc::plan
