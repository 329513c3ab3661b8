// Tensor types of the graph IR: an element type and a static row-major shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc::ir {

enum class DType : uint8_t { F32, I32 };

using Shape = std::vector<int64_t>;

/// Largest element count any single tensor may have (2^31 - 1, 8 GiB of
/// f32): above any model this compiler targets, and safe for 32-bit index
/// math in generated code.
inline constexpr int64_t kMaxElements = (int64_t(1) << 31) - 1;

/// "f32" or "i32".
const char *dtypeName(DType dtype);
std::optional<DType> parseDType(const std::string &name);

/// Product of dims; std::nullopt when it exceeds kMaxElements or a dim is < 0.
std::optional<int64_t> checkedNumElements(const Shape &shape);

/// "[4, 3]".
std::string shapeStr(const Shape &shape);

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int64_t rank() const { return int64_t(shape.size()); }
  /// Element count; the IR only holds shapes that passed checkedNumElements.
  int64_t numElements() const;
  int64_t byteSize() const { return numElements() * 4; }
  bool operator==(const TensorType &o) const { return dtype == o.dtype && shape == o.shape; }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
  /// "f32[4, 3]"; a scalar is "f32[]".
  std::string str() const;
};

inline TensorType f32(Shape shape) { return {DType::F32, std::move(shape)}; }
inline TensorType i32(Shape shape) { return {DType::I32, std::move(shape)}; }

} // namespace gradc::ir
