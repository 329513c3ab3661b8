// Parsing of the shared target flags (target_flags.h).
#include "tools/target_flags.h"

namespace gradc::tools {

std::vector<FlagSpec> withTargetFlags(std::vector<FlagSpec> specs) {
  specs.push_back({"triple", true});
  specs.push_back({"target", true});
  specs.push_back({"features", true});
  specs.push_back({"no-threads", false});
  return specs;
}

codegen::EmitOptions targetOptions(const Args &args, codegen::EmitOptions opts) {
  opts.triple = args.get("triple");
  opts.cpu = args.get("target", "");
  opts.features = args.get("features");
  opts.threads = !args.has("no-threads");
  return opts;
}

} // namespace gradc::tools
