// The reference interpreter: evaluates any IR function op by op in double
// precision. Written to be obviously correct, not fast; it is the oracle for
// autodiff and codegen.
#pragma once

#include "ir/function.h"
#include "runtime/tensor.h"

#include <optional>
#include <string>
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

/// A value that is not a finite f32: NaN, infinite, or beyond +-FLT_MAX
/// (the interpreter computes in double; the same value in f32 is infinite).
struct NumericFault {
  int32_t node = -1;   ///< the node of `f` that computed it
  int64_t element = 0; ///< its flat index in the node's result
  double value = 0;
};

/// The first node of `f`, in node order, whose result holds a non-finite
/// value when the interpreter evaluates `f` on `args` (named as in
/// evaluate); nothing if there is none. Stops at the first.
std::optional<NumericFault> firstNonFinite(const ir::Function &f, const TensorMap &args);

/// "%name = op (layer 'conv1', backward)": the fault's node as a user reads it.
std::string describeNode(const ir::Function &f, int32_t node);

} // namespace gradc::runtime
