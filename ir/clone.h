// Copying nodes between functions: the one mechanism behind cloning a
// function, inlining one into another and rebuilding after dead-code removal.
#pragma once

#include "ir/function.h"

#include <vector>

namespace gradc::ir {

/// Appends the nodes of `callee` to `into`, with callee argument i bound to
/// `args[i]`. Returns the value in `into` of each callee result, in order.
/// Value names are kept.
std::vector<ValueId> inlineFunction(Function &into, const Function &callee,
                                    const std::vector<ValueId> &args);

/// Copies `f` keeping only the nodes with keep[i] true (they must not use a
/// dropped node). Arguments, results and kernel assignments are kept.
Function filterNodes(const Function &f, const std::vector<bool> &keep);

/// Copies `f` with its nodes in `order` (a permutation of the node indices
/// that keeps every operand before its user). Kernel assignments are kept.
Function reorderNodes(const Function &f, const std::vector<int32_t> &order);

} // namespace gradc::ir
