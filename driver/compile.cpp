// Object file and C header from one execution plan, written atomically.
#include "driver/compile.h"

#include "codegen/header.h"
#include "plan/plan.h"
#include "support/files.h"

#include <algorithm>
#include <cstdio>

namespace gradc::driver {

namespace {

/// A model whose buffers a 32-bit target cannot address is the user's error.
Status checkAddressable(const plan::ModulePlan &plan, const codegen::TargetFacts &facts) {
  if (facts.pointer_bytes >= 8)
    return Status::ok();
  int64_t most = std::max(plan.params_bytes, plan.state_bytes);
  for (const plan::FunctionPlan &f : plan.functions)
    most = std::max(most, f.arena_bytes);
  if (most >= (int64_t(1) << 31))
    return Error("--triple " + facts.triple + ": a buffer of this model takes " +
                 std::to_string(most) + " bytes, more than a 32-bit target can address");
  return Status::ok();
}

} // namespace

Status compileToObject(const ir::Module &m, codegen::EmitOptions opts,
                       const std::string &object_path, const std::string &header_path) {
  plan::ModulePlan plan = plan::buildPlan(m);
  opts.plan = &plan;
  GRADC_TRY(facts, codegen::targetFacts(opts));
  GRADC_TRY_STATUS(checkAddressable(plan, facts));
  GRADC_TRY(data, codegen::emitModuleData(m, opts));
  codegen::ObjectFootprint footprint;
  bool measured = opts.kind == codegen::EmitOptions::Kind::Obj;
  if (measured) {
    GRADC_TRY(fp, codegen::objectFootprint(data));
    footprint = fp;
  }
  // The header first, under a temporary name: if the object then fails, no
  // stale header pairs with an older object.
  std::string tmp_header = header_path + ".pending";
  if (!header_path.empty())
    GRADC_TRY_STATUS(support::writeFileAtomic(
        tmp_header, codegen::emitCHeader(m, &plan, facts, measured ? &footprint : nullptr)));
  Status obj = support::writeFileAtomic(object_path, data);
  if (!obj) {
    std::remove(tmp_header.c_str());
    return obj;
  }
  if (!header_path.empty() && std::rename(tmp_header.c_str(), header_path.c_str()) != 0) {
    std::remove(tmp_header.c_str());
    return Error(header_path + ": cannot write");
  }
  return Status::ok();
}

} // namespace gradc::driver
