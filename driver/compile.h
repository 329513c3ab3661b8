// Ahead-of-time compilation of a module to an object file (or assembly, or
// LLVM IR) and its C header: what `gradc compile` and
// gradc::compile_to_object do.
#pragma once

#include "codegen/target.h"
#include "ir/function.h"
#include "support/error.h"

#include <string>

namespace gradc::driver {

/// Writes `m` (a module from compileModule) as `opts` asks to `object_path`
/// and, unless `header_path` is empty, its C header to `header_path`. Both
/// come from one execution plan, so they cannot disagree; the header is
/// written only when the object is, so no stale header pairs with an older
/// object.
Status compileToObject(const ir::Module &m, codegen::EmitOptions opts,
                       const std::string &object_path, const std::string &header_path);

} // namespace gradc::driver
