// optimizeModule on functions marked kCleanupOnly: O2 vectorises a plain loop,
// but in a marked function only its cleanup passes run (the accumulator's
// stack slot is promoted, the loop stays scalar), unless the function is
// optimised for size, which keeps the whole pipeline; and O2's
// interprocedural passes (the inliner among them) only for size.
#include "codegen/lower.h"
#include "codegen/target.h"
#include "codegen_test_util.h"

#include <gtest/gtest.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <memory>
#include <regex>
#include <set>
#include <string>
#include <utility>

namespace gradc::codegen {
namespace {

/// b[i] = a[i] * 2 + 1 over 1024 floats, through a stack slot as lowering's
/// accumulators are; `attrs` are the function's attributes.
std::string loopFunction(const std::string &name, const std::string &attrs) {
  return "define void @" + name + R"((ptr noalias %a, ptr noalias %b) )" + attrs + R"( {
entry:
  %acc = alloca float, align 4
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
  %pa = getelementptr inbounds float, ptr %a, i64 %i
  %x = load float, ptr %pa, align 4
  %y = fmul float %x, 2.0
  store float %y, ptr %acc, align 4
  %z = load float, ptr %acc, align 4
  %w = fadd float %z, 1.0
  %pb = getelementptr inbounds float, ptr %b, i64 %i
  store float %w, ptr %pb, align 4
  %next = add nuw nsw i64 %i, 1
  %done = icmp eq i64 %next, 1024
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
)";
}

/// The optimised text of each function of `ir`, compiled for the host.
std::string optimised(const std::string &ir, llvm::LLVMContext &ctx,
                      std::unique_ptr<llvm::Module> &mod) {
  initializeNativeTarget();
  llvm::SMDiagnostic err;
  mod = llvm::parseAssemblyString(ir, err, ctx);
  EXPECT_TRUE(mod) << err.getMessage().str();
  if (!mod)
    return "";
  std::string triple = llvm::sys::getProcessTriple(), error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  EXPECT_TRUE(target) << error;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), "", llvm::TargetOptions(), std::nullopt));
  optimizeModule(*mod, *tm);
  std::string text;
  llvm::raw_string_ostream os(text);
  mod->print(os, nullptr);
  return text;
}

/// The body of function `name` in module text `text` (without its
/// signature, whose attribute group numbers differ).
std::string body(const std::string &text, const std::string &name) {
  size_t at = text.find("@" + name + "(");
  if (at == std::string::npos)
    return "";
  at = text.find('\n', at);
  return text.substr(at, text.find("\n}", at) - at);
}

/// Whether the host has float vectors, which the vectoriser tests need.
bool hostVectors() {
  initializeNativeTarget();
  std::string triple = llvm::sys::getProcessTriple(), error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return false;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), "", llvm::TargetOptions(), std::nullopt));
  return vectorFloats(*tm) > 1;
}

/// The optimised bodies of the loop in a function with attributes `attrs`
/// and in one that is also marked kCleanupOnly.
std::pair<std::string, std::string> plainAndMarked(const std::string &attrs) {
  std::string ir = loopFunction("plain", attrs) +
                   loopFunction("marked", attrs + " \"" + std::string(kCleanupOnly) + "\"");
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> mod;
  std::string text = optimised(ir, ctx, mod);
  return {body(text, "plain"), body(text, "marked")};
}

TEST(Cleanup, MarkedFunctionsGetOnlyTheCleanupPasses) {
  if (!hostVectors())
    GTEST_SKIP() << "no float vectors on this host";
  auto [plain, marked] = plainAndMarked("nounwind");
  ASSERT_FALSE(plain.empty());
  ASSERT_FALSE(marked.empty());
  // O2 vectorised the unmarked loop.
  EXPECT_NE(plain.find(" x float>"), std::string::npos) << plain;
  // The marked loop: SROA ran (no stack slot left), the vectoriser did not.
  EXPECT_EQ(marked.find("alloca"), std::string::npos) << marked;
  EXPECT_EQ(marked.find(" x float>"), std::string::npos) << marked;
  EXPECT_NE(marked.find("fmul"), std::string::npos) << marked;
}

TEST(Cleanup, SizeOptimisedFunctionsKeepTheWholePipeline) {
  if (!hostVectors())
    GTEST_SKIP() << "no float vectors on this host";
  // A microcontroller's code: the mark changes nothing, the vectoriser ran on both.
  auto [plain, marked] = plainAndMarked("nounwind optsize");
  EXPECT_NE(plain.find(" x float>"), std::string::npos) << plain;
  EXPECT_NE(marked.find(" x float>"), std::string::npos) << marked;
}

/// A caller of a small internal function, both with attributes `attrs`.
std::string callPair(const std::string &attrs) {
  return R"(define internal float @callee(float %x) )" + attrs + R"( {
  %y = fmul float %x, 3.0
  ret float %y
}
define float @caller(float %x) )" +
         attrs + R"( {
  %y = call float @callee(float %x)
  %z = fadd float %y, 1.0
  ret float %z
}
)";
}

TEST(Cleanup, NoInterproceduralPassesUnlessOptimisingForSize) {
  for (bool size : {false, true}) {
    llvm::LLVMContext ctx;
    std::unique_ptr<llvm::Module> mod;
    std::string text = optimised(callPair(size ? "nounwind optsize" : "nounwind"), ctx, mod);
    std::string caller = body(text, "caller");
    ASSERT_FALSE(caller.empty()) << text;
    // The inliner ran only for size-optimised code.
    if (size)
      EXPECT_EQ(caller.find("@callee"), std::string::npos) << text;
    else
      EXPECT_NE(caller.find("call float @callee"), std::string::npos) << text;
  }
}

/// Three loops of constant trip counts after one another.
std::string threeLoops(const std::string &attrs) {
  std::string ir = "define void @loops(ptr noalias %a, ptr noalias %b) " + attrs + " {\nentry:\n";
  std::string prev = "entry";
  for (int l = 0; l < 3; ++l) {
    std::string n = std::to_string(l), next = l < 2 ? "l" + std::to_string(l + 1) : "exit";
    ir += "  br label %l" + n + "\nl" + n + ":\n  %i" + n + " = phi i64 [ 0, %" + prev +
          " ], [ %n" + n + ", %l" + n + " ]\n  %p" + n +
          " = getelementptr inbounds float, ptr %a, i64 %i" + n + "\n  %x" + n +
          " = load float, ptr %p" + n + "\n  %y" + n + " = fmul float %x" + n + ", 2.0\n  %q" + n +
          " = getelementptr inbounds float, ptr %b, i64 %i" + n + "\n  store float %y" + n +
          ", ptr %q" + n + "\n  %n" + n + " = add nuw nsw i64 %i" + n + ", 1\n  %d" + n +
          " = icmp eq i64 %n" + n + ", 4\n  br i1 %d" + n + ", label %" + next + "b, label %l" + n +
          "\n" + next + "b:\n";
    prev = next + "b";
  }
  return ir + "  ret void\n}\n";
}

TEST(Cleanup, EveryLoopOfAMarkedFunctionIsUnrolled) {
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> mod;
  std::string text =
      optimised(threeLoops("nounwind \"" + std::string(kCleanupOnly) + "\""), ctx, mod);
  std::string loops = body(text, "loops");
  ASSERT_FALSE(loops.empty()) << text;
  // Full unrolling reached the third loop too: no loop is left.
  EXPECT_EQ(loops.find("phi"), std::string::npos) << loops;
  EXPECT_EQ(loops.find("br i1"), std::string::npos) << loops;
}

/// The functions of `m` lowered for vectors of `vw` floats that are marked
/// kCleanupOnly, and all its defined functions.
std::pair<std::set<std::string>, std::set<std::string>> marks(const ir::Module &m, int vw) {
  LowerOptions lo;
  lo.vector_floats = vw;
  lo.vector_registers = 32;
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> mod = lowerModule(m, ctx, lo);
  std::set<std::string> marked, all;
  for (const llvm::Function &f : *mod)
    if (!f.isDeclaration()) {
      all.insert(f.getName().str());
      if (f.hasFnAttribute(kCleanupOnly))
        marked.insert(f.getName().str());
    }
  return {marked, all};
}

TEST(Cleanup, LoweringMarksTheCodeItVectorisedItself) {
  // A packed matmul, relu, a max pool and a small matmul, each a kernel of its own.
  ir::Function f("f");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({64, 256}));
  ir::ValueId w = f.addArg("w", ir::ArgRole::Input, ir::f32({256, 128}));
  ir::ValueId p = f.addArg("p", ir::ArgRole::Input, ir::f32({2, 3, 8, 40}));
  ir::ValueId mm =
      f.addNode(ir::OpKind::MatMul, {x, w}, {{"transpose_a", false}, {"transpose_b", false}});
  ir::ValueId r = f.addNode(ir::OpKind::Relu, {mm});
  ir::ValueId pool = f.addNode(
      ir::OpKind::MaxPool2d, {p},
      {{"kernel", ir::Shape{2, 2}}, {"stride", ir::Shape{2, 2}}, {"padding", ir::Shape{0, 0}}});
  // A plain matmul too small to pack, whose rows are shorter than two vectors.
  ir::ValueId s0 = f.addArg("s0", ir::ArgRole::Input, ir::f32({4, 5}));
  ir::ValueId s1 = f.addArg("s1", ir::ArgRole::Input, ir::f32({5, 3}));
  ir::ValueId small =
      f.addNode(ir::OpKind::MatMul, {s0, s1}, {{"transpose_a", false}, {"transpose_b", false}});
  f.addResult("out.r", ir::ResultRole::Output, r);
  f.addResult("out.pool", ir::ResultRole::Output, pool);
  f.addResult("out.small", ir::ResultRole::Output, small);
  ir::Module m = testing::moduleOf(std::move(f));
  const std::regex kernel(R"(t_f\.k\d+)");
  for (int vw : {16, 4}) {
    SCOPED_TRACE("vector width " + std::to_string(vw));
    auto [marked, all] = marks(m, vw);
    int kernels = 0, marked_kernels = 0;
    for (const std::string &name : all) {
      // Micro-kernels, packers and rtlib are always gradc's own vectors or clang's -O2.
      if (name.rfind("gradc.tile.", 0) == 0 || name.rfind("gradc.pack", 0) == 0 ||
          name == "gradc_rt_parallel_for") {
        EXPECT_TRUE(marked.count(name)) << name;
      }
      if (!std::regex_match(name, kernel))
        continue;
      ++kernels;
      if (!marked.count(name))
        continue;
      ++marked_kernels;
      // A parallel loop's task body inherits its kernel's mark.
      if (all.count(name + ".task")) {
        EXPECT_TRUE(marked.count(name + ".task")) << name;
      }
    }
    EXPECT_EQ(kernels, 4);
    // With 16 lanes the matmul (its epilogue on vectors) and relu are gradc's
    // vectors and the small matmul's rows too short for LLVM's, the pool is
    // left to O2; with 4, whose epilogue, relu and small matmul are scalar
    // loops for LLVM's vectoriser, nothing is.
    EXPECT_EQ(marked_kernels, vw == 16 ? 3 : 0);
  }
}

} // namespace
} // namespace gradc::codegen
