// Google Benchmark timings of the JIT's forward and train_step on the example
// models, with the interpreter's smol_mlp forward as a sanity peer.
#include "driver/model_io.h"
#include "driver/runner.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace gradc::bench {
namespace {

/// A model compiled once, with every argument its functions take.
struct Compiled {
  std::unique_ptr<runtime::Executor> exec;
  runtime::TensorMap args;
  int64_t batch = 1;
  double compile_ms = 0;
};

/// The leading dimension of forward's first model input: the batch size.
int64_t batchSize(const ir::Module &m) {
  const ir::Function *fwd = m.find("forward");
  GRADC_CHECK(fwd != nullptr, "module without forward");
  for (const ir::Arg &a : fwd->args())
    if (a.role == ir::ArgRole::Input && fwd->type(a.value).rank() > 0)
      return fwd->type(a.value).shape[0];
  return 1;
}

/// Parses, differentiates and compiles `model` on `backend` (through the
/// driver, as the CLI), then draws random inputs and parameters as `gradc
/// bench` does (seed 0).
Expected<std::unique_ptr<Compiled>> compile(const std::string &model, const std::string &backend) {
  std::string path = std::string(GRADC_SOURCE_DIR) + "/examples/models/" + model + ".json";
  auto start = std::chrono::steady_clock::now();
  GRADC_TRY(m, driver::compileModel(path, {}, driver::Functions::All));
  auto c = std::make_unique<Compiled>();
  c->batch = batchSize(m);
  c->args = driver::randomArgs(m, 0);
  // No compile cache: compile_ms is the compile's cost.
  GRADC_TRY(exec, driver::makeExecutor(std::move(m), backend, nullptr, false));
  c->exec = std::move(exec);
  c->compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return c;
}

/// Compiles each (model, backend) pair on first use only, so that filtered-out
/// benchmarks cost nothing and the library's repeated calls reuse the code.
Expected<Compiled *> compiled(const std::string &model, const std::string &backend) {
  static std::map<std::string, std::unique_ptr<Compiled>> cache;
  std::string key = backend + "/" + model;
  auto it = cache.find(key);
  if (it == cache.end()) {
    GRADC_TRY(c, compile(model, backend));
    it = cache.emplace(key, std::move(c)).first;
  }
  return it->second.get();
}

/// Times `fn` of `model`; items are samples (batch rows), so items/s reads as
/// samples/s. Compiling and binding happen before the timed loop.
void runModel(benchmark::State &state, const std::string &model, const std::string &backend,
              const std::string &fn) {
  auto c = compiled(model, backend);
  if (!c) {
    state.SkipWithError(c.error().message().c_str());
    return;
  }
  auto call = (*c)->exec->bind(fn, (*c)->args);
  if (!call) {
    state.SkipWithError(call.error().message().c_str());
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize((*call)->run());
  state.SetItemsProcessed(state.iterations() * (*c)->batch);
  state.SetLabel("items=samples, B=" + std::to_string((*c)->batch));
  state.counters["compile_ms"] = (*c)->compile_ms;
}

void registerModel(const std::string &model, const std::string &backend, const std::string &fn) {
  std::string name = backend + "/" + fn + "/" + model;
  benchmark::RegisterBenchmark(name.c_str(),
                               [=](benchmark::State &s) { runModel(s, model, backend, fn); })
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}

const bool kRegistered = [] {
  for (const char *model : {"smol_mlp", "mlp_fashion", "our_cnn", "cnn_fashion"}) {
    registerModel(model, "jit", "forward");
    registerModel(model, "jit", "train_step");
  }
  registerModel("smol_mlp", "interp", "forward");
  return true;
}();

} // namespace
} // namespace gradc::bench
