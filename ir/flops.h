// Floating-point operation counts of IR nodes: what `gradc bench` divides by
// time to report GFLOP/s. One rule per op, next to nothing else.
#pragma once

#include "ir/function.h"

namespace gradc::ir {

/// The useful floating-point operations of node `n` of `f`, by the usual
/// conventions (a multiply-add is two; exp or a compare is one):
///   - elementwise ops: 1 per element;
///   - matmul [M, K] x [K, N]: 2 M N K;
///   - conv2d and both its gradients: 2 N OC OH OW IC KH KW of the forward
///     convolution (each gradient does as many multiply-adds);
///   - reduce_sum: 1 per input element;
///   - softmax, log_softmax: 5 per element (max, subtract, exp, sum, normalise);
///   - pooling and its gradients: 1 per window element per output (N C OH OW KH KW);
///   - constant, broadcast, reshape, one_hot: 0 (they move data).
/// A double, so that no shape the IR admits can overflow it (2 M N K can
/// exceed int64); counts below 2^53 are exact.
double nodeFlops(const Function &f, const Node &n);

/// The sum of nodeFlops over the nodes of `f`.
double functionFlops(const Function &f);

} // namespace gradc::ir
