// Lowering of an ir::Module to an LLVM module: one LLVM function per IR
// function with the ABI of abi.h, loops over static shapes, and the runtime
// library of rtlib/ (the thread pool) linked in; no calls beyond libm,
// memset/memcpy and pthreads.
#pragma once

#include "ir/function.h"

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace gradc::plan {
struct ModulePlan;
} // namespace gradc::plan

namespace gradc::codegen {

/// Data cache sizes of the target, per core, in bytes: what the packed
/// matmul's cache blocks (KC, MC, NC) are chosen from. The defaults are a
/// small core's; "native" targets read the host's (hostCacheSizes).
struct CacheSizes {
  int64_t l1 = 32 << 10, l2 = 512 << 10, l3 = 4 << 20;
};

/// The host's data cache sizes (sysconf), the defaults where it tells none.
CacheSizes hostCacheSizes();

struct LowerOptions {
  /// The execution plan of the module (plan::buildPlan); built here when null.
  /// Callers that also size buffers (the JIT, the header) pass theirs, so
  /// all read one plan.
  const plan::ModulePlan *plan = nullptr;
  /// The CPU the code is for ("native" or an LLVM CPU name), so kernels can
  /// be chosen per target.
  std::string cpu = "native";
  /// Floats per vector register of that CPU (16 with AVX-512, 8 with AVX,
  /// 4 with SSE or NEON): the width of the matmul micro-kernel's vectors.
  int vector_floats = 8;
  /// Vector registers of that CPU (32 with AVX-512 or AArch64 NEON, 16 with
  /// AVX, SSE or 32-bit NEON): with vector_floats, what the matmul
  /// micro-kernel's register tile is chosen from.
  int vector_registers = 16;
  /// Its data caches.
  CacheSizes caches;
  /// The triple (gradc's name, codegen/triples.h; "" for the host): which build of
  /// rtlib's thread pool is linked in.
  std::string triple;
  /// Run parallel kernels on rtlib's thread pool; without, every kernel runs
  /// on the calling thread, no pool is linked in (no pthreads, no static data)
  /// and `<module>_set_threads` does nothing.
  bool threads = true;
  /// The alignment (bytes) the entry points may assume of the scratch buffer;
  /// 0 for plan::kAlignment.
  int64_t alignment = 0;
  /// Also emit `float NAME_packed(void **ptrs, const float *scalars)` per
  /// function (the uniform entry point the JIT calls).
  bool packed_wrappers = false;
  /// Also call the external `void gradc_profile_tick(i32 function, i32 point)`
  /// before each kernel, after the last one and after the result copies
  /// (runtime/kernel_profile.h); for `gradc bench --per-kernel` only. The
  /// kernels' code is the same either way.
  bool profile_kernels = false;
};

/// The function attribute of code that needs only the optimiser's cleanup
/// passes (optimizeModule, codegen/target.h): what lowering emits already
/// vectorised and register-tiled (packed matmuls and convolutions whose
/// epilogues take vectors, their micro-kernels and packing, the weight
/// gradients, vectorised elementwise kernels), scalar loops over rows too short
/// for two vectors (which LLVM's vectoriser would only make gathers of), and
/// rtlib's clang -O2 output. Running O2's whole pipeline over them was a third
/// of a CNN's cold compile for no faster code.
inline constexpr const char *kCleanupOnly = "gradc-cleanup-only";

/// String attribute of a kernel function (and its parallel tasks) whose loops
/// address memory from opaque bases plus their own strides
/// (EmitContext::opaque), so that loop strength reduction, which
/// optimizeModule runs function by function in place of LLVM's code
/// generator, skips it: it found nothing to gain there (run time unchanged)
/// and cost the CNNs' cold compiles 13-23 ms. Marked on x86 with AVX or
/// AVX-512 only (8 or more floats a vector), where that was measured; other
/// targets, whose addressing modes differ, keep it.
inline constexpr const char *kNoLoopStrengthReduction = "gradc-no-lsr";

/// Lowers every function of `m` (which must verify) into a new LLVM module
/// named after it, with rtlib linked in (codegen/rtlib.h): the module also
/// exports `<module>_set_threads` (a no-op without opts.threads). No target triple or data
/// layout is set.
std::unique_ptr<llvm::Module> lowerModule(const ir::Module &m, llvm::LLVMContext &ctx,
                                          const LowerOptions &opts = {});

} // namespace gradc::codegen
