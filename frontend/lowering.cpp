// Name resolution, shapes with named dims, the size budget and node building
// shared by layer and loss lowering.
#include "frontend/lowering.h"

namespace gradc::frontend {

Expected<ir::ValueId> Lowering::resolve(const Json &v, const std::string &ptr, bool allow_i32) {
  if (!v.is_string())
    return error(ptr, "expected the name of a model input or an earlier layer, got " + describe(v));
  std::string name = v.get<std::string>();
  auto it = defined.find(name);
  if (it == defined.end()) {
    auto later = layer_names.find(name);
    if (later != layer_names.end())
      return error(ptr, "\"" + name + "\" is used before it is defined (by layer " +
                            std::to_string(later->second) +
                            "); expected a model input or an earlier layer");
    return error(ptr,
                 "\"" + name + "\" is not defined; expected the name of a model input or a layer");
  }
  const ir::TensorType &t = fn.type(it->second.value);
  if (t.dtype != ir::DType::F32 && !allow_i32)
    return error(ptr, "wrong dtype: \"" + name + "\" is " + t.str() +
                          ", but only f32 values may be used here (i32 inputs may only be a "
                          "cross_entropy target)");
  return it->second.value;
}

Expected<ir::Shape> Lowering::shape(const Json &v, const std::string &ptr, bool allow_infer) const {
  std::string what = "a list of positive integers or dim names";
  if (allow_infer)
    what += " (one entry may be -1)";
  if (!v.is_array())
    return error(ptr, "expected " + what + ", got " + describe(v));
  ir::Shape out;
  bool inferred = false;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string p = childPointer(ptr, i);
    const Json &d = v[i];
    if (d.is_string()) {
      auto it = dims.find(d.get<std::string>());
      if (it == dims.end())
        return error(p, "unknown dim " + describe(d) + "; the model's dims are: " + knownDims());
      out.push_back(it->second);
      continue;
    }
    if (allow_infer && d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() == -1) {
      if (inferred)
        return error(p, "only one entry of a shape may be -1");
      inferred = true;
      out.push_back(-1);
      continue;
    }
    if (!d.is_number_integer())
      return error(p, "expected a positive integer or a dim name, got " + describe(d));
    GRADC_TRY(n, reader.size(d, p));
    out.push_back(n);
  }
  return out;
}

std::string Lowering::knownDims() const {
  std::vector<std::string> names;
  for (const auto &kv : dims)
    names.push_back(kv.first);
  return names.empty() ? "(none)" : joinNames(names);
}

Status Lowering::charge(const std::string &ptr, const ir::TensorType &type) {
  auto n = ir::checkedNumElements(type.shape);
  if (!n)
    return error(ptr, "tensor " + type.str() + " is too large: more than " +
                          std::to_string(ir::kMaxElements) + " elements");
  bytes += *n * 4;
  if (bytes > kMaxModelBytes)
    return error(ptr, "the model is too large: its parameters and activations exceed 16 GiB");
  return Status::ok();
}

Expected<ir::ValueId> Lowering::node(const std::string &ptr, ir::OpKind op,
                                     std::vector<ir::ValueId> operands, ir::Attrs attrs,
                                     std::string name) {
  auto v = fn.tryAddNode(op, std::move(operands), std::move(attrs), std::move(name));
  if (!v)
    return v.error().withPrefix(reader.file() + ": " + ptr + ": ");
  GRADC_TRY_STATUS(charge(ptr, fn.type(*v)));
  return *v;
}

Expected<ir::ValueId> Lowering::param(const std::string &ptr, const std::string &name,
                                      ir::Shape shape, double init_bound) {
  ir::TensorType type = ir::f32(std::move(shape));
  GRADC_TRY_STATUS(charge(ptr, type));
  module.params.push_back({name, type, init_bound});
  return fn.addArg(name, ir::ArgRole::Param, type);
}

} // namespace gradc::frontend
