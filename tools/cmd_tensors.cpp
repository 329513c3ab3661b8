// gradc compare and gradc inspect: looking at safetensors files.
#include "runtime/safetensors.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gradc::tools {
namespace {

/// Compares one tensor; returns the status word and prints the line.
bool compareTensor(const std::string &name, const runtime::Tensor &e, const runtime::Tensor &a,
                   double rtol, double atol) {
  if (e.type.shape != a.type.shape) {
    std::printf("SHAPE   %s: expected %s, got %s\n", name.c_str(),
                ir::shapeStr(e.type.shape).c_str(), ir::shapeStr(a.type.shape).c_str());
    return false;
  }
  double worst = 0;
  bool ok = true;
  for (int64_t i = 0; i < e.numElements(); ++i) {
    double x = e.at(i), y = a.at(i);
    double err = std::fabs(x - y);
    if (std::isnan(x) != std::isnan(y) || err > atol + rtol * std::fabs(x))
      ok = false;
    if (!std::isnan(err))
      worst = std::max(worst, err);
  }
  std::printf("%s %s: max abs err %.3g\n", ok ? "ok     " : "DIFFER ", name.c_str(), worst);
  return ok;
}

int compare(const Args &args) {
  if (args.positional.size() != 2)
    return fail("gradc compare: expected EXPECTED.safetensors ACTUAL.safetensors");
  auto rtol = parseNumber("rtol", args.get("rtol", "1e-4"));
  auto atol = parseNumber("atol", args.get("atol", "1e-5"));
  if (!rtol || !atol)
    return fail((!rtol ? rtol.error() : atol.error()).message());
  auto expected = runtime::readSafetensors(args.positional[0]);
  if (!expected)
    return fail(expected.error().message());
  auto actual = runtime::readSafetensors(args.positional[1]);
  if (!actual)
    return fail(actual.error().message());
  int passed = 0, failed = 0;
  for (const auto &[name, e] : *expected) {
    auto it = actual->find(name);
    bool ok = it != actual->end();
    if (!ok)
      std::printf("MISSING %s\n", name.c_str());
    else
      ok = compareTensor(name, e, it->second, *rtol, *atol);
    (ok ? passed : failed)++;
  }
  for (const auto &[name, t] : *actual)
    if (!expected->count(name))
      std::printf("EXTRA   %s\n", name.c_str());
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

void printTensor(const std::string &name, const runtime::Tensor &t, int64_t limit) {
  std::printf("%s: %s", name.c_str(), t.type.str().c_str());
  int64_t n = t.numElements();
  if (t.type.dtype == ir::DType::F32 && n > 0) {
    double lo = t.at(0), hi = t.at(0), sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, t.at(i));
      hi = std::max(hi, t.at(i));
      sum += t.at(i);
    }
    std::printf("  min %.6g  max %.6g  mean %.6g", lo, hi, sum / double(n));
  }
  std::printf("\n  [");
  for (int64_t i = 0; i < std::min(n, limit); ++i)
    std::printf(t.type.dtype == ir::DType::F32 ? "%s%.6g" : "%s%.0f", i ? ", " : "", t.at(i));
  std::printf("%s]\n", n > limit ? ", ..." : "");
}

int inspect(const Args &args) {
  if (args.positional.size() != 1)
    return fail("gradc inspect: expected one FILE.safetensors");
  auto limit = parseCount("limit", args.get("limit", "8"));
  if (!limit)
    return fail(limit.error().message());
  auto tensors = runtime::readSafetensors(args.positional[0]);
  if (!tensors)
    return fail(tensors.error().message());
  for (const auto &[name, t] : *tensors)
    printTensor(name, t, *limit);
  return 0;
}

} // namespace

int cmdCompare(int argc, char **argv) {
  auto args = parseArgs("compare", argc, argv, 2, {{"rtol", true}, {"atol", true}});
  return args ? compare(*args) : fail(args.error().message());
}

int cmdInspect(int argc, char **argv) {
  auto args = parseArgs("inspect", argc, argv, 2, {{"limit", true}});
  return args ? inspect(*args) : fail(args.error().message());
}

} // namespace gradc::tools
