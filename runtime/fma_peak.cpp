// measureFmaPeak: builds `float gradc_fma_peak(i64 iters, float x, float y)`,
// a loop of `chains` independent `acc = fma(acc, x, y)` on host-width vectors,
// compiles it with LLJIT for the host and times it.
#include "runtime/fma_peak.h"

#include "codegen/target.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <chrono>

namespace gradc::runtime {
namespace {

using PeakFn = float (*)(int64_t iters, float x, float y);

/// Enough chains for two FMA pipes of latency up to 6 cycles, and few enough
/// that they and the two operands stay in the 16 vector registers of AVX2.
constexpr int kChains = 12;

std::unique_ptr<llvm::Module> peakModule(llvm::LLVMContext &ctx, int lanes) {
  auto mod = std::make_unique<llvm::Module>("gradc_fma_peak", ctx);
  llvm::IRBuilder<> b(ctx);
  llvm::Type *i64 = b.getInt64Ty(), *f32 = b.getFloatTy();
  auto *vec = llvm::FixedVectorType::get(f32, unsigned(lanes));
  auto *fn = llvm::Function::Create(llvm::FunctionType::get(f32, {i64, f32, f32}, false),
                                    llvm::Function::ExternalLinkage, "gradc_fma_peak", *mod);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto *loop = llvm::BasicBlock::Create(ctx, "loop", fn);
  auto *done = llvm::BasicBlock::Create(ctx, "done", fn);
  b.SetInsertPoint(entry);
  // x and y are arguments, so that no fold (fma(a, 1, b) = a + b) applies.
  llvm::Value *x = b.CreateVectorSplat(unsigned(lanes), fn->getArg(1));
  llvm::Value *y = b.CreateVectorSplat(unsigned(lanes), fn->getArg(2));
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(i64, 2);
  i->addIncoming(b.getInt64(0), entry);
  llvm::Function *fma = llvm::Intrinsic::getDeclaration(mod.get(), llvm::Intrinsic::fma, {vec});
  std::vector<llvm::PHINode *> phis; // all PHIs first: they lead their block
  for (int c = 0; c < kChains; ++c) {
    phis.push_back(b.CreatePHI(vec, 2));
    phis.back()->addIncoming(y, entry);
  }
  std::vector<llvm::Value *> acc;
  for (llvm::PHINode *a : phis) {
    acc.push_back(b.CreateCall(fma, {a, x, y}));
    a->addIncoming(acc.back(), loop);
  }
  llvm::Value *inext = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(inext, loop);
  b.CreateCondBr(b.CreateICmpSLT(inext, fn->getArg(0)), loop, done);
  b.SetInsertPoint(done);
  llvm::Value *sum = acc[0];
  for (int c = 1; c < kChains; ++c)
    sum = b.CreateFAdd(sum, acc[size_t(c)]);
  b.CreateRet(b.CreateExtractElement(sum, uint64_t(0)));
  GRADC_CHECK(!llvm::verifyModule(*mod, &llvm::errs()), "invalid FMA peak module");
  return mod;
}

double secondsOf(PeakFn fn, int64_t iters) {
  auto t = std::chrono::steady_clock::now();
  volatile float sink = fn(iters, 0.5f, 1.0f); // acc -> 2: no overflow, no denormals
  (void)sink;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

Error jitError(llvm::Error e) { return Error("FMA peak: " + llvm::toString(std::move(e))); }

} // namespace

Expected<FmaPeak> measureFmaPeak(double min_ms) {
  codegen::initializeNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    return jitError(jtmb.takeError());
  auto tm = jtmb->createTargetMachine();
  if (!tm)
    return jitError(tm.takeError());
  FmaPeak peak;
  peak.vector_floats = codegen::vectorFloats(**tm);
  peak.chains = kChains;
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit)
    return jitError(jit.takeError());
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = peakModule(*ctx, peak.vector_floats);
  if (auto err = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))))
    return jitError(std::move(err));
  auto addr = (*jit)->lookup("gradc_fma_peak");
  if (!addr)
    return jitError(addr.takeError());
  PeakFn fn = addr->toPtr<PeakFn>();
  // Grow the call until it takes 2 ms, then keep the best of the calls that fit in min_ms.
  int64_t iters = 1 << 12;
  while (secondsOf(fn, iters) < 2e-3 && iters < (int64_t(1) << 40))
    iters *= 2;
  double flops_per_call = 2.0 * double(iters) * kChains * peak.vector_floats;
  double best = 0, spent = 0;
  for (int calls = 0; calls < 3 || spent * 1e3 < min_ms; ++calls) {
    double s = secondsOf(fn, iters);
    spent += s;
    best = std::max(best, flops_per_call / s * 1e-9);
  }
  peak.gflops = best;
  return peak;
}

} // namespace gradc::runtime
