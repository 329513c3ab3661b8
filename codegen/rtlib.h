// The runtime library of generated code (rtlib/, linked into every lowered module): its
// function names as codegen calls them, and the linking itself.
#pragma once

#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace gradc::codegen {

/// void gradc_rt_parallel_for(i64 tasks, i32 max_workers, ptr fn, ptr ctx), where fn is
/// void (ptr ctx, i64 task, i32 worker) (rtlib/rtlib.h). Internal to each module.
inline constexpr const char *kParallelFor = "gradc_rt_parallel_for";

/// The exported thread-count setter of model `module` (a C identifier):
/// `void <module>_set_threads(int32_t n)`.
std::string setThreadsSymbol(const std::string &module);

/// gradc's name of the host's triple ("x86_64-linux-gnu"), whose thread pool every gradc has.
const char *hostRuntimeTriple();

/// Whether this gradc has rtlib's thread pool for `triple` (gradc's name, codegen/triples.h):
/// it is built per Linux triple whose C headers were found at build time (rtlib/CMakeLists.txt).
bool hasThreadPool(const std::string &triple);

/// Links rtlib's bitcode into `mod` (after lowering, so its calls resolve): the build for
/// `triple` with `threads` (which hasThreadPool(triple) must allow), else the
/// target-independent one without threads, whose parallel-for runs its tasks in order and
/// whose set_threads does nothing. Every rtlib function becomes internal except
/// gradc_rt_set_threads, exported as setThreadsSymbol(module). rtlib's target CPU and
/// features are dropped, so its code is built for whatever `mod` is compiled for.
void linkRuntime(llvm::Module &mod, const std::string &module, const std::string &triple,
                 bool threads);

} // namespace gradc::codegen
