// `/optimizer` to ir::OptimizerConfig: torch.optim's SGD and Adam with their
// defaults and argument checks, and the per-epoch learning-rate schedules.
#include "frontend/lowering.h"

#include <cmath>

namespace gradc::frontend {
namespace {

using Config = ir::OptimizerConfig;

/// Reads the optional number `key` of `obj` into `out` (left as the default
/// when absent), accepting [lo, hi].
Status optNumber(const JsonReader &r, const Json &obj, const std::string &ptr,
                 const std::string &key, double lo, double hi, const std::string &expected,
                 double &out) {
  auto it = obj.find(key);
  if (it == obj.end())
    return Status::ok();
  GRADC_TRY(v, r.number(*it, childPointer(ptr, key), lo, hi, expected));
  out = v;
  return Status::ok();
}

Status parseSchedule(const JsonReader &r, const Json &s, const std::string &ptr,
                     ir::Schedule &out) {
  if (!s.is_object())
    return r.error(ptr, "expected a schedule object such as {\"op\": \"step\", \"step_size\": "
                        "10}, got " +
                            describe(s));
  GRADC_TRY(op_json, r.require(s, ptr, "op", "a schedule"));
  std::string op = op_json->is_string() ? op_json->get<std::string>() : "";
  const std::string nonneg = "a non-negative number";
  if (op == "step") {
    GRADC_TRY_STATUS(r.checkObject(s, ptr, {"op", "step_size", "gamma"}, "the step schedule"));
    GRADC_TRY(size_json, r.require(s, ptr, "step_size", "the step schedule"));
    GRADC_TRY(size, r.size(*size_json, childPointer(ptr, "step_size")));
    out.kind = ir::Schedule::Kind::Step;
    out.step_size = size;
    out.gamma = 0.1;
    return optNumber(r, s, ptr, "gamma", 0, HUGE_VAL, nonneg, out.gamma);
  }
  if (op == "exponential") {
    GRADC_TRY_STATUS(r.checkObject(s, ptr, {"op", "gamma"}, "the exponential schedule"));
    GRADC_TRY(gamma_json, r.require(s, ptr, "gamma", "the exponential schedule"));
    GRADC_TRY(gamma, r.number(*gamma_json, childPointer(ptr, "gamma"), 0, HUGE_VAL, nonneg));
    out.kind = ir::Schedule::Kind::Exponential;
    out.gamma = gamma;
    return Status::ok();
  }
  if (op == "cosine") {
    GRADC_TRY_STATUS(r.checkObject(s, ptr, {"op", "t_max", "eta_min"}, "the cosine schedule"));
    GRADC_TRY(tmax_json, r.require(s, ptr, "t_max", "the cosine schedule"));
    GRADC_TRY(tmax, r.size(*tmax_json, childPointer(ptr, "t_max")));
    out.kind = ir::Schedule::Kind::Cosine;
    out.t_max = tmax;
    out.eta_min = 0;
    return optNumber(r, s, ptr, "eta_min", 0, HUGE_VAL, nonneg, out.eta_min);
  }
  return r.error(childPointer(ptr, "op"), "unknown schedule " + describe(*op_json) +
                                              "; expected one of step, exponential, cosine");
}

Status parseSgd(const JsonReader &r, const Json &o, Config &out) {
  const std::string ptr = "/optimizer";
  GRADC_TRY_STATUS(r.checkObject(
      o, ptr, {"op", "lr", "momentum", "dampening", "weight_decay", "nesterov", "schedule"},
      "the sgd optimizer"));
  out.kind = Config::Kind::Sgd;
  const std::string nonneg = "a non-negative number";
  GRADC_TRY(lr_json, r.require(o, ptr, "lr", "the sgd optimizer"));
  GRADC_TRY(lr, r.number(*lr_json, childPointer(ptr, "lr"), 0, HUGE_VAL, nonneg));
  out.lr = lr;
  GRADC_TRY_STATUS(optNumber(r, o, ptr, "momentum", 0, HUGE_VAL, nonneg, out.momentum));
  GRADC_TRY_STATUS(
      optNumber(r, o, ptr, "dampening", -HUGE_VAL, HUGE_VAL, "a number", out.dampening));
  GRADC_TRY_STATUS(optNumber(r, o, ptr, "weight_decay", 0, HUGE_VAL, nonneg, out.weight_decay));
  if (auto it = o.find("nesterov"); it != o.end()) {
    GRADC_TRY(n, r.boolean(*it, childPointer(ptr, "nesterov")));
    out.nesterov = n;
  }
  if (out.nesterov && (out.momentum <= 0 || out.dampening != 0))
    return r.error(childPointer(ptr, "nesterov"),
                   "nesterov momentum requires a positive momentum and zero dampening");
  return Status::ok();
}

Status parseAdam(const JsonReader &r, const Json &o, Config &out) {
  const std::string ptr = "/optimizer";
  GRADC_TRY_STATUS(r.checkObject(o, ptr, {"op", "lr", "betas", "eps", "weight_decay", "schedule"},
                                 "the adam optimizer"));
  out.kind = Config::Kind::Adam;
  out.lr = 0.001;
  const std::string nonneg = "a non-negative number";
  GRADC_TRY_STATUS(optNumber(r, o, ptr, "lr", 0, HUGE_VAL, nonneg, out.lr));
  GRADC_TRY_STATUS(optNumber(r, o, ptr, "eps", 0, HUGE_VAL, nonneg, out.eps));
  GRADC_TRY_STATUS(optNumber(r, o, ptr, "weight_decay", 0, HUGE_VAL, nonneg, out.weight_decay));
  auto it = o.find("betas");
  if (it == o.end())
    return Status::ok();
  std::string bptr = childPointer(ptr, "betas");
  if (!it->is_array() || it->size() != 2)
    return r.error(bptr,
                   "expected a pair [beta1, beta2] of numbers in [0, 1), got " + describe(*it));
  const std::string unit = "a number in [0, 1)";
  double below_one = std::nextafter(1.0, 0.0);
  GRADC_TRY(b1, r.number((*it)[0], childPointer(bptr, 0), 0, below_one, unit));
  GRADC_TRY(b2, r.number((*it)[1], childPointer(bptr, 1), 0, below_one, unit));
  out.beta1 = b1;
  out.beta2 = b2;
  return Status::ok();
}

} // namespace

Status parseOptimizer(const JsonReader &r, const Json &opt, ir::OptimizerConfig &out) {
  const std::string ptr = "/optimizer";
  if (!opt.is_object())
    return r.error(ptr, "expected an optimizer object such as {\"op\": \"sgd\", \"lr\": 0.1}, "
                        "got " +
                            describe(opt));
  GRADC_TRY(op_json, r.require(opt, ptr, "op", "the optimizer"));
  std::string op = op_json->is_string() ? op_json->get<std::string>() : "";
  out = ir::OptimizerConfig{};
  if (op == "sgd") {
    GRADC_TRY_STATUS(parseSgd(r, opt, out));
  } else if (op == "adam") {
    GRADC_TRY_STATUS(parseAdam(r, opt, out));
  } else {
    return r.error(childPointer(ptr, "op"),
                   "unknown optimizer " + describe(*op_json) + "; expected one of sgd, adam");
  }
  auto it = opt.find("schedule");
  if (it != opt.end())
    return parseSchedule(r, *it, childPointer(ptr, "schedule"), out.schedule);
  return Status::ok();
}

} // namespace gradc::frontend
