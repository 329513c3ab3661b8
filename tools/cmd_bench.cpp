// gradc bench: compile time, median forward / train-step times, GFLOP/s and the
// fraction of the measured FMA peak (docs/cli.md), and with --per-kernel the
// same per kernel from a second, profiled build. Runs the JIT on random inputs.
#include "driver/runner.h"
#include "ir/flops.h"
#include "ir/printer.h"
#include "plan/plan.h"
#include "runtime/fma_peak.h"
#include "runtime/kernel_profile.h"
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

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::nth_element(xs.begin(), xs.begin() + long(xs.size() / 2), xs.end());
  return xs[xs.size() / 2];
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

/// One kernel of a profiled function: its median time over the runs.
struct KernelTiming {
  plan::KernelKind kind = plan::KernelKind::Generic;
  std::vector<std::string> ops; ///< op names, in node order
  std::string nodes;            ///< as `gradc dump --stage plan` prints them
  double median_ms = 0, flops = 0;
};

struct FunctionTiming {
  Timing timing;
  double flops = 0;
  std::vector<KernelTiming> kernels; ///< with --per-kernel
  double copies_ms = 0;              ///< the result copies after the last kernel
  int64_t profiled_runs = 0;
};

struct BenchResult {
  std::string model, backend;
  int64_t threads = 1;
  double compile_ms = 0, jit_ms = 0;
  bool cache_hit = false;
  FunctionTiming forward, train_step;
  bool trains = false, per_kernel = false;
  runtime::FmaPeak peak;
};

/// Times function `name` of a profiled build kernel by kernel.
Status profileFunction(runtime::Executor &exec, const plan::ModulePlan &plan,
                       const std::string &name, const runtime::TensorMap &args, double min_time_ms,
                       FunctionTiming &out) {
  const ir::Module &m = exec.module();
  const ir::Function *f = m.find(name);
  int32_t index = int32_t(f - m.functions.data());
  const plan::FunctionPlan &fp = plan.functions[size_t(index)];
  GRADC_TRY(call, exec.bind(name, args));
  call->run(); // first-touch the buffers outside the profile
  runtime::KernelProfile profile;
  timeCalls(*call, min_time_ms);
  int32_t copies = int32_t(fp.kernels.size()); // the interval after the last kernel
  out.profiled_runs = int64_t(profile.times(index, copies).size()); // with the warm-up calls
  auto names = ir::valueNames(*f);
  for (size_t k = 0; k < fp.kernels.size(); ++k) {
    const plan::Kernel &kn = fp.kernels[k];
    KernelTiming t;
    t.kind = kn.kind;
    for (int32_t i = kn.first; i < kn.end; ++i) {
      const ir::Node &n = f->nodes()[size_t(i)];
      t.ops.push_back(ir::opName(n.op));
      t.nodes += (i > kn.first ? " " : "") + names[size_t(n.result)] + "=" + ir::opName(n.op);
    }
    t.median_ms = median(profile.times(index, int32_t(k)));
    t.flops = plan::kernelFlops(*f, kn);
    out.kernels.push_back(std::move(t));
  }
  out.copies_ms = median(profile.times(index, copies));
  return Status::ok();
}

/// Compiles a second, profiled build of `m` and times each kernel of forward
/// and train_step. The build the other figures come from has no hooks.
Status profileKernels(const ir::Module &m, const runtime::TensorMap &args, double min_time_ms,
                      BenchResult &r) {
  GRADC_TRY(exec, runtime::makeJitExecutor(m, nullptr, 0, /*profile_kernels=*/true));
  exec->setThreads(int(r.threads));
  plan::ModulePlan plan = plan::buildPlan(exec->module());
  GRADC_TRY_STATUS(profileFunction(*exec, plan, "forward", args, min_time_ms, r.forward));
  if (r.trains)
    GRADC_TRY_STATUS(profileFunction(*exec, plan, "train_step", args, min_time_ms, r.train_step));
  return Status::ok();
}

Expected<BenchResult> bench(const Args &args) {
  if (args.positional.size() != 1)
    return Error("gradc bench: expected one MODEL.json");
  GRADC_TRY(threads, parseThreads(args));
  GRADC_TRY(min_time, parseNumber("min-time", args.get("min-time", "1")));
  GRADC_TRY(dims, parseDims(args.all("dim")));
  BenchResult r;
  r.backend = args.get("backend", "jit");
  r.threads = threads;
  r.per_kernel = args.has("per-kernel");
  if (r.per_kernel && r.backend != "jit")
    return Error("--per-kernel: only the jit backend has kernels to time");
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
  runtime::TensorMap all = driver::randomArgs(m, 0);
  r.model = m.name;
  r.trains = m.has_loss;
  runtime::JitStats stats;
  GRADC_TRY(exec, makeExecutor(std::move(m), r.backend, &stats, !args.has("no-cache")));
  r.cache_hit = stats.cache_hit;
  exec->setThreads(threads);
  if (r.backend != "jit")
    r.threads = 1; // the interpreter runs on one thread
  r.compile_ms = msSince(start);
  r.jit_ms = stats.compile_ms;
  {
    GRADC_TRY(fwd, exec->bind("forward", all));
    r.forward.timing = timeCalls(*fwd, min_time * 1000);
    r.forward.flops = ir::functionFlops(*exec->module().find("forward"));
    if (r.trains) {
      GRADC_TRY(step, exec->bind("train_step", all));
      r.train_step.timing = timeCalls(*step, min_time * 1000);
      r.train_step.flops = ir::functionFlops(*exec->module().find("train_step"));
    }
  } // the calls' buffers go before the profiled build binds its own
  if (r.per_kernel)
    GRADC_TRY_STATUS(profileKernels(exec->module(), all, min_time * 1000, r));
  GRADC_TRY(peak, runtime::measureFmaPeak());
  r.peak = peak;
  return r;
}

/// GFLOP/s of `flops` in `ms`, and that as a fraction of the peak of the
/// threads the run uses (per-core peak x threads); 0 for no time or flops.
double gflops(double flops, double ms) { return ms > 0 ? flops / ms * 1e-6 : 0; }
double peakFraction(const BenchResult &r, double flops, double ms) {
  double peak = r.peak.gflops * double(r.threads);
  return peak > 0 ? gflops(flops, ms) / peak : 0;
}

double kernelsTotalMs(const FunctionTiming &t) {
  double total = t.copies_ms;
  for (const KernelTiming &k : t.kernels)
    total += k.median_ms;
  return total;
}

void printKernelsJson(const BenchResult &r, const char *name, const FunctionTiming &t) {
  double total = kernelsTotalMs(t);
  std::printf("\"%s\": {\"total_ms\": %.6g, \"copies_ms\": %.6g, \"runs\": %lld, \"kernels\": [",
              name, total, t.copies_ms, (long long)t.profiled_runs);
  for (size_t k = 0; k < t.kernels.size(); ++k) {
    const KernelTiming &kt = t.kernels[k];
    std::printf("%s{\"index\": %zu, \"kind\": \"%s\", \"ops\": [", k ? ", " : "", k,
                plan::kernelKindName(kt.kind));
    for (size_t i = 0; i < kt.ops.size(); ++i)
      std::printf("%s\"%s\"", i ? ", " : "", kt.ops[i].c_str());
    std::printf("], \"median_ms\": %.6g, \"share\": %.6f, \"flops\": %.0f, \"gflops\": %.4f, "
                "\"peak_fraction\": %.6f}",
                kt.median_ms, total > 0 ? kt.median_ms / total : 0, kt.flops,
                gflops(kt.flops, kt.median_ms), peakFraction(r, kt.flops, kt.median_ms));
  }
  std::printf("]}");
}

void printFunctionJson(const BenchResult &r, const char *name, const FunctionTiming &t) {
  const Timing &tm = t.timing;
  std::printf(", \"%s_ms\": %.6f, \"%s_min_ms\": %.6f, \"%s_runs\": %lld, \"%s_flops\": %.0f, "
              "\"%s_gflops\": %.4f, \"%s_peak_fraction\": %.6f",
              name, tm.median_ms, name, tm.min_ms, name, (long long)tm.runs, name, t.flops, name,
              gflops(t.flops, tm.median_ms), name, peakFraction(r, t.flops, tm.median_ms));
}

void printJson(const BenchResult &r) {
  std::printf("{\"model\": \"%s\", \"backend\": \"%s\", \"threads\": %lld, "
              "\"compile_ms\": %.3f, \"jit_ms\": %.3f, \"cache_hit\": %s, "
              "\"peak_gflops\": %.4f",
              r.model.c_str(), r.backend.c_str(), (long long)r.threads, r.compile_ms, r.jit_ms,
              r.cache_hit ? "true" : "false", r.peak.gflops);
  printFunctionJson(r, "forward", r.forward);
  if (r.trains)
    printFunctionJson(r, "train_step", r.train_step);
  else
    std::printf(", \"train_step_ms\": null");
  if (r.per_kernel) {
    std::printf(", \"per_kernel\": {");
    printKernelsJson(r, "forward", r.forward);
    if (r.trains) {
      std::printf(", ");
      printKernelsJson(r, "train_step", r.train_step);
    }
    std::printf("}");
  }
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

void printFunctionText(const BenchResult &r, const char *label, const FunctionTiming &t) {
  const Timing &tm = t.timing;
  std::printf("  %-11s %12s median, %s min over %lld runs; %.3f GFLOP/s, %.1f%% of peak\n", label,
              duration(tm.median_ms).c_str(), duration(tm.min_ms).c_str(), (long long)tm.runs,
              gflops(t.flops, tm.median_ms), 100 * peakFraction(r, t.flops, tm.median_ms));
}

void printKernelsText(const BenchResult &r, const char *name, const FunctionTiming &t) {
  double total = kernelsTotalMs(t);
  std::printf("\n%s kernels (profiled build, medians over %lld runs; share of %s):\n", name,
              (long long)t.profiled_runs, duration(total).c_str());
  std::printf("  %5s %-12s %12s %6s %9s %6s  %s\n", "", "kind", "median", "share", "GFLOP/s",
              "peak", "nodes");
  for (size_t k = 0; k < t.kernels.size(); ++k) {
    const KernelTiming &kt = t.kernels[k];
    char rate[32] = "-", frac[32] = "-";
    if (kt.flops > 0) {
      std::snprintf(rate, sizeof rate, "%.3f", gflops(kt.flops, kt.median_ms));
      std::snprintf(frac, sizeof frac, "%.1f%%", 100 * peakFraction(r, kt.flops, kt.median_ms));
    }
    std::printf("  %5s %-12s %12s %5.1f%% %9s %6s  %s\n", ("k" + std::to_string(k)).c_str(),
                plan::kernelKindName(kt.kind), duration(kt.median_ms).c_str(),
                total > 0 ? 100 * kt.median_ms / total : 0.0, rate, frac, kt.nodes.c_str());
  }
  std::printf("  %5s %-12s %12s %5.1f%%\n", "", "copies", duration(t.copies_ms).c_str(),
              total > 0 ? 100 * t.copies_ms / total : 0.0);
}

void printText(const BenchResult &r) {
  std::printf("%s (%s backend, %lld thread%s)\n", r.model.c_str(), r.backend.c_str(),
              (long long)r.threads, r.threads == 1 ? "" : "s");
  std::printf("  compile:    %10.3f ms (JIT %.3f ms%s)\n", r.compile_ms, r.jit_ms,
              r.cache_hit ? ", from the compile cache" : "");
  printFunctionText(r, "forward:", r.forward);
  if (r.trains)
    printFunctionText(r, "train_step:", r.train_step);
  std::printf("  FMA peak:   %10.3f GFLOP/s per core (measured, %d-float vectors)\n", r.peak.gflops,
              r.peak.vector_floats);
  if (r.per_kernel) {
    printKernelsText(r, "forward", r.forward);
    if (r.trains)
      printKernelsText(r, "train_step", r.train_step);
  }
}

} // namespace

int cmdBench(int argc, char **argv) {
  auto args = parseArgs("bench", argc, argv, 2,
                        withPipelineFlags({{"threads", true},
                                           {"format", true},
                                           {"dim", true, true},
                                           {"backend", true},
                                           {"max-memory", true},
                                           {"min-time", true},
                                           {"per-kernel", false},
                                           {"no-cache", false}}));
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
