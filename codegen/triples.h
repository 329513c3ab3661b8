// The target triples gradc compiles for ahead of time (`gradc compile
// --triple`, --list-targets): per triple, the LLVM triple, the default CPU
// and features, the ABI, whether it has an OS (and so a thread pool) and the
// alignment its header asks of the model's buffers.
#pragma once

#include "support/error.h"

#include <string>
#include <vector>

namespace gradc::codegen {

struct TripleInfo {
  const char *name;        ///< as --triple takes it: "aarch64-linux-gnu"
  const char *llvm_triple; ///< what LLVM is given: "aarch64-unknown-linux-gnu"
  const char *cpu;         ///< the default --target (an LLVM CPU name)
  const char *features;    ///< always given to LLVM, before --features
  const char *abi;         ///< the LLVM ABI name ("lp64d"), or "" for the triple's default
  bool os;                 ///< Linux: pthreads for the pool, PIC; else bare metal, static code
  int alignment;           ///< the buffer alignment the header asks for (bytes)
  const char *description; ///< one line for --list-targets
};

/// Every supported triple, the host's first when it is one of them.
const std::vector<TripleInfo> &supportedTriples();

/// The entry named `name`, or an error that lists the supported names.
Expected<const TripleInfo *> findTriple(const std::string &name);

/// The entry of the machine gradc runs on, or null when it is none of them.
const TripleInfo *hostTriple();

/// `gradc compile --list-targets`: one line per triple with its default CPU,
/// whether this gradc has its thread pool, and its description.
std::string listTargets();

} // namespace gradc::codegen
