// A compiled model with its parameters, optimizer state and learning rate:
// forward, backward and training steps, as `gradc run`, bench and the C++
// API (gradc::CompiledModel) call them.
#pragma once

#include "driver/model_io.h"
#include "runtime/executor.h"
#include "runtime/tensor.h"
#include "support/error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace gradc::driver {

struct RunnerOptions {
  std::string backend = "jit"; ///< "jit" or "interp"
  bool cache = true;           ///< the JIT's on-disk compile cache
  int threads = 1;             ///< threads per call; <= 0: every CPU
};

/// One compiled module and the tensors a training run carries from call to
/// call. Parameters start empty: set them with initParams or setParams.
class Runner {
public:
  /// Compiles `m` (a module from compileModule) for `opts.backend`.
  static Expected<std::unique_ptr<Runner>> create(ir::Module m, const RunnerOptions &opts);

  const ir::Module &module() const { return exec_->module(); }
  runtime::Executor &executor() { return *exec_; }

  /// Every parameter drawn as PyTorch initialises it, from `seed`.
  void initParams(uint64_t seed);
  /// Replaces the parameters; a missing, extra or mistyped one is an error
  /// naming `where` and the tensor.
  Status setParams(runtime::TensorMap params, const std::string &where);
  const runtime::TensorMap &params() const { return params_; }
  runtime::TensorMap &params() { return params_; }

  /// The learning rate of epoch `epoch` (0-based), as the schedule gives it.
  void setEpoch(int64_t epoch);
  double lr() const { return lr_; }

  /// The feed and the parameters: forward's and backward's arguments.
  runtime::TensorMap forwardArgs(const runtime::TensorMap &feed) const;
  /// The feed, parameters, optimizer state and learning rate: train_step's.
  runtime::TensorMap stepArgs(const runtime::TensorMap &feed) const;

  /// forward's results ("out.<name>", and "loss" with a loss).
  Expected<runtime::TensorMap> forward(const runtime::TensorMap &feed);
  /// backward's results ("grad.<param>", "loss").
  Expected<runtime::TensorMap> backward(const runtime::TensorMap &feed);
  /// One optimizer step; the updated parameters and state are kept.
  /// Returns train_step's results (the "loss" before the step among them).
  Expected<runtime::TensorMap> trainStep(const runtime::TensorMap &feed);
  /// Keeps the new parameters and state among train_step's `results`.
  void applyUpdates(runtime::TensorMap &results);

private:
  std::unique_ptr<runtime::Executor> exec_;
  runtime::TensorMap params_, state_;
  double lr_ = 0;
};

/// Every argument `m`'s functions take, for timing them: random inputs,
/// initialised parameters, zero optimizer state and the learning rate, all
/// drawn from `seed` (`gradc bench` and bench/ use seed 0).
runtime::TensorMap randomArgs(const ir::Module &m, uint64_t seed);

} // namespace gradc::driver
