// Timing compiled models: warm-up, median and minimum over repeated calls,
// FLOP counts, per-kernel times from the profiling hook, the FMA peak.
#include "driver/bench.h"

#include "driver/memory_limit.h"
#include "driver/runner.h"
#include "ir/flops.h"
#include "ir/printer.h"
#include "runtime/jit.h"
#include "runtime/kernel_profile.h"
#include "support/timing.h"

#include <algorithm>
#include <chrono>

namespace gradc::driver {
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

/// A timed sample is a batch of calls taking at least this long, its time
/// divided among them (support/timing.h).
constexpr double kMinSampleSeconds = 2e-6;

/// Runs `call` after a warm-up until `min_time_ms` have passed and at least
/// ten samples were timed; reports the median and the minimum of the samples'
/// times a call, and the calls timed.
Timing timeCalls(runtime::BoundCall &call, double min_time_ms) {
  for (int i = 0; i < 3; ++i)
    call.run();
  auto run = [&] { call.run(); };
  const int64_t calls = support::batchSize(run, kMinSampleSeconds, 1024);
  // At most 100,000 calls (the profiled build keeps each call's ticks).
  const size_t most = size_t(std::max<int64_t>(10, 100000 / calls));
  std::vector<double> times;
  auto start = Clock::now();
  while ((times.size() < 10 || msSince(start) < min_time_ms) && times.size() < most)
    times.push_back(support::timeBatch(run, calls) * 1e3 / double(calls));
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times.front(), int64_t(times.size()) * calls};
}

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

} // namespace

Expected<BenchResult> benchModel(const BenchOptions &o) {
  BenchResult r;
  r.backend = o.backend;
  r.threads = o.threads;
  r.per_kernel = o.per_kernel;
  if (r.per_kernel && r.backend != "jit")
    return Error("--per-kernel: only the jit backend has kernels to time");
  auto start = Clock::now();
  GRADC_TRY(m, compileModel(o.model, o.dims, Functions::All, o.pipeline));
  // Forward and train_step are bound at once: two calls' buffers.
  MemoryNeed need = estimateMemory(m, r.backend);
  need.arena = need.arena > UINT64_MAX / 2 ? UINT64_MAX : need.arena * 2;
  GRADC_TRY_STATUS(checkMemory("bench", need, o.max_memory));
  runtime::TensorMap all = randomArgs(m, 0);
  r.model = m.name;
  r.trains = m.has_loss;
  runtime::JitStats stats;
  // compile_ms covers what is timed: forward and train_step, not backward
  // and optimizer_step, which the JIT compiles only if called.
  std::vector<std::string> timed = {"forward"};
  if (r.trains)
    timed.push_back("train_step");
  GRADC_TRY(exec, makeExecutor(std::move(m), r.backend, &stats, o.cache, std::move(timed)));
  r.cache_hit = stats.cache_hit;
  exec->setThreads(o.threads);
  if (r.backend != "jit")
    r.threads = 1; // the interpreter runs on one thread
  r.compile_ms = msSince(start);
  r.jit_ms = stats.compile_ms;
  {
    GRADC_TRY(fwd, exec->bind("forward", all));
    r.forward.timing = timeCalls(*fwd, o.min_time_ms);
    r.forward.flops = ir::functionFlops(*exec->module().find("forward"));
    if (r.trains) {
      GRADC_TRY(step, exec->bind("train_step", all));
      r.train_step.timing = timeCalls(*step, o.min_time_ms);
      r.train_step.flops = ir::functionFlops(*exec->module().find("train_step"));
    }
  } // the calls' buffers go before the profiled build binds its own
  if (r.per_kernel)
    GRADC_TRY_STATUS(profileKernels(exec->module(), all, o.min_time_ms, r));
  GRADC_TRY(peak, runtime::measureFmaPeak());
  r.peak = peak;
  return r;
}

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

} // namespace gradc::driver
