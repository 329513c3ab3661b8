// Learning-rate schedules.
#include "runtime/schedule.h"

#include <cmath>

namespace gradc::runtime {

double scheduledLr(const ir::OptimizerConfig &opt, int64_t epoch) {
  const ir::Schedule &s = opt.schedule;
  double base = opt.lr;
  switch (s.kind) {
  case ir::Schedule::Kind::None:
    return base;
  case ir::Schedule::Kind::Step:
    return base * std::pow(s.gamma, double(epoch / s.step_size));
  case ir::Schedule::Kind::Exponential: {
    // Chainable form, as torch: lr_e = lr_{e-1} * gamma.
    double lr = base;
    for (int64_t e = 0; e < epoch; ++e)
      lr *= s.gamma;
    return lr;
  }
  case ir::Schedule::Kind::Cosine: {
    // torch's recursive CosineAnnealingLR.get_lr, which keeps following the
    // cosine past t_max.
    const double pi = 3.14159265358979323846, t = double(s.t_max);
    double lr = base;
    for (int64_t e = 1; e <= epoch; ++e) {
      if ((e - 1 - s.t_max) % (2 * s.t_max) == 0)
        lr = lr + (base - s.eta_min) * (1 - std::cos(pi / t)) / 2;
      else
        lr = (1 + std::cos(pi * double(e) / t)) / (1 + std::cos(pi * double(e - 1) / t)) *
                 (lr - s.eta_min) +
             s.eta_min;
    }
    return lr;
  }
  }
  return base;
}

} // namespace gradc::runtime
