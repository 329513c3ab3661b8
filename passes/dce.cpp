// Dead-code elimination.
#include "passes/dce.h"

#include "ir/clone.h"
#include "ir/graph_algorithms.h"

#include <algorithm>

namespace gradc::passes {

ir::Function eliminateDeadCode(const ir::Function &f) {
  return ir::filterNodes(f, ir::liveNodes(f));
}

Expected<bool> DcePass::run(ir::Module &m) {
  bool changed = false;
  for (ir::Function &f : m.functions) {
    auto live = ir::liveNodes(f);
    if (std::find(live.begin(), live.end(), false) == live.end())
      continue;
    f = ir::filterNodes(f, live);
    changed = true;
  }
  return changed;
}

} // namespace gradc::passes
