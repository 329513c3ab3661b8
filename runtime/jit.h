// The LLVM JIT backend: compiles the functions of a module for the host CPU
// (ORC LLJIT, O2, all host features), those named up front at once and the
// others on their first call, and runs it behind runtime::Executor.
#pragma once

#include "codegen/lower.h"
#include "runtime/executor.h"
#include "support/error.h"

#include <memory>
#include <string>
#include <vector>

namespace gradc::runtime {

/// What compiling cost, for `gradc bench`.
struct JitStats {
  double compile_ms = 0;  ///< lowering, optimisation and machine-code generation
  bool cache_hit = false; ///< the code came from the compile cache
};

struct JitOptions {
  /// The vector width kernels are built for (0: the host's; tests use it to
  /// run every width on one machine).
  int vector_floats = 0;
  /// The vector registers and data caches the matmul's tiles and cache blocks
  /// are chosen from (0: the host's; tests use them to reach every block).
  int vector_registers = 0;
  codegen::CacheSizes caches{0, 0, 0};
  /// Functions report each kernel to runtime::KernelProfile (kernel_profile.h).
  bool profile_kernels = false;
  /// The compile cache's directory (compile_cache.h; the CLI passes
  /// defaultCacheDir()); empty: no cache.
  std::string cache_dir;
  /// The functions compiled before makeJitExecutor returns (and counted in
  /// JitStats::compile_ms); each other function compiles on its first call.
  /// Empty: every function. The CLI names what a command calls, so that
  /// `gradc run` compiles one function and `gradc bench` two, not four.
  std::vector<std::string> functions;
};

/// Compiles `m` (which must verify), or the functions JitOptions::functions
/// names, and returns an executor calling native code. Arguments are checked with checkArgs;
/// results come back by result name as from the interpreter. Calls are thread-safe: each call has
/// its own buffers. `stats`, if given, receives the compile time. `vector_floats` overrides the
/// vector width kernels are built for (0: the host's; tests use it to run every width on one
/// machine). `profile_kernels` makes the functions report each kernel to runtime::KernelProfile
/// (kernel_profile.h).
Expected<std::unique_ptr<Executor>> makeJitExecutor(ir::Module m, JitStats *stats = nullptr,
                                                    int vector_floats = 0,
                                                    bool profile_kernels = false);
/// The same with every option. With a cache directory, code compiled before
/// for the same module, options, gradc build, LLVM and CPU is loaded from the
/// cache, and new code is stored there (a cache that cannot be written is
/// skipped silently: it only costs the next compile).
Expected<std::unique_ptr<Executor>> makeJitExecutor(ir::Module m, const JitOptions &opts,
                                                    JitStats *stats = nullptr);

} // namespace gradc::runtime
