// The plan as text and the arena as text and JSON (`gradc dump --stage plan|memory`).
#include "plan/plan.h"

#include "ir/printer.h"

#include <sstream>

namespace gradc::plan {
namespace {

std::string bytesText(int64_t b) { return std::to_string(b) + " B"; }

std::string liveText(int32_t start, int32_t end, int32_t nk) {
  return "k" + std::to_string(start) + ".." + (end >= nk ? "end" : "k" + std::to_string(end));
}

std::string jsonString(const std::string &s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      o += '\\';
    o += c;
  }
  return o + "\"";
}

} // namespace

std::string printPlan(const ir::Function &f, const FunctionPlan &p, const std::string &module) {
  auto names = ir::valueNames(f);
  std::ostringstream out;
  int32_t nk = int32_t(p.kernels.size());
  out << "plan @" << module << "." << f.name() << ": " << nk << " kernels, arena "
      << bytesText(p.arena_bytes) << "\n";
  for (int32_t k = 0; k < nk; ++k) {
    const Kernel &kn = p.kernels[size_t(k)];
    out << "  k" << k << " " << kernelKindName(kn.kind);
    if (!kn.space.empty() || kn.kind == KernelKind::Elementwise)
      out << " " << ir::shapeStr(kn.space);
    out << ":";
    for (int32_t i = kn.first; i < kn.end; ++i) {
      const ir::Node &n = f.nodes()[size_t(i)];
      out << " " << names[size_t(n.result)] << "=" << ir::opName(n.op);
    }
    out << "\n";
  }
  out << "  values:\n";
  for (size_t v = 0; v < f.values().size(); ++v) {
    const ValuePlan &vp = p.values[v];
    out << "    " << names[v] << ": " << homeName(vp.home);
    switch (vp.home) {
    case Home::Arg:
      break;
    case Home::Result:
      out << " \"" << f.results()[size_t(vp.index)].name << "\"";
      break;
    case Home::Register:
      out << " in k" << vp.kernel;
      break;
    case Home::Arena: {
      const Buffer &b = p.buffers[size_t(vp.buffer)];
      out << " @" << vp.offset << " +" << b.bytes << " live " << liveText(b.start, b.end, nk);
      break;
    }
    case Home::Alias:
      out << " of " << names[size_t(vp.index)];
      break;
    case Home::Update:
      out << " into " << names[size_t(f.args()[size_t(vp.index)].value)];
      break;
    }
    out << "\n";
  }
  return out.str();
}

std::string printMemory(const ir::Function &f, const FunctionPlan &p, const std::string &module) {
  auto names = ir::valueNames(f);
  std::ostringstream out;
  int32_t nk = int32_t(p.kernels.size());
  out << "memory @" << module << "." << f.name() << ": planned " << bytesText(p.arena_bytes)
      << ", lower bound " << bytesText(p.lower_bound_bytes) << ", naive "
      << bytesText(p.naive_bytes) << "\n";
  for (const Buffer &b : p.buffers) {
    out << "  @" << b.offset << " +" << b.bytes << " live " << liveText(b.start, b.end, nk) << ":";
    for (ir::ValueId v : b.values)
      out << " " << names[size_t(v)];
    if (b.values.empty())
      out << " (workspace of k" << b.start << ")";
    out << "\n";
  }
  return out.str();
}

std::string memoryJson(const ir::Function &f, const FunctionPlan &p) {
  auto names = ir::valueNames(f);
  std::ostringstream out;
  out << "{\"function\": " << jsonString(f.name()) << ", \"naive_bytes\": " << p.naive_bytes
      << ", \"planned_bytes\": " << p.arena_bytes
      << ", \"lower_bound_bytes\": " << p.lower_bound_bytes << ", \"buffers\": [";
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    const Buffer &b = p.buffers[i];
    out << (i ? ", " : "") << "{\"offset\": " << b.offset << ", \"bytes\": " << b.bytes
        << ", \"first_kernel\": " << b.start << ", \"last_kernel\": " << b.end << ", \"values\": [";
    for (size_t j = 0; j < b.values.size(); ++j)
      out << (j ? ", " : "") << jsonString(names[size_t(b.values[j])].substr(1));
    out << "]";
    if (b.values.empty())
      out << ", \"workspace_of_kernel\": " << b.start;
    out << "}";
  }
  out << "]}";
  return out.str();
}

} // namespace gradc::plan
