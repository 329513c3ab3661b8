// Links rtlib's embedded bitcode into a lowered module and gives its symbols their
// per-model names, so two models link into one program and each runs its own pool.
#include "codegen/rtlib.h"

#include "codegen/lower.h"
#include "codegen/rtlib_blobs.h"
#include "support/error.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/Module.h>
#include <llvm/Linker/Linker.h>
#include <llvm/Support/MemoryBuffer.h>

namespace gradc::codegen {

std::string setThreadsSymbol(const std::string &module) { return module + "_set_threads"; }

const char *hostRuntimeTriple() { return GRADC_HOST_TRIPLE; }

bool hasThreadPool(const std::string &triple) {
  for (size_t i = 0; i < kRtlibBlobCount; ++i)
    if (!triple.empty() && triple == kRtlibBlobs[i].triple)
      return true;
  return false;
}

void linkRuntime(llvm::Module &mod, const std::string &module, const std::string &triple,
                 bool threads) {
  GRADC_CHECK(!threads || hasThreadPool(triple), "no rtlib thread pool for '" + triple + "'");
  const std::string wanted = threads ? triple : "";
  for (size_t i = 0; i < kRtlibBlobCount; ++i) {
    const RtlibBlob &blob = kRtlibBlobs[i];
    if (wanted != blob.triple)
      continue;
    llvm::MemoryBufferRef ref(llvm::StringRef(reinterpret_cast<const char *>(blob.data), blob.size),
                              blob.name);
    auto src = llvm::parseBitcodeFile(ref, mod.getContext());
    GRADC_CHECK(bool(src), std::string("rtlib bitcode ") + blob.name +
                               " does not load: " + llvm::toString(src.takeError()));
    // The target-independent build was compiled for the host: its module flags (PIC level,
    // unwind tables) are the host's, not the target's.
    if (!threads)
      if (llvm::NamedMDNode *flags = (*src)->getModuleFlagsMetadata())
        (*src)->eraseNamedMetadata(flags);
    (*src)->setTargetTriple(mod.getTargetTriple());
    (*src)->setDataLayout(mod.getDataLayout());
    for (llvm::Function &fn : **src) {
      for (const char *attr : {"target-cpu", "target-features", "tune-cpu", "frame-pointer"})
        fn.removeFnAttr(attr);
      // Like the generated code: no unwind tables (on bare-metal ARM they would pull in
      // the C++ unwinder's personality routine).
      if (!threads)
        fn.setUWTableKind(llvm::UWTableKind::None);
      // clang -O2 optimised it already (rtlib/CMakeLists.txt).
      if (!fn.isDeclaration())
        fn.addFnAttr(kCleanupOnly);
    }
    GRADC_CHECK(!llvm::Linker::linkModules(mod, std::move(*src)),
                std::string("cannot link rtlib bitcode ") + blob.name);
  }
  for (llvm::Function &fn : mod) {
    if (fn.isDeclaration() || !fn.getName().starts_with("gradc_rt_"))
      continue;
    if (fn.getName() == "gradc_rt_set_threads")
      fn.setName(setThreadsSymbol(module));
    else
      fn.setLinkage(llvm::GlobalValue::InternalLinkage);
  }
}

} // namespace gradc::codegen
