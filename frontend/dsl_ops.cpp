// The DSL's layer ops, losses and optimizers: each builds the model-format
// object the JSON file would hold and lowers it through the JSON frontend.
#include "frontend/dsl.h"
#include "gradc/layers.h"

namespace gradc {
namespace {

using detail::Access;
using detail::ModelImpl;
using frontend::childPointer;
using frontend::Json;

/// `[h, w]`, or the single integer when both are equal (the file's short form).
Json int2(const Int2 &v) { return v.h == v.w ? Json(v.h) : Json::array({v.h, v.w}); }

template <typename T> void put(Json &j, const char *key, const std::optional<T> &v) {
  if (v)
    j[key] = *v;
}

void putInt2(Json &j, const char *key, const Int2 &v) {
  if (v.set)
    j[key] = int2(v);
}

/// Appends `layer` (op and attributes set; name and operands added here) to
/// the model of `operands[0]`, lowering it at once.
Status addLayer(ModelImpl &m, Json layer, const std::vector<const Tensor *> &operands,
                const std::string &name) {
  size_t index = m.layers.size();
  std::string ptr = childPointer("/layers", index);
  Json j = Json::object();
  if (!name.empty())
    j["name"] = name;
  j["op"] = layer["op"];
  if (operands.size() == 2) {
    for (size_t i = 0; i < 2; ++i) {
      auto &owner = detail::modelOf(*operands[i], m.source + ": " + ptr);
      if (&owner != &m)
        return m.error(childPointer(childPointer(ptr, "inputs"), i),
                       "\"" + operands[i]->name() + "\" is a tensor of model \"" + owner.name +
                           "\", not of model \"" + m.name + "\"");
    }
    j["inputs"] = Json::array({operands[0]->name(), operands[1]->name()});
  } else if (m.layer_names.empty() || m.layer_names.back() != operands[0]->name()) {
    // The format's default input is the previous layer: written only when another.
    j["input"] = operands[0]->name();
  }
  for (const auto &item : layer.items())
    if (item.key() != "op")
      j[item.key()] = item.value();
  GRADC_TRY(layer_name, frontend::layerName(m.lowering, j, index));
  std::string prev = m.layer_names.empty() ? "" : m.layer_names.back();
  GRADC_TRY_STATUS(frontend::lowerLayer(m.lowering, j, index, layer_name, prev));
  m.layers.push_back(std::move(j));
  m.layer_names.push_back(layer_name);
  return Status::ok();
}

Tensor layer(const char *op, Json attrs, const std::vector<const Tensor *> &operands,
             const std::string &name) {
  ModelImpl &m = detail::modelOf(*operands[0], std::string("gradc::") + op);
  attrs["op"] = op;
  m.check(addLayer(m, std::move(attrs), operands, name));
  return Access::tensor(Access::impl(*operands[0]), m.layer_names.back());
}

Tensor unary(const char *op, const Tensor &x, const std::string &name) {
  return layer(op, Json::object(), {&x}, name);
}

Tensor binary(const char *op, const Tensor &a, const Tensor &b, const std::string &name) {
  return layer(op, Json::object(), {&a, &b}, name);
}

Loss makeLoss(const char *op, const Tensor &input, const Tensor &target) {
  return Loss{op, input, target};
}

Json scheduleJson(const Schedule &s) {
  Json j = Json::object();
  switch (s.kind) {
  case Schedule::Kind::step:
    j["op"] = "step";
    j["step_size"] = s.step_size;
    put(j, "gamma", s.gamma);
    break;
  case Schedule::Kind::exponential:
    j["op"] = "exponential";
    put(j, "gamma", s.gamma);
    break;
  case Schedule::Kind::cosine:
    j["op"] = "cosine";
    j["t_max"] = s.t_max;
    put(j, "eta_min", s.eta_min);
    break;
  }
  return j;
}

Json optimizerJson(const Optimizer &o) {
  Json j = Json::object();
  std::optional<Schedule> schedule;
  if (o.kind == Optimizer::Kind::sgd) {
    j["op"] = "sgd";
    put(j, "lr", o.sgd.lr);
    put(j, "momentum", o.sgd.momentum);
    put(j, "dampening", o.sgd.dampening);
    put(j, "weight_decay", o.sgd.weight_decay);
    put(j, "nesterov", o.sgd.nesterov);
    schedule = o.sgd.schedule;
  } else {
    j["op"] = "adam";
    put(j, "lr", o.adam.lr);
    if (o.adam.betas)
      j["betas"] = Json::array({(*o.adam.betas)[0], (*o.adam.betas)[1]});
    put(j, "eps", o.adam.eps);
    put(j, "weight_decay", o.adam.weight_decay);
    schedule = o.adam.schedule;
  }
  if (schedule)
    j["schedule"] = scheduleJson(*schedule);
  return j;
}

Status setOptimizer(ModelImpl &m, const Json &j) {
  ir::OptimizerConfig config;
  GRADC_TRY_STATUS(frontend::parseOptimizer(m.reader, j, config));
  m.module.optimizer = config;
  m.optimizer = j;
  return Status::ok();
}

} // namespace

void Model::optimizer(const Optimizer &optimizer) {
  impl_->check(setOptimizer(*impl_, optimizerJson(optimizer)));
}

Tensor linear(const Tensor &x, const LinearOptions &o) {
  Json a = Json::object();
  put(a, "out_features", o.out_features);
  put(a, "bias", o.bias);
  return layer("linear", a, {&x}, o.name);
}

Tensor conv2d(const Tensor &x, const Conv2dOptions &o) {
  Json a = Json::object();
  put(a, "out_channels", o.out_channels);
  putInt2(a, "kernel", o.kernel);
  putInt2(a, "stride", o.stride);
  putInt2(a, "padding", o.padding);
  putInt2(a, "dilation", o.dilation);
  put(a, "bias", o.bias);
  return layer("conv2d", a, {&x}, o.name);
}

namespace {

Tensor pool(const char *op, const Tensor &x, const Pool2dOptions &o) {
  Json a = Json::object();
  putInt2(a, "kernel", o.kernel);
  putInt2(a, "stride", o.stride);
  putInt2(a, "padding", o.padding);
  return layer(op, a, {&x}, o.name);
}

Tensor softmaxLike(const char *op, const Tensor &x, const SoftmaxOptions &o) {
  Json a = Json::object();
  put(a, "axis", o.axis);
  return layer(op, a, {&x}, o.name);
}

} // namespace

Tensor maxpool2d(const Tensor &x, const Pool2dOptions &o) { return pool("maxpool2d", x, o); }
Tensor avgpool2d(const Tensor &x, const Pool2dOptions &o) { return pool("avgpool2d", x, o); }
Tensor flatten(const Tensor &x, const NameOptions &o) { return unary("flatten", x, o.name); }

Tensor reshape(const Tensor &x, const ReshapeOptions &o) {
  Json shape = Json::array();
  for (const Dim &d : o.shape) {
    if (d.is_named())
      shape.push_back(d.name());
    else
      shape.push_back(d.size());
  }
  return layer("reshape", Json{{"shape", shape}}, {&x}, o.name);
}

Tensor identity(const Tensor &x, const NameOptions &o) { return unary("identity", x, o.name); }
Tensor sigmoid(const Tensor &x, const NameOptions &o) { return unary("sigmoid", x, o.name); }
Tensor relu(const Tensor &x, const NameOptions &o) { return unary("relu", x, o.name); }
Tensor tanh(const Tensor &x, const NameOptions &o) { return unary("tanh", x, o.name); }

Tensor leaky_relu(const Tensor &x, const LeakyReluOptions &o) {
  Json a = Json::object();
  put(a, "slope", o.slope);
  return layer("leaky_relu", a, {&x}, o.name);
}

Tensor softmax(const Tensor &x, const SoftmaxOptions &o) { return softmaxLike("softmax", x, o); }
Tensor log_softmax(const Tensor &x, const SoftmaxOptions &o) {
  return softmaxLike("log_softmax", x, o);
}

Tensor add(const Tensor &a, const Tensor &b, const NameOptions &o) {
  return binary("add", a, b, o.name);
}
Tensor sub(const Tensor &a, const Tensor &b, const NameOptions &o) {
  return binary("sub", a, b, o.name);
}
Tensor mul(const Tensor &a, const Tensor &b, const NameOptions &o) {
  return binary("mul", a, b, o.name);
}
Tensor operator+(const Tensor &a, const Tensor &b) { return add(a, b); }
Tensor operator-(const Tensor &a, const Tensor &b) { return sub(a, b); }
Tensor operator*(const Tensor &a, const Tensor &b) { return mul(a, b); }

Loss mse(const Tensor &input, const Tensor &target) { return makeLoss("mse", input, target); }
Loss mae(const Tensor &input, const Tensor &target) { return makeLoss("mae", input, target); }
Loss rmse(const Tensor &input, const Tensor &target) { return makeLoss("rmse", input, target); }
Loss cross_entropy(const Tensor &input, const Tensor &target) {
  return makeLoss("cross_entropy", input, target);
}
Loss bce_with_logits(const Tensor &input, const Tensor &target) {
  return makeLoss("bce_with_logits", input, target);
}

Schedule step_lr(int64_t step_size, double gamma) {
  return Schedule{Schedule::Kind::step, step_size, gamma, 0, std::nullopt};
}
Schedule exponential_lr(double gamma) {
  return Schedule{Schedule::Kind::exponential, 0, gamma, 0, std::nullopt};
}
Schedule cosine_lr(int64_t t_max, double eta_min) {
  return Schedule{Schedule::Kind::cosine, 0, std::nullopt, t_max, eta_min};
}

Optimizer sgd(const SgdOptions &options) {
  Optimizer o;
  o.kind = Optimizer::Kind::sgd;
  o.sgd = options;
  return o;
}

Optimizer adam(const AdamOptions &options) {
  Optimizer o;
  o.kind = Optimizer::Kind::adam;
  o.adam = options;
  return o;
}

} // namespace gradc
