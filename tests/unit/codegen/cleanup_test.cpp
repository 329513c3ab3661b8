// optimizeModule on functions marked kCleanupOnly: O2 vectorises a plain loop,
// but in a marked function only its cleanup passes run (the accumulator's
// stack slot is promoted, the loop stays scalar), unless the function is
// optimised for size, which keeps the whole pipeline; and O2's
// interprocedural passes (the inliner among them) only for size.
#include "codegen/lower.h"
#include "codegen/target.h"

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

} // namespace
} // namespace gradc::codegen
