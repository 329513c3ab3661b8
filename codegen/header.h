// The C header of an ahead-of-time compiled model: buffer sizes, prototypes
// and a table describing every parameter and state tensor.
#pragma once

#include "ir/function.h"

#include <string>

namespace gradc::codegen {

/// A header for the object that emitModule writes for `m`. It compiles as C99
/// and as C++ and needs only <stdint.h>.
std::string emitCHeader(const ir::Module &m);

} // namespace gradc::codegen
