// Ahead-of-time output: the lowered module optimised and emitted for a CPU
// as an object file, assembly or LLVM IR text.
#pragma once

#include "codegen/lower.h"
#include "ir/function.h"
#include "support/error.h"

#include <string>
#include <vector>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace gradc::plan {
struct ModulePlan;
} // namespace gradc::plan

namespace gradc::codegen {

struct EmitOptions {
  enum class Kind : uint8_t { Obj, Asm, Llvm } kind = Kind::Obj;
  /// The target triple, by gradc's name (codegen/triples.h: "aarch64-linux-gnu");
  /// empty for the host's (the JIT's).
  std::string triple;
  /// "native" = the host CPU with all its features (only for the host's
  /// triple); otherwise an LLVM CPU name of the triple such as "x86-64"
  /// (generic code that runs on any x86-64); empty for the triple's default
  /// CPU (TripleInfo::cpu), or native without a triple.
  std::string cpu = "native";
  /// Extra LLVM target features ("+avx2,-avx512f"), appended; each must be one
  /// the triple's LLVM target knows.
  std::string features;
  /// Link rtlib's thread pool (LowerOptions::threads). Triples without an OS
  /// never have one, whatever this says.
  bool threads = true;
  /// The execution plan to lower with (the header's); built when null.
  const plan::ModulePlan *plan = nullptr;
  /// Floats per vector register to build kernels for (0: the target's).
  int vector_floats = 0;
  /// Vector registers to choose the matmul's register tile from (0: the target's).
  int vector_registers = 0;
  /// Data caches to choose the matmul's cache blocks from (l1 0: the
  /// target's: the host's for "native", else CacheSizes' defaults).
  CacheSizes caches{0, 0, 0};
  /// Also emit the packed entry points the JIT calls (LowerOptions).
  bool packed_wrappers = false;
  /// Call the per-kernel profiling hook between kernels (LowerOptions).
  bool profile_kernels = false;
};

/// What an object for `opts` is, as its header tells: the options resolved.
struct TargetFacts {
  std::string triple;     ///< gradc's name of the triple (the host's when none was given)
  bool os = true;         ///< the triple has an OS (Linux); else bare metal
  bool threads = true;    ///< the object has rtlib's thread pool
  int64_t alignment = 64; ///< bytes of alignment the header asks of the model's buffers
  int pointer_bytes = 8;  ///< the target's pointer size
};

/// Checks `opts`' triple, CPU, features and threads, with the errors emitModule
/// would give (an unknown triple lists the supported ones), and resolves them.
Expected<TargetFacts> targetFacts(const EmitOptions &opts);

/// Lowers, optimises (O2) and writes `m` to `path` in the requested form.
/// The file appears atomically (temp file + rename) or not at all.
Status emitModule(const ir::Module &m, const EmitOptions &opts, const std::string &path);

/// What emitModule writes, in memory.
Expected<std::string> emitModuleData(const ir::Module &m, const EmitOptions &opts);

/// The memory an object's code and data take once linked (its ELF sections):
/// flash = code, constants and initialised data (what a microcontroller keeps
/// in flash); static_ram = initialised and zeroed data (the thread pool's).
struct ObjectFootprint {
  int64_t flash = 0, static_ram = 0;
};
/// The footprint of the object file `object` (the bytes emitModuleData gives
/// for Kind::Obj).
Expected<ObjectFootprint> objectFootprint(const std::string &object);

/// The optimised LLVM IR of `m`, as text (`gradc dump --stage llvm`).
Expected<std::string> dumpLLVM(const ir::Module &m, const EmitOptions &opts = {});
/// The assembly of `m` (`gradc dump --stage asm`).
Expected<std::string> dumpAsm(const ir::Module &m, const EmitOptions &opts = {});

/// `m` lowered, optimised and compiled for `opts.cpu` as relocatable objects
/// that together define every function. With `threads` > 1 the module is cut
/// into up to that many parts of about equal size (by LLVM instruction count,
/// largest first to the least loaded part), whose kernels become hidden
/// global symbols; each part is optimised and compiled on its own thread in
/// its own LLVMContext. The objects only link together (the JIT's use).
Expected<std::vector<std::string>> compileObjects(const ir::Module &m, const EmitOptions &opts,
                                                  int threads);

// For the JIT and tests, which hold LLVM types already.

/// Runs the new pass manager's default O2 pipeline on `mod`, tuned for `tm`
/// (whose triple and data layout are set on the module first). On functions
/// marked kCleanupOnly (codegen/lower.h) that are not optimised for size, only
/// SROA, EarlyCSE, InstCombine and SimplifyCFG at their first two places in
/// the pipeline, LICM and full unrolling at their first two places per loop,
/// and loop canonicalisation and analyses take place.
/// O2's interprocedural passes (the inliner, IPSCCP, attribute inference,
/// GlobalOpt, dead-argument elimination) run only when some function is
/// optimised for size.
void optimizeModule(llvm::Module &mod, llvm::TargetMachine &tm);

/// Floats per vector register of the machine `tm` compiles for: 16 with
/// AVX-512, 8 with AVX, 4 with SSE or NEON (AArch64, ARMv7); 1 where floats
/// have no vectors (RISC-V without V, Cortex-M): the kernels are then scalar.
int vectorFloats(const llvm::TargetMachine &tm);
/// Registers the kernels' vectors live in on that machine: 32 with AVX-512 or
/// AArch64 NEON, 16 with AVX, SSE or ARMv7 NEON (q0-q15); without float
/// vectors the scalar float registers (32 on RV64GC and the Cortex-M4F's FPU).
int vectorRegisters(const llvm::TargetMachine &tm);

/// Calls LLVM's one-time initialisation of every target (thread-safe).
void initializeNativeTarget();

} // namespace gradc::codegen
