// Comparing and summarising tensors of safetensors files.
#include "driver/tensors.h"

#include "runtime/safetensors.h"
#include "support/json_text.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <set>
#include <vector>

namespace gradc::driver {
namespace {

/// Appends printf-formatted text to `out`.
__attribute__((format(printf, 2, 3))) void appendf(std::string &out, const char *fmt, ...) {
  va_list args, copy;
  va_start(args, fmt);
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n > 0) {
    size_t at = out.size();
    out.resize(at + size_t(n) + 1);
    std::vsnprintf(out.data() + at, size_t(n) + 1, fmt, args);
    out.resize(at + size_t(n));
  }
  va_end(args);
}

/// Summary tensors in an EXPECTED file stand for a large tensor the golden leaves out:
/// `<name>#sample` (shape [K]) holds its elements at kSampleIndex(k, n), `<name>#stats` holds
/// kStats statistics of the whole tensor. tests/e2e/golden_tools.py writes them.
constexpr const char *kSampleSuffix = "#sample";
constexpr const char *kStatsSuffix = "#stats";
enum Stat { kSum, kL1, kL2, kMaxAbs, kStats };

/// The k-th sampled element of a tensor of n elements: a fixed multiplicative hash, spread
/// over the whole tensor (the same formula in golden_tools.py).
int64_t sampleIndex(int64_t k, int64_t n) {
  return int64_t((uint64_t(k) * 2654435761ull) % uint64_t(n));
}

std::vector<double> statsOf(const runtime::Tensor &t) {
  std::vector<double> s(kStats, 0.0);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double x = t.at(i);
    s[kSum] += x;
    s[kL1] += std::fabs(x);
    s[kL2] += x * x;
    s[kMaxAbs] = std::isnan(x) ? x : std::max(s[kMaxAbs], std::fabs(x));
  }
  s[kL2] = std::sqrt(s[kL2]);
  return s;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Compares expected values `e` with actual values `a` (same length) and reports one line.
/// `tol_scale[i]`, when given, replaces |e[i]| as the scale of the relative tolerance.
bool compareValues(std::string &out, const std::string &name, const std::vector<double> &e,
                   const std::vector<double> &a, const Tolerance &tol,
                   const std::vector<double> &tol_scale = {}) {
  double worst = 0, scale = 0;
  int64_t bad = 0, nonfinite = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    double x = e[i], y = a[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      // Never equal unless explicitly allowed: NaN with NaN, or the same infinity.
      bool same =
          tol.allow_nonfinite && ((std::isnan(x) && std::isnan(y)) || (std::isinf(x) && x == y));
      if (!same) {
        ++nonfinite;
        ++bad;
      }
      continue;
    }
    double err = std::fabs(x - y);
    double ref = tol_scale.empty() ? std::fabs(x) : tol_scale[i];
    if (!(err <= tol.atol + tol.rtol * ref))
      ++bad;
    worst = std::max(worst, err);
    scale = std::max(scale, std::fabs(x));
  }
  // Per tensor: the largest error against the tensor's own largest value, so a tensor of small
  // values is held as tightly as a large one (an all-zero tensor falls back to atol).
  double rel = scale > 0 ? worst / scale : 0;
  bool scale_bad = tol.scale_rtol >= 0 && scale > 0 && rel > tol.scale_rtol;
  bool ok = bad == 0 && !scale_bad;
  appendf(out, "%s %s: max abs err %.3g, rel to max|expected| %.3g", ok ? "ok     " : "DIFFER ",
          support::escaped(name).c_str(), worst, rel);
  if (bad)
    appendf(out, ", %lld of %zu elements out of tolerance", (long long)bad, e.size());
  if (nonfinite)
    appendf(out, ", %lld NaN/Inf", (long long)nonfinite);
  if (scale_bad)
    appendf(out, ", above --scale-rtol %.3g", tol.scale_rtol);
  out += "\n";
  return ok;
}

std::vector<double> valuesOf(const runtime::Tensor &t) {
  std::vector<double> v(size_t(t.numElements()));
  for (int64_t i = 0; i < t.numElements(); ++i)
    v[size_t(i)] = t.at(i);
  return v;
}

/// Compares one tensor; reports one line.
bool compareTensor(std::string &out, const std::string &name, const runtime::Tensor &e,
                   const runtime::Tensor &a, const Tolerance &tol) {
  if (e.type.dtype != a.type.dtype) {
    appendf(out, "DTYPE   %s: expected %s, got %s\n", support::escaped(name).c_str(),
            ir::dtypeName(e.type.dtype), ir::dtypeName(a.type.dtype));
    return false;
  }
  if (e.type.shape != a.type.shape) {
    appendf(out, "SHAPE   %s: expected %s, got %s\n", support::escaped(name).c_str(),
            ir::shapeStr(e.type.shape).c_str(), ir::shapeStr(a.type.shape).c_str());
    return false;
  }
  return compareValues(out, name, valuesOf(e), valuesOf(a), tol);
}

/// Compares a summary tensor `name` (`<base>#sample` or `<base>#stats`) of EXPECTED with the
/// same summary computed from the actual tensor `base`.
bool compareSummary(std::string &out, const std::string &name, const runtime::Tensor &e,
                    const runtime::Tensor &a, const Tolerance &tol) {
  if (e.type.dtype != ir::DType::F32 || e.type.shape.size() != 1 ||
      a.type.dtype != ir::DType::F32 || a.numElements() == 0) {
    appendf(out, "SUMMARY %s: expected a rank-1 F32 summary of a non-empty F32 tensor\n",
            support::escaped(name).c_str());
    return false;
  }
  std::vector<double> want = valuesOf(e), got;
  if (endsWith(name, kSampleSuffix)) {
    for (int64_t k = 0; k < e.numElements(); ++k)
      got.push_back(a.at(sampleIndex(k, a.numElements())));
    return compareValues(out, name, want, got, tol);
  }
  if (want.size() != kStats) {
    appendf(out, "SUMMARY %s: expected %d statistics, got %zu\n", support::escaped(name).c_str(),
            int(kStats), want.size());
    return false;
  }
  got = statsOf(a);
  // The sum may cancel to almost nothing: its tolerance scales with the sum of magnitudes.
  std::vector<double> ref = {want[kL1], want[kL1], want[kL2], want[kMaxAbs]};
  return compareValues(out, name, want, got, tol, ref);
}

} // namespace

CompareResult compareTensors(const runtime::TensorMap &expected, const runtime::TensorMap &actual,
                             const Tolerance &tol, bool no_extra) {
  CompareResult r;
  std::set<std::string> seen;
  for (const auto &[name, e] : expected) {
    std::string base = name;
    bool summary = false;
    for (const char *suffix : {kSampleSuffix, kStatsSuffix})
      if (endsWith(name, suffix)) {
        base = name.substr(0, name.size() - std::string(suffix).size());
        summary = true;
      }
    auto it = actual.find(base);
    bool ok = it != actual.end();
    if (!ok)
      appendf(r.report, "MISSING %s\n", support::escaped(base).c_str());
    else if (summary)
      ok = compareSummary(r.report, name, e, it->second, tol);
    else
      ok = compareTensor(r.report, name, e, it->second, tol);
    seen.insert(base);
    (ok ? r.passed : r.failed)++;
  }
  for (const auto &[name, t] : actual)
    if (!seen.count(name)) {
      appendf(r.report, "EXTRA   %s\n", support::escaped(name).c_str());
      if (no_extra)
        r.failed++;
    }
  appendf(r.report, "%d passed, %d failed\n", r.passed, r.failed);
  return r;
}

Expected<CompareResult> compareFiles(const CompareOptions &o) {
  GRADC_TRY(expected, runtime::readSafetensors(o.expected));
  GRADC_TRY(actual, runtime::readSafetensors(o.actual));
  return compareTensors(expected, actual, o.tol, o.no_extra);
}

std::string describeTensor(const std::string &name, const runtime::Tensor &t, int64_t limit) {
  std::string out;
  appendf(out, "%s: %s", support::escaped(name).c_str(), t.type.str().c_str());
  int64_t n = t.numElements();
  if (t.type.dtype == ir::DType::F32 && n > 0) {
    double lo = t.at(0), hi = t.at(0), sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, t.at(i));
      hi = std::max(hi, t.at(i));
      sum += t.at(i);
    }
    appendf(out, "  min %.6g  max %.6g  mean %.6g", lo, hi, sum / double(n));
  }
  out += "\n  [";
  for (int64_t i = 0; i < std::min(n, limit); ++i)
    appendf(out, t.type.dtype == ir::DType::F32 ? "%s%.6g" : "%s%.0f", i ? ", " : "", t.at(i));
  appendf(out, "%s]\n", n > limit ? ", ..." : "");
  return out;
}

Expected<std::string> inspect(const InspectOptions &o) {
  GRADC_TRY(tensors, runtime::readSafetensors(o.file));
  std::string out;
  for (const auto &[name, t] : tensors)
    out += describeTensor(name, t, o.limit);
  return out;
}

} // namespace gradc::driver
