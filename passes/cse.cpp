// Common-subexpression elimination by hashing nodes.
#include "passes/cse.h"

#include <unordered_map>

namespace gradc::passes {
namespace {

/// The rewrite hook for one function: remembers every node of the function
/// being built, by hash.
ir::NodeRewrite makeCse() {
  struct Table {
    std::unordered_multimap<size_t, int32_t> nodes; ///< hash -> node index in out
    size_t indexed = 0;                             ///< out's nodes already in `nodes`
  };
  auto table = std::make_shared<Table>();
  return [table](ir::Function &out, const ir::Node &n) -> ir::ValueId {
    for (; table->indexed < out.nodes().size(); ++table->indexed)
      table->nodes.emplace(ir::computationHash(out.nodes()[table->indexed]),
                           int32_t(table->indexed));
    auto [begin, end] = table->nodes.equal_range(ir::computationHash(n));
    for (auto it = begin; it != end; ++it) {
      const ir::Node &earlier = out.nodes()[size_t(it->second)];
      if (ir::sameComputation(earlier, n))
        return earlier.result;
    }
    return ir::kNoValue;
  };
}

} // namespace

Expected<bool> CsePass::run(ir::Module &m) { return rewriteEachFunction(m, makeCse); }

} // namespace gradc::passes
