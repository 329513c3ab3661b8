// The C header of an ahead-of-time compiled model: buffer sizes, prototypes
// and a table describing every parameter and state tensor.
#pragma once

#include "codegen/target.h"
#include "ir/function.h"

#include <string>

namespace gradc::plan {
struct ModulePlan;
} // namespace gradc::plan

namespace gradc::codegen {

/// A header for the object that emitModule writes for `m`. It compiles as C99
/// and as C++ and needs only <stdint.h>.
/// `plan` is the module's execution plan (built here when null): pass the
/// one the object was lowered with. `target` is what the object was built
/// for (its alignment, threads and triple); `footprint`, when known (object
/// files), its flash and static RAM, which the header adds to its figures.
std::string emitCHeader(const ir::Module &m, const plan::ModulePlan *plan = nullptr,
                        const TargetFacts &target = {}, const ObjectFootprint *footprint = nullptr);

} // namespace gradc::codegen
