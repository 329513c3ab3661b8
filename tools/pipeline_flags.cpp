// Pass-pipeline flags.
#include "tools/pipeline_flags.h"

#include "passes/pipeline.h"

namespace gradc::tools {

std::vector<FlagSpec> withPipelineFlags(std::vector<FlagSpec> specs, bool disable) {
  specs.push_back({"print-after", true, true});
  specs.push_back({"print-after-all", false});
  specs.push_back({"time-passes", false});
  specs.push_back({"verify-each", false});
  if (disable)
    specs.push_back({"disable-pass", true, true});
  return specs;
}

Expected<passes::PipelineOptions> pipelineOptions(const Args &args) {
  passes::PipelineOptions opts;
  opts.print_after = args.all("print-after");
  opts.print_after_all = args.has("print-after-all");
  opts.time_passes = args.has("time-passes");
  // The verifier runs after every pass anyway: --verify-each states it.
  opts.verify_each = true;
  opts.disabled = args.all("disable-pass");
  GRADC_TRY_STATUS(passes::checkPipelineOptions(opts));
  return opts;
}

} // namespace gradc::tools
