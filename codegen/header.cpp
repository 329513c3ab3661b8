// Generates the C header of a compiled model from the same ABI description
// (abi.h) and layout (layout.h) the lowering uses, so they cannot disagree.
#include "codegen/header.h"

#include "codegen/abi.h"
#include "codegen/rtlib.h"
#include "plan/plan.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace gradc::codegen {
namespace {

std::string upper(std::string s) {
  for (char &c : s)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string cString(const std::string &s) {
  std::string out = "\"";
  for (char c : s)
    out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

const char *kDescType = R"(#ifndef GRADC_TENSOR_DESC_DEFINED
#define GRADC_TENSOR_DESC_DEFINED
/* One tensor: inside a packed buffer (byte offset), or an input / output
 * passed by its own pointer (offset 0). */
typedef struct {
  const char *name;
  int32_t rank;
  const int64_t *shape; /* rank entries */
  int64_t offset;
  int64_t numel;
  int32_t is_i32; /* element type: 1 for int32_t, 0 for float */
} gradc_tensor_desc;
#endif
)";

/// `static const gradc_tensor_desc <id>[]`, terminated by an entry with a
/// null name (so the array is never empty, which C forbids).
void emitTable(std::ostream &os, const std::string &id, const std::string &macro,
               const std::vector<plan::TensorSlot> &slots) {
  // Shapes of any rank live in arrays of their own (C forbids empty ones).
  for (size_t i = 0; i < slots.size(); ++i) {
    os << "static const int64_t " << id << "_shape" << i << "[] = {";
    for (size_t d = 0; d < slots[i].type.shape.size(); ++d)
      os << (d ? ", " : "") << slots[i].type.shape[d];
    os << (slots[i].type.shape.empty() ? "0};\n" : "};\n");
  }
  os << "#define " << macro << " " << slots.size() << "\n";
  os << "static const gradc_tensor_desc " << id << "[" << slots.size() + 1 << "] = {\n";
  for (size_t i = 0; i < slots.size(); ++i) {
    const plan::TensorSlot &s = slots[i];
    os << "  {" << cString(s.name) << ", " << s.type.rank() << ", " << id << "_shape" << i << ", "
       << s.offset << ", " << s.type.numElements() << ", "
       << (s.type.dtype == ir::DType::I32 ? 1 : 0) << "},\n";
  }
  os << "  {0, 0, 0, 0, 0, 0}};\n\n";
}

/// The model inputs and outputs of `forward`, as slots at offset 0 (none
/// for a module without forward, as hand-built test modules may be).
void ioSlots(const ir::Module &m, std::vector<plan::TensorSlot> &inputs,
             std::vector<plan::TensorSlot> &outputs) {
  const ir::Function *f = m.find("forward");
  if (!f)
    return;
  for (const ir::Arg &a : f->args())
    if (a.role == ir::ArgRole::Input)
      inputs.push_back({a.name, f->type(a.value), 0});
  for (const ir::Result &r : f->results())
    if (r.role == ir::ResultRole::Output)
      outputs.push_back({r.name.substr(4), f->type(r.value), 0}); // without "out."
}

/// `static inline float <id>_lr(int epoch)`: the learning rate of an epoch
/// under the model's schedule, with PyTorch's formulas (runtime/schedule.cpp).
void emitSchedule(std::ostream &os, const std::string &id, const ir::OptimizerConfig &o) {
  char buf[512];
  const ir::Schedule &s = o.schedule;
  os << "/* The learning rate for epoch `epoch` (from 0), as PyTorch's scheduler stepped\n"
     << " * once per epoch gives it. */\n";
  std::snprintf(buf, sizeof buf, "%.17g", o.lr);
  os << "static inline float " << id << "_lr(int epoch) {\n  double lr = " << buf << ";\n";
  switch (s.kind) {
  case ir::Schedule::Kind::None:
    os << "  (void)epoch;\n";
    break;
  case ir::Schedule::Kind::Step:
    std::snprintf(
        buf, sizeof buf,
        "  for (int e = 1; e <= epoch; ++e)\n    if (e %% %lld == 0)\n      lr *= %.17g;\n",
        (long long)s.step_size, s.gamma);
    os << buf;
    break;
  case ir::Schedule::Kind::Exponential:
    std::snprintf(buf, sizeof buf, "  for (int e = 1; e <= epoch; ++e)\n    lr *= %.17g;\n",
                  s.gamma);
    os << buf;
    break;
  case ir::Schedule::Kind::Cosine:
    std::snprintf(
        buf, sizeof buf,
        "  const double pi = 3.14159265358979323846, t = %lld.0, eta_min = %.17g;\n"
        "  const double base = lr;\n"
        "  for (int e = 1; e <= epoch; ++e)\n"
        "    if ((e - 1 - %lld) %% %lld == 0)\n"
        "      lr += (base - eta_min) * (1 - cos(pi / t)) / 2;\n"
        "    else\n"
        "      lr = (1 + cos(pi * e / t)) / (1 + cos(pi * (e - 1) / t)) * (lr - eta_min) + "
        "eta_min;\n",
        (long long)s.t_max, s.eta_min, (long long)s.t_max, (long long)(2 * s.t_max));
    os << buf;
    break;
  }
  os << "  return (float)lr;\n}\n\n";
}

std::string prototype(const FunctionAbi &abi) {
  std::string out = "float " + abi.symbol + "(";
  for (size_t i = 0; i < abi.params.size(); ++i) {
    const AbiParam &p = abi.params[i];
    out += i ? ", " : "";
    if (p.kind == AbiParam::Kind::Scalar)
      out += "float " + p.c_name;
    else if (p.kind == AbiParam::Kind::Scratch)
      out += "void *" + p.c_name;
    else
      out +=
          std::string(p.is_const ? "const " : "") + (p.is_i32 ? "int32_t *" : "float *") + p.c_name;
  }
  return out + ");";
}

/// The memory figures: per function the RAM of the buffers it takes (params,
/// grads, state, its scratch) and the object's static data; the largest as
/// <MACRO>_RAM_BYTES; the object's flash when known.
void emitMemory(std::ostream &os, const ir::Module &m, const std::string &macro,
                const plan::ModulePlan &layout, const ObjectFootprint *footprint) {
  int64_t static_ram = footprint ? footprint->static_ram : 0;
  os << "/* RAM in bytes each entry point needs besides its inputs and outputs: the\n"
     << " * buffers it takes (params, grads, state, scratch)"
     << (footprint ? " and the object's static data" : "") << ". */\n";
  int64_t most = 0;
  for (size_t i = 0; i < m.functions.size(); ++i) {
    int64_t ram = layout.functions[i].arena_bytes + static_ram;
    for (const AbiParam &p : functionAbi(m, m.functions[i]).params)
      if (p.kind == AbiParam::Kind::Params || p.kind == AbiParam::Kind::Grads)
        ram += layout.params_bytes;
      else if (p.kind == AbiParam::Kind::State)
        ram += layout.state_bytes;
    most = std::max(most, ram);
    os << "#define " << macro << "_" << upper(cIdentifier(m.functions[i].name())) << "_RAM_BYTES "
       << ram << "\n";
  }
  os << "#define " << macro << "_RAM_BYTES " << most << "\n";
  if (footprint)
    os << "/* Flash (read-only memory) the object's code and constants take once linked;\n"
       << " * of it, static data copied to RAM at start-up: */\n"
       << "#define " << macro << "_FLASH_BYTES " << footprint->flash << "\n"
       << "#define " << macro << "_STATIC_RAM_BYTES " << static_ram << "\n";
}

} // namespace

std::string emitCHeader(const ir::Module &m, const plan::ModulePlan *given,
                        const TargetFacts &target, const ObjectFootprint *footprint) {
  std::string id = cIdentifier(m.name), macro = upper(id);
  const plan::ModulePlan &layout = given ? *given : plan::buildPlan(m);
  std::ostringstream os;
  os << "/* " << id << ".h: generated by gradc from model " << cString(m.name)
     << (target.triple.empty() ? "" : " for " + target.triple) << ". Do not edit.\n"
     << " * params, grads and state are packed buffers (layout in the tables below);\n"
     << " * scratch holds temporaries. All four must be " << target.alignment
     << "-byte aligned. Each entry point\n"
     << " * returns the loss, or 0 when the function has none. Re-entrant: model instances\n"
     << " * (their own buffers) may run at once from any threads.\n";
  if (target.triple.rfind("x86_64", 0) == 0)
    os << " * Each call flushes subnormal floats to zero (MXCSR FTZ and DAZ), as TensorFlow\n"
       << " * and oneDNN do, and restores the caller's floating-point mode on return.\n";
  os << " *\n";
  if (target.threads)
    os << " * Threads: large kernels run on a pool of pthreads that starts on the first call\n"
       << " * needing it, using every CPU the process may run on unless " << id << "_set_threads\n"
       << " * says otherwise. Results are bit-identical at any thread count. After a job its\n"
       << " * workers spin for up to 0.25 ms, then sleep. While one call uses the pool, a\n"
       << " * concurrent call runs its kernels on its own thread. Link with\n"
       << " * -lpthread (glibc 2.34 and later: libc alone). */\n";
  else
    os << " * Threads: none. Every kernel runs on the calling thread; the object has no\n"
       << " * thread pool, no static data and no pthreads symbols, and needs only memcpy,\n"
       << " * memset, expf and logf (newlib has them). " << id << "_set_threads exists and\n"
       << " * does nothing. Results are those of a threaded object, bit for bit. */\n";
  os << "#ifndef GRADC_" << macro << "_H\n#define GRADC_" << macro << "_H\n\n";
  os << "#include <math.h>\n#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  os << "#define " << macro << "_TRIPLE " << cString(target.triple) << "\n";
  os << "#define " << macro << "_THREADS " << (target.threads ? 1 : 0) << "\n";
  os << "#define " << macro << "_ALIGNMENT " << target.alignment << "\n";
  os << "#define " << macro << "_PARAMS_BYTES " << layout.params_bytes << "\n";
  os << "#define " << macro << "_GRADS_BYTES " << layout.params_bytes << "\n";
  os << "#define " << macro << "_STATE_BYTES " << layout.state_bytes << "\n";
  char lr[64];
  std::snprintf(lr, sizeof lr, "%.9g", m.optimizer.lr);
  os << "#define " << macro << "_DEFAULT_LR ((float)" << lr << ")\n";
  for (const plan::FunctionPlan &fl : layout.functions)
    os << "#define " << macro << "_" << upper(cIdentifier(fl.name)) << "_SCRATCH_BYTES "
       << fl.arena_bytes << "\n";
  emitMemory(os, m, macro, layout, footprint);
  os << "\n" << kDescType << "\n";
  emitTable(os, id + "_params", macro + "_NUM_PARAMS", layout.params);
  emitTable(os, id + "_state", macro + "_NUM_STATE", layout.state);
  std::vector<plan::TensorSlot> inputs, outputs;
  ioSlots(m, inputs, outputs);
  emitTable(os, id + "_inputs", macro + "_NUM_INPUTS", inputs);
  emitTable(os, id + "_outputs", macro + "_NUM_OUTPUTS", outputs);
  emitSchedule(os, id, m.optimizer);
  for (const ir::Function &f : m.functions)
    os << prototype(functionAbi(m, f)) << "\n";
  if (target.threads)
    os << "\n/* Sets how many threads the entry points use, the calling one included: n <= 0\n"
       << " * means every CPU the process may run on (the default), 1 runs everything on the\n"
       << " * calling thread. Waits for a running call, then joins the pool's threads; new\n"
       << " * ones start when a call needs them. Call with 1 before unloading the code (a\n"
       << " * dlclose), so that no worker is left in it. */\n";
  else
    os << "\n/* Does nothing: this object has no threads (see the top of this file). */\n";
  os << "void " << setThreadsSymbol(id) << "(int32_t n);\n";
  os << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return os.str();
}

} // namespace gradc::codegen
