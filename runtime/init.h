// Parameter initialisation: PyTorch's default for linear and conv2d
// (uniform in ±1/sqrt(fan_in) for weight and bias), deterministic per seed.
#pragma once

#include "ir/function.h"
#include "runtime/tensor.h"

#include <cstdint>

namespace gradc::runtime {

/// Every parameter of `m`, drawn from a generator seeded with `seed`, in
/// parameter order. The same seed gives the same tensors on every machine.
TensorMap initParams(const ir::Module &m, uint64_t seed);

/// One tensor per model input of `m`'s forward function, for benchmarks and
/// demos: f32 uniform in [0, 1), class indices uniform in [0, classes).
TensorMap randomInputs(const ir::Module &m, uint64_t seed);

/// Every optimizer-state tensor of `m`, zero.
TensorMap initState(const ir::Module &m);

} // namespace gradc::runtime
