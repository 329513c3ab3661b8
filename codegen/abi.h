// The C calling convention of compiled functions, derived from an ir::Function:
// one description shared by the LLVM lowering, the C header and the JIT.
#pragma once

#include "ir/function.h"

#include <string>
#include <vector>

namespace gradc::codegen {

/// One C parameter of a compiled entry point.
struct AbiParam {
  enum class Kind : uint8_t { Params, Grads, State, Input, Scalar, Output, Scratch };
  Kind kind;
  std::string c_name;    ///< "params", "in_x", "lr", "out_fc3", "scratch"
  bool is_const = false; ///< pointer to const (read-only buffer)
  bool is_i32 = false;   ///< element type int32_t (an i32 input)
  int32_t index = -1;    ///< argument index (Input, Scalar) or result index (Output)
};

/// The whole signature: `float symbol(params...)`, returning the loss or 0.
struct FunctionAbi {
  std::string symbol;           ///< "<module>_<function>", a C identifier
  std::vector<AbiParam> params; ///< in C order
  int32_t loss_result = -1;     ///< index of the Loss result, or -1
  bool writes_params = false;   ///< an Update result overwrites a Param argument
};

/// `name` with every character that may not appear in a C identifier replaced
/// by '_' (and a leading '_' when it starts with a digit).
std::string cIdentifier(const std::string &name);

/// The signature of `f` in module `m`, following the ABI: params, grads,
/// state, inputs, scalars, outputs, scratch.
FunctionAbi functionAbi(const ir::Module &m, const ir::Function &f);

/// The name of the uniform-signature wrapper `float NAME_packed(void **ptrs,
/// const float *scalars)` that the JIT calls: ptrs holds every pointer
/// parameter in order, scalars every Scalar parameter in order.
std::string packedSymbol(const FunctionAbi &abi);

/// Name of the parameter or state tensor a Grad argument / result refers to
/// ("grad.fc1.weight" -> "fc1.weight").
std::string gradTarget(const std::string &grad_name);

} // namespace gradc::codegen
