// gradc run: one model, one batch, exact numbers (spec/cli.md).
#include "driver/session.h"
#include "runtime/interpreter.h"
#include "runtime/safetensors.h"
#include "support/files.h"
#include "support/json_text.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/memory_limit.h"
#include "tools/model_io.h"
#include "tools/pipeline_flags.h"

#include <algorithm>
#include <cmath>

namespace gradc::tools {
namespace {

struct RunOptions {
  std::string model, feed, out, weights, backend;
  uint64_t seed = 0;
  int64_t steps = 0;
  uint64_t max_memory = 0;
  int threads = 1;
  frontend::DimOverrides dims;
  passes::PipelineOptions pipeline; ///< with the --input-grad inputs
  bool allow_nonfinite = false;     ///< accept NaN/Inf in feed and weights, and as a loss
  bool cache = true;                ///< use the compile cache (not --no-cache)
  bool check_numerics = false;      ///< stop at the first NaN/Inf, naming where it came from
};

Expected<RunOptions> parseRunOptions(int argc, char **argv) {
  GRADC_TRY(args, parseArgs("run", argc, argv, 2,
                            withPipelineFlags({{"feed", true},
                                               {"out", true},
                                               {"weights", true},
                                               {"seed", true},
                                               {"steps", true},
                                               {"dim", true, true},
                                               {"backend", true},
                                               {"max-memory", true},
                                               {"threads", true},
                                               {"allow-nonfinite", false},
                                               {"no-cache", false},
                                               {"check-numerics", false},
                                               {"input-grad", true, true}})));
  RunOptions o;
  if (args.positional.size() != 1)
    return Error("gradc run: expected one MODEL.json, got " +
                 std::to_string(args.positional.size()) +
                 " (usage: gradc run MODEL.json --feed FEED.safetensors --out OUT.safetensors)");
  o.model = args.positional[0];
  if (!args.has("feed") || !args.has("out"))
    return Error(std::string("gradc run: --") + (args.has("feed") ? "out" : "feed") +
                 " is required");
  if (args.has("weights") && args.has("seed"))
    return Error("gradc run: give --weights or --seed, not both");
  o.feed = args.get("feed");
  o.out = args.get("out");
  o.weights = args.get("weights");
  o.backend = args.get("backend", "jit");
  o.allow_nonfinite = args.has("allow-nonfinite");
  o.cache = !args.has("no-cache");
  o.check_numerics = args.has("check-numerics");
  GRADC_TRY(seed, parseCount("seed", args.get("seed", "0")));
  GRADC_TRY(steps, parseCount("steps", args.get("steps", "0")));
  GRADC_TRY(dims, parseDims(args.all("dim")));
  GRADC_TRY(threads, parseThreads(args));
  o.threads = threads;
  if (args.has("max-memory")) {
    GRADC_TRY(limit, parseByteSize("max-memory", args.get("max-memory")));
    o.max_memory = limit;
  } else {
    o.max_memory = defaultMaxMemory();
  }
  o.seed = uint64_t(seed);
  o.steps = steps;
  o.dims = dims;
  GRADC_TRY(pipeline, pipelineOptions(args));
  o.pipeline = pipeline;
  o.pipeline.input_grads = args.all("input-grad");
  if (!o.pipeline.input_grads.empty() && o.steps == 0)
    return Error("--input-grad needs --steps N (N >= 1): gradients come from the training run");
  if (o.steps > 1000000)
    return Error("--steps: at most 1000000, got " + std::to_string(o.steps));
  GRADC_TRY_STATUS(support::checkOutputPaths(
      "run", {{"--out", o.out}},
      {{"the model", o.model}, {"--feed", o.feed}, {"--weights", o.weights}}));
  return o;
}

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

Expected<runtime::TensorMap> run(const RunOptions &o) {
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
  GRADC_TRY(session, driver::Session::create(std::move(module), {o.backend, o.cache, o.threads}));
  if (o.weights.empty())
    session->initParams(o.seed);
  else
    session->params() = std::move(weights);
  const ir::Module &m = session->module();

  runtime::TensorMap out;
  GRADC_TRY(fwd, session->forward(feed));
  if (o.check_numerics)
    GRADC_TRY_STATUS(checkNumerics(o, m, "forward", session->forwardArgs(feed), fwd, 0));
  for (auto &[name, t] : fwd)
    out[name] = t;
  if (o.steps == 0)
    return out;

  GRADC_TRY(bwd, session->backward(feed));
  if (o.check_numerics)
    GRADC_TRY_STATUS(checkNumerics(o, m, "backward", session->forwardArgs(feed), bwd, 0));
  for (auto &[name, t] : bwd)
    if (name.rfind("grad.", 0) == 0)
      out[name] = t;
  runtime::Tensor losses = runtime::Tensor::zeros(ir::f32({o.steps}));
  for (int64_t i = 0; i < o.steps; ++i) {
    runtime::TensorMap step_args = session->stepArgs(feed);
    GRADC_TRY(res, session->executor().call("train_step", step_args));
    if (o.check_numerics)
      GRADC_TRY_STATUS(checkNumerics(o, m, "train_step", step_args, res, i + 1));
    losses.f32[size_t(i)] = res.at("loss").f32[0];
    // Training that diverged stops here, not after more steps of NaN.
    if (!o.allow_nonfinite && !std::isfinite(losses.f32[size_t(i)]))
      return Error(o.model + ": training diverged: the loss of step " + std::to_string(i + 1) +
                   " of " + std::to_string(o.steps) + " is " +
                   (std::isnan(losses.f32[size_t(i)]) ? "NaN" : "infinite") +
                   " (try a smaller learning rate; --allow-nonfinite runs on)");
    session->applyUpdates(res);
  }
  for (const ir::ParamInfo &p : m.params)
    out["param." + p.name] = session->params().at(p.name);
  out["losses"] = losses;
  return out;
}

} // namespace

int cmdRun(int argc, char **argv) {
  auto opts = parseRunOptions(argc, argv);
  if (!opts)
    return fail(opts.error().message());
  auto out = run(*opts);
  if (!out)
    return fail(out.error().message());
  Status s = runtime::writeSafetensors(opts->out, *out);
  if (!s)
    return fail(s.error().message());
  return 0;
}

} // namespace gradc::tools
