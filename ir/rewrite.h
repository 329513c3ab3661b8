// Rebuilding a function node by node with a rewrite hook, and structural
// identity of nodes: the mechanisms the simplification passes share.
#pragma once

#include "ir/function.h"

#include <cstddef>
#include <functional>

namespace gradc::ir {

/// Decides what replaces one node while `rewriteNodes` rebuilds a function.
/// `out` is the function built so far; `n` is the node with its operands
/// already mapped to values of `out`. Returns the value of `out` that stands
/// for the node's result (an existing value or a node it appended), or
/// kNoValue to copy `n` unchanged.
using NodeRewrite = std::function<ValueId(Function &out, const Node &n)>;

/// Copies `f` in node order, letting `rewrite` replace each node. Arguments,
/// results (names, roles, updates) and the function name are kept; results
/// follow their values' replacements. A replaced node's name moves to its
/// replacement when that is an unnamed node, so %fc1 survives a rewrite.
/// Reports whether any node was replaced through `changed`.
Function rewriteNodes(const Function &f, const NodeRewrite &rewrite, bool *changed = nullptr);

/// The node of `f` that defines `v`, or nullptr for an argument.
const Node *definingNode(const Function &f, ValueId v);

/// True when `a` and `b` have the same op, operands and attributes, with
/// float attributes compared bit for bit (so 0.0 and -0.0 differ): the two
/// nodes compute the same value.
bool sameComputation(const Node &a, const Node &b);

/// A hash consistent with sameComputation.
size_t computationHash(const Node &n);

} // namespace gradc::ir
