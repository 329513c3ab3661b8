// Object file and C header from one execution plan, written atomically.
#include "driver/compile.h"

#include "codegen/header.h"
#include "plan/plan.h"
#include "support/files.h"

#include <cstdio>

namespace gradc::driver {

Status compileToObject(const ir::Module &m, codegen::EmitOptions opts,
                       const std::string &object_path, const std::string &header_path) {
  plan::ModulePlan plan = plan::buildPlan(m);
  opts.plan = &plan;
  // The header first, under a temporary name: if the object then fails, no
  // stale header pairs with an older object.
  std::string tmp_header = header_path + ".pending";
  if (!header_path.empty())
    GRADC_TRY_STATUS(support::writeFileAtomic(tmp_header, codegen::emitCHeader(m, &plan)));
  Status obj = codegen::emitModule(m, opts, object_path);
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
