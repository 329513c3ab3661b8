// The CLI's model loading, compiling and tensor checks now live in the
// driver layer (driver/model_io.h); this header keeps the tools' names.
#pragma once

#include "driver/model_io.h"

namespace gradc::tools {

using driver::checkLabels;
using driver::compileModel;
using driver::Functions;
using driver::loadFeed;
using driver::loadWeights;
using driver::makeExecutor;

} // namespace gradc::tools
