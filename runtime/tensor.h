// Host tensors: what the CLI, the interpreter and the JIT exchange, and what
// safetensors files hold.
#pragma once

#include "ir/types.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gradc::runtime {

/// A dense row-major tensor on the host. Exactly one of f32 / i32 holds
/// type.numElements() elements, chosen by type.dtype.
struct Tensor {
  ir::TensorType type;
  std::vector<float> f32;
  std::vector<int32_t> i32;

  static Tensor zeros(ir::TensorType type);
  static Tensor scalar(float v);
  int64_t numElements() const { return type.numElements(); }
  /// Element i as a double, whatever the dtype.
  double at(int64_t i) const {
    return type.dtype == ir::DType::F32 ? f32[size_t(i)] : i32[size_t(i)];
  }
};

/// Tensors by name, sorted (the order safetensors files are written in).
using TensorMap = std::map<std::string, Tensor>;

} // namespace gradc::runtime
