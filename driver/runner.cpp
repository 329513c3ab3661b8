// Runner: the executor of a compiled module and the parameters, state and
// learning rate a run carries between calls.
#include "driver/runner.h"

#include "passes/optimizer.h"
#include "runtime/init.h"
#include "runtime/schedule.h"

namespace gradc::driver {

Expected<std::unique_ptr<Runner>> Runner::create(ir::Module m, const RunnerOptions &opts) {
  auto s = std::make_unique<Runner>();
  s->state_ = runtime::initState(m);
  s->lr_ = m.optimizer.lr;
  GRADC_TRY(exec, makeExecutor(std::move(m), opts.backend, nullptr, opts.cache));
  exec->setThreads(opts.threads);
  s->exec_ = std::move(exec);
  return s;
}

void Runner::initParams(uint64_t seed) { params_ = runtime::initParams(module(), seed); }

Status Runner::setParams(runtime::TensorMap params, const std::string &where) {
  GRADC_TRY_STATUS(checkWeights(module(), params, where));
  params_ = std::move(params);
  return Status::ok();
}

void Runner::setEpoch(int64_t epoch) { lr_ = runtime::scheduledLr(module().optimizer, epoch); }

runtime::TensorMap Runner::forwardArgs(const runtime::TensorMap &feed) const {
  runtime::TensorMap args = feed;
  args.insert(params_.begin(), params_.end());
  return args;
}

runtime::TensorMap Runner::stepArgs(const runtime::TensorMap &feed) const {
  runtime::TensorMap args = forwardArgs(feed);
  args.insert(state_.begin(), state_.end());
  args[passes::kLrArg] = runtime::Tensor::scalar(float(lr_));
  return args;
}

Expected<runtime::TensorMap> Runner::forward(const runtime::TensorMap &feed) {
  return exec_->call("forward", forwardArgs(feed));
}

Expected<runtime::TensorMap> Runner::backward(const runtime::TensorMap &feed) {
  return exec_->call("backward", forwardArgs(feed));
}

Expected<runtime::TensorMap> Runner::trainStep(const runtime::TensorMap &feed) {
  GRADC_TRY(res, exec_->call("train_step", stepArgs(feed)));
  applyUpdates(res);
  return res;
}

void Runner::applyUpdates(runtime::TensorMap &results) {
  // Updated params and state come back under their own names; a param the
  // loss never reaches has no update (ParamInfo::trained).
  for (auto &[name, t] : results) {
    if (params_.count(name))
      params_[name] = t;
    else if (state_.count(name))
      state_[name] = t;
  }
}

runtime::TensorMap randomArgs(const ir::Module &m, uint64_t seed) {
  runtime::TensorMap feed = runtime::randomInputs(m, seed);
  runtime::TensorMap all = runtime::initParams(m, seed);
  runtime::TensorMap state = runtime::initState(m);
  all.insert(feed.begin(), feed.end());
  all.insert(state.begin(), state.end());
  all[passes::kLrArg] = runtime::Tensor::scalar(float(m.optimizer.lr));
  return all;
}

} // namespace gradc::driver
