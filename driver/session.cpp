// Compiled instances per batch size, evaluation and prediction.
#include "driver/session.h"

#include <cmath>
#include <functional>
#include <numeric>

namespace gradc::driver {

runtime::TensorMap zeroArgs(const ir::Module &m, const std::string &fn) {
  const ir::Function *f = m.find(fn);
  GRADC_CHECK(f != nullptr, "module without " + fn);
  runtime::TensorMap args;
  for (const ir::Arg &a : f->args())
    args[a.name] = runtime::Tensor::zeros(f->type(a.value));
  return args;
}

Expected<std::unique_ptr<Session>> Session::open(const ModelSpec &spec, bool training) {
  std::unique_ptr<Session> s(new Session(spec, training));
  GRADC_TRY(main, s->compile(spec.batch));
  s->main_ = main.get();
  s->instances_[main->batch] = std::move(main);
  return s;
}

Expected<std::unique_ptr<Instance>> Session::compile(int64_t batch) {
  frontend::DimOverrides dims = spec_.dims;
  if (batch > 0) {
    GRADC_TRY(parsed, compileModel(spec_.path, dims, Functions::Parsed));
    if (parsed.batch_dim.empty())
      return Error(spec_.path +
                   ": /inputs: the first input's leading dimension is a number, not "
                   "a named dim such as \"B\", so batches of " +
                   std::to_string(batch) +
                   " (--batch, or the last partial batch of a data set) cannot be compiled");
    dims[parsed.batch_dim] = batch;
  }
  GRADC_TRY(m,
            compileModel(spec_.path, dims, training_ ? Functions::Training : Functions::Forward));
  auto inst = std::make_unique<Instance>();
  inst->inputs = zeroArgs(m, "forward");
  for (const ir::ParamInfo &p : m.params)
    inst->inputs.erase(p.name);
  inst->batch = inst->inputs.begin()->second.type.shape.at(0);
  // Compiled together now: the functions a session calls (backward and
  // optimizer_step would compile on a first call, which never comes).
  std::vector<std::string> used = {"forward"};
  if (training_)
    used.push_back("train_step");
  GRADC_TRY(exec, makeExecutor(std::move(m), "jit", nullptr, spec_.cache, std::move(used)));
  exec->setThreads(spec_.threads);
  const ir::Module &mod = exec->module();
  GRADC_TRY(fwd, exec->bind("forward", zeroArgs(mod, "forward")));
  inst->forward = std::move(fwd);
  if (mod.find("train_step")) {
    GRADC_TRY(train, exec->bind("train_step", zeroArgs(mod, "train_step")));
    inst->train = std::move(train);
  }
  inst->exec = std::move(exec);
  return inst;
}

std::vector<runtime::InputSpec> Session::inputs() const {
  std::vector<runtime::InputSpec> out;
  const ir::Function *f = module().find("forward");
  for (const ir::Arg &a : f->args())
    if (a.role == ir::ArgRole::Input)
      out.push_back({a.name, f->type(a.value)});
  return out;
}

std::string Session::scores() const {
  if (module().class_input.empty())
    return "";
  const ir::Function *f = module().find("forward");
  for (const ir::Result &r : f->results()) {
    const ir::Shape &s = f->type(r.value).shape;
    if (r.role == ir::ResultRole::Output && s.size() == 2 && s[1] == module().num_classes)
      return r.name;
  }
  return "";
}

Expected<Instance *> Session::instance(int64_t rows) {
  auto it = instances_.find(rows);
  if (it != instances_.end())
    return it->second.get();
  GRADC_TRY(inst, compile(rows));
  Instance *p = inst.get();
  instances_[rows] = std::move(inst);
  return p;
}

namespace {

using BatchResults = std::function<void(int64_t first, int64_t rows, const runtime::TensorMap &)>;

/// Runs forward over `split` in order, batch by batch, handing each batch's
/// results to `use`.
Status forEachBatch(Session &s, const runtime::TensorMap &params, const runtime::DataSplit &split,
                    const BatchResults &use) {
  std::map<Instance *, bool> loaded;
  for (int64_t first = 0; first < split.size; first += s.batch()) {
    int64_t rows = std::min(s.batch(), split.size - first);
    GRADC_TRY(inst, s.instance(rows));
    if (!loaded[inst])
      for (const auto &[name, t] : params)
        inst->forward->set(name, t);
    loaded[inst] = true;
    std::vector<int64_t> idx(static_cast<size_t>(rows));
    std::iota(idx.begin(), idx.end(), first);
    runtime::gatherBatch(split, idx, inst->inputs);
    for (const auto &[name, t] : inst->inputs)
      inst->forward->set(name, t);
    inst->forward->run();
    use(first, rows, inst->forward->results());
  }
  return Status::ok();
}

int64_t argmax(const float *row, int64_t n) {
  int64_t best = 0;
  for (int64_t j = 1; j < n; ++j)
    if (row[j] > row[best])
      best = j;
  return best;
}

} // namespace

Expected<EvalResult> evaluate(Session &s, const runtime::TensorMap &params,
                              const runtime::DataSplit &split) {
  EvalResult r;
  std::string scores = s.scores();
  const std::string &labels = s.module().class_input;
  r.classes = scores.empty() ? 0 : s.module().num_classes;
  r.confusion.assign(size_t(r.classes * r.classes), 0);
  double loss_sum = 0;
  int64_t correct = 0;
  auto use = [&](int64_t first, int64_t rows, const runtime::TensorMap &res) {
    auto loss = res.find("loss");
    if (loss != res.end())
      loss_sum += double(loss->second.f32[0]) * double(rows);
    if (scores.empty())
      return;
    const runtime::Tensor &out = res.at(scores);
    for (int64_t i = 0; i < rows; ++i) {
      int64_t label = split.tensors.at(labels).i32[size_t(first + i)];
      int64_t pred = argmax(out.f32.data() + i * r.classes, r.classes);
      correct += pred == label;
      r.confusion[size_t(label * r.classes + pred)] += 1;
    }
  };
  GRADC_TRY_STATUS(forEachBatch(s, params, split, use));
  r.samples = split.size;
  r.loss = loss_sum / double(split.size);
  if (!scores.empty())
    r.accuracy = double(correct) / double(split.size);
  return r;
}

Expected<runtime::TensorMap> predict(Session &s, const runtime::TensorMap &params,
                                     const runtime::DataSplit &split) {
  runtime::TensorMap out;
  const ir::Function *f = s.module().find("forward");
  for (const ir::Result &r : f->results()) {
    if (r.role != ir::ResultRole::Output)
      continue;
    ir::TensorType t = f->type(r.value);
    t.shape[0] = split.size;
    out[r.name] = runtime::Tensor::zeros(t);
  }
  auto use = [&](int64_t first, int64_t rows, const runtime::TensorMap &res) {
    for (auto &[name, t] : out) {
      size_t per = size_t(t.numElements() / split.size);
      const runtime::Tensor &src = res.at(name);
      std::copy(src.f32.begin(), src.f32.begin() + std::ptrdiff_t(size_t(rows) * per),
                t.f32.begin() + std::ptrdiff_t(size_t(first) * per));
    }
  };
  GRADC_TRY_STATUS(forEachBatch(s, params, split, use));
  std::string scores = s.scores();
  if (!scores.empty()) {
    const runtime::Tensor &sc = out.at(scores);
    int64_t classes = sc.type.shape[1];
    runtime::Tensor cls = runtime::Tensor::zeros({ir::DType::I32, {split.size}});
    for (int64_t i = 0; i < split.size; ++i)
      cls.i32[size_t(i)] = int32_t(argmax(sc.f32.data() + i * classes, classes));
    out["class." + scores.substr(scores.find('.') + 1)] = std::move(cls);
  }
  return out;
}

Expected<runtime::DataSplit> feedSplit(const Session &s, runtime::TensorMap feed,
                                       const std::string &path) {
  runtime::DataSplit split;
  split.source = path;
  split.size = -1;
  for (const runtime::InputSpec &in : s.inputs()) {
    auto it = feed.find(in.name);
    if (it == feed.end() && in.name != s.labels().input)
      return Error(path + ": missing tensor '" + in.name + "' (" + in.type.str() +
                   " for a batch; any number of samples)");
    if (it == feed.end())
      continue;
    ir::Shape want = in.type.shape, got = it->second.type.shape;
    if (it->second.type.dtype != in.type.dtype || got.size() != want.size() ||
        !std::equal(want.begin() + 1, want.end(), got.begin() + 1) || got[0] == 0)
      return Error(path + ": tensor '" + in.name + "': expected " + in.type.str() +
                   " (any number of samples in the first dimension), got " + it->second.type.str());
    if (split.size >= 0 && got[0] != split.size)
      return Error(path + ": tensor '" + in.name + "' holds " + std::to_string(got[0]) +
                   " samples, the others " + std::to_string(split.size));
    split.size = got[0];
    split.tensors[in.name] = std::move(it->second);
  }
  for (const runtime::InputSpec &in : s.inputs())
    if (!split.tensors.count(in.name)) {
      ir::TensorType t = in.type;
      t.shape[0] = split.size;
      split.tensors[in.name] = runtime::Tensor::zeros(t);
    }
  return split;
}

} // namespace gradc::driver
