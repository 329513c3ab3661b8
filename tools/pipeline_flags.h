// The pass-pipeline flags that dump, run, compile and bench share (and opt,
// without --disable-pass): parsed in one place into passes::PipelineOptions.
#pragma once

#include "passes/pass.h"
#include "tools/cli_args.h"

#include <vector>

namespace gradc::tools {

/// `specs` plus --print-after=PASS, --print-after-all, --time-passes,
/// --verify-each and, with `disable`, --disable-pass=PASS (both repeatable).
std::vector<FlagSpec> withPipelineFlags(std::vector<FlagSpec> specs, bool disable = true);

/// The pipeline options the flags of `args` ask for, with every pass name
/// checked against the registry (passes::checkPipelineOptions).
Expected<passes::PipelineOptions> pipelineOptions(const Args &args);

} // namespace gradc::tools
