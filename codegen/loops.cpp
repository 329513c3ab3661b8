// Counted loops in LLVM IR: header with a phi, body, latch with an
// increment and an exit test (rotated form, since every extent is >= 1).
#include "codegen/loops.h"

#include <vector>

namespace gradc::codegen {
namespace {

void emitNest(llvm::IRBuilder<> &b, llvm::ArrayRef<int64_t> extents,
              std::vector<llvm::Value *> &ivs, LoopBody body) {
  if (ivs.size() == extents.size()) {
    body(ivs);
    return;
  }
  emitCountedLoop(b, b.getInt64(extents[ivs.size()]), [&](llvm::Value *iv) {
    ivs.push_back(iv);
    emitNest(b, extents, ivs, body);
    ivs.pop_back();
  });
}

} // namespace

void emitLoopNest(llvm::IRBuilder<> &b, llvm::ArrayRef<int64_t> extents, LoopBody body) {
  for (int64_t e : extents)
    if (e == 0)
      return;
  std::vector<llvm::Value *> ivs;
  emitNest(b, extents, ivs, body);
}

void emitCountedLoop(llvm::IRBuilder<> &b, llvm::Value *count,
                     llvm::function_ref<void(llvm::Value *)> body, bool unroll) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &ctx = b.getContext();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  llvm::BasicBlock *loop = llvm::BasicBlock::Create(ctx, "loop", fn);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(ctx, "loop.exit", fn);
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  llvm::PHINode *iv = b.CreatePHI(b.getInt64Ty(), 2, "i");
  iv->addIncoming(b.getInt64(0), pre);
  body(iv);
  llvm::Value *next = b.CreateAdd(iv, b.getInt64(1), "i.next", true, true);
  iv->addIncoming(next, b.GetInsertBlock());
  llvm::BranchInst *latch = b.CreateCondBr(b.CreateICmpSLT(next, count), loop, exit);
  if (!unroll) {
    // A self-referential loop ID with llvm.loop.unroll.disable (LangRef).
    llvm::MDNode *disable =
        llvm::MDNode::get(ctx, llvm::MDString::get(ctx, "llvm.loop.unroll.disable"));
    llvm::MDNode *id = llvm::MDNode::getDistinct(ctx, {nullptr, disable});
    id->replaceOperandWith(0, id);
    latch->setMetadata(llvm::LLVMContext::MD_loop, id);
  }
  b.SetInsertPoint(exit);
}

void emitIf(llvm::IRBuilder<> &b, llvm::Value *cond, llvm::function_ref<void()> then) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *thenBB = llvm::BasicBlock::Create(b.getContext(), "if.then", fn);
  llvm::BasicBlock *endBB = llvm::BasicBlock::Create(b.getContext(), "if.end", fn);
  b.CreateCondBr(cond, thenBB, endBB);
  b.SetInsertPoint(thenBB);
  then();
  b.CreateBr(endBB);
  b.SetInsertPoint(endBB);
}

llvm::Value *flatIndex(llvm::IRBuilder<> &b, llvm::ArrayRef<llvm::Value *> idx,
                       llvm::ArrayRef<int64_t> shape) {
  llvm::Value *flat = b.getInt64(0);
  for (size_t d = 0; d < idx.size(); ++d) {
    flat = b.CreateMul(flat, b.getInt64(shape[d]), "", true, true);
    flat = b.CreateAdd(flat, idx[d], "", true, true);
  }
  return flat;
}

} // namespace gradc::codegen
