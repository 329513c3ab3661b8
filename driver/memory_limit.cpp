// --max-memory: the footprint of a run, estimated from the module and its execution plan.
#include "driver/memory_limit.h"

#include "plan/plan.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>
#include <unistd.h>

namespace gradc::driver {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

uint64_t add(uint64_t a, uint64_t b) { return a > kMax - b ? kMax : a + b; }
uint64_t mul(uint64_t a, uint64_t b) { return b != 0 && a > kMax / b ? kMax : a * b; }

uint64_t bytesOf(const ir::TensorType &t) { return uint64_t(t.byteSize()); }

/// Bytes of a function's inputs and outputs (what the caller passes and gets back).
uint64_t ioBytes(const ir::Function &f) {
  uint64_t n = 0;
  for (const ir::Arg &a : f.args())
    if (a.role == ir::ArgRole::Input)
      n = add(n, bytesOf(f.type(a.value)));
  for (const ir::Result &r : f.results())
    if (r.role == ir::ResultRole::Output)
      n = add(n, bytesOf(f.type(r.value)));
  return n;
}

/// The interpreter keeps each value in double precision until its last use; counting every
/// value is an upper bound.
uint64_t interpreterBytes(const ir::Function &f) {
  uint64_t n = 0;
  for (const ir::Node &node : f.nodes())
    n = add(n, mul(uint64_t(f.type(node.result).numElements()), 8));
  return n;
}

std::string human(uint64_t bytes) {
  const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu bytes", (unsigned long long)bytes);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s (%llu bytes)", v, units[u], (unsigned long long)bytes);
  return buf;
}

} // namespace

uint64_t MemoryNeed::total() const { return add(add(add(add(params, grads), state), arena), io); }

uint64_t defaultMaxMemory() {
  uint64_t limit = 16ull << 30;
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0)
    limit = std::min(limit, mul(uint64_t(pages), uint64_t(page)) / 4 * 3);
  return limit;
}

Expected<uint64_t> parseByteSize(const std::string &flag, const std::string &text) {
  auto bad = [&] {
    return Error("--" + flag + ": expected a size in bytes such as 512M or 16G, got '" + text +
                 "'");
  };
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0 || digits > 19)
    return bad();
  uint64_t v = std::stoull(text.substr(0, digits));
  std::string suffix = text.substr(digits);
  for (char &c : suffix)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  if (suffix.size() > 1 && (suffix.substr(1) == "B" || suffix.substr(1) == "IB"))
    suffix = suffix.substr(0, 1);
  int shift = 0;
  if (suffix == "K")
    shift = 10;
  else if (suffix == "M")
    shift = 20;
  else if (suffix == "G")
    shift = 30;
  else if (suffix == "T")
    shift = 40;
  else if (!suffix.empty() && suffix != "B")
    return bad();
  if (v > (kMax >> shift))
    return bad();
  if (v == 0)
    return Error("--" + flag + ": expected a positive size, got '" + text + "'");
  return v << shift;
}

MemoryNeed estimateMemory(const ir::Module &m, const std::string &backend) {
  MemoryNeed need;
  for (const ir::ParamInfo &p : m.params)
    need.params = add(need.params, bytesOf(p.type));
  for (const ir::StateInfo &s : m.states)
    need.state = add(need.state, bytesOf(s.type));
  bool trains = m.find("backward") != nullptr;
  need.grads = trains ? need.params : 0;
  need.params = mul(need.params, 2);
  need.state = mul(need.state, 2);
  for (const ir::Function &f : m.functions)
    need.io = std::max(need.io, ioBytes(f));
  if (backend == "jit") {
    plan::ModulePlan plan = plan::buildPlan(m);
    for (const plan::FunctionPlan &f : plan.functions)
      need.arena = std::max(need.arena, uint64_t(f.arena_bytes));
  } else {
    for (const ir::Function &f : m.functions)
      need.arena = std::max(need.arena, interpreterBytes(f));
  }
  return need;
}

Status checkMemory(const std::string &command, const MemoryNeed &need, uint64_t limit) {
  if (need.total() <= limit)
    return Status::ok();
  return Error("gradc " + command + ": the model needs " + human(need.total()) +
               ": parameters " + std::to_string(need.params) + ", gradients " +
               std::to_string(need.grads) + ", optimizer state " + std::to_string(need.state) +
               ", arena " + std::to_string(need.arena) + ", inputs and outputs " +
               std::to_string(need.io) + " bytes; more than the --max-memory limit of " +
               human(limit));
}

} // namespace gradc::driver
