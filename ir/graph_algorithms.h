// Graph algorithms on IR functions, backed by Boost.Graph. The only place
// Boost types appear; callers see plain vectors.
#pragma once

#include "ir/function.h"

#include <vector>

namespace gradc::ir {

/// A topological order of the node indices of `f` (producers before users).
/// Deterministic for a given function.
std::vector<int32_t> topologicalOrder(const Function &f);

/// live[i] is true when node i contributes to some result of `f`.
std::vector<bool> liveNodes(const Function &f);

/// users[v] lists the node indices that use value v, in node order.
std::vector<std::vector<int32_t>> valueUsers(const Function &f);

/// The nodes that read value v's memory: its users and, through reshapes (views
/// of the same memory), theirs; each once, in node order. An in-place update of
/// v must wait for all of them, not only for v's own users.
std::vector<int32_t> memoryReaders(const Function &f,
                                   const std::vector<std::vector<int32_t>> &users, ValueId v);

} // namespace gradc::ir
