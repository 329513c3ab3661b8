// Helpers shared by the codegen tests: deterministic random arguments and
// JIT-versus-interpreter comparison of every result of a function.
#pragma once

#include "ir/function.h"
#include "ir/verifier.h"
#include "runtime/executor.h"
#include "runtime/jit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace gradc::codegen::testing {

/// Uniform f32 values in [lo, hi); i32 values in [ilo, ihi].
inline runtime::Tensor randomTensor(const ir::TensorType &t, std::mt19937 &rng, float lo = -2,
                                    float hi = 2, int ilo = -1, int ihi = 4) {
  runtime::Tensor x = runtime::Tensor::zeros(t);
  std::uniform_real_distribution<float> uf(lo, hi);
  std::uniform_int_distribution<int> ui(ilo, ihi);
  for (float &v : x.f32)
    v = uf(rng);
  for (int32_t &v : x.i32)
    v = ui(rng);
  return x;
}

inline runtime::TensorMap randomArgs(const ir::Function &f, uint32_t seed, float lo = -2,
                                     float hi = 2) {
  std::mt19937 rng(seed);
  runtime::TensorMap args;
  for (const ir::Arg &a : f.args())
    args[a.name] = randomTensor(f.type(a.value), rng, lo, hi);
  return args;
}

/// A module holding the single function `f`, with a param entry for each
/// Param argument and a state entry for each State argument.
inline ir::Module moduleOf(ir::Function f, const std::string &name = "t") {
  ir::Module m;
  m.name = name;
  for (const ir::Arg &a : f.args()) {
    if (a.role == ir::ArgRole::Param)
      m.params.push_back({a.name, f.type(a.value), 0.1});
    if (a.role == ir::ArgRole::State)
      m.states.push_back({a.name, f.type(a.value)});
  }
  m.functions.push_back(std::move(f));
  return m;
}

inline std::unique_ptr<runtime::Executor> jitOf(const ir::Module &m) {
  EXPECT_TRUE(bool(ir::verify(m)));
  auto jit = runtime::makeJitExecutor(m);
  EXPECT_TRUE(bool(jit)) << (jit ? "" : jit.error().message());
  return jit ? jit.take() : nullptr;
}

inline void expectClose(const runtime::TensorMap &want, const runtime::TensorMap &got,
                        double rtol = 1e-5, double atol = 1e-6) {
  ASSERT_EQ(want.size(), got.size());
  for (const auto &[name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << "missing result " << name;
    const runtime::Tensor &g = it->second;
    ASSERT_EQ(w.type, g.type) << name;
    for (int64_t i = 0; i < w.numElements(); ++i) {
      double a = w.at(i), b = g.at(i);
      if (std::isnan(a) && std::isnan(b))
        continue;
      EXPECT_NEAR(a, b, atol + rtol * std::fabs(a)) << name << "[" << i << "]";
    }
  }
}

/// Runs function `fn` of `m` on seeded random arguments through the JIT and
/// the interpreter and expects equal results.
inline void expectJitMatchesInterpreter(const ir::Module &m, uint32_t seed = 1, float lo = -2,
                                        float hi = 2, double rtol = 1e-5, double atol = 1e-6) {
  auto jit = jitOf(m);
  ASSERT_TRUE(jit);
  auto interp = runtime::makeInterpreterExecutor(m);
  for (const ir::Function &f : m.functions) {
    runtime::TensorMap args = randomArgs(f, seed, lo, hi);
    auto want = interp->call(f.name(), args);
    auto got = jit->call(f.name(), args);
    ASSERT_TRUE(bool(want)) << want.error().message();
    ASSERT_TRUE(bool(got)) << got.error().message();
    expectClose(*want, *got, rtol, atol);
  }
}

} // namespace gradc::codegen::testing
