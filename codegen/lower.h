// Lowering of an ir::Module to an LLVM module: one LLVM function per IR
// function with the ABI of abi.h, loops over static shapes, no runtime calls
// beyond libm and memset/memcpy.
#pragma once

#include "ir/function.h"

#include <memory>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace gradc::codegen {

struct LowerOptions {
  /// Also emit `float NAME_packed(void **ptrs, const float *scalars)` per
  /// function (the uniform entry point the JIT calls).
  bool packed_wrappers = false;
};

/// Lowers every function of `m` (which must verify) into a new LLVM module
/// named after it. No target triple or data layout is set.
std::unique_ptr<llvm::Module> lowerModule(const ir::Module &m, llvm::LLVMContext &ctx,
                                          const LowerOptions &opts = {});

} // namespace gradc::codegen
