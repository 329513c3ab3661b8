// Learning-rate schedules, stepped once per epoch with PyTorch's formulas
// (StepLR, ExponentialLR, CosineAnnealingLR).
#pragma once

#include "ir/function.h"

#include <cstdint>

namespace gradc::runtime {

/// The learning rate for epoch `epoch` (0-based): what PyTorch's scheduler
/// of the same kind gives after `epoch` calls of scheduler.step().
double scheduledLr(const ir::OptimizerConfig &opt, int64_t epoch);

} // namespace gradc::runtime
