// The table of supported ahead-of-time triples and its lookups. Adding a
// target is one row here (and, for a Linux one, its thread pool in
// rtlib/CMakeLists.txt).
#include "codegen/triples.h"

#include "codegen/rtlib.h"

#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace gradc::codegen {
namespace {

// Buffers on Linux targets are cache-line aligned (plan::kAlignment); a
// Cortex-M4 has no data cache to align to, and 8 bytes is what its widest access
// (LDRD, VLDM) wants, so the linker wastes no RAM padding buffers.
const TripleInfo kTriples[] = {
    {"x86_64-linux-gnu", "x86_64-unknown-linux-gnu", "x86-64", "", "", true, 64,
     "x86-64 Linux (SSE2 baseline; --target x86-64-v3 for AVX2)"},
    {"aarch64-linux-gnu", "aarch64-unknown-linux-gnu", "generic", "+neon", "", true, 64,
     "64-bit ARM Linux (ARMv8-A, NEON)"},
    {"arm-linux-gnueabihf", "armv7a-unknown-linux-gnueabihf", "generic", "+neon,+vfp3", "", true,
     64, "32-bit ARM Linux (ARMv7-A with NEON, hard float)"},
    {"riscv64-linux-gnu", "riscv64-unknown-linux-gnu", "generic-rv64", "+m,+a,+f,+d,+c", "lp64d",
     true, 64, "64-bit RISC-V Linux (RV64GC, lp64d; no vector extension)"},
    {"thumbv7em-none-eabihf", "thumbv7em-none-unknown-eabihf", "cortex-m4", "", "", false, 8,
     "Cortex-M4F / M7, no OS (single-precision FPU, no threads)"},
};

bool sameTarget(const llvm::Triple &a, const llvm::Triple &b) {
  return a.getArch() == b.getArch() && a.getOS() == b.getOS() &&
         a.getEnvironment() == b.getEnvironment();
}

} // namespace

const std::vector<TripleInfo> &supportedTriples() {
  static const std::vector<TripleInfo> all = [] {
    std::vector<TripleInfo> v(std::begin(kTriples), std::end(kTriples));
    const TripleInfo *host = hostTriple();
    if (host)
      std::stable_partition(v.begin(), v.end(),
                            [&](const TripleInfo &t) { return t.name == host->name; });
    return v;
  }();
  return all;
}

const TripleInfo *hostTriple() {
  llvm::Triple host(llvm::sys::getProcessTriple());
  for (const TripleInfo &t : kTriples)
    if (sameTarget(llvm::Triple(t.llvm_triple), host))
      return &t;
  return nullptr;
}

Expected<const TripleInfo *> findTriple(const std::string &name) {
  std::string names;
  for (const TripleInfo &t : kTriples) {
    if (name == t.name)
      return &t;
    names += (names.empty() ? "" : ", ") + std::string(t.name);
  }
  return Error("--triple: unknown target triple '" + name + "' (supported: " + names +
               "; gradc compile --list-targets describes them)");
}

namespace {

bool isHost(const TripleInfo &t) {
  const TripleInfo *host = hostTriple();
  return host && std::strcmp(host->name, t.name) == 0;
}

} // namespace

std::string listTargets() {
  std::string out = "triple                  default CPU   threads  description\n";
  for (const TripleInfo &t : supportedTriples()) {
    const char *threads = !t.os ? "none" : hasThreadPool(t.name) ? "pool" : "n/a";
    char line[256];
    std::snprintf(line, sizeof line, "%-23s %-13s %-8s %s%s\n", t.name, t.cpu, threads,
                  t.description, isHost(t) ? " [host]" : "");
    out += line;
  }
  return out +
         "threads: pool = a pthread pool (--no-threads leaves it out); none = no OS, never\n"
         "threads; n/a = this gradc was built without that triple's C headers, so only\n"
         "--no-threads objects (tools/setup.sh --cross installs them; re-run cmake, rebuild)\n";
}

} // namespace gradc::codegen
