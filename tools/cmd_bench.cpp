// gradc bench: compile time and median forward / train-step times of a model
// (spec/cli.md), measured on the JIT with random inputs.
#include "passes/optimizer.h"
#include "runtime/init.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/memory_limit.h"
#include "tools/model_io.h"
#include "tools/pipeline_flags.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace gradc::tools {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Timing {
  double median_ms = 0, min_ms = 0;
  int64_t runs = 0;
};

/// Runs `call` after a warm-up until `min_time_ms` have passed and at least
/// ten runs were timed; reports the median and the minimum.
Timing timeCalls(runtime::BoundCall &call, double min_time_ms) {
  for (int i = 0; i < 3; ++i)
    call.run();
  std::vector<double> times;
  auto start = Clock::now();
  while ((times.size() < 10 || msSince(start) < min_time_ms) && times.size() < 100000) {
    auto t = Clock::now();
    call.run();
    times.push_back(msSince(t));
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times.front(), int64_t(times.size())};
}

struct BenchResult {
  std::string model, backend;
  int64_t threads = 1;
  double compile_ms = 0, jit_ms = 0;
  Timing forward, train_step;
  bool trains = false;
};

Expected<BenchResult> bench(const Args &args) {
  if (args.positional.size() != 1)
    return Error("gradc bench: expected one MODEL.json");
  GRADC_TRY(threads, parseThreads(args));
  GRADC_TRY(min_time, parseNumber("min-time", args.get("min-time", "1")));
  GRADC_TRY(dims, parseDims(args.all("dim")));
  BenchResult r;
  r.backend = args.get("backend", "jit");
  r.threads = threads;
  auto start = Clock::now();
  GRADC_TRY(pipeline, pipelineOptions(args));
  GRADC_TRY(m, compileModel(args.positional[0], dims, Functions::All, pipeline));
  uint64_t limit = defaultMaxMemory();
  if (args.has("max-memory")) {
    GRADC_TRY(l, parseByteSize("max-memory", args.get("max-memory")));
    limit = l;
  }
  // Forward and train_step are bound at once: two calls' buffers.
  MemoryNeed need = estimateMemory(m, r.backend);
  need.arena = need.arena > UINT64_MAX / 2 ? UINT64_MAX : need.arena * 2;
  GRADC_TRY_STATUS(checkMemory("bench", need, limit));
  runtime::TensorMap feed = runtime::randomInputs(m, 0);
  runtime::TensorMap all = runtime::initParams(m, 0);
  runtime::TensorMap state = runtime::initState(m);
  all.insert(feed.begin(), feed.end());
  all.insert(state.begin(), state.end());
  all[passes::kLrArg] = runtime::Tensor::scalar(float(m.optimizer.lr));
  r.model = m.name;
  r.trains = m.has_loss;
  runtime::JitStats stats;
  GRADC_TRY(exec, makeExecutor(std::move(m), r.backend, &stats));
  exec->setThreads(threads);
  if (r.backend != "jit")
    r.threads = 1; // the interpreter runs on one thread
  r.compile_ms = msSince(start);
  r.jit_ms = stats.compile_ms;
  GRADC_TRY(fwd, exec->bind("forward", all));
  r.forward = timeCalls(*fwd, min_time * 1000);
  if (r.trains) {
    GRADC_TRY(step, exec->bind("train_step", all));
    r.train_step = timeCalls(*step, min_time * 1000);
  }
  return r;
}

void printJson(const BenchResult &r) {
  std::printf("{\"model\": \"%s\", \"backend\": \"%s\", \"threads\": %lld, "
              "\"compile_ms\": %.3f, \"jit_ms\": %.3f, "
              "\"forward_ms\": %.6f, \"forward_min_ms\": %.6f, \"forward_runs\": %lld",
              r.model.c_str(), r.backend.c_str(), (long long)r.threads, r.compile_ms, r.jit_ms,
              r.forward.median_ms, r.forward.min_ms, (long long)r.forward.runs);
  if (r.trains)
    std::printf(", \"train_step_ms\": %.6f, \"train_step_min_ms\": %.6f, \"train_step_runs\": %lld",
                r.train_step.median_ms, r.train_step.min_ms, (long long)r.train_step.runs);
  else
    std::printf(", \"train_step_ms\": null");
  std::printf("}\n");
}

/// "6.103 ms", or "0.170 us" below a tenth of a millisecond.
std::string duration(double ms) {
  char buf[64];
  if (ms < 0.1)
    std::snprintf(buf, sizeof buf, "%.3f us", ms * 1000);
  else
    std::snprintf(buf, sizeof buf, "%.3f ms", ms);
  return buf;
}

void printText(const BenchResult &r) {
  std::printf("%s (%s backend, %lld thread%s)\n", r.model.c_str(), r.backend.c_str(),
              (long long)r.threads, r.threads == 1 ? "" : "s");
  std::printf("  compile:    %10.3f ms (JIT %.3f ms)\n", r.compile_ms, r.jit_ms);
  std::printf("  forward:    %12s median, %s min over %lld runs\n",
              duration(r.forward.median_ms).c_str(), duration(r.forward.min_ms).c_str(),
              (long long)r.forward.runs);
  if (r.trains)
    std::printf("  train_step: %12s median, %s min over %lld runs\n",
                duration(r.train_step.median_ms).c_str(), duration(r.train_step.min_ms).c_str(),
                (long long)r.train_step.runs);
}

} // namespace

int cmdBench(int argc, char **argv) {
  auto args = parseArgs("bench", argc, argv, 2,
                        withPipelineFlags({{"threads", true},
                                           {"format", true},
                                           {"dim", true, true},
                                           {"backend", true},
                                           {"max-memory", true},
                                           {"min-time", true}}));
  if (!args)
    return fail(args.error().message());
  std::string format = args->get("format", "text");
  if (format != "text" && format != "json")
    return fail("--format: expected text or json, got '" + format + "'");
  auto r = bench(*args);
  if (!r)
    return fail(r.error().message());
  format == "json" ? printJson(*r) : printText(*r);
  return 0;
}

} // namespace gradc::tools
