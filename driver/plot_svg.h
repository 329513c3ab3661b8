// Learning curves as an SVG image: loss (train and test) and test accuracy per
// epoch, each in its own panel with axes, ticks and a legend.
#pragma once

#include "driver/checkpoint.h"

#include <string>
#include <vector>

namespace gradc::driver {

/// The SVG document for `epochs` (one point per epoch; the accuracy panel is
/// left out when the model has no class labels). `title` heads the image.
std::string learningCurvesSvg(const std::vector<EpochMetrics> &epochs, const std::string &title);

} // namespace gradc::driver
