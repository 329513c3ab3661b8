// schedule: orders each function's nodes to free memory early.
//
// Does: a list schedule over the dataflow graph. Among the nodes whose
//   operands are computed it takes, in this order of preference:
//   1. broadcasts, splat constants and one_hot encodings that only
//      elementwise ops read (fusion evaluates them inside their readers'
//      loops, so they cost no memory wherever they stand);
//   2. an elementwise op or reduction reading the value computed last, so
//      chains stay together for fusion;
//   3. the node that frees the most bytes net: the operands whose last
//      reader it is, minus its result;
//   4. the earliest in the current order.
//   A node that computes an update in place (new parameter or state) waits
//   for every other reader of the old value, so the update can stay in place.
// Requires: a verified module.
// Guarantees: the same nodes, values, names and results; every operand
//   before its users; running it twice gives the same order.
//   The new order is kept only when its peak of live bytes (values counted
//   from their node to their last reader) is below the current order's.
// Does not: change any arithmetic or duplicate nodes; it is a heuristic (no
//   search), so the peak can still exceed the best order's.
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

class SchedulePass : public Pass {
public:
  const char *name() const override { return "schedule"; }
  Expected<bool> run(ir::Module &m) override;
};

/// `f` with its nodes in the order described above.
ir::Function scheduleForMemory(const ir::Function &f);

} // namespace gradc::passes
