// cse: common-subexpression elimination.
//
// Does: in every function, replaces each node that has the same op,
//   operands and attributes as an earlier node by that earlier node's value.
// Requires: a verified module. Every op is pure (no op reads or writes
//   memory besides its operands and result), so equal inputs give equal
//   values.
// Guarantees: bitwise the same results: attributes are compared bit for
//   bit (affine{1, 0} and affine{1, -0} stay apart) and equal constants
//   merge. Results keep names, roles and updates and follow the surviving
//   value; a removed node's name moves to it when it has none.
// Does not: merge across functions, use commutativity (add a, b vs add
//   b, a), or remove the duplicates' now-dead operands (dce).
//
// Algorithm, per function, nodes in order (operands already rewritten, so
// chains of duplicates merge in one walk):
//   1. Hash the node's op, operands and attributes (ir::computationHash).
//   2. If an earlier node with that hash computes the same
//      (ir::sameComputation), use its value; otherwise keep the node.
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

class CsePass : public Pass {
public:
  const char *name() const override { return "cse"; }
  Expected<bool> run(ir::Module &m) override;
};

} // namespace gradc::passes
