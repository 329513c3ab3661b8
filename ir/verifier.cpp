// IR verifier.
#include "ir/verifier.h"

#include "ir/printer.h"

#include <set>

namespace gradc::ir {

Status verify(const Function &f) {
  auto names = valueNames(f);
  std::set<std::string> arg_names;
  for (size_t i = 0; i < f.args().size(); ++i) {
    const Arg &a = f.args()[i];
    if (!arg_names.insert(a.name).second)
      return Error(f.name() + ": argument '" + a.name + "' appears twice");
    const Value &v = f.value(a.value);
    if (v.arg != int32_t(i) || v.node != -1)
      return Error(f.name() + ": argument '" + a.name + "' is not bound to its value");
  }
  std::vector<bool> defined(f.values().size(), false);
  for (const Arg &a : f.args())
    defined[size_t(a.value)] = true;
  for (size_t i = 0; i < f.nodes().size(); ++i) {
    const Node &n = f.nodes()[i];
    std::string where =
        f.name() + ": node " + std::to_string(i) + " (" +
        (n.result >= 0 && size_t(n.result) < names.size() ? names[size_t(n.result)] : "?") + " = " +
        opName(n.op) + ")";
    if (n.result < 0 || size_t(n.result) >= f.values().size() ||
        f.value(n.result).node != int32_t(i))
      return Error(where + ": result is not bound to this node");
    std::vector<TensorType> types;
    for (ValueId o : n.operands) {
      if (o < 0 || size_t(o) >= f.values().size() || !defined[size_t(o)])
        return Error(where + ": operand " + std::to_string(o) + " is used before it is defined");
      types.push_back(f.type(o));
    }
    auto t = inferType(n.op, types, n.attrs);
    if (!t)
      return Error(where + ": " + t.error().message());
    if (*t != f.type(n.result))
      return Error(where + ": recorded type " + f.type(n.result).str() +
                   " differs from the op's rule " + t->str());
    defined[size_t(n.result)] = true;
    // Kernels: all nodes or none assigned; each kernel one run of nodes,
    // numbered in order (0, then the same or the next number).
    int32_t prev = i == 0 ? -1 : f.nodes()[i - 1].kernel;
    if (i > 0 && (n.kernel < 0) != (prev < 0))
      return Error(where + ": only some nodes are assigned to kernels");
    if (n.kernel >= 0 && n.kernel != prev && n.kernel != prev + 1)
      return Error(where + ": kernel " + std::to_string(n.kernel) + " follows kernel " +
                   std::to_string(prev) + "; kernels must be runs of nodes numbered in order");
  }
  std::set<std::string> result_names;
  for (const Result &r : f.results()) {
    std::string where = f.name() + ": result \"" + r.name + "\"";
    if (!result_names.insert(r.name).second)
      return Error(where + " appears twice");
    if (r.value < 0 || size_t(r.value) >= f.values().size())
      return Error(where + " refers to no value");
    if ((r.role == ResultRole::Update) != (r.updates >= 0))
      return Error(where + ": only updates name an argument to overwrite");
    if (r.updates >= 0) {
      if (size_t(r.updates) >= f.args().size())
        return Error(where + " updates no argument");
      const Arg &a = f.args()[size_t(r.updates)];
      if (a.role != ArgRole::Param && a.role != ArgRole::State)
        return Error(where + " updates " + a.name + ", which is not a param or state");
      if (f.type(a.value) != f.type(r.value))
        return Error(where + " has type " + f.type(r.value).str() + " but updates " + a.name +
                     " of type " + f.type(a.value).str());
    }
  }
  return Status::ok();
}

Status verify(const Module &m) {
  for (const Function &f : m.functions)
    GRADC_TRY_STATUS(verify(f));
  return Status::ok();
}

} // namespace gradc::ir
