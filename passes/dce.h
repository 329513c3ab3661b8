// dce: dead-code elimination.
//
// Does: removes every node whose value reaches no result of its function.
// Requires: a verified module.
// Guarantees: results, arguments and the relative order of kept nodes are
//   unchanged; values keep their names.
// Does not: remove unused arguments (they are the ABI) or merge duplicates.
//
// Algorithm:
//   1. Per function, mark nodes reachable backwards from the results
//      (ir::liveNodes, a Boost.Graph breadth-first search).
//   2. Rebuild the function from the marked nodes (ir::filterNodes).
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

class DcePass : public Pass {
public:
  const char *name() const override { return "dce"; }
  Expected<bool> run(ir::Module &m) override;
};

/// Returns `f` without its dead nodes.
ir::Function eliminateDeadCode(const ir::Function &f);

} // namespace gradc::passes
