// Pass runner.
#include "passes/pass.h"

#include "ir/printer.h"
#include "ir/verifier.h"

#include <cstdio>

namespace gradc::passes {

Status runPasses(ir::Module &m, const std::vector<std::unique_ptr<Pass>> &passes,
                 const PipelineOptions &opts) {
  for (const auto &p : passes) {
    auto changed = p->run(m);
    if (!changed)
      return changed.error();
    if (opts.verify_each) {
      Status s = ir::verify(m);
      if (!s) {
        std::fprintf(stderr, "%s\n", ir::printText(m).c_str());
        GRADC_CHECK(false, std::string("verifier failed after pass '") + p->name() +
                               "': " + s.error().message());
      }
    }
    if (opts.stop_after == p->name())
      break;
  }
  return Status::ok();
}

} // namespace gradc::passes
