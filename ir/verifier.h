// The IR verifier: checks every structural invariant of a function. Runs
// after every pass in tests and under --verify-each.
#pragma once

#include "ir/function.h"

namespace gradc::ir {

/// Checks: SSA order (operands defined before use), every node's attributes
/// and type against its op's rule, unique argument and result names, valid
/// result values, and in-place updates matching their argument's type.
/// The error names the offending node or result.
Status verify(const Function &f);
Status verify(const Module &m);

} // namespace gradc::ir
