// `gradc run`'s orchestration: compile, check memory, bind the feed and the
// weights, forward, backward and N training steps, with --check-numerics.
#include "driver/run.h"

#include "driver/memory_limit.h"
#include "driver/runner.h"
#include "runtime/interpreter.h"
#include "support/json_text.h"

#include <algorithm>
#include <cmath>

namespace gradc::driver {
namespace {

/// --check-numerics: an error if the call of `fn` on `args` at `step` (0 for
/// the calls before training) computes a NaN or an infinity anywhere. The
/// call is re-run in the reference interpreter, which checks every node's
/// result in order and names the first non-finite one (its op, layer and
/// phase), even one a later op hides (a sigmoid of an infinity); then the
/// JIT's own results are checked too.
Status checkNumerics(const RunOptions &o, const ir::Module &m, const std::string &fn,
                     const runtime::TensorMap &args, const runtime::TensorMap &results,
                     int64_t step) {
  std::string where =
      o.model + ": --check-numerics: " + (step > 0 ? "step " + std::to_string(step) + ", " : "") +
      fn + ": ";
  const ir::Function *f = m.find(fn);
  if (auto fault = runtime::firstNonFinite(*f, args))
    return Error(where + "the first non-finite value is " +
                 (std::isnan(fault->value) ? "NaN" : "infinite (as a float)") + ", element " +
                 std::to_string(fault->element) + " of " + runtime::describeNode(*f, fault->node));
  for (const auto &[name, t] : results) {
    if (t.type.dtype != ir::DType::F32)
      continue;
    auto bad = std::find_if(t.f32.begin(), t.f32.end(), [](float x) { return !std::isfinite(x); });
    if (bad != t.f32.end())
      return Error(where + "result '" + support::escaped(name) + "' holds " +
                   (std::isnan(*bad) ? "NaN" : "an infinity") +
                   ", and the reference interpreter computes no non-finite value on the same "
                   "inputs (a difference in float rounding)");
  }
  return Status::ok();
}

} // namespace

Status checkRunOptions(const RunOptions &o) {
  if (!o.pipeline.input_grads.empty() && o.steps == 0)
    return Error("--input-grad needs --steps N (N >= 1): gradients come from the training run");
  if (o.steps > 1000000)
    return Error("--steps: at most 1000000, got " + std::to_string(o.steps));
  return Status::ok();
}

Expected<runtime::TensorMap> runModel(const RunOptions &o) {
  GRADC_TRY_STATUS(checkRunOptions(o));
  GRADC_TRY(module,
            compileModel(o.model, o.dims, o.steps > 0 ? Functions::Training : Functions::Forward,
                         o.pipeline));
  // Nothing the size of the model is allocated before this check.
  GRADC_TRY_STATUS(checkMemory("run", estimateMemory(module, o.backend), o.max_memory));
  // The feed first: a wrong feed is refused before parameters (possibly
  // gigabytes) are read or initialised.
  GRADC_TRY(feed, loadFeed(module, o.feed, o.allow_nonfinite));
  runtime::TensorMap weights;
  if (!o.weights.empty()) {
    GRADC_TRY(w, loadWeights(module, o.weights, o.allow_nonfinite));
    weights = std::move(w);
  }
  GRADC_TRY(runner, Runner::create(std::move(module), {o.backend, o.cache, o.threads}));
  if (o.weights.empty())
    runner->initParams(o.seed);
  else
    runner->params() = std::move(weights);
  const ir::Module &m = runner->module();

  runtime::TensorMap out;
  GRADC_TRY(fwd, runner->forward(feed));
  if (o.check_numerics)
    GRADC_TRY_STATUS(checkNumerics(o, m, "forward", runner->forwardArgs(feed), fwd, 0));
  for (auto &[name, t] : fwd)
    out[name] = t;
  if (o.steps == 0)
    return out;

  GRADC_TRY(bwd, runner->backward(feed));
  if (o.check_numerics)
    GRADC_TRY_STATUS(checkNumerics(o, m, "backward", runner->forwardArgs(feed), bwd, 0));
  for (auto &[name, t] : bwd)
    if (name.rfind("grad.", 0) == 0)
      out[name] = t;
  runtime::Tensor losses = runtime::Tensor::zeros(ir::f32({o.steps}));
  for (int64_t i = 0; i < o.steps; ++i) {
    runtime::TensorMap step_args = runner->stepArgs(feed);
    GRADC_TRY(res, runner->executor().call("train_step", step_args));
    if (o.check_numerics)
      GRADC_TRY_STATUS(checkNumerics(o, m, "train_step", step_args, res, i + 1));
    losses.f32[size_t(i)] = res.at("loss").f32[0];
    // Training that diverged stops here, not after more steps of NaN.
    if (!o.allow_nonfinite && !std::isfinite(losses.f32[size_t(i)]))
      return Error(o.model + ": training diverged: the loss of step " + std::to_string(i + 1) +
                   " of " + std::to_string(o.steps) + " is " +
                   (std::isnan(losses.f32[size_t(i)]) ? "NaN" : "infinite") +
                   " (try a smaller learning rate; --allow-nonfinite runs on)");
    runner->applyUpdates(res);
  }
  for (const ir::ParamInfo &p : m.params)
    out["param." + p.name] = runner->params().at(p.name);
  out["losses"] = losses;
  return out;
}

} // namespace gradc::driver
