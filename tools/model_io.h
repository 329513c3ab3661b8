// The CLI's names for driver/model_io.h (compiling models, checked weights and
// feeds, backends), which moved to the driver library.
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
