// Writing a whole file atomically: a temporary file beside the target, then
// rename, so a failed write never leaves a partial file.
#pragma once

#include "support/error.h"

#include <string>

namespace gradc::runtime {

/// Writes `data` to `path` atomically. The error reads
/// "<path>: cannot write: <reason>".
Status writeFileAtomic(const std::string &path, const std::string &data);

} // namespace gradc::runtime
