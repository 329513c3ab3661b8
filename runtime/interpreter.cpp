// The reference interpreter's driver: walks a function's nodes in order,
// dispatching each to its op family's kernel (runtime/interp_*.cpp), and
// frees every buffer after its last use.
#include "runtime/interpreter.h"

#include <cmath>
#include <functional>
#include <limits>

#include "runtime/interp_kernels.h"
#include "support/json_text.h"

#include <cmath>

namespace gradc::runtime {
namespace {

DoubleBuffer evalNode(const ir::Function &f, const ir::Node &node,
                      const std::vector<DoubleBuffer> &values) {
  interp::Operands xs;
  for (ir::ValueId v : node.operands)
    xs.push_back({f.type(v), values[size_t(v)]});
  const ir::TensorType &out = f.type(node.result);
  switch (node.op) {
  case ir::OpKind::Constant:
    return DoubleBuffer(size_t(out.numElements()), node.attrs.f("value"));
  case ir::OpKind::Conv2d:
  case ir::OpKind::Conv2dGradInput:
  case ir::OpKind::Conv2dGradWeight:
  case ir::OpKind::MaxPool2d:
  case ir::OpKind::MaxPool2dGrad:
  case ir::OpKind::AvgPool2d:
  case ir::OpKind::AvgPool2dGrad:
    return interp::evalWindow(node.op, node.attrs, xs, out);
  default:
    break;
  }
  if (ir::isElementwise(node.op))
    return interp::evalElementwise(node.op, node.attrs, xs);
  return interp::evalLinalg(node.op, node.attrs, xs, out);
}

/// For each value, the index of the last node reading it; results are kept
/// to the end (index = number of nodes).
std::vector<size_t> lastUses(const ir::Function &f) {
  std::vector<size_t> last(f.values().size(), 0);
  for (size_t i = 0; i < f.nodes().size(); ++i)
    for (ir::ValueId v : f.nodes()[i].operands)
      last[size_t(v)] = i;
  for (const ir::Result &r : f.results())
    last[size_t(r.value)] = f.nodes().size();
  return last;
}

} // namespace

namespace {

/// Evaluates `f`, calling `hook(node, result)` after each node; stops early
/// when the hook returns false.
std::vector<DoubleBuffer>
evaluateWith(const ir::Function &f, const std::vector<DoubleBuffer> &args,
             const std::function<bool(size_t, const DoubleBuffer &)> &hook) {
  GRADC_CHECK(args.size() == f.args().size(), f.name() + ": wrong number of arguments");
  std::vector<DoubleBuffer> values(f.values().size());
  for (size_t i = 0; i < args.size(); ++i) {
    ir::ValueId v = f.args()[i].value;
    GRADC_CHECK(int64_t(args[i].size()) == f.type(v).numElements(),
                f.name() + ": argument '" + f.args()[i].name + "' has the wrong size");
    values[size_t(v)] = args[i];
  }
  std::vector<size_t> last = lastUses(f);
  for (size_t i = 0; i < f.nodes().size(); ++i) {
    const ir::Node &node = f.nodes()[i];
    values[size_t(node.result)] = evalNode(f, node, values);
    GRADC_CHECK(int64_t(values[size_t(node.result)].size()) == f.type(node.result).numElements(),
                std::string("kernel of ") + ir::opName(node.op) + " returned the wrong size");
    if (hook && !hook(i, values[size_t(node.result)]))
      return {};
    for (ir::ValueId v : node.operands)
      if (last[size_t(v)] == i)
        DoubleBuffer().swap(values[size_t(v)]);
  }
  std::vector<DoubleBuffer> out;
  for (const ir::Result &r : f.results())
    out.push_back(values[size_t(r.value)]);
  return out;
}

/// The arguments of `f` from `args` by name, as double buffers.
std::vector<DoubleBuffer> argBuffers(const ir::Function &f, const TensorMap &args) {
  std::vector<DoubleBuffer> in;
  for (const ir::Arg &a : f.args()) {
    auto it = args.find(a.name);
    GRADC_CHECK(it != args.end(), f.name() + ": missing argument '" + a.name + "'");
    const Tensor &t = it->second;
    GRADC_CHECK(t.type == f.type(a.value), f.name() + ": argument '" + a.name + "' is " +
                                               t.type.str() + ", want " + f.type(a.value).str());
    DoubleBuffer buf(size_t(t.numElements()));
    for (size_t i = 0; i < buf.size(); ++i)
      buf[i] = t.at(int64_t(i));
    in.push_back(std::move(buf));
  }
  return in;
}

} // namespace

std::vector<DoubleBuffer> evaluate(const ir::Function &f, const std::vector<DoubleBuffer> &args) {
  return evaluateWith(f, args, nullptr);
}

TensorMap evaluate(const ir::Function &f, const TensorMap &args) {
  std::vector<DoubleBuffer> results = evaluate(f, argBuffers(f, args));
  TensorMap out;
  for (size_t r = 0; r < results.size(); ++r) {
    Tensor t = Tensor::zeros(f.type(f.results()[r].value));
    for (size_t i = 0; i < results[r].size(); ++i) {
      if (t.type.dtype == ir::DType::F32)
        t.f32[i] = float(results[r][i]);
      else
        t.i32[i] = int32_t(std::lround(results[r][i]));
    }
    out[f.results()[r].name] = std::move(t);
  }
  return out;
}

std::optional<NumericFault> firstNonFinite(const ir::Function &f, const TensorMap &args) {
  std::optional<NumericFault> fault;
  evaluateWith(f, argBuffers(f, args), [&](size_t node, const DoubleBuffer &x) {
    if (f.type(f.nodes()[node].result).dtype != ir::DType::F32)
      return true;
    for (size_t i = 0; i < x.size(); ++i)
      if (!(std::fabs(x[i]) <= double(std::numeric_limits<float>::max()))) {
        fault = NumericFault{int32_t(node), int64_t(i), x[i]};
        return false;
      }
    return true;
  });
  return fault;
}

std::string describeNode(const ir::Function &f, int32_t node) {
  const ir::Node &n = f.nodes()[size_t(node)];
  const std::string &name = f.value(n.result).name;
  std::string s = "%" + support::escaped(name.empty() ? std::to_string(n.result) : name) + " = " +
                  ir::opName(n.op) + " (";
  if (!n.origin.layer.empty())
    s += "layer '" + support::escaped(n.origin.layer) + "', ";
  return s + ir::phaseName(n.origin.phase) + ")";
}

} // namespace gradc::runtime
