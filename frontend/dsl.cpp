// gradc::Model: each DSL call adds one part of the model document and lowers
// it at once with the JSON frontend's functions; to_json, load_model, to_ir.
#include "frontend/dsl.h"

#include "frontend/model_json.h"
#include "ir/printer.h"
#include "support/files.h"

namespace gradc {
namespace detail {

using frontend::childPointer;
using frontend::Json;

ModelImpl::ModelImpl(std::string src)
    : source(std::move(src)), reader(source), lowering(reader, module, fn) {}

Json ModelImpl::document() const {
  Json doc = Json::object();
  doc["format"] = "gradc.model/1";
  doc["name"] = name;
  if (!dims.empty())
    doc["dims"] = dims;
  doc["inputs"] = inputs;
  doc["layers"] = layers;
  doc["outputs"] = outputs;
  if (loss)
    doc["loss"] = *loss;
  if (optimizer)
    doc["optimizer"] = *optimizer;
  return doc;
}

namespace {

/// Lowers every part of `m` in the format's order; the parts were each
/// checked when added, so this cannot fail.
Status replay(ModelImpl &m) {
  m.module.name = m.name;
  for (const auto &item : m.dims.items())
    GRADC_TRY_STATUS(frontend::readDim(m.lowering, item.key(), item.value()));
  for (const auto &item : m.inputs.items())
    GRADC_TRY_STATUS(frontend::readInput(m.lowering, item.key(), item.value(),
                                         childPointer("/inputs", item.key())));
  m.layer_names.clear();
  for (size_t i = 0; i < m.layers.size(); ++i) {
    GRADC_TRY(name, frontend::layerName(m.lowering, m.layers[i], i));
    std::string prev = i == 0 ? "" : m.layer_names.back();
    GRADC_TRY_STATUS(frontend::lowerLayer(m.lowering, m.layers[i], i, name, prev));
    m.layer_names.push_back(name);
  }
  for (size_t i = 0; i < m.outputs.size(); ++i)
    GRADC_TRY_STATUS(frontend::readOutput(m.lowering, m.outputs[i], childPointer("/outputs", i)));
  if (m.loss)
    GRADC_TRY_STATUS(frontend::lowerLoss(m.lowering, *m.loss));
  if (m.optimizer)
    GRADC_TRY_STATUS(frontend::parseOptimizer(m.reader, *m.optimizer, m.module.optimizer));
  return Status::ok();
}

} // namespace

void ModelImpl::rebuild() {
  module = ir::Module{};
  fn = ir::Function("forward");
  lowering.dims.clear();
  lowering.defined.clear();
  lowering.layer_names.clear();
  lowering.bytes = 0;
  Status s = replay(*this);
  GRADC_CHECK(bool(s), "a DSL model's checked parts fail to lower: " + s.error().message());
}

void ModelImpl::check(const Status &s) {
  if (s)
    return;
  rebuild();
  throw s.error();
}

Model Access::model(std::shared_ptr<ModelImpl> impl) {
  Model m;
  m.impl_ = std::move(impl);
  return m;
}

Expected<ir::Module> lowerModel(const Model &m, const std::map<std::string, int64_t> &dims) {
  const ModelImpl &impl = *Access::impl(m);
  return frontend::lowerDocument(impl.document(), impl.source, dims);
}

ModelImpl &modelOf(const Tensor &t, const std::string &what) {
  if (!t.valid())
    throw Error(what + ": the tensor belongs to no model (a default-constructed gradc::Tensor)");
  return *Access::impl(t);
}

} // namespace detail

namespace {

using detail::Access;
using detail::ModelImpl;
using frontend::childPointer;
using frontend::Json;

/// A tensor of `m` used in `m`: an error at `ptr` otherwise.
Status checkOwn(ModelImpl &m, const Tensor &t, const std::string &ptr) {
  ModelImpl &owner = detail::modelOf(t, m.source + ": " + ptr);
  if (&owner != &m)
    return m.error(ptr, "\"" + t.name() + "\" is a tensor of model \"" + owner.name +
                            "\", not of model \"" + m.name + "\"");
  return Status::ok();
}

Status addDim(ModelImpl &m, const std::string &name, int64_t size) {
  if (m.dims.contains(name))
    return m.error(childPointer("/dims", name), "the dim \"" + name + "\" is declared twice");
  GRADC_TRY_STATUS(frontend::readDim(m.lowering, name, Json(size)));
  m.dims[name] = size;
  return Status::ok();
}

Status addInput(ModelImpl &m, const std::string &name, const Json &desc) {
  std::string ptr = childPointer("/inputs", name);
  if (m.inputs.contains(name))
    return m.error(ptr, "duplicate name: \"" + name + "\" is already a model input");
  if (auto it = m.lowering.layer_names.find(name); it != m.lowering.layer_names.end())
    return m.error(ptr, "duplicate name: \"" + name + "\" is already used by layer " +
                            std::to_string(it->second));
  GRADC_TRY_STATUS(frontend::readInput(m.lowering, name, desc, ptr));
  m.inputs[name] = desc;
  return Status::ok();
}

Status addOutput(ModelImpl &m, const Tensor &t) {
  std::string ptr = childPointer("/outputs", m.outputs.size());
  GRADC_TRY_STATUS(checkOwn(m, t, ptr));
  GRADC_TRY_STATUS(frontend::readOutput(m.lowering, Json(t.name()), ptr));
  m.outputs.push_back(t.name());
  return Status::ok();
}

Status setLoss(ModelImpl &m, const Loss &loss) {
  if (m.loss)
    return m.error("/loss", "the model has a loss already; a model has one loss");
  GRADC_TRY_STATUS(checkOwn(m, loss.input, "/loss/input"));
  GRADC_TRY_STATUS(checkOwn(m, loss.target, "/loss/target"));
  Json j = {{"op", loss.op}, {"input", loss.input.name()}, {"target", loss.target.name()}};
  GRADC_TRY_STATUS(frontend::lowerLoss(m.lowering, j));
  m.loss = j;
  return Status::ok();
}

} // namespace

Model::Model(const std::string &name) : impl_(std::make_shared<ModelImpl>(name)) {
  Status s = frontend::readName(impl_->reader, Json{{"name", name}}, impl_->module);
  if (!s)
    throw s.error();
  impl_->name = name;
}

Model::~Model() = default;
Model::Model(Model &&) noexcept = default;
Model &Model::operator=(Model &&) noexcept = default;

Dim Model::dim(const std::string &name, int64_t size) {
  impl_->check(addDim(*impl_, name, size));
  return Dim(name);
}

Tensor Model::input(const std::string &name, const std::vector<Dim> &shape, DType dtype) {
  Json dims = Json::array();
  for (const Dim &d : shape) {
    if (d.is_named())
      dims.push_back(d.name());
    else
      dims.push_back(d.size());
  }
  Json desc = {{"shape", dims}};
  if (dtype == DType::i32)
    desc["dtype"] = "i32";
  impl_->check(addInput(*impl_, name, desc));
  return Access::tensor(impl_, name);
}

void Model::output(const Tensor &t) { impl_->check(addOutput(*impl_, t)); }

void Model::loss(const Loss &loss) { impl_->check(setLoss(*impl_, loss)); }

const std::string &Model::name() const { return impl_->name; }

Tensor Model::tensor(const std::string &name) const {
  if (!impl_->lowering.defined.count(name))
    throw Error(impl_->source + ": no model input or layer is called \"" + name + "\"");
  return Access::tensor(impl_, name);
}

std::vector<Tensor> Model::inputs() const {
  std::vector<Tensor> out;
  for (const auto &item : impl_->inputs.items())
    out.push_back(Access::tensor(impl_, item.key()));
  return out;
}

std::vector<Tensor> Model::outputs() const {
  std::vector<Tensor> out;
  for (const Json &name : impl_->outputs)
    out.push_back(Access::tensor(impl_, name.get<std::string>()));
  return out;
}

std::vector<std::string> Model::parameter_names() const {
  std::vector<std::string> out;
  for (const ir::ParamInfo &p : impl_->module.params)
    out.push_back(p.name);
  return out;
}

bool Model::has_loss() const { return impl_->loss.has_value(); }

std::vector<int64_t> Tensor::shape() const {
  ModelImpl &m = detail::modelOf(*this, "gradc::Tensor::shape");
  return m.fn.type(m.lowering.defined.at(name_).value).shape;
}

DType Tensor::dtype() const {
  ModelImpl &m = detail::modelOf(*this, "gradc::Tensor::dtype");
  ir::DType t = m.fn.type(m.lowering.defined.at(name_).value).dtype;
  return t == ir::DType::I32 ? DType::i32 : DType::f32;
}

namespace {

/// `{"k": v, ...}` on one line, as the model format's examples are written.
std::string compact(const Json &j) {
  if (j.is_object()) {
    std::string s = "{ ";
    bool first = true;
    for (const auto &item : j.items()) {
      s += (first ? "" : ", ") + Json(item.key()).dump() + ": " + compact(item.value());
      first = false;
    }
    return s + (first ? "}" : " }");
  }
  if (j.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < j.size(); ++i)
      s += (i ? ", " : "") + compact(j[i]);
    return s + "]";
  }
  return j.dump();
}

/// An object or array with one member per line, each member compact.
std::string block(const Json &j, const std::string &indent) {
  bool object = j.is_object();
  std::string s = object ? "{\n" : "[\n";
  size_t i = 0;
  for (const auto &item : j.items()) {
    s += indent + "  " + (object ? Json(item.key()).dump() + ": " : "") + compact(item.value());
    s += ++i < j.size() ? ",\n" : "\n";
  }
  return s + indent + (object ? "}" : "]");
}

Model modelFromDocument(const Json &root, const std::string &source) {
  auto impl = std::make_shared<ModelImpl>(source);
  impl->name = root.at("name").get<std::string>();
  if (auto it = root.find("dims"); it != root.end())
    impl->dims = *it;
  impl->inputs = root.at("inputs");
  impl->layers = root.at("layers");
  impl->outputs = root.at("outputs");
  if (auto it = root.find("loss"); it != root.end())
    impl->loss = *it;
  if (auto it = root.find("optimizer"); it != root.end())
    impl->optimizer = *it;
  impl->rebuild();
  return Access::model(std::move(impl));
}

} // namespace

std::string to_json(const Model &m) {
  Json doc = Access::impl(m)->document();
  std::string s = "{\n";
  size_t i = 0;
  for (const auto &item : doc.items()) {
    const std::string &key = item.key();
    bool multiline = (key == "inputs" || key == "layers") && !item.value().empty();
    s += "  " + Json(key).dump() + ": " +
         (multiline ? block(item.value(), "  ") : compact(item.value()));
    s += ++i < doc.size() ? ",\n" : "\n";
  }
  return s + "}\n";
}

Model parse_model(const std::string &text, const std::string &source) {
  auto root = frontend::parseJson(text, source);
  if (!root)
    throw root.error();
  // The whole file is checked first, so a bad file gives the CLI's message.
  auto module = frontend::lowerDocument(*root, source);
  if (!module)
    throw module.error();
  return modelFromDocument(*root, source);
}

Model load_model(const std::string &path) {
  auto text = support::readSmallFile(path, "model file", frontend::kMaxModelFileBytes);
  if (!text)
    throw text.error();
  return parse_model(*text, path);
}

std::string to_ir(const Model &m) {
  auto module = detail::lowerModel(m);
  if (!module)
    throw module.error();
  return ir::printText(*module);
}

} // namespace gradc
