// Per-kernel timing of code lowered with codegen::LowerOptions::profile_kernels:
// the entry point calls gradc_profile_tick(function, point) before each kernel,
// after the last one and after copying the results out; a KernelProfile
// installed on the calling thread turns the ticks into interval times.
#pragma once

#include <cstdint>
#include <vector>

/// The hook profiled code calls (resolved by the JIT). `function` is the
/// function's index in the module, `point` 0..kernels+1: point k < kernels
/// is the start of kernel k, `kernels` the end of the last kernel and
/// `kernels + 1` the end of the function (after its result copies). Does
/// nothing unless a KernelProfile is active on the calling thread.
extern "C" void gradc_profile_tick(int32_t function, int32_t point);

namespace gradc::runtime {

/// Collects, while active on a thread, the time of every interval between
/// consecutive ticks of every run: interval i of a function runs from point
/// i to point i + 1 (kernel i; the last one is the result copies).
class KernelProfile {
public:
  /// Starts recording the ticks of this thread; one profile per thread.
  KernelProfile();
  /// Stops recording.
  ~KernelProfile();
  KernelProfile(const KernelProfile &) = delete;
  KernelProfile &operator=(const KernelProfile &) = delete;

  /// Milliseconds of interval `interval` of function `function`, one entry
  /// per run, in run order; empty if it never ran.
  const std::vector<double> &times(int32_t function, int32_t interval) const;

  /// Called by gradc_profile_tick.
  void tick(int32_t function, int32_t point);

private:
  std::vector<std::vector<std::vector<double>>> times_; ///< [function][interval][run]
  int64_t last_ns_ = 0;
};

} // namespace gradc::runtime
