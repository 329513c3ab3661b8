// gradc bench: compile time, median forward / train-step times, GFLOP/s and the
// fraction of the measured FMA peak (docs/cli.md), and with --per-kernel the
// same per kernel from a second, profiled build. Runs the JIT on random inputs.
#include "driver/bench.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/memory_limit.h"
#include "tools/pipeline_flags.h"

#include <cstdio>

namespace gradc::tools {
namespace {

using driver::BenchResult;
using driver::FunctionTiming;
using driver::gflops;
using driver::kernelsTotalMs;
using driver::KernelTiming;
using driver::peakFraction;
using driver::Timing;

Expected<BenchResult> bench(const Args &args) {
  if (args.positional.size() != 1)
    return Error("gradc bench: expected one MODEL.json");
  driver::BenchOptions o;
  o.model = args.positional[0];
  GRADC_TRY(threads, parseThreads(args));
  GRADC_TRY(min_time, parseNumber("min-time", args.get("min-time", "1")));
  GRADC_TRY(dims, parseDims(args.all("dim")));
  GRADC_TRY(pipeline, pipelineOptions(args));
  o.threads = threads;
  o.min_time_ms = min_time * 1000;
  o.dims = dims;
  o.pipeline = pipeline;
  o.backend = args.get("backend", "jit");
  o.per_kernel = args.has("per-kernel");
  o.cache = !args.has("no-cache");
  o.max_memory = defaultMaxMemory();
  if (args.has("max-memory")) {
    GRADC_TRY(limit, parseByteSize("max-memory", args.get("max-memory")));
    o.max_memory = limit;
  }
  return driver::benchModel(o);
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
