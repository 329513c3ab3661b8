// Tensor type helpers.
#include "ir/types.h"

#include "support/error.h"

namespace gradc::ir {

const char *dtypeName(DType dtype) { return dtype == DType::F32 ? "f32" : "i32"; }

std::optional<DType> parseDType(const std::string &name) {
  if (name == "f32")
    return DType::F32;
  if (name == "i32")
    return DType::I32;
  return std::nullopt;
}

std::optional<int64_t> checkedNumElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return std::nullopt;
    if (d != 0 && n > kMaxElements / d)
      return std::nullopt;
    n *= d;
  }
  if (n > kMaxElements)
    return std::nullopt;
  return n;
}

std::string shapeStr(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t TensorType::numElements() const {
  auto n = checkedNumElements(shape);
  GRADC_CHECK(n.has_value(), "tensor type with an invalid shape " + shapeStr(shape));
  return *n;
}

std::string TensorType::str() const { return std::string(dtypeName(dtype)) + shapeStr(shape); }

} // namespace gradc::ir
