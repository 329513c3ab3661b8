// `gradc compare` and `gradc inspect` as library calls: safetensors files
// checked against each other within tolerances, and summarised tensor by
// tensor (docs/cli.md).
#pragma once

#include "runtime/tensor.h"
#include "support/error.h"

#include <cstdint>
#include <string>

namespace gradc::driver {

/// What `gradc compare` checks, from its flags.
struct Tolerance {
  double rtol = 1e-4, atol = 1e-5;
  double scale_rtol = -1;       ///< < 0: no per-tensor check
  bool allow_nonfinite = false; ///< NaN == NaN and Inf == Inf (same sign) at the same index
};

struct CompareOptions {
  std::string expected, actual; ///< safetensors files
  Tolerance tol;
  bool no_extra = false; ///< a tensor only in `actual` fails
};

/// The verdict of a comparison.
struct CompareResult {
  /// One line per tensor (ok, DIFFER, DTYPE, SHAPE, SUMMARY, MISSING, EXTRA)
  /// and the count line, as `gradc compare` prints them.
  std::string report;
  int passed = 0, failed = 0;
  bool ok() const { return failed == 0; }
};

/// Compares every tensor of `expected` with the one of the same name in
/// `actual`. A summary tensor `<name>#sample` or `<name>#stats` of
/// `expected` (tests/e2e/golden_tools.py) is checked against the same
/// summary of the actual tensor `<name>`.
CompareResult compareTensors(const runtime::TensorMap &expected, const runtime::TensorMap &actual,
                             const Tolerance &tol, bool no_extra = false);

/// Reads both files and compares them (compareTensors).
Expected<CompareResult> compareFiles(const CompareOptions &o);

struct InspectOptions {
  std::string file;  ///< a safetensors file
  int64_t limit = 8; ///< the leading elements printed of each tensor
};

/// One tensor as `gradc inspect` prints it: name, type, and for F32 its
/// minimum, maximum and mean; then its first `limit` elements.
std::string describeTensor(const std::string &name, const runtime::Tensor &t, int64_t limit);

/// Every tensor of `o.file`, in name order (describeTensor).
Expected<std::string> inspect(const InspectOptions &o);

} // namespace gradc::driver
