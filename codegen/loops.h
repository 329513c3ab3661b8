// A small loop-nest builder over static extents: the one place that creates
// loop control flow, so later tiling or vectorisation hints go here.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/IR/IRBuilder.h>

#include <cstdint>

namespace gradc::codegen {

/// Receives the induction variables (i64, outermost first).
using LoopBody = llvm::function_ref<void(llvm::ArrayRef<llvm::Value *>)>;

/// Emits `for i0 < extents[0] { for i1 < extents[1] { ... body } }` at the
/// builder's insertion point and leaves the builder after the nest. A zero
/// extent emits nothing; an empty nest runs the body once.
void emitLoopNest(llvm::IRBuilder<> &b, llvm::ArrayRef<int64_t> extents, LoopBody body);

/// Emits `for i < count { body }` for a run-time `count` (i64) that is at
/// least 1, and leaves the builder after it. With `unroll` false, LLVM is
/// told not to unroll it (a body already as long as a micro-kernel's).
void emitCountedLoop(llvm::IRBuilder<> &b, llvm::Value *count,
                     llvm::function_ref<void(llvm::Value *)> body, bool unroll = true);

/// Emits `if (cond) then()` and leaves the builder after it.
void emitIf(llvm::IRBuilder<> &b, llvm::Value *cond, llvm::function_ref<void()> then);

/// Row-major flat index (i64) of `idx` in a tensor of shape `shape`.
llvm::Value *flatIndex(llvm::IRBuilder<> &b, llvm::ArrayRef<llvm::Value *> idx,
                       llvm::ArrayRef<int64_t> shape);

} // namespace gradc::codegen
