// Model compilation and checked tensor loading.
#include "driver/model_io.h"

#include "driver/checkpoint.h"
#include "passes/pipeline.h"
#include "runtime/compile_cache.h"
#include "runtime/jit.h"
#include "runtime/safetensors.h"

#include <cmath>

namespace gradc::driver {

Expected<ir::Module> compileModel(const std::string &path, const frontend::DimOverrides &dims,
                                  Functions fns, const passes::PipelineOptions &opts) {
  GRADC_TRY(m, frontend::loadModel(path, dims));
  return compileModule(std::move(m), path, fns, opts);
}

Expected<ir::Module> compileModule(ir::Module m, const std::string &source, Functions fns,
                                   const passes::PipelineOptions &opts) {
  if (fns == Functions::Training && !m.has_loss)
    return Error(source + ": /loss: training needs a loss, and the model has none");
  if (fns == Functions::Parsed)
    return m;
  Status s = passes::buildTrainingFunctions(m, opts, fns != Functions::Forward);
  if (!s)
    return s.error().withPrefix(source + ": ");
  return m;
}

Status checkTensorSet(const std::string &path, const char *what,
                      const std::vector<std::pair<std::string, ir::TensorType>> &want,
                      const runtime::TensorMap &got) {
  for (const auto &[name, type] : want) {
    auto it = got.find(name);
    if (it == got.end())
      return Error(path + ": missing " + what + " tensor '" + name + "' (expected " + type.str() +
                   ")");
    if (it->second.type != type)
      return Error(path + ": " + what + " tensor '" + name + "': expected " + type.str() +
                   ", got " + it->second.type.str());
  }
  for (const auto &[name, t] : got) {
    bool known = false;
    for (const auto &w : want)
      known = known || w.first == name;
    if (!known) {
      std::string list;
      for (const auto &w : want)
        list += (list.empty() ? "" : ", ") + w.first;
      return Error(path + ": unexpected " + what + " tensor '" + name + "' (the model has " + list +
                   ")");
    }
  }
  return Status::ok();
}

namespace {

/// The first NaN or infinite value of an F32 tensor in `tensors`, as an error.
Status checkFinite(const runtime::TensorMap &tensors, const std::string &path, const char *what) {
  for (const auto &[name, t] : tensors)
    for (size_t i = 0; i < t.f32.size(); ++i)
      if (!std::isfinite(t.f32[i]))
        return Error(path + ": " + what + " tensor '" + name + "': element " + std::to_string(i) +
                     " is " + (std::isnan(t.f32[i]) ? "NaN" : "infinite") +
                     " (pass --allow-nonfinite to accept non-finite values)");
  return Status::ok();
}

} // namespace

Status checkWeights(const ir::Module &m, const runtime::TensorMap &weights,
                    const std::string &where) {
  std::vector<std::pair<std::string, ir::TensorType>> want;
  for (const ir::ParamInfo &p : m.params)
    want.push_back({p.name, p.type});
  return checkTensorSet(where, "weight", want, weights);
}

Expected<runtime::TensorMap> loadWeights(const ir::Module &m, const std::string &path,
                                         bool allow_nonfinite) {
  runtime::Metadata meta;
  GRADC_TRY(w, runtime::readSafetensors(path, &meta));
  // A training checkpoint holds the optimizer state too: only its parameters are weights.
  if (meta["format"] == kCheckpointFormat)
    std::erase_if(w, [](const auto &t) { return t.first.rfind(kStatePrefix, 0) == 0; });
  GRADC_TRY_STATUS(checkWeights(m, w, path));
  if (!allow_nonfinite)
    GRADC_TRY_STATUS(checkFinite(w, path, "weight"));
  return w;
}

Status checkLabels(const ir::Module &m, const runtime::TensorMap &feed, const std::string &where) {
  if (m.class_input.empty())
    return Status::ok();
  auto it = feed.find(m.class_input);
  if (it == feed.end())
    return Status::ok();
  const std::vector<int32_t> &labels = it->second.i32;
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= m.num_classes)
      return Error(where + ": tensor '" + m.class_input + "': element " + std::to_string(i) +
                   " is " + std::to_string(labels[i]) + ", expected a class index in [0, " +
                   std::to_string(m.num_classes) + ")");
  return Status::ok();
}

Status checkFeed(const ir::Module &m, const runtime::TensorMap &feed, const std::string &where) {
  const ir::Function *fwd = m.find("forward");
  GRADC_CHECK(fwd != nullptr, "module without forward");
  std::vector<std::pair<std::string, ir::TensorType>> want;
  for (const ir::Arg &a : fwd->args())
    if (a.role == ir::ArgRole::Input)
      want.push_back({a.name, fwd->type(a.value)});
  GRADC_TRY_STATUS(checkTensorSet(where, "feed", want, feed));
  return checkLabels(m, feed, where);
}

Expected<runtime::TensorMap> loadFeed(const ir::Module &m, const std::string &path,
                                      bool allow_nonfinite) {
  GRADC_TRY(feed, runtime::readSafetensors(path));
  GRADC_TRY_STATUS(checkFeed(m, feed, path));
  if (!allow_nonfinite)
    GRADC_TRY_STATUS(checkFinite(feed, path, "feed"));
  return feed;
}

Expected<std::unique_ptr<runtime::Executor>> makeExecutor(ir::Module m, const std::string &backend,
                                                          runtime::JitStats *stats, bool cache,
                                                          std::vector<std::string> functions) {
  if (backend == "interp")
    return runtime::makeInterpreterExecutor(std::move(m));
  if (backend == "jit") {
    runtime::JitOptions opts;
    if (cache)
      opts.cache_dir = runtime::defaultCacheDir();
    opts.functions = std::move(functions);
    return runtime::makeJitExecutor(std::move(m), opts, stats);
  }
  return Error("--backend: expected 'jit' or 'interp', got '" + backend + "'");
}

} // namespace gradc::driver
