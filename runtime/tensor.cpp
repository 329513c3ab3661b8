// Host tensor helpers.
#include "runtime/tensor.h"

namespace gradc::runtime {

Tensor Tensor::zeros(ir::TensorType type) {
  Tensor t;
  size_t n = size_t(type.numElements());
  if (type.dtype == ir::DType::F32)
    t.f32.assign(n, 0.0f);
  else
    t.i32.assign(n, 0);
  t.type = std::move(type);
  return t;
}

Tensor Tensor::scalar(float v) {
  Tensor t;
  t.type = ir::f32({});
  t.f32 = {v};
  return t;
}

} // namespace gradc::runtime
