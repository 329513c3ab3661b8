// Parameter initialisation from a seed. Uses std::mt19937_64, whose output
// sequence the standard fixes, and its own mapping to [0, 1) (the standard
// distributions' algorithms are implementation-defined).
#include "runtime/init.h"

#include <cmath>
#include <limits>
#include <random>

namespace gradc::runtime {
namespace {

/// Uniform in [0, 1) from the top 53 bits of one draw.
double unitUniform(std::mt19937_64 &gen) { return double(gen() >> 11) * 0x1.0p-53; }

/// Uniform in [-bound, bound), rounded to f32 and kept inside the interval.
float uniformInBound(std::mt19937_64 &gen, double bound) {
  if (!(bound > 0))
    return 0.0f;
  float v = float(-bound + 2.0 * bound * unitUniform(gen));
  // Rounding to f32 may step outside the interval by one ulp; step back in.
  const float inf = std::numeric_limits<float>::infinity();
  while (double(v) >= bound)
    v = std::nextafter(v, -inf);
  while (double(v) < -bound)
    v = std::nextafter(v, inf);
  return v;
}

} // namespace

TensorMap initParams(const ir::Module &m, uint64_t seed) {
  std::mt19937_64 gen(seed);
  TensorMap out;
  for (const ir::ParamInfo &p : m.params) {
    Tensor t = Tensor::zeros(p.type);
    for (float &v : t.f32)
      v = uniformInBound(gen, p.init_bound);
    out[p.name] = std::move(t);
  }
  return out;
}

TensorMap randomInputs(const ir::Module &m, uint64_t seed) {
  std::mt19937_64 gen(seed);
  const ir::Function *fwd = m.find("forward");
  GRADC_CHECK(fwd != nullptr, "module without forward");
  TensorMap out;
  for (const ir::Arg &a : fwd->args()) {
    if (a.role != ir::ArgRole::Input)
      continue;
    Tensor t = Tensor::zeros(fwd->type(a.value));
    int64_t classes = a.name == m.class_input ? m.num_classes : 2;
    for (int32_t &v : t.i32)
      v = int32_t(gen() % uint64_t(classes));
    for (float &v : t.f32)
      v = float(unitUniform(gen)); // in [0, 1): valid for every loss's target
    out[a.name] = std::move(t);
  }
  return out;
}

TensorMap initState(const ir::Module &m) {
  TensorMap out;
  for (const ir::StateInfo &s : m.states)
    out[s.name] = Tensor::zeros(s.type);
  return out;
}

} // namespace gradc::runtime
