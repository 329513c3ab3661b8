// Concrete tensors in host memory: what a compiled model is fed and returns,
// and what safetensors files hold.
#pragma once

#include "gradc/export.h"
#include "gradc/tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gradc {

/// A dense row-major tensor in host memory. Exactly one of `f32` and `i32`
/// holds the elements (as many as the shape's product), chosen by `dtype`.
struct GRADC_API HostTensor {
  DType dtype = DType::f32;        ///< the element type
  std::vector<int64_t> shape = {}; ///< the sizes, outermost first; {} for a scalar
  std::vector<float> f32 = {};     ///< the elements when dtype is f32
  std::vector<int32_t> i32 = {};   ///< the elements when dtype is i32

  /// An f32 tensor of `shape` holding `values` (throws gradc::Error unless
  /// their count is the shape's product).
  static HostTensor from_f32(std::vector<int64_t> shape, std::vector<float> values);
  /// An i32 tensor of `shape` holding `values` (class indices).
  static HostTensor from_i32(std::vector<int64_t> shape, std::vector<int32_t> values);
  /// A tensor of `shape` filled with zeros.
  static HostTensor zeros(std::vector<int64_t> shape, DType dtype = DType::f32);

  /// The number of elements: the product of the shape.
  int64_t numel() const;
  /// The one element of a scalar or one-element f32 tensor (a loss).
  float item() const;
};

/// Tensors by name, sorted (the order safetensors files are written in).
using TensorMap = std::map<std::string, HostTensor>;

/// Every tensor of a safetensors file (F32 and I32; I64 read as I32).
/// Throws gradc::Error naming the file and the tensor.
GRADC_API TensorMap load_tensors(const std::string &path);

/// Writes `tensors` to a safetensors file, atomically (a failure leaves no
/// partial file).
GRADC_API void save_tensors(const std::string &path, const TensorMap &tensors);

} // namespace gradc
