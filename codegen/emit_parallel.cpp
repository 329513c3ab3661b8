// Parallel loops of independent tasks: the body is outlined into a function of
// the kernel's buffers and the task index, and run by the thread pool that
// rtlib/ links into every module (codegen/rtlib.h).
#include "codegen/emit.h"

#include "codegen/rtlib.h"
#include "plan/plan.h"

#include <algorithm>

namespace gradc::codegen {
namespace {

/// Whole units per range so that each task has at least kTaskWork of work, and
/// at most kMaxTasks tasks: enough for any thread count to balance by taking
/// what is left of other threads' shares, few enough that taking one costs
/// nothing.
constexpr int64_t kTaskWork = int64_t(1) << 15;
constexpr int64_t kMaxTasks = 256;

/// `void <outer>.task(ptr noalias..., i64 task, i64 worker)`: the body's
/// function, over the same buffers as the kernel function `outer`, marked
/// cleanup-only when `outer` is. Never inlined into its trampoline: O2 would
/// simplify the body once on its own and once more inlined (a fifth of a
/// CNN's optimisation time), and a call per task costs nothing.
llvm::Function *declareTaskBody(llvm::Function *outer) {
  llvm::LLVMContext &ctx = outer->getContext();
  std::vector<llvm::Type *> params;
  for (llvm::Argument &a : outer->args()) {
    GRADC_CHECK(a.getType()->isPointerTy(), "a parallel loop in a function of non-pointers");
    params.push_back(a.getType());
  }
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  params.push_back(i64);
  params.push_back(i64);
  auto *fty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), params, false);
  auto *fn = llvm::Function::Create(fty, llvm::Function::InternalLinkage,
                                    outer->getName() + ".task", outer->getParent());
  fn->setDoesNotThrow();
  fn->addFnAttr(llvm::Attribute::NoInline);
  for (const char *attr : {kCleanupOnly, kNoLoopStrengthReduction})
    if (outer->hasFnAttribute(attr))
      fn->addFnAttr(attr);
  for (unsigned i = 0; i < outer->arg_size(); ++i) {
    fn->getArg(i)->addAttr(llvm::Attribute::NoAlias);
    fn->getArg(i)->addAttr(llvm::Attribute::NoCapture);
  }
  return fn;
}

/// `void <outer>.run(ptr ctx, i64 task, i32 worker)`, what the pool calls:
/// loads the buffers from ctx and calls the body.
llvm::Function *emitTrampoline(llvm::Function *outer, llvm::Function *body) {
  llvm::LLVMContext &ctx = outer->getContext();
  llvm::Type *ptrTy = llvm::PointerType::get(ctx, 0);
  auto *fty = llvm::FunctionType::get(
      llvm::Type::getVoidTy(ctx), {ptrTy, llvm::Type::getInt64Ty(ctx), llvm::Type::getInt32Ty(ctx)},
      false);
  auto *fn = llvm::Function::Create(fty, llvm::Function::InternalLinkage, outer->getName() + ".run",
                                    outer->getParent());
  fn->setDoesNotThrow();
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  std::vector<llvm::Value *> args;
  for (unsigned i = 0; i < outer->arg_size(); ++i)
    args.push_back(b.CreateLoad(ptrTy, b.CreateConstInBoundsGEP1_64(ptrTy, fn->getArg(0), i)));
  args.push_back(fn->getArg(1));
  args.push_back(b.CreateZExt(fn->getArg(2), b.getInt64Ty()));
  b.CreateCall(body, args);
  b.CreateRetVoid();
  return fn;
}

} // namespace

llvm::Value *Task::arg(llvm::Value *v) const {
  if (!inner)
    return v;
  auto *a = llvm::dyn_cast<llvm::Argument>(v);
  GRADC_CHECK(a && a->getParent() == outer, "a parallel task uses a value of its kernel");
  return inner->getArg(a->getArgNo());
}

void emitParallelFor(EmitContext &c, int64_t tasks, int64_t max_workers, bool parallel,
                     llvm::function_ref<void(Task &)> body) {
  if (!c.threads || !parallel || tasks <= 1 || max_workers <= 1) {
    emitLoopNest(c.b, {tasks}, [&](llvm::ArrayRef<llvm::Value *> iv) {
      Task t{c, iv[0], c.i64(0)};
      body(t);
    });
    return;
  }
  llvm::Function *outer = c.b.GetInsertBlock()->getParent();
  llvm::LLVMContext &ctx = c.module.getContext();
  llvm::Function *inner = declareTaskBody(outer);
  unsigned n = unsigned(outer->arg_size());
  {
    llvm::IRBuilder<> ib(llvm::BasicBlock::Create(ctx, "entry", inner));
    EmitContext ic = c.child(ib);
    Task t{ic, inner->getArg(n), inner->getArg(n + 1), outer, inner};
    for (size_t v = 0; v < c.ptr.size(); ++v)
      if (c.ptr[v])
        ic.ptr[v] = t.arg(c.ptr[v]);
    body(t);
    ib.CreateRetVoid();
  }
  // The buffers go to the tasks through an array on the kernel's stack.
  llvm::Type *ptrTy = llvm::PointerType::get(ctx, 0);
  llvm::Value *args = c.entryAlloca("task.args", llvm::ArrayType::get(ptrTy, std::max(n, 1u)));
  for (unsigned i = 0; i < n; ++i)
    c.b.CreateStore(outer->getArg(i), c.b.CreateConstInBoundsGEP1_64(ptrTy, args, i));
  llvm::FunctionCallee pf = c.module.getOrInsertFunction(
      kParallelFor,
      llvm::FunctionType::get(c.b.getVoidTy(), {c.b.getInt64Ty(), c.b.getInt32Ty(), ptrTy, ptrTy},
                              false));
  c.b.CreateCall(
      pf, {c.i64(tasks), c.b.getInt32(uint32_t(max_workers)), emitTrampoline(outer, inner), args});
}

void emitParallelRanges(EmitContext &c, int64_t units, int64_t unit_work, bool parallel,
                        llvm::function_ref<void(Task &, llvm::Value *, llvm::Value *)> body) {
  if (units <= 0)
    return;
  int64_t work = units * unit_work;
  int64_t tasks = 1;
  if (c.threads && parallel && work >= plan::kParallelMinWork)
    tasks = std::clamp<int64_t>(work / kTaskWork, 1, std::min(units, kMaxTasks));
  int64_t per = (units + tasks - 1) / tasks;
  tasks = (units + per - 1) / per;
  emitParallelFor(c, tasks, tasks, tasks > 1, [&](Task &t) {
    auto &b = t.c.b;
    llvm::Value *lo = b.CreateMul(t.index, t.c.i64(per), "", true, true);
    llvm::Value *end = b.CreateAdd(lo, t.c.i64(per), "", true, true);
    llvm::Value *hi = b.CreateSelect(b.CreateICmpSLT(end, t.c.i64(units)), end, t.c.i64(units));
    body(t, lo, hi);
  });
}

} // namespace gradc::codegen
