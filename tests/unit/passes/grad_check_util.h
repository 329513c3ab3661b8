// Finite-difference checking of backward functions, in double precision
// through the reference interpreter.
#pragma once

#include "ir/function.h"
#include "passes/autodiff.h"
#include "runtime/interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace gradc::testing {

/// Deterministic values in [lo, hi), avoiding |x| < gap (kinks at 0).
inline std::vector<double> randomValues(uint64_t seed, int64_t n, double lo, double hi,
                                        double gap = 0) {
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  std::vector<double> v;
  while (int64_t(v.size()) < n) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    double u = double(s >> 11) / double(1ull << 53);
    double x = lo + (hi - lo) * u;
    if (std::fabs(x) >= gap)
      v.push_back(x);
  }
  return v;
}

/// Evaluates the "loss" result of `f`.
inline double lossOf(const ir::Function &f, const std::vector<runtime::DoubleBuffer> &args) {
  int32_t r = f.findResult("loss");
  return runtime::evaluate(f, args)[size_t(r)][0];
}

/// Differentiates `f` (which must return "loss") with respect to every
/// argument in `wrt` and checks each gradient element against a central
/// difference, to `rtol` relative to the gradient's largest element.
inline void expectGradientsMatch(const ir::Function &f, const std::vector<int32_t> &wrt,
                                 const std::vector<runtime::DoubleBuffer> &args, double rtol = 1e-6,
                                 double h = 1e-5) {
  auto bwd = passes::differentiate(f, wrt);
  ASSERT_TRUE(bool(bwd)) << bwd.error().message();
  auto res = runtime::evaluate(*bwd, args);
  for (int32_t a : wrt) {
    const std::string &name = f.args()[size_t(a)].name;
    const runtime::DoubleBuffer &g = res[size_t(bwd->findResult("grad." + name))];
    std::vector<double> fd(g.size());
    double scale = 1e-12;
    for (size_t i = 0; i < g.size(); ++i) {
      auto plus = args, minus = args;
      plus[size_t(a)][i] += h;
      minus[size_t(a)][i] -= h;
      fd[i] = (lossOf(f, plus) - lossOf(f, minus)) / (2 * h);
      scale = std::max(scale, std::fabs(fd[i]));
    }
    for (size_t i = 0; i < g.size(); ++i)
      EXPECT_NEAR(g[i], fd[i], rtol * scale) << "d loss / d " << name << "[" << i << "]";
  }
}

} // namespace gradc::testing
