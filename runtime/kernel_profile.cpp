// The profiling hook of generated code and the per-thread recorder behind it.
#include "runtime/kernel_profile.h"

#include "support/error.h"

#include <chrono>

namespace gradc::runtime {
namespace {

thread_local KernelProfile *active = nullptr;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

KernelProfile::KernelProfile() {
  GRADC_CHECK(!active, "a KernelProfile is already active on this thread");
  active = this;
}

KernelProfile::~KernelProfile() { active = nullptr; }

const std::vector<double> &KernelProfile::times(int32_t function, int32_t interval) const {
  static const std::vector<double> none;
  if (function < 0 || size_t(function) >= times_.size() || interval < 0 ||
      size_t(interval) >= times_[size_t(function)].size())
    return none;
  return times_[size_t(function)][size_t(interval)];
}

void KernelProfile::tick(int32_t function, int32_t point) {
  int64_t now = nowNs();
  if (point > 0) {
    if (times_.size() <= size_t(function))
      times_.resize(size_t(function) + 1);
    auto &fn = times_[size_t(function)];
    if (fn.size() < size_t(point))
      fn.resize(size_t(point));
    fn[size_t(point) - 1].push_back(double(now - last_ns_) * 1e-6);
  }
  last_ns_ = now;
}

} // namespace gradc::runtime

extern "C" void gradc_profile_tick(int32_t function, int32_t point) {
  if (gradc::runtime::active)
    gradc::runtime::active->tick(function, point);
}
