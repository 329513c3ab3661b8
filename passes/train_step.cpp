// Composition of backward and optimizer_step into train_step.
#include "passes/train_step.h"

#include "ir/clone.h"
#include "passes/dce.h"

namespace gradc::passes {

Expected<bool> TrainStepPass::run(ir::Module &m) {
  const ir::Function *bwd = m.find("backward");
  const ir::Function *opt = m.find("optimizer_step");
  GRADC_CHECK(bwd && opt, "train-step needs backward and optimizer_step");
  ir::Function f("train_step");
  std::vector<ir::ValueId> bwd_args;
  for (const ir::Arg &a : bwd->args())
    bwd_args.push_back(f.addArg(a.name, a.role, bwd->type(a.value)));
  std::vector<ir::ValueId> bwd_res = ir::inlineFunction(f, *bwd, bwd_args);

  std::vector<ir::ValueId> opt_args;
  for (const ir::Arg &a : opt->args()) {
    if (a.role == ir::ArgRole::Grad) {
      int32_t r = bwd->findResult(a.name);
      GRADC_CHECK(r >= 0, "backward has no result " + a.name);
      opt_args.push_back(bwd_res[size_t(r)]);
    } else if (int32_t i = f.findArg(a.name); i >= 0) {
      GRADC_CHECK(f.args()[size_t(i)].role == a.role,
                  "argument '" + a.name + "' of optimizer_step and backward differ in role");
      opt_args.push_back(f.args()[size_t(i)].value);
    } else {
      opt_args.push_back(f.addArg(a.name, a.role, opt->type(a.value)));
    }
  }
  std::vector<ir::ValueId> opt_res = ir::inlineFunction(f, *opt, opt_args);

  f.addResult("loss", ir::ResultRole::Loss, bwd_res[size_t(bwd->findResult("loss"))]);
  for (size_t i = 0; i < opt->results().size(); ++i) {
    const ir::Result &r = opt->results()[i];
    const std::string &target = opt->args()[size_t(r.updates)].name;
    f.addResult(r.name, r.role, opt_res[i], f.findArg(target));
  }
  ir::Function clean = eliminateDeadCode(f);
  if (ir::Function *old = m.find("train_step"))
    *old = std::move(clean);
  else
    m.functions.push_back(std::move(clean));
  return true;
}

} // namespace gradc::passes
