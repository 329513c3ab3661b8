// Packed buffer and scratch layout: one aligned slot per tensor, no reuse
// (a memory planner will later share scratch slots between temporaries).
#include "codegen/layout.h"

namespace gradc::codegen {
namespace {

std::vector<TensorSlot> packSlots(const std::vector<std::pair<std::string, ir::TensorType>> &ts,
                                  int64_t &bytes) {
  std::vector<TensorSlot> slots;
  bytes = 0;
  for (const auto &[name, type] : ts) {
    slots.push_back({name, type, bytes});
    bytes += alignUp(type.byteSize());
  }
  return slots;
}

bool hasGradArg(const ir::Function &f) {
  for (const ir::Arg &a : f.args())
    if (a.role == ir::ArgRole::Grad)
      return true;
  return false;
}

} // namespace

const TensorSlot *ModuleLayout::find(const std::vector<TensorSlot> &slots,
                                     const std::string &name) {
  for (const TensorSlot &s : slots)
    if (s.name == name)
      return &s;
  return nullptr;
}

bool resultWrittenDirectly(const ir::Function &f, const ir::Result &r) {
  if (r.role == ir::ResultRole::Output)
    return true;
  return r.role == ir::ResultRole::Grad && !hasGradArg(f);
}

FunctionLayout computeFunctionLayout(const ir::Function &f) {
  FunctionLayout fl;
  fl.name = f.name();
  size_t n = f.values().size();
  fl.scratch_offset.assign(n, -1);
  fl.home_result.assign(n, -1);
  for (size_t r = 0; r < f.results().size(); ++r) {
    const ir::Result &res = f.results()[r];
    const ir::Value &v = f.value(res.value);
    if (v.node >= 0 && fl.home_result[size_t(res.value)] < 0 && resultWrittenDirectly(f, res))
      fl.home_result[size_t(res.value)] = int32_t(r);
  }
  for (const ir::Node &node : f.nodes()) {
    if (fl.home_result[size_t(node.result)] >= 0)
      continue;
    fl.scratch_offset[size_t(node.result)] = fl.scratch_bytes;
    fl.scratch_bytes += alignUp(f.type(node.result).byteSize());
  }
  return fl;
}

ModuleLayout computeLayout(const ir::Module &m) {
  ModuleLayout l;
  std::vector<std::pair<std::string, ir::TensorType>> ps, ss;
  for (const ir::ParamInfo &p : m.params)
    ps.push_back({p.name, p.type});
  for (const ir::StateInfo &s : m.states)
    ss.push_back({s.name, s.type});
  l.params = packSlots(ps, l.params_bytes);
  l.state = packSlots(ss, l.state_bytes);
  for (const ir::Function &f : m.functions)
    l.functions.push_back(computeFunctionLayout(f));
  return l;
}

} // namespace gradc::codegen
