// The memory ceiling of model-running commands now lives in the driver layer
// (driver/memory_limit.h); this header keeps the tools' names.
#pragma once

#include "driver/memory_limit.h"

namespace gradc::tools {

using driver::checkMemory;
using driver::defaultMaxMemory;
using driver::estimateMemory;
using driver::MemoryNeed;
using driver::parseByteSize;

} // namespace gradc::tools
