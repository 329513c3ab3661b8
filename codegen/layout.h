// Buffer layout of the compiled ABI: where each parameter, gradient and state
// tensor lives in its packed buffer, and where each temporary lives in scratch.
#pragma once

#include "ir/function.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc::codegen {

/// Every buffer offset is a multiple of this (one cache line, one AVX-512 vector).
inline constexpr int64_t kAlignment = 64;

inline int64_t alignUp(int64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

/// One tensor inside a packed buffer.
struct TensorSlot {
  std::string name;
  ir::TensorType type;
  int64_t offset = 0; ///< bytes from the start of the buffer
};

/// Where the values of one function live while it runs.
struct FunctionLayout {
  std::string name;
  int64_t scratch_bytes = 0;
  /// Byte offset in scratch of each value (indexed by ValueId), or -1 when
  /// the value is an argument or is written straight into a result buffer.
  std::vector<int64_t> scratch_offset;
  /// For a node value computed straight into a result's buffer: that
  /// result's index, else -1.
  std::vector<int32_t> home_result;
};

/// The layout of a whole module. Gradients ("grad.<p>") use the params layout.
struct ModuleLayout {
  std::vector<TensorSlot> params;
  int64_t params_bytes = 0;
  std::vector<TensorSlot> state;
  int64_t state_bytes = 0;
  std::vector<FunctionLayout> functions; ///< in Module::functions order

  /// The slot called `name` in `slots`, or nullptr.
  static const TensorSlot *find(const std::vector<TensorSlot> &slots, const std::string &name);
};

/// Computes the layout of `m`: parameters and state packed in declaration
/// order, every temporary of every function in its own aligned scratch slot.
ModuleLayout computeLayout(const ir::Module &m);

/// The layout of one function (as computed by computeLayout).
FunctionLayout computeFunctionLayout(const ir::Function &f);

/// Whether a result with this role may be computed in place in its output
/// buffer: outputs always; grads when the function reads no Grad argument
/// (the grads buffer is then write-only).
bool resultWrittenDirectly(const ir::Function &f, const ir::Result &r);

} // namespace gradc::codegen
