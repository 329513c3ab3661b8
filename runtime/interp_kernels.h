// Reference kernels of the interpreter, one function per op family (internal
// to runtime/). Each takes its operands' types and data and the node's output
// type, and returns the output in double precision.
#pragma once

#include "ir/ops.h"
#include "runtime/interpreter.h"

#include <vector>

namespace gradc::runtime::interp {

/// An operand of a node: its type and its elements.
struct Operand {
  const ir::TensorType &type;
  const DoubleBuffer &data;
};

using Operands = std::vector<Operand>;

/// Unary and binary elementwise ops (ops.def's Unary and Binary classes).
DoubleBuffer evalElementwise(ir::OpKind op, const ir::Attrs &attrs, const Operands &xs);

/// matmul, broadcast, reduce_sum, reshape, softmax, log_softmax, one_hot.
DoubleBuffer evalLinalg(ir::OpKind op, const ir::Attrs &attrs, const Operands &xs,
                        const ir::TensorType &out);

/// conv2d, maxpool2d, avgpool2d and their gradients.
DoubleBuffer evalWindow(ir::OpKind op, const ir::Attrs &attrs, const Operands &xs,
                        const ir::TensorType &out);

} // namespace gradc::runtime::interp
