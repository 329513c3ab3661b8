// gradc.model/1 files: reading, top-level validation (format, name, dims,
// inputs, outputs) and assembly of the Module around the lowered layers.
#include "frontend/model_json.h"

#include "frontend/json_reader.h"
#include "frontend/lowering.h"
#include "support/files.h"
#include "support/json_text.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gradc::frontend {
namespace {

const char *kFormat = "gradc.model/1";

} // namespace

/// Parses untrusted model text. checkJsonText refuses, in one linear pass,
/// everything that could crash, slow down or fool the DOM parser (overflowing
/// numbers, NUL bytes, duplicate keys, excess depth), so the parse itself
/// cannot fail; the catch only keeps a missed case from aborting.
Expected<Json> parseJson(const std::string &text, const std::string &file) {
  Status s = support::checkJsonText(text);
  if (!s)
    return s.error().withPrefix(file + ": ");
  try {
    return Json::parse(text);
  } catch (const Json::exception &e) {
    return Error(file + ": invalid JSON: " + e.what());
  }
}

namespace {

Status checkFormat(const JsonReader &r, const Json &root) {
  if (!root.is_object())
    return r.error("", "expected a JSON object (a gradc model), got " + describe(root));
  GRADC_TRY(fmt, r.require(root, "", "format", "a gradc model"));
  if (!fmt->is_string() || fmt->get<std::string>() != kFormat)
    return r.error("/format", std::string("expected \"") + kFormat + "\", got " + describe(*fmt));
  return r.checkObject(
      root, "", {"format", "name", "dims", "inputs", "layers", "outputs", "loss", "optimizer"},
      "the model (top level)");
}

} // namespace

Status readName(const JsonReader &r, const Json &root, ir::Module &m) {
  GRADC_TRY(name, r.require(root, "", "name", "a gradc model"));
  if (!name->is_string() || !isIdentifier(name->get<std::string>()))
    return r.error("/name",
                   "expected a model name matching [A-Za-z_][A-Za-z0-9_]*, got " + describe(*name));
  m.name = name->get<std::string>();
  return Status::ok();
}

Status readDim(Lowering &l, const std::string &name, const Json &v) {
  std::string p = childPointer("/dims", name);
  if (!isIdentifier(name))
    return l.error(p, "expected a dim name matching [A-Za-z_][A-Za-z0-9_]*, got \"" + name + "\"");
  GRADC_TRY(n, l.reader.size(v, p));
  l.dims[name] = n;
  return Status::ok();
}

namespace {

Status readDims(Lowering &l, const Json &root, const DimOverrides &overrides) {
  auto it = root.find("dims");
  if (it != root.end()) {
    if (!it->is_object())
      return l.error("/dims",
                     "expected an object of named dims such as {\"B\": 64}, got " + describe(*it));
    for (const auto &item : it->items())
      GRADC_TRY_STATUS(readDim(l, item.key(), item.value()));
  }
  for (const auto &[name, value] : overrides) {
    std::string p = childPointer("/dims", name);
    if (!l.dims.count(name))
      return l.error(p, "--dim " + name + "=" + std::to_string(value) +
                            " names an unknown dim; the model's dims are: " + l.knownDims());
    if (value < 1 || value > ir::kMaxElements)
      return l.error(p, "--dim " + name + "=" + std::to_string(value) +
                            ": expected a positive integer (at most " +
                            std::to_string(ir::kMaxElements) + ")");
    l.dims[name] = value;
  }
  return Status::ok();
}

} // namespace

Status readInput(Lowering &l, const std::string &name, const Json &v, const std::string &p) {
  if (!isIdentifier(name))
    return l.error(p,
                   "expected an input name matching [A-Za-z_][A-Za-z0-9_]*, got \"" + name + "\"");
  GRADC_TRY_STATUS(l.reader.checkObject(v, p, {"shape", "dtype"}, "input \"" + name + "\""));
  GRADC_TRY(shape_json, l.reader.require(v, p, "shape", "input \"" + name + "\""));
  GRADC_TRY(shape, l.shape(*shape_json, childPointer(p, "shape")));
  ir::DType dtype = ir::DType::F32;
  auto dt = v.find("dtype");
  if (dt != v.end()) {
    auto parsed = dt->is_string() ? ir::parseDType(dt->get<std::string>()) : std::nullopt;
    if (!parsed)
      return l.error(childPointer(p, "dtype"), "expected \"f32\" or \"i32\", got " + describe(*dt));
    dtype = *parsed;
  }
  ir::TensorType type{dtype, shape};
  GRADC_TRY_STATUS(l.charge(childPointer(p, "shape"), type));
  l.defined[name] = {l.fn.addArg(name, ir::ArgRole::Input, type), -1};
  return Status::ok();
}

Status readOutput(Lowering &l, const Json &v, const std::string &p) {
  GRADC_TRY(value, l.resolve(v, p));
  std::string name = "out." + v.get<std::string>();
  if (l.fn.findResult(name) >= 0)
    return l.error(p, "\"" + v.get<std::string>() + "\" is listed twice");
  l.fn.addResult(name, ir::ResultRole::Output, value);
  return Status::ok();
}

namespace {

Status readInputs(Lowering &l, const Json &root) {
  GRADC_TRY(inputs, l.reader.require(root, "", "inputs", "a gradc model"));
  if (!inputs->is_object() || inputs->empty())
    return l.error("/inputs", "expected a non-empty object of inputs such as {\"x\": {\"shape\": "
                              "[\"B\", 3]}}, got " +
                                  describe(*inputs));
  for (const auto &item : inputs->items())
    GRADC_TRY_STATUS(readInput(l, item.key(), item.value(), childPointer("/inputs", item.key())));
  // readInput checked the shape; a leading named dim is the batch dimension.
  const Json &first = inputs->begin().value()["shape"];
  if (!first.empty() && first[0].is_string())
    l.module.batch_dim = first[0].get<std::string>();
  return Status::ok();
}

Status readOutputs(Lowering &l, const Json &root) {
  GRADC_TRY(outputs, l.reader.require(root, "", "outputs", "a gradc model"));
  if (!outputs->is_array() || outputs->empty())
    return l.error("/outputs",
                   "expected a non-empty list of layer or input names, got " + describe(*outputs));
  for (size_t i = 0; i < outputs->size(); ++i)
    GRADC_TRY_STATUS(readOutput(l, (*outputs)[i], childPointer("/outputs", i)));
  return Status::ok();
}

Status lowerModel(Lowering &l, const Json &root, const DimOverrides &overrides) {
  GRADC_TRY_STATUS(checkFormat(l.reader, root));
  GRADC_TRY_STATUS(readName(l.reader, root, l.module));
  GRADC_TRY_STATUS(readDims(l, root, overrides));
  GRADC_TRY_STATUS(readInputs(l, root));
  GRADC_TRY(layers, l.reader.require(root, "", "layers", "a gradc model"));
  GRADC_TRY_STATUS(lowerLayers(l, *layers));
  GRADC_TRY_STATUS(readOutputs(l, root));
  auto loss = root.find("loss");
  if (loss != root.end())
    GRADC_TRY_STATUS(lowerLoss(l, *loss));
  auto opt = root.find("optimizer");
  if (opt != root.end())
    GRADC_TRY_STATUS(parseOptimizer(l.reader, *opt, l.module.optimizer));
  return Status::ok();
}

} // namespace

Expected<ir::Module> lowerDocument(const Json &root, const std::string &file,
                                   const DimOverrides &dims) {
  JsonReader reader(file);
  ir::Module module;
  ir::Function fn("forward");
  Lowering l(reader, module, fn);
  try {
    GRADC_TRY_STATUS(lowerModel(l, root, dims));
  } catch (const Json::exception &e) {
    // Every access is type-checked first; this only keeps a missed case from crashing.
    return Error(file + ": unexpected JSON value: " + e.what());
  }
  module.functions.push_back(std::move(fn));
  return module;
}

Expected<ir::Module> parseModel(const std::string &text, const std::string &file,
                                const DimOverrides &dims) {
  GRADC_TRY(root, parseJson(text, file));
  return lowerDocument(root, file, dims);
}

Expected<ir::Module> loadModel(const std::string &path, const DimOverrides &dims) {
  GRADC_TRY(text, support::readSmallFile(path, "model file", kMaxModelFileBytes));
  return parseModel(text, path, dims);
}

} // namespace gradc::frontend
