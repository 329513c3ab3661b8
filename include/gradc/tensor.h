// The symbolic values of the model DSL: gradc::Tensor (a model input or a
// layer's result), gradc::Dim (a shape entry) and gradc::DType.
#pragma once

#include "gradc/export.h"

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

namespace detail {
struct ModelImpl;
struct Access;
} // namespace detail

/// Element types of model inputs ("dtype" in the model format).
enum class DType {
  f32, ///< 32-bit float, the default
  i32, ///< 32-bit signed integer: only class indices (a cross_entropy target)
};

/// One shape entry: a positive integer or the name of a model dim.
/// `{"B", 3}` is a shape of two entries; in a reshape one entry may be -1.
class GRADC_API Dim {
public:
  /// A fixed size (any integer type: `3`, `int64_t(3)`).
  template <std::integral I> Dim(I size) : size_(int64_t(size)) {}
  /// The named dim `name` (declared with Model::dim).
  Dim(const char *name) : name_(name) {}
  /// The named dim `name` (declared with Model::dim).
  Dim(std::string name) : name_(std::move(name)) {}

  /// True for a named dim.
  bool is_named() const { return !name_.empty(); }
  /// The dim's name ("" for a fixed size).
  const std::string &name() const { return name_; }
  /// The fixed size (0 for a named dim).
  int64_t size() const { return size_; }

private:
  std::string name_;
  int64_t size_ = 0;
};

/// A value of a model under construction: a model input or the result of a
/// layer. Tensors are handles: copying one copies the reference, and each
/// keeps its model's graph alive. A default-constructed Tensor belongs to
/// no model; using it is an error.
class GRADC_API Tensor {
public:
  /// A tensor of no model.
  Tensor() = default;

  /// The model input's or layer's name (what the JSON format calls it).
  const std::string &name() const { return name_; }
  /// The shape with every dim resolved to its size.
  std::vector<int64_t> shape() const;
  /// The element type.
  DType dtype() const;
  /// True when the tensor belongs to a model.
  bool valid() const { return model_ != nullptr; }

private:
  friend struct detail::Access;
  Tensor(std::shared_ptr<detail::ModelImpl> model, std::string name)
      : model_(std::move(model)), name_(std::move(name)) {}

  std::shared_ptr<detail::ModelImpl> model_;
  std::string name_;
};

} // namespace gradc
