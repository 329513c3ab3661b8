// The ceiling on the memory a model-running command may use (--max-memory), checked from the
// compiled module and its plan before any parameter, feed or buffer is allocated.
#pragma once

#include "ir/function.h"
#include "support/error.h"

#include <cstdint>
#include <string>

namespace gradc::driver {

/// What a run allocates for the model, in bytes, by kind.
struct MemoryNeed {
  uint64_t params = 0;    ///< the host copy and the call's copy
  uint64_t grads = 0;     ///< one gradient buffer per parameter
  uint64_t state = 0;     ///< optimizer state, host and call copies
  uint64_t arena = 0;     ///< the largest function's scratch (the interpreter: every value)
  uint64_t io = 0;        ///< inputs and outputs of the largest function
  uint64_t total() const; ///< saturates at UINT64_MAX instead of wrapping
};

/// The default ceiling: 16 GiB, or three quarters of physical memory if that is less.
uint64_t defaultMaxMemory();

/// Parses --max-memory: a whole number of bytes with an optional K, M, G or T suffix (powers of
/// 1024; "KiB", "MB" and the like are read the same way).
Expected<uint64_t> parseByteSize(const std::string &flag, const std::string &text);

/// The memory that running `m` on `backend` ("jit" or "interp") needs.
MemoryNeed estimateMemory(const ir::Module &m, const std::string &backend);

/// One message naming every part of the need when it exceeds `limit`:
/// "gradc run: the model needs 17.0 GiB (... bytes: parameters ..., ...), more than the
/// --max-memory limit of 16.0 GiB (...)".
Status checkMemory(const std::string &command, const MemoryNeed &need, uint64_t limit);

} // namespace gradc::driver
