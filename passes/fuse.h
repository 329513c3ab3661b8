// fusion: partitions every function into kernels.
//
// Does: assigns each node a kernel (ir::Node::kernel), so that codegen emits
//   each kernel as one loop nest in its own LLVM function:
//   - a chain of elementwise ops of one shape, with the broadcasts, splat
//     constants and one_hot encodings they read, is one loop (such a node
//     read by several chains is duplicated into each, so none is
//     materialised); an elementwise op of arguments with one reader (the
//     decay of an optimizer's state) is computed in its reader's loop;
//   - a reduce_sum of a chain or epilogue value ends its loop (bias gradients,
//     loss sums);
//   - elementwise ops after a matmul, conv2d or row-wise log_softmax of the
//     same shape are its epilogue (bias add and activation; the
//     cross-entropy's product with the one-hot targets and its sum);
//   - every other op is a kernel of its own.
//   A kernel only grows at the end of the node order, so kernels are runs of
//   consecutive nodes and the kernel graph is acyclic.
// Requires: a verified module.
// Guarantees: the same values (nodes may be duplicated or moved later, never
//   before an operand); results, arguments and names kept; the verifier's
//   kernel rules hold. Running it again recomputes the same partition.
// Does not: reorder independent nodes to fuse more (a scheduler's job), or
//   change any arithmetic.
#pragma once

#include "passes/pass.h"

namespace gradc::passes {

class FusionPass : public Pass {
public:
  const char *name() const override { return "fusion"; }
  Expected<bool> run(ir::Module &m) override;
};

/// `f` partitioned into kernels as described above.
ir::Function fuseKernels(const ir::Function &f);

/// The nodes fusion copies next to each elementwise reader instead of
/// computing once: broadcasts, splat constants and one_hot encodings read
/// only by elementwise ops, and elementwise ops of arguments (or of such
/// nodes) with a single elementwise reader; also a step (a mask) with a
/// single elementwise reader whose operands some non-elementwise op reads
/// from memory anyway (relu's mask of relu's output). Never a result.
std::vector<bool> floatingNodes(const ir::Function &f);

} // namespace gradc::passes
