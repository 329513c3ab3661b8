// `gradc bench` as a library call: a model compiled and its forward and
// train_step timed on random inputs (seed 0), with GFLOP/s and, on request,
// kernel by kernel from a second, profiled build.
#pragma once

#include "frontend/model_json.h"
#include "passes/pass.h"
#include "plan/plan.h"
#include "runtime/fma_peak.h"
#include "support/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc::driver {

struct BenchOptions {
  std::string model; ///< the model file
  frontend::DimOverrides dims;
  passes::PipelineOptions pipeline;
  std::string backend = "jit";
  int threads = 1;
  double min_time_ms = 1000; ///< per function, after a warm-up
  bool per_kernel = false;   ///< also time each kernel (a second, profiled build)
  bool cache = true;         ///< the JIT's compile cache
  uint64_t max_memory = 0;   ///< the ceiling on what binding both functions needs
};

/// The times of repeated calls of one function, in milliseconds.
struct Timing {
  double median_ms = 0, min_ms = 0;
  int64_t runs = 0;
};

/// One kernel of a profiled function: its median time over the runs.
struct KernelTiming {
  plan::KernelKind kind = plan::KernelKind::Generic;
  std::vector<std::string> ops; ///< op names, in node order
  std::string nodes;            ///< as `gradc dump --stage plan` prints them
  double median_ms = 0, flops = 0;
};

/// One function's timing, FLOPs and (with per_kernel) kernels.
struct FunctionTiming {
  Timing timing;
  double flops = 0;
  std::vector<KernelTiming> kernels; ///< with --per-kernel
  double copies_ms = 0;              ///< the result copies after the last kernel
  int64_t profiled_runs = 0;
};

/// Everything `gradc bench` prints.
struct BenchResult {
  std::string model, backend;
  int64_t threads = 1;
  double compile_ms = 0, jit_ms = 0;
  bool cache_hit = false;
  FunctionTiming forward, train_step;
  bool trains = false, per_kernel = false;
  runtime::FmaPeak peak;
};

/// Compiles `o.model` and times it as `gradc bench` does.
Expected<BenchResult> benchModel(const BenchOptions &o);

/// GFLOP/s of `flops` in `ms`; 0 for no time.
double gflops(double flops, double ms);

/// gflops(flops, ms) as a fraction of the peak of the threads `r` used
/// (per-core peak x threads); 0 without a peak.
double peakFraction(const BenchResult &r, double flops, double ms);

/// The sum of a profiled function's kernel medians and its result copies:
/// what each kernel's share is of.
double kernelsTotalMs(const FunctionTiming &t);

} // namespace gradc::driver
