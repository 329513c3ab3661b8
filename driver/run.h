// `gradc run` as a library call: one model, one batch, exact numbers
// (docs/cli.md). The CLI parses its flags into RunOptions and writes the
// result; everything between is here.
#pragma once

#include "frontend/model_json.h"
#include "passes/pass.h"
#include "runtime/tensor.h"
#include "support/error.h"

#include <cstdint>
#include <string>

namespace gradc::driver {

struct RunOptions {
  std::string model, feed, weights; ///< paths; no weights: initialise from `seed`
  std::string backend = "jit";      ///< "jit" or "interp"
  uint64_t seed = 0;
  int64_t steps = 0;       ///< training steps after forward and backward
  uint64_t max_memory = 0; ///< the ceiling on what the run allocates
  int threads = 1;
  frontend::DimOverrides dims;
  passes::PipelineOptions pipeline; ///< with the --input-grad inputs
  bool allow_nonfinite = false;     ///< accept NaN/Inf in feed and weights, and as a loss
  bool cache = true;                ///< use the compile cache (not --no-cache)
  bool check_numerics = false;      ///< stop at the first NaN/Inf, naming where it came from
};

/// Checks what `o` asks for beyond each value's own range: input gradients
/// come from training (`steps` >= 1), and `steps` is at most 1000000.
/// runModel does so first; the CLI before it checks its output paths.
Status checkRunOptions(const RunOptions &o);

/// Runs forward on the feed and, with `steps` > 0, backward and that many
/// train steps. Returns forward's results ("out.<name>", "loss"), and with
/// steps the gradients of the first backward ("grad.<param>"), the final
/// parameters ("param.<name>") and the loss of every step ("losses").
/// Refuses a run whose memory need exceeds `max_memory` before allocating,
/// a wrong feed before reading weights, and a diverged loss (unless
/// `allow_nonfinite`).
Expected<runtime::TensorMap> runModel(const RunOptions &o);

} // namespace gradc::driver
