// Losses, optimizers and learning-rate schedules of the model DSL, mirroring
// the "loss" and "optimizer" sections of the model format.
#pragma once

#include "gradc/export.h"
#include "gradc/tensor.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace gradc {

/// A loss: the mean over all elements of a function of `input` and
/// `target` (PyTorch's reduction="mean"). Made by mse, mae, rmse,
/// cross_entropy and bce_with_logits; set with Model::loss.
struct Loss {
  std::string op = {}; ///< the format's loss op ("mse", ...)
  Tensor input = {};   ///< what the model computes
  Tensor target = {};  ///< a model input: targets are fed, not computed
};

/// Mean squared error; `target` has the shape of `input`.
GRADC_API Loss mse(const Tensor &input, const Tensor &target);
/// Mean absolute error; `target` has the shape of `input`.
GRADC_API Loss mae(const Tensor &input, const Tensor &target);
/// Root of the mean squared error.
GRADC_API Loss rmse(const Tensor &input, const Tensor &target);
/// log_softmax and negative log-likelihood: `input` logits f32[N, K],
/// `target` class indices i32[N].
GRADC_API Loss cross_entropy(const Tensor &input, const Tensor &target);
/// Binary cross-entropy on logits; `target` in [0, 1], the shape of `input`.
GRADC_API Loss bce_with_logits(const Tensor &input, const Tensor &target);

/// A per-epoch learning-rate schedule (PyTorch's scheduler of the same name,
/// stepped once an epoch). Made by step_lr, exponential_lr and cosine_lr.
struct Schedule {
  /// The schedules of the model format.
  enum class Kind {
    step,        ///< StepLR ("step")
    exponential, ///< ExponentialLR ("exponential")
    cosine,      ///< CosineAnnealingLR ("cosine")
  };
  Kind kind = Kind::step;             ///< which schedule
  int64_t step_size = 0;              ///< step: epochs between decays
  std::optional<double> gamma = {};   ///< step (default 0.1) and exponential: decay factor
  int64_t t_max = 0;                  ///< cosine: epochs of a half period
  std::optional<double> eta_min = {}; ///< cosine: the lowest rate (default 0)
};

/// StepLR: the rate times `gamma` every `step_size` epochs.
GRADC_API Schedule step_lr(int64_t step_size, double gamma = 0.1);
/// ExponentialLR: the rate times `gamma` every epoch.
GRADC_API Schedule exponential_lr(double gamma);
/// CosineAnnealingLR from the optimizer's rate down to `eta_min` over `t_max` epochs.
GRADC_API Schedule cosine_lr(int64_t t_max, double eta_min = 0);

/// torch.optim.SGD's hyper-parameters; unset members take its defaults.
struct SgdOptions {
  std::optional<double> lr = {};           ///< learning rate (required)
  std::optional<double> momentum = {};     ///< default 0
  std::optional<double> dampening = {};    ///< default 0
  std::optional<double> weight_decay = {}; ///< default 0
  std::optional<bool> nesterov = {};       ///< default false
  std::optional<Schedule> schedule = {};   ///< default: a constant rate
};

/// torch.optim.Adam's hyper-parameters; unset members take its defaults.
struct AdamOptions {
  std::optional<double> lr = {};                   ///< default 0.001
  std::optional<std::array<double, 2>> betas = {}; ///< default {0.9, 0.999}
  std::optional<double> eps = {};                  ///< default 1e-8
  std::optional<double> weight_decay = {};         ///< default 0
  std::optional<Schedule> schedule = {};           ///< default: a constant rate
};

/// An optimizer: SGD or Adam with their options. Made by sgd and adam; set
/// with Model::optimizer (a model without one trains with SGD, lr 0.01).
struct Optimizer {
  /// The optimizers of the model format.
  enum class Kind {
    sgd,  ///< torch.optim.SGD
    adam, ///< torch.optim.Adam
  };
  Kind kind = Kind::sgd; ///< which optimizer
  SgdOptions sgd = {};   ///< when kind is sgd
  AdamOptions adam = {}; ///< when kind is adam
};

/// Stochastic gradient descent, as torch.optim.SGD.
GRADC_API Optimizer sgd(const SgdOptions &options);
/// Adam, as torch.optim.Adam.
GRADC_API Optimizer adam(const AdamOptions &options = {});

} // namespace gradc
