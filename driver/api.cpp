// The public compile-and-run API (include/gradc/compiled_model.h and
// host_tensor.h) over driver::Runner: conversions at the boundary, errors
// thrown as gradc::Error.
#include "driver/compile.h"
#include "driver/runner.h"
#include "frontend/dsl.h"
#include "gradc/compiled_model.h"
#include "runtime/safetensors.h"

namespace gradc {
namespace {

/// Throws the error of `s`, if any.
void check(const Status &s) {
  if (!s)
    throw s.error();
}

template <typename T> T value(Expected<T> e) {
  if (!e)
    throw e.error();
  return e.take();
}

ir::DType internal(DType t) { return t == DType::i32 ? ir::DType::I32 : ir::DType::F32; }

/// `t` as a runtime tensor, its element count checked against its shape.
runtime::Tensor toRuntime(const std::string &name, const HostTensor &t) {
  runtime::Tensor r;
  r.type = ir::TensorType{internal(t.dtype), t.shape};
  auto n = ir::checkedNumElements(t.shape);
  size_t have = t.dtype == DType::i32 ? t.i32.size() : t.f32.size();
  if (!n || size_t(*n) != have)
    throw Error("tensor '" + name + "': its shape " + r.type.str() + " needs " +
                (n ? std::to_string(*n) : std::string("too many")) + " elements, but it holds " +
                std::to_string(have));
  r.f32 = t.f32;
  r.i32 = t.i32;
  return r;
}

HostTensor fromRuntime(runtime::Tensor t) {
  HostTensor h;
  h.dtype = t.type.dtype == ir::DType::I32 ? DType::i32 : DType::f32;
  h.shape = t.type.shape;
  h.f32 = std::move(t.f32);
  h.i32 = std::move(t.i32);
  return h;
}

runtime::TensorMap toRuntime(const TensorMap &m) {
  runtime::TensorMap out;
  for (const auto &[name, t] : m)
    out[name] = toRuntime(name, t);
  return out;
}

TensorMap fromRuntime(runtime::TensorMap m) {
  TensorMap out;
  for (auto &[name, t] : m)
    out[name] = fromRuntime(std::move(t));
  return out;
}

} // namespace

HostTensor HostTensor::from_f32(std::vector<int64_t> shape, std::vector<float> values) {
  HostTensor t;
  t.shape = std::move(shape);
  t.f32 = std::move(values);
  toRuntime("from_f32", t); // checks the count
  return t;
}

HostTensor HostTensor::from_i32(std::vector<int64_t> shape, std::vector<int32_t> values) {
  HostTensor t;
  t.dtype = DType::i32;
  t.shape = std::move(shape);
  t.i32 = std::move(values);
  toRuntime("from_i32", t);
  return t;
}

HostTensor HostTensor::zeros(std::vector<int64_t> shape, DType dtype) {
  auto n = ir::checkedNumElements(shape);
  if (!n)
    throw Error("HostTensor::zeros: shape " + ir::shapeStr(shape) + " is too large");
  return fromRuntime(runtime::Tensor::zeros(ir::TensorType{internal(dtype), shape}));
}

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

float HostTensor::item() const {
  if (dtype != DType::f32 || f32.size() != 1)
    throw Error("HostTensor::item: expected one f32 element, got a tensor of " +
                std::to_string(dtype == DType::f32 ? f32.size() : i32.size()) + " elements");
  return f32[0];
}

TensorMap load_tensors(const std::string &path) {
  return fromRuntime(value(runtime::readSafetensors(path)));
}

void save_tensors(const std::string &path, const TensorMap &tensors) {
  check(runtime::writeSafetensors(path, toRuntime(tensors)));
}

struct CompiledModel::Impl {
  std::unique_ptr<driver::Runner> runner;
  std::string source; ///< the model's name or file, for messages
  std::string target; ///< the loss's target input ("" without a loss)
  bool initialised = false;

  void needParams() const {
    if (!initialised)
      throw Error(source + ": the parameters are not set: call init(seed) or load_weights(path) "
                           "first");
  }
  void needLoss(const char *what) const {
    if (!runner->module().has_loss)
      throw Error(source + ": " + what + " needs a loss, and the model has none");
  }
  runtime::TensorMap feed(const TensorMap &feed) const {
    runtime::TensorMap f = toRuntime(feed);
    check(driver::checkFeed(runner->module(), f, source + ": feed"));
    return f;
  }
};

CompiledModel::CompiledModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledModel::~CompiledModel() = default;
CompiledModel::CompiledModel(CompiledModel &&) noexcept = default;
CompiledModel &CompiledModel::operator=(CompiledModel &&) noexcept = default;

CompiledModel compile(const Model &model, const CompileOptions &options) {
  const std::string &source = detail::Access::impl(model)->source;
  ir::Module m = value(detail::lowerModel(model, options.dims));
  m = value(driver::compileModule(std::move(m), source, driver::Functions::All));
  auto impl = std::make_unique<CompiledModel::Impl>();
  impl->source = source;
  if (const auto &loss = detail::Access::impl(model)->loss)
    impl->target = loss->at("target").get<std::string>();
  impl->runner = value(
      driver::Runner::create(std::move(m), {options.backend, options.cache, options.threads}));
  return CompiledModel(std::move(impl));
}

void CompiledModel::init(uint64_t seed) {
  impl_->runner->initParams(seed);
  impl_->initialised = true;
}

void CompiledModel::load_weights(const std::string &path) {
  auto w = value(driver::loadWeights(impl_->runner->module(), path, /*allow_nonfinite=*/true));
  impl_->runner->params() = std::move(w);
  impl_->initialised = true;
}

void CompiledModel::save_weights(const std::string &path) const {
  impl_->needParams();
  check(runtime::writeSafetensors(path, impl_->runner->params()));
}

TensorMap CompiledModel::forward(const TensorMap &feed) {
  impl_->needParams();
  // Inference needs no target: zeros stand in for it, and no loss comes back.
  const std::string &target = impl_->target;
  if (target.empty() || feed.count(target))
    return fromRuntime(value(impl_->runner->forward(impl_->feed(feed))));
  runtime::TensorMap args = toRuntime(feed);
  const ir::Function *fwd = impl_->runner->module().find("forward");
  for (const ir::Arg &a : fwd->args())
    if (a.name == target)
      args[target] = runtime::Tensor::zeros(fwd->type(a.value));
  check(driver::checkFeed(impl_->runner->module(), args, impl_->source + ": feed"));
  runtime::TensorMap out = value(impl_->runner->forward(args));
  out.erase("loss");
  return fromRuntime(std::move(out));
}

TensorMap CompiledModel::backward(const TensorMap &feed) {
  impl_->needParams();
  impl_->needLoss("backward");
  return fromRuntime(value(impl_->runner->backward(impl_->feed(feed))));
}

float CompiledModel::train_step(const TensorMap &feed) {
  impl_->needParams();
  impl_->needLoss("train_step");
  runtime::TensorMap res = value(impl_->runner->trainStep(impl_->feed(feed)));
  return res.at("loss").f32[0];
}

void CompiledModel::set_epoch(int64_t epoch) {
  if (epoch < 0)
    throw Error(impl_->source + ": set_epoch: expected an epoch >= 0, got " +
                std::to_string(epoch));
  impl_->runner->setEpoch(epoch);
}

double CompiledModel::learning_rate() const { return impl_->runner->lr(); }

void CompiledModel::set_threads(int threads) { impl_->runner->executor().setThreads(threads); }

std::vector<std::string> CompiledModel::parameter_names() const {
  std::vector<std::string> names;
  for (const ir::ParamInfo &p : impl_->runner->module().params)
    names.push_back(p.name);
  return names;
}

HostTensor CompiledModel::parameter(const std::string &name) const {
  impl_->needParams();
  const runtime::TensorMap &params = impl_->runner->params();
  auto it = params.find(name);
  if (it == params.end())
    throw Error(impl_->source + ": no parameter is called '" + name + "'");
  return fromRuntime(it->second);
}

void CompiledModel::set_parameter(const std::string &name, const HostTensor &value) {
  impl_->needParams();
  runtime::TensorMap &params = impl_->runner->params();
  auto it = params.find(name);
  if (it == params.end())
    throw Error(impl_->source + ": no parameter is called '" + name + "'");
  runtime::Tensor t = toRuntime(name, value);
  if (t.type != it->second.type)
    throw Error(impl_->source + ": parameter '" + name + "': expected " + it->second.type.str() +
                ", got " + t.type.str());
  it->second = std::move(t);
}

TensorMap CompiledModel::parameters() const {
  impl_->needParams();
  return fromRuntime(impl_->runner->params());
}

bool CompiledModel::trainable() const { return impl_->runner->module().has_loss; }

void compile_to_object(const Model &model, const std::string &object_path,
                       const std::string &header_path, const ObjectOptions &options) {
  const std::string &source = detail::Access::impl(model)->source;
  ir::Module m = value(detail::lowerModel(model, options.dims));
  m = value(driver::compileModule(std::move(m), source, driver::Functions::All));
  codegen::EmitOptions emit;
  emit.triple = options.triple;
  emit.cpu = options.cpu;
  emit.features = options.features;
  emit.threads = options.threads;
  switch (options.emit) {
  case ObjectOptions::Emit::object:
    emit.kind = codegen::EmitOptions::Kind::Obj;
    break;
  case ObjectOptions::Emit::assembly:
    emit.kind = codegen::EmitOptions::Kind::Asm;
    break;
  case ObjectOptions::Emit::llvm_ir:
    emit.kind = codegen::EmitOptions::Kind::Llvm;
    break;
  }
  check(driver::compileToObject(m, emit, object_path, header_path));
}

} // namespace gradc
