// The target flags that compile and dump share (--triple, --target, --features,
// --no-threads): parsed in one place into codegen::EmitOptions.
#pragma once

#include "codegen/target.h"
#include "tools/cli_args.h"

#include <vector>

namespace gradc::tools {

/// `specs` plus --triple TRIPLE, --target CPU, --features LIST and --no-threads.
std::vector<FlagSpec> withTargetFlags(std::vector<FlagSpec> specs);

/// `opts` with the target the flags of `args` ask for: without --target, the
/// triple's default CPU (native without --triple). The values are checked when
/// the target machine is made (codegen::targetFacts).
codegen::EmitOptions targetOptions(const Args &args, codegen::EmitOptions opts = {});

} // namespace gradc::tools
