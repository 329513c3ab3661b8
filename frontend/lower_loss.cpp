// The model's loss to graph-IR nodes: every loss is a mean over all elements
// (PyTorch's reduction="mean"), its final node named "loss".
#include "frontend/lowering.h"

#include <algorithm>

namespace gradc::frontend {
namespace {

using ir::OpKind;
using ir::ValueId;

const char *kPtr = "/loss";

const std::vector<std::string> &lossOps() {
  static const std::vector<std::string> ops = {"mse", "mae", "rmse", "cross_entropy",
                                               "bce_with_logits"};
  return ops;
}

std::vector<int64_t> allAxes(const ir::TensorType &t) {
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < t.rank(); ++d)
    axes.push_back(d);
  return axes;
}

/// scale * sum(v): the mean when scale is 1/n.
Expected<ValueId> scaledSum(Lowering &l, ValueId v, double scale, const std::string &name) {
  ir::Attrs axes{{"axes", allAxes(l.fn.type(v))}};
  GRADC_TRY(sum, l.node(kPtr, OpKind::ReduceSum, {v}, axes));
  return l.node(kPtr, OpKind::Affine, {sum}, {{"scale", scale}, {"shift", 0.0}}, name);
}

/// mse, mae and rmse: mean of (y - t)^2 or |y - t|; rmse takes the root.
Expected<ValueId> lowerRegression(Lowering &l, const std::string &op, ValueId y, ValueId t) {
  double scale = 1.0 / double(l.fn.type(y).numElements());
  GRADC_TRY(d, l.node(kPtr, OpKind::Sub, {y, t}));
  ValueId e = d;
  if (op == "mae") {
    GRADC_TRY(a, l.node(kPtr, OpKind::Abs, {d}));
    e = a;
  } else {
    GRADC_TRY(sq, l.node(kPtr, OpKind::Mul, {d, d}));
    e = sq;
  }
  if (op != "rmse")
    return scaledSum(l, e, scale, "loss");
  GRADC_TRY(mse, scaledSum(l, e, scale, ""));
  return l.node(kPtr, OpKind::Sqrt, {mse}, {}, "loss");
}

/// mean(softplus(x) - x * t), the stable form of binary cross-entropy on logits.
Expected<ValueId> lowerBce(Lowering &l, ValueId x, ValueId t) {
  double scale = 1.0 / double(l.fn.type(x).numElements());
  GRADC_TRY(sp, l.node(kPtr, OpKind::Softplus, {x}));
  GRADC_TRY(xt, l.node(kPtr, OpKind::Mul, {x, t}));
  GRADC_TRY(d, l.node(kPtr, OpKind::Sub, {sp, xt}));
  return scaledSum(l, d, scale, "loss");
}

/// -mean over rows of log_softmax(x)[row, t[row]].
Expected<ValueId> lowerCrossEntropy(Lowering &l, ValueId x, ValueId t) {
  const ir::TensorType &xt = l.fn.type(x);
  int64_t n = xt.shape[0], k = xt.shape[1];
  GRADC_TRY(logp, l.node(kPtr, OpKind::LogSoftmax, {x}, {{"axis", int64_t(1)}}));
  GRADC_TRY(hot, l.node(kPtr, OpKind::OneHot, {t}, {{"depth", k}}));
  GRADC_TRY(picked, l.node(kPtr, OpKind::Mul, {logp, hot}));
  return scaledSum(l, picked, -1.0 / double(n), "loss");
}

/// The loss target: a model input of the dtype and shape the loss needs.
Status checkTarget(Lowering &l, const std::string &op, const std::string &input,
                   const std::string &target, ValueId y, ValueId t) {
  std::string ptr = childPointer(kPtr, "target");
  const ir::TensorType &yt = l.fn.type(y), &tt = l.fn.type(t);
  if (op == "cross_entropy") {
    if (yt.rank() != 2)
      return l.error(childPointer(kPtr, "input"),
                     "expected cross_entropy's input to be logits f32[N, K], got \"" + input +
                         "\" " + yt.str());
    ir::TensorType want = ir::i32({yt.shape[0]});
    if (tt.dtype != ir::DType::I32)
      return l.error(ptr, "wrong dtype: cross_entropy's target must be class indices " +
                              want.str() + ", got \"" + target + "\" " + tt.str());
    if (tt != want)
      return l.error(ptr, "target \"" + target + "\" has shape " + tt.str() +
                              " but cross_entropy on \"" + input + "\" " + yt.str() + " needs " +
                              want.str());
    return Status::ok();
  }
  if (yt.rank() < 1)
    return l.error(childPointer(kPtr, "input"), "expected " + op +
                                                    "'s input to have shape [N, ...], got \"" +
                                                    input + "\" " + yt.str());
  if (tt != yt)
    return l.error(ptr, "target \"" + target + "\" has shape " + tt.str() + " but " + op +
                            " needs the shape of input \"" + input + "\", " + yt.str());
  return Status::ok();
}

} // namespace

Status lowerLoss(Lowering &l, const Json &loss) {
  l.fn.setOrigin({"loss", ir::Phase::Forward});
  GRADC_TRY_STATUS(l.reader.checkObject(loss, kPtr, {"op", "input", "target"}, "the loss"));
  GRADC_TRY(op_json, l.reader.require(loss, kPtr, "op", "the loss"));
  std::string op = op_json->is_string() ? op_json->get<std::string>() : "";
  if (std::find(lossOps().begin(), lossOps().end(), op) == lossOps().end())
    return l.error(childPointer(kPtr, "op"), "unknown loss op " + describe(*op_json) +
                                                 "; expected one of " + joinNames(lossOps()));
  GRADC_TRY(in_json, l.reader.require(loss, kPtr, "input", "the loss"));
  GRADC_TRY(y, l.resolve(*in_json, childPointer(kPtr, "input")));
  GRADC_TRY(t_json, l.reader.require(loss, kPtr, "target", "the loss"));
  std::string tptr = childPointer(kPtr, "target");
  GRADC_TRY(t, l.resolve(*t_json, tptr, op == "cross_entropy"));
  std::string target = t_json->get<std::string>();
  if (l.defined.at(target).layer >= 0)
    return l.error(tptr, "expected the name of a model input, but \"" + target +
                             "\" is a layer (targets are fed, not computed)");
  std::string input = in_json->get<std::string>();
  GRADC_TRY_STATUS(checkTarget(l, op, input, target, y, t));
  Expected<ValueId> v = ir::kNoValue;
  if (op == "cross_entropy") {
    v = lowerCrossEntropy(l, y, t);
    l.module.class_input = target;
    l.module.num_classes = l.fn.type(y).shape[1];
  } else if (op == "bce_with_logits") {
    v = lowerBce(l, y, t);
  } else {
    v = lowerRegression(l, op, y, t);
  }
  if (!v)
    return v.error();
  l.fn.addResult("loss", ir::ResultRole::Loss, *v);
  l.module.has_loss = true;
  return Status::ok();
}

} // namespace gradc::frontend
