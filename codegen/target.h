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
  /// "native" = the host CPU with all its features; otherwise an LLVM CPU
  /// name such as "x86-64" (generic code that runs on any x86-64).
  std::string cpu = "native";
  /// Extra LLVM target features ("+avx2,-avx512f"), appended.
  std::string features;
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

/// Lowers, optimises (O2) and writes `m` to `path` in the requested form.
/// The file appears atomically (temp file + rename) or not at all.
Status emitModule(const ir::Module &m, const EmitOptions &opts, const std::string &path);

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
/// (whose triple and data layout are set on the module first).
void optimizeModule(llvm::Module &mod, llvm::TargetMachine &tm);

/// Floats per vector register of the machine `tm` compiles for (16 with
/// AVX-512, 8 with AVX, else 4).
int vectorFloats(const llvm::TargetMachine &tm);
/// Vector registers of the machine `tm` compiles for (32 with AVX-512, else 16).
int vectorRegisters(const llvm::TargetMachine &tm);

/// Calls LLVM's one-time native target initialisation (thread-safe).
void initializeNativeTarget();

} // namespace gradc::codegen
