// Layers of a model file to graph-IR nodes: one table row per layer op with
// its attribute keys, arity and lowering function.
#include "frontend/lowering.h"

#include <cmath>

namespace gradc::frontend {
namespace {

using ir::OpKind;
using ir::ValueId;

/// One layer being lowered.
struct Layer {
  const Json &j;
  std::string ptr; ///< "/layers/3"
  std::string name;
  int64_t index;

  std::string at(const std::string &key) const { return childPointer(ptr, key); }
  const Json *find(const std::string &key) const {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  }
};

using Operands = std::vector<ValueId>;
using LowerFn = Expected<ValueId> (*)(Lowering &, const Layer &, const Operands &);

struct LayerOp {
  const char *name;
  int arity;
  std::vector<std::string> attrs;
  LowerFn lower;
};

Expected<bool> optBool(Lowering &l, const Layer &layer, const std::string &key, bool dflt) {
  const Json *v = layer.find(key);
  return v ? l.reader.boolean(*v, layer.at(key)) : Expected<bool>(dflt);
}

Expected<std::array<int64_t, 2>> optInt2(Lowering &l, const Layer &layer, const std::string &key,
                                         int64_t lo, std::array<int64_t, 2> dflt) {
  const Json *v = layer.find(key);
  return v ? l.reader.int2(*v, layer.at(key), lo) : Expected<std::array<int64_t, 2>>(dflt);
}

Expected<std::array<int64_t, 2>> reqInt2(Lowering &l, const Layer &layer, const std::string &key,
                                         const std::string &op) {
  GRADC_TRY(v, l.reader.require(layer.j, layer.ptr, key, op));
  return l.reader.int2(*v, layer.at(key), 1);
}

std::vector<int64_t> vec(const std::array<int64_t, 2> &a) { return {a[0], a[1]}; }

Status needRank(Lowering &l, const Layer &layer, const ir::TensorType &t, int64_t rank,
                const std::string &what) {
  if (t.rank() != rank)
    return l.error(layer.ptr, "expected " + what + ", got " + t.str());
  return Status::ok();
}

Expected<ValueId> lowerLinear(Lowering &l, const Layer &layer, const Operands &xs) {
  const ir::TensorType &t = l.fn.type(xs[0]);
  GRADC_TRY_STATUS(needRank(l, layer, t, 2, "linear's input to have shape [N, in_features]"));
  GRADC_TRY(out_json, l.reader.require(layer.j, layer.ptr, "out_features", "linear"));
  GRADC_TRY(out, l.reader.size(*out_json, layer.at("out_features")));
  GRADC_TRY(bias, optBool(l, layer, "bias", true));
  int64_t n = t.shape[0], in = t.shape[1];
  double bound = 1.0 / std::sqrt(double(in));
  GRADC_TRY(w, l.param(layer.at("out_features"), layer.name + ".weight", {out, in}, bound));
  ir::Attrs mm{{"transpose_a", false}, {"transpose_b", true}};
  if (!bias)
    return l.node(layer.ptr, OpKind::MatMul, {xs[0], w}, mm, layer.name);
  GRADC_TRY(b, l.param(layer.at("out_features"), layer.name + ".bias", {out}, bound));
  GRADC_TRY(y, l.node(layer.ptr, OpKind::MatMul, {xs[0], w}, mm));
  ir::Attrs bc{{"shape", ir::Shape{n, out}}, {"dims", std::vector<int64_t>{1}}};
  GRADC_TRY(bb, l.node(layer.ptr, OpKind::Broadcast, {b}, bc));
  return l.node(layer.ptr, OpKind::Add, {y, bb}, {}, layer.name);
}

Expected<ValueId> lowerConv(Lowering &l, const Layer &layer, const Operands &xs) {
  const ir::TensorType &t = l.fn.type(xs[0]);
  GRADC_TRY_STATUS(needRank(l, layer, t, 4, "conv2d's input to have shape [N, C, H, W]"));
  GRADC_TRY(out_json, l.reader.require(layer.j, layer.ptr, "out_channels", "conv2d"));
  GRADC_TRY(out, l.reader.size(*out_json, layer.at("out_channels")));
  GRADC_TRY(kernel, reqInt2(l, layer, "kernel", "conv2d"));
  GRADC_TRY(stride, optInt2(l, layer, "stride", 1, {1, 1}));
  GRADC_TRY(padding, optInt2(l, layer, "padding", 0, {0, 0}));
  GRADC_TRY(dilation, optInt2(l, layer, "dilation", 1, {1, 1}));
  GRADC_TRY(bias, optBool(l, layer, "bias", true));
  int64_t c = t.shape[1];
  ir::Shape wshape{out, c, kernel[0], kernel[1]};
  // In double: a huge kernel must reach param()'s size check, not overflow here.
  double bound = 1.0 / std::sqrt(double(c) * double(kernel[0]) * double(kernel[1]));
  GRADC_TRY(w, l.param(layer.at("kernel"), layer.name + ".weight", wshape, bound));
  ir::Attrs attrs{{"stride", vec(stride)}, {"padding", vec(padding)}, {"dilation", vec(dilation)}};
  if (!bias)
    return l.node(layer.ptr, OpKind::Conv2d, {xs[0], w}, attrs, layer.name);
  GRADC_TRY(b, l.param(layer.at("out_channels"), layer.name + ".bias", {out}, bound));
  GRADC_TRY(y, l.node(layer.ptr, OpKind::Conv2d, {xs[0], w}, attrs));
  ir::Shape yshape = l.fn.type(y).shape;
  ir::Attrs bc{{"shape", yshape}, {"dims", std::vector<int64_t>{1}}};
  GRADC_TRY(bb, l.node(layer.ptr, OpKind::Broadcast, {b}, bc));
  return l.node(layer.ptr, OpKind::Add, {y, bb}, {}, layer.name);
}

Expected<ValueId> lowerPool(Lowering &l, const Layer &layer, const Operands &xs, OpKind op) {
  const ir::TensorType &t = l.fn.type(xs[0]);
  std::string name = ir::opName(op);
  GRADC_TRY_STATUS(needRank(l, layer, t, 4, name + "'s input to have shape [N, C, H, W]"));
  GRADC_TRY(kernel, reqInt2(l, layer, "kernel", name));
  GRADC_TRY(stride, optInt2(l, layer, "stride", 1, kernel));
  GRADC_TRY(padding, optInt2(l, layer, "padding", 0, {0, 0}));
  if (padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1])
    return l.error(layer.at("padding"), "padding " + ir::shapeStr(vec(padding)) +
                                            " must be at most half the kernel " +
                                            ir::shapeStr(vec(kernel)));
  ir::Attrs attrs{{"kernel", vec(kernel)}, {"stride", vec(stride)}, {"padding", vec(padding)}};
  return l.node(layer.ptr, op, {xs[0]}, attrs, layer.name);
}

Expected<ValueId> lowerMaxPool(Lowering &l, const Layer &layer, const Operands &xs) {
  return lowerPool(l, layer, xs, OpKind::MaxPool2d);
}

Expected<ValueId> lowerAvgPool(Lowering &l, const Layer &layer, const Operands &xs) {
  return lowerPool(l, layer, xs, OpKind::AvgPool2d);
}

Expected<ValueId> lowerFlatten(Lowering &l, const Layer &layer, const Operands &xs) {
  const ir::TensorType &t = l.fn.type(xs[0]);
  if (t.rank() < 2)
    return l.error(layer.ptr,
                   "expected flatten's input to have shape [N, ...] of rank >= 2, got " + t.str());
  ir::Shape shape{t.shape[0], t.numElements() / t.shape[0]};
  return l.node(layer.ptr, OpKind::Reshape, {xs[0]}, {{"shape", shape}}, layer.name);
}

Expected<ValueId> lowerReshape(Lowering &l, const Layer &layer, const Operands &xs) {
  const ir::TensorType &t = l.fn.type(xs[0]);
  GRADC_TRY(json, l.reader.require(layer.j, layer.ptr, "shape", "reshape"));
  GRADC_TRY(shape, l.shape(*json, layer.at("shape"), true));
  ir::Shape known;
  for (int64_t d : shape)
    if (d != -1)
      known.push_back(d);
  auto product = ir::checkedNumElements(known);
  bool infer = known.size() != shape.size();
  bool fits = product && (infer ? t.numElements() % *product == 0 : *product == t.numElements());
  if (!fits)
    return l.error(layer.at("shape"), "cannot reshape " + t.str() + " to " + ir::shapeStr(shape) +
                                          ": element counts differ");
  for (int64_t &d : shape)
    if (d == -1)
      d = t.numElements() / *product;
  return l.node(layer.ptr, OpKind::Reshape, {xs[0]}, {{"shape", shape}}, layer.name);
}

Expected<ValueId> lowerIdentity(Lowering &, const Layer &, const Operands &xs) { return xs[0]; }

template <OpKind Op>
Expected<ValueId> lowerElementwise(Lowering &l, const Layer &layer, const Operands &xs) {
  return l.node(layer.ptr, Op, xs, {}, layer.name);
}

Expected<ValueId> lowerLeakyRelu(Lowering &l, const Layer &layer, const Operands &xs) {
  double slope = 0.01;
  if (const Json *v = layer.find("slope")) {
    GRADC_TRY(s, l.reader.number(*v, layer.at("slope"), -HUGE_VAL, HUGE_VAL, "a number"));
    slope = s;
  }
  return l.node(layer.ptr, OpKind::LeakyRelu, xs, {{"slope", slope}}, layer.name);
}

template <OpKind Op>
Expected<ValueId> lowerSoftmax(Lowering &l, const Layer &layer, const Operands &xs) {
  const ir::TensorType &t = l.fn.type(xs[0]);
  int64_t axis = -1;
  if (const Json *v = layer.find("axis")) {
    GRADC_TRY(a, l.reader.integer(*v, layer.at("axis"), INT64_MIN, INT64_MAX, "an integer axis"));
    axis = a;
  }
  if (axis < -t.rank() || axis >= t.rank())
    return l.error(layer.find("axis") ? layer.at("axis") : layer.ptr,
                   "axis " + std::to_string(axis) + " is out of range for " + t.str() +
                       "; expected an axis in [" + std::to_string(-t.rank()) + ", " +
                       std::to_string(t.rank() - 1) + "]");
  if (axis < 0)
    axis += t.rank();
  return l.node(layer.ptr, Op, xs, {{"axis", axis}}, layer.name);
}

const std::vector<LayerOp> &layerOps() {
  static const std::vector<LayerOp> ops = {
      {"linear", 1, {"out_features", "bias"}, lowerLinear},
      {"conv2d", 1, {"out_channels", "kernel", "stride", "padding", "dilation", "bias"}, lowerConv},
      {"maxpool2d", 1, {"kernel", "stride", "padding"}, lowerMaxPool},
      {"avgpool2d", 1, {"kernel", "stride", "padding"}, lowerAvgPool},
      {"flatten", 1, {}, lowerFlatten},
      {"reshape", 1, {"shape"}, lowerReshape},
      {"identity", 1, {}, lowerIdentity},
      {"sigmoid", 1, {}, lowerElementwise<OpKind::Sigmoid>},
      {"relu", 1, {}, lowerElementwise<OpKind::Relu>},
      {"tanh", 1, {}, lowerElementwise<OpKind::Tanh>},
      {"leaky_relu", 1, {"slope"}, lowerLeakyRelu},
      {"softmax", 1, {"axis"}, lowerSoftmax<OpKind::Softmax>},
      {"log_softmax", 1, {"axis"}, lowerSoftmax<OpKind::LogSoftmax>},
      {"add", 2, {}, lowerElementwise<OpKind::Add>},
      {"sub", 2, {}, lowerElementwise<OpKind::Sub>},
      {"mul", 2, {}, lowerElementwise<OpKind::Mul>},
  };
  return ops;
}

const LayerOp *findLayerOp(const std::string &name) {
  for (const LayerOp &op : layerOps())
    if (name == op.name)
      return &op;
  return nullptr;
}

std::string layerOpNames() {
  std::vector<std::string> names;
  for (const LayerOp &op : layerOps())
    names.push_back(op.name);
  return joinNames(names);
}

/// The layer's op row, checking that the layer is an object with a known op.
Expected<const LayerOp *> layerOp(Lowering &l, const Json &j, const std::string &ptr) {
  if (!j.is_object())
    return l.error(ptr, "expected a layer object such as {\"op\": \"relu\"}, got " + describe(j));
  GRADC_TRY(op, l.reader.require(j, ptr, "op", "every layer"));
  const LayerOp *row = op->is_string() ? findLayerOp(op->get<std::string>()) : nullptr;
  if (!row)
    return l.error(childPointer(ptr, "op"),
                   "unknown op " + describe(*op) + "; expected one of " + layerOpNames());
  return row;
}

} // namespace

Expected<std::string> layerName(Lowering &l, const Json &layer, size_t index) {
  std::string ptr = childPointer("/layers", index);
  GRADC_TRY(row, layerOp(l, layer, ptr));
  std::string name = std::string(row->name) + "_" + std::to_string(index);
  std::string where = ptr;
  if (auto it = layer.find("name"); it != layer.end()) {
    where = childPointer(ptr, "name");
    if (!it->is_string() || !isIdentifier(it->get<std::string>()))
      return l.error(where,
                     "expected a layer name matching [A-Za-z_][A-Za-z0-9_]*, got " + describe(*it));
    name = it->get<std::string>();
  }
  std::string which = where == ptr ? "the default name \"" : "the name \"";
  // Earlier layers first: the DSL has lowered them already, so they are in
  // l.defined too, as only model inputs are when a file's names are collected.
  if (auto it = l.layer_names.find(name); it != l.layer_names.end())
    return l.error(where, "duplicate name: " + which + name + "\" is already used by layer " +
                              std::to_string(it->second));
  if (l.defined.count(name))
    return l.error(where, "duplicate name: " + which + name + "\" is already a model input");
  l.layer_names[name] = int64_t(index);
  return name;
}

namespace {

Expected<Operands> layerOperands(Lowering &l, const Layer &layer, const LayerOp &row,
                                 const std::string &prev) {
  if (row.arity == 2) {
    GRADC_TRY(in, l.reader.require(layer.j, layer.ptr, "inputs", row.name));
    if (!in->is_array() || in->size() != 2)
      return l.error(layer.at("inputs"), std::string("expected a pair [a, b] of names (") +
                                             row.name + " takes two operands), got " +
                                             describe(*in));
    GRADC_TRY(a, l.resolve((*in)[0], childPointer(layer.at("inputs"), 0)));
    GRADC_TRY(b, l.resolve((*in)[1], childPointer(layer.at("inputs"), 1)));
    return Operands{a, b};
  }
  if (const Json *in = layer.find("input")) {
    GRADC_TRY(x, l.resolve(*in, layer.at("input")));
    return Operands{x};
  }
  if (prev.empty())
    return l.error(layer.at("input"),
                   "missing \"input\": the first layer has no previous layer to default to");
  GRADC_TRY(x, l.resolve(Json(prev), layer.ptr));
  return Operands{x};
}

} // namespace

Status lowerLayer(Lowering &l, const Json &j, size_t index, const std::string &name,
                  const std::string &prev) {
  std::string ptr = childPointer("/layers", index);
  GRADC_TRY(row, layerOp(l, j, ptr));
  std::vector<std::string> keys = {"name", "op", row->arity == 2 ? "inputs" : "input"};
  keys.insert(keys.end(), row->attrs.begin(), row->attrs.end());
  GRADC_TRY_STATUS(l.reader.checkObject(j, ptr, keys, std::string(row->name) + " layer"));
  Layer layer{j, ptr, name, int64_t(index)};
  GRADC_TRY(operands, layerOperands(l, layer, *row, prev));
  l.fn.setOrigin({name, ir::Phase::Forward});
  GRADC_TRY(v, row->lower(l, layer, operands));
  l.defined[name] = {v, int64_t(index)};
  return Status::ok();
}

Status lowerLayers(Lowering &l, const Json &layers) {
  if (!layers.is_array() || layers.empty())
    return l.error("/layers", "expected a non-empty list of layers, got " + describe(layers));
  // Every name first, so "used before it is defined" differs from "never defined".
  std::vector<std::string> names;
  for (size_t i = 0; i < layers.size(); ++i) {
    GRADC_TRY(name, layerName(l, layers[i], i));
    names.push_back(name);
  }
  for (size_t i = 0; i < layers.size(); ++i)
    GRADC_TRY_STATUS(lowerLayer(l, layers[i], i, names[i], i == 0 ? "" : names[i - 1]));
  return Status::ok();
}

} // namespace gradc::frontend
