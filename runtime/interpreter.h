// The reference interpreter: evaluates any IR function op by op in double
// precision. Written to be obviously correct, not fast; it is the oracle for
// autodiff and codegen.
#pragma once

#include "ir/function.h"
#include "runtime/tensor.h"

#include <vector>

namespace gradc::runtime {

/// A tensor's elements in double (i32 values converted exactly).
using DoubleBuffer = std::vector<double>;

/// Evaluates `f`. `args[i]` holds f.args()[i] (numElements values); returns
/// one buffer per result, in result order. Sizes are checked (abort: the
/// caller validated user data already).
std::vector<DoubleBuffer> evaluate(const ir::Function &f, const std::vector<DoubleBuffer> &args);

/// Convenience form: arguments by name, results by name, as f32/i32 tensors.
/// A missing or wrongly shaped argument is a bug (abort).
TensorMap evaluate(const ir::Function &f, const TensorMap &args);

} // namespace gradc::runtime
