// The machine's single-core FMA peak, measured rather than looked up: a JIT-
// compiled loop of independent vector FMA chains, timed for a few milliseconds.
#pragma once

#include "support/error.h"

namespace gradc::runtime {

struct FmaPeak {
  double gflops = 0;     ///< the best rate seen, 2 flops per FMA lane, one core
  int vector_floats = 0; ///< lanes per FMA (codegen::vectorFloats of the host)
  int chains = 0;        ///< independent accumulators, enough to hide FMA latency
};

/// Runs the FMA loop for about `min_ms` milliseconds (at least three timed
/// calls, each of 2 ms or more) and reports the fastest call: on a loaded
/// machine the best call is the one least disturbed.
Expected<FmaPeak> measureFmaPeak(double min_ms = 30);

} // namespace gradc::runtime
