// Graph IR construction.
#include "ir/function.h"

#include <algorithm>

namespace gradc::ir {

const char *argRoleName(ArgRole r) {
  switch (r) {
  case ArgRole::Input:
    return "input";
  case ArgRole::Param:
    return "param";
  case ArgRole::Grad:
    return "grad";
  case ArgRole::State:
    return "state";
  case ArgRole::Scalar:
    return "scalar";
  }
  return "?";
}

const char *resultRoleName(ResultRole r) {
  switch (r) {
  case ResultRole::Output:
    return "output";
  case ResultRole::Loss:
    return "loss";
  case ResultRole::Grad:
    return "grad";
  case ResultRole::Update:
    return "update";
  }
  return "?";
}

ValueId Function::addArg(const std::string &name, ArgRole role, TensorType type) {
  GRADC_CHECK(arg_index_.emplace(name, int32_t(args_.size())).second, "duplicate argument " + name);
  ValueId v = ValueId(values_.size());
  values_.push_back({std::move(type), name, -1, int32_t(args_.size())});
  args_.push_back({name, role, v});
  return v;
}

Expected<ValueId> Function::tryAddNode(OpKind op, std::vector<ValueId> operands, Attrs attrs,
                                       std::string name) {
  std::vector<TensorType> types;
  for (ValueId v : operands) {
    GRADC_CHECK(v >= 0 && size_t(v) < values_.size(), "operand out of range");
    types.push_back(values_[size_t(v)].type);
  }
  GRADC_TRY(type, inferType(op, types, attrs));
  ValueId v = ValueId(values_.size());
  values_.push_back({std::move(type), std::move(name), int32_t(nodes_.size()), -1});
  nodes_.push_back(Node{op, std::move(operands), std::move(attrs), v, -1, origin_});
  return v;
}

ValueId Function::addNode(OpKind op, std::vector<ValueId> operands, Attrs attrs, std::string name) {
  auto v = tryAddNode(op, std::move(operands), std::move(attrs), std::move(name));
  GRADC_CHECK(bool(v), v ? "" : v.error().message());
  return *v;
}

const char *phaseName(Phase p) {
  switch (p) {
  case Phase::Forward:
    return "forward";
  case Phase::Backward:
    return "backward";
  case Phase::Optimizer:
    return "optimizer";
  }
  return "?";
}

void Function::addResult(std::string name, ResultRole role, ValueId value, int32_t updates) {
  GRADC_CHECK(result_index_.emplace(name, int32_t(results_.size())).second,
              "duplicate result " + name);
  results_.push_back({std::move(name), role, value, updates});
}

int32_t Function::numKernels() const {
  int32_t n = 0;
  for (const Node &node : nodes_)
    n = std::max(n, node.kernel + 1);
  return n;
}

int32_t Function::findArg(const std::string &name) const {
  auto it = arg_index_.find(name);
  return it == arg_index_.end() ? -1 : it->second;
}

int32_t Function::findResult(const std::string &name) const {
  auto it = result_index_.find(name);
  return it == result_index_.end() ? -1 : it->second;
}

Function *Module::find(const std::string &fn) {
  for (Function &f : functions)
    if (f.name() == fn)
      return &f;
  return nullptr;
}

const Function *Module::find(const std::string &fn) const {
  for (const Function &f : functions)
    if (f.name() == fn)
      return &f;
  return nullptr;
}

} // namespace gradc::ir
