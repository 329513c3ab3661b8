// The JIT executor: lowers the module with a packed wrapper per function,
// compiles it with LLJIT, and marshals TensorMaps to and from the packed
// params / grads / state buffers of the ABI (codegen/abi.h).
#include "runtime/jit.h"

#include "codegen/abi.h"
#include "codegen/rtlib.h"
#include "codegen/target.h"
#include "ir/printer.h"
#include "plan/plan.h"
#include "runtime/compile_cache.h"
#include "runtime/kernel_profile.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/MemoryBuffer.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <thread>

namespace gradc::runtime {
namespace {

using PackedFn = float (*)(void **ptrs, const float *scalars);

Error toError(llvm::Error e, const std::string &what) {
  return Error("JIT: " + what + ": " + llvm::toString(std::move(e)));
}

/// A zeroed, 64-byte aligned byte buffer.
class AlignedBuffer {
public:
  explicit AlignedBuffer(int64_t bytes) {
    size_t n = size_t(plan::alignUp(bytes > 0 ? bytes : 1));
    data_ = static_cast<char *>(std::aligned_alloc(size_t(plan::kAlignment), n));
    if (!data_)
      throw std::bad_alloc(); // reported by the CLI as "out of memory"
    std::memset(data_, 0, n);
  }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(const AlignedBuffer &) = delete;
  AlignedBuffer &operator=(const AlignedBuffer &) = delete;
  char *data() { return data_; }

private:
  char *data_;
};

void *tensorData(Tensor &t) {
  return t.type.dtype == ir::DType::F32 ? static_cast<void *>(t.f32.data())
                                        : static_cast<void *>(t.i32.data());
}

void copyIn(char *buf, const plan::TensorSlot *slot, const Tensor &t) {
  GRADC_CHECK(slot, "tensor without a buffer slot");
  std::memcpy(buf + slot->offset, t.f32.data(), size_t(t.type.byteSize()));
}

Tensor copyOut(const char *buf, const plan::TensorSlot *slot) {
  GRADC_CHECK(slot, "result without a buffer slot");
  Tensor t = Tensor::zeros(slot->type);
  std::memcpy(t.f32.data(), buf + slot->offset, size_t(slot->type.byteSize()));
  return t;
}

/// How many threads compile: GRADC_COMPILE_THREADS, else one per core.
Expected<int> compileThreads() {
  const char *env = std::getenv("GRADC_COMPILE_THREADS");
  if (!env || !*env)
    return int(std::max(1u, std::thread::hardware_concurrency()));
  char *end = nullptr;
  long n = std::strtol(env, &end, 10);
  if (*end || n < 1 || n > 256)
    return Error("GRADC_COMPILE_THREADS: expected an integer from 1 to 256, got '" +
                 std::string(env) + "'");
  return int(n);
}

/// A JIT for the host holding `objects` (which define every function of
/// the module and may call libm and, when profiling, the kernel hook).
Expected<std::unique_ptr<llvm::orc::LLJIT>> linkObjects(const std::vector<std::string> &objects,
                                                        const std::string &name, bool profile) {
  codegen::initializeNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    return toError(jtmb.takeError(), "cannot detect the host CPU");
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit)
    return toError(jit.takeError(), "cannot create LLJIT");
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!gen)
    return toError(gen.takeError(), "cannot search the process for libm");
  (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  if (profile) {
    llvm::orc::SymbolMap hook;
    hook[(*jit)->mangleAndIntern("gradc_profile_tick")] = {
        llvm::orc::ExecutorAddr::fromPtr(&gradc_profile_tick), llvm::JITSymbolFlags::Exported};
    if (auto err = (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(hook))))
      return toError(std::move(err), "cannot define the profiling hook");
  }
  for (const std::string &obj : objects)
    if (auto err = (*jit)->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(obj, name)))
      return toError(std::move(err), "cannot add an object");
  return std::move(*jit);
}

/// Everything besides the functions' IR that the compiled code depends on.
std::string codeOptions(const ir::Module &m, const JitOptions &opts) {
  std::string s = "vw=" + std::to_string(opts.vector_floats) +
                  ";vr=" + std::to_string(opts.vector_registers) +
                  ";caches=" + std::to_string(opts.caches.l1) + "," +
                  std::to_string(opts.caches.l2) + "," + std::to_string(opts.caches.l3) +
                  ";profile=" + std::to_string(int(opts.profile_kernels)) + ";params=";
  for (const ir::ParamInfo &p : m.params)
    s += p.name + ":" + p.type.str() + ",";
  s += ";state=";
  for (const ir::StateInfo &p : m.states)
    s += p.name + ":" + p.type.str() + ",";
  return s;
}

/// Compiles `m` for the host, on as many threads as it has cores, or loads
/// its code from the cache, and builds a JIT holding the objects.
Expected<std::unique_ptr<llvm::orc::LLJIT>> buildJit(const ir::Module &m,
                                                     const plan::ModulePlan &plan,
                                                     const JitOptions &opts, JitStats *stats,
                                                     bool use_cached) {
  std::optional<CompileCache> cache;
  std::string key;
  if (!opts.cache_dir.empty()) {
    cache.emplace(opts.cache_dir);
    key = cacheKey(ir::printText(m), codeOptions(m, opts));
    if (auto objects = use_cached ? cache->load(key) : std::nullopt) {
      if (auto jit = linkObjects(*objects, m.name, opts.profile_kernels)) {
        if (stats)
          stats->cache_hit = true;
        return jit;
      }
    }
  }
  if (stats)
    stats->cache_hit = false;
  codegen::EmitOptions eo;
  eo.plan = &plan;
  eo.vector_floats = opts.vector_floats;
  eo.vector_registers = opts.vector_registers;
  eo.caches = opts.caches;
  eo.packed_wrappers = true;
  eo.profile_kernels = opts.profile_kernels;
  GRADC_TRY(threads, compileThreads());
  GRADC_TRY(objects, codegen::compileObjects(m, eo, threads));
  if (cache)
    (void)cache->store(key, objects); // a cache that cannot be written is only a miss
  return linkObjects(objects, m.name, opts.profile_kernels);
}

struct Entry {
  codegen::FunctionAbi abi;
  PackedFn fn = nullptr;   ///< null until the function's unit is compiled
  int64_t arena_bytes = 0; ///< the scratch arena of the plan it was compiled with
};

/// One compiled piece of the module: some of its functions, the runtime
/// library (its own thread pool) and the JIT holding the code.
struct Unit {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  void (*set_threads)(int32_t) = nullptr;
};

class JitExecutor : public Executor {
public:
  JitExecutor(ir::Module m, JitOptions opts) : module_(std::move(m)), opts_(std::move(opts)) {
    for (const ir::Function &f : module_.functions)
      entries_.push_back(Entry{codegen::functionAbi(module_, f)});
  }
  /// The pools' workers run JIT code: they are joined before it is freed.
  ~JitExecutor() override {
    for (Unit &u : units_)
      u.set_threads(1);
  }

  /// Compiles the functions named in `names` (all that are not compiled yet
  /// when empty) as one unit.
  Status compile(const std::vector<std::string> &names, JitStats *stats);

  Expected<TensorMap> call(const std::string &fn, const TensorMap &args) override;
  Expected<std::unique_ptr<BoundCall>> bind(const std::string &fn, const TensorMap &args) override;
  const ir::Module &module() const override { return module_; }
  void setThreads(int n) override {
    std::lock_guard<std::mutex> lock(mu_);
    threads_ = n;
    for (Unit &u : units_)
      u.set_threads(n);
  }

private:
  Expected<std::unique_ptr<class JitCall>> bindCall(const std::string &fn, const TensorMap &args);
  Status compileUnit(const std::vector<size_t> &functions, JitStats *stats);

  ir::Module module_;
  plan::ModulePlan layout_; ///< the first unit's plan: params and state are laid out alike in all
  JitOptions opts_;
  std::mutex mu_; ///< guards units_, entries_' pointers and threads_
  std::vector<Unit> units_;
  std::vector<Entry> entries_; ///< in module_.functions order
  std::optional<int> threads_; ///< what setThreads asked, for units compiled later
};

Status JitExecutor::compile(const std::vector<std::string> &names, JitStats *stats) {
  std::vector<size_t> todo;
  for (size_t i = 0; i < module_.functions.size(); ++i) {
    const std::string &name = module_.functions[i].name();
    bool wanted = names.empty() || std::find(names.begin(), names.end(), name) != names.end();
    if (wanted && !entries_[i].fn)
      todo.push_back(i);
  }
  for (const std::string &name : names)
    if (!module_.find(name))
      return Error("no function '" + name + "' in module '" + module_.name + "'");
  if (todo.empty())
    return Status::ok();
  return compileUnit(todo, stats);
}

Status JitExecutor::compileUnit(const std::vector<size_t> &functions, JitStats *stats) {
  ir::Module part;
  part.name = module_.name;
  part.params = module_.params;
  part.states = module_.states;
  for (size_t i : functions)
    part.functions.push_back(module_.functions[i]);
  plan::ModulePlan plan = plan::buildPlan(part);
  auto jit = buildJit(part, plan, opts_, stats, true);
  // A cached entry that passed its checks but does not link: compile anew
  // (and replace the entry).
  if (!jit && stats->cache_hit)
    jit = buildJit(part, plan, opts_, stats, false);
  GRADC_TRY(linked, std::move(jit));
  Unit unit{std::move(linked)};
  std::string name = codegen::setThreadsSymbol(codegen::cIdentifier(module_.name));
  auto st = unit.jit->lookup(name);
  if (!st)
    return toError(st.takeError(), "cannot find " + name);
  unit.set_threads = st->toPtr<void (*)(int32_t)>();
  std::vector<PackedFn> fns;
  for (size_t i : functions) {
    auto addr = unit.jit->lookup(codegen::packedSymbol(entries_[i].abi));
    if (!addr)
      return toError(addr.takeError(), "cannot find " + entries_[i].abi.symbol);
    fns.push_back(addr->toPtr<PackedFn>());
  }
  if (threads_)
    unit.set_threads(*threads_);
  for (size_t k = 0; k < functions.size(); ++k) {
    entries_[functions[k]].fn = fns[k];
    entries_[functions[k]].arena_bytes = plan.functions[k].arena_bytes;
  }
  GRADC_CHECK(units_.empty() || (layout_.params_bytes == plan.params_bytes &&
                                 layout_.state_bytes == plan.state_bytes),
              "a JIT unit lays out parameters or state differently");
  if (units_.empty())
    layout_ = std::move(plan);
  units_.push_back(std::move(unit));
  return Status::ok();
}

/// Per-call buffers of the ABI.
struct CallBuffers {
  AlignedBuffer params, grads, state, scratch;
  CallBuffers(const plan::ModulePlan &l, int64_t scratch_bytes)
      : params(l.params_bytes), grads(l.params_bytes), state(l.state_bytes),
        scratch(scratch_bytes) {}
};

void packArgs(const ir::Function &f, const plan::ModulePlan &l, const TensorMap &args,
              CallBuffers &buf) {
  using plan::ModulePlan;
  for (const ir::Arg &a : f.args()) {
    const Tensor &t = args.at(a.name);
    if (a.role == ir::ArgRole::Param)
      copyIn(buf.params.data(), ModulePlan::find(l.params, a.name), t);
    else if (a.role == ir::ArgRole::Grad)
      copyIn(buf.grads.data(), ModulePlan::find(l.params, codegen::gradTarget(a.name)), t);
    else if (a.role == ir::ArgRole::State)
      copyIn(buf.state.data(), ModulePlan::find(l.state, a.name), t);
  }
}

/// A call whose buffers and pointer list are packed once.
class JitCall : public BoundCall {
public:
  JitCall(const ir::Function &f, const Entry &e, const plan::ModulePlan &l, int64_t scratch,
          TensorMap args)
      : f_(f), e_(e), layout_(l), args_(std::move(args)), buf_(l, scratch) {
    using K = codegen::AbiParam::Kind;
    packArgs(f, l, args_, buf_);
    for (const codegen::AbiParam &p : e.abi.params) {
      if (p.kind == K::Params)
        ptrs_.push_back(buf_.params.data());
      else if (p.kind == K::Grads)
        ptrs_.push_back(buf_.grads.data());
      else if (p.kind == K::State)
        ptrs_.push_back(buf_.state.data());
      else if (p.kind == K::Scratch)
        ptrs_.push_back(buf_.scratch.data());
      else if (p.kind == K::Input) {
        const std::string &name = f.args()[size_t(p.index)].name;
        input_slots_[name] = ptrs_.size();
        ptrs_.push_back(tensorData(args_.at(name)));
      } else if (p.kind == K::Scalar)
        scalars_.push_back(args_.at(f.args()[size_t(p.index)].name).f32.at(0));
      else if (p.kind == K::Output) {
        const ir::Result &r = f.results()[size_t(p.index)];
        Tensor &t = outputs_[r.name] = Tensor::zeros(f.type(r.value));
        ptrs_.push_back(tensorData(t));
      }
    }
  }

  float run() override { return loss_ = e_.fn(ptrs_.data(), scalars_.data()); }

  void set(const std::string &name, const Tensor &t) override {
    using plan::ModulePlan;
    int32_t i = f_.findArg(name);
    GRADC_CHECK(i >= 0 && f_.type(f_.args()[size_t(i)].value) == t.type,
                "set: bad argument " + name);
    const ir::Arg &a = f_.args()[size_t(i)];
    if (a.role == ir::ArgRole::Input)
      std::memcpy(tensorData(args_.at(name)),
                  t.type.dtype == ir::DType::F32 ? static_cast<const void *>(t.f32.data())
                                                 : static_cast<const void *>(t.i32.data()),
                  size_t(t.type.byteSize()));
    else if (a.role == ir::ArgRole::Scalar)
      scalars_.at(scalarIndex(size_t(i))) = t.f32.at(0);
    else if (a.role == ir::ArgRole::Param)
      copyIn(buf_.params.data(), ModulePlan::find(layout_.params, name), t);
    else if (a.role == ir::ArgRole::Grad)
      copyIn(buf_.grads.data(), ModulePlan::find(layout_.params, codegen::gradTarget(name)), t);
    else
      copyIn(buf_.state.data(), ModulePlan::find(layout_.state, name), t);
  }

  void swapInput(const std::string &name, Tensor &t) override {
    Tensor &bound = args_.at(name);
    GRADC_CHECK(bound.type == t.type && input_slots_.count(name), "swapInput: bad input " + name);
    std::swap(bound, t);
    ptrs_[input_slots_.at(name)] = tensorData(bound);
  }

  TensorMap results() override { return unpack(); }

  /// Runs once and unpacks every result by name.
  TensorMap runAndUnpack() {
    run();
    return unpack();
  }

private:
  /// The position in scalars_ of argument `arg` (a scalar).
  size_t scalarIndex(size_t arg) const {
    size_t k = 0;
    for (const codegen::AbiParam &p : e_.abi.params) {
      if (p.kind != codegen::AbiParam::Kind::Scalar)
        continue;
      if (size_t(p.index) == arg)
        return k;
      ++k;
    }
    GRADC_CHECK(false, "scalar argument without an ABI slot");
  }

  TensorMap unpack() {
    using plan::ModulePlan;
    TensorMap out = outputs_;
    for (const ir::Result &r : f_.results()) {
      if (r.role == ir::ResultRole::Loss)
        out[r.name] = Tensor::scalar(loss_);
      else if (r.role == ir::ResultRole::Grad)
        out[r.name] = copyOut(buf_.grads.data(),
                              ModulePlan::find(layout_.params, codegen::gradTarget(r.name)));
      else if (r.role == ir::ResultRole::Update) {
        const ir::Arg &a = f_.args()[size_t(r.updates)];
        bool is_param = a.role == ir::ArgRole::Param;
        out[r.name] = copyOut(is_param ? buf_.params.data() : buf_.state.data(),
                              ModulePlan::find(is_param ? layout_.params : layout_.state, a.name));
      }
    }
    return out;
  }

  const ir::Function &f_;
  const Entry &e_;
  const plan::ModulePlan &layout_;
  TensorMap args_; ///< owns the input buffers the pointers refer to
  CallBuffers buf_;
  TensorMap outputs_;
  std::vector<void *> ptrs_;
  std::map<std::string, size_t> input_slots_; ///< each input's entry in ptrs_
  std::vector<float> scalars_;
  float loss_ = 0;
};

Expected<std::unique_ptr<JitCall>> JitExecutor::bindCall(const std::string &name,
                                                         const TensorMap &args) {
  GRADC_TRY(f, findChecked(module_, name, args));
  size_t index = size_t(f - module_.functions.data());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!entries_[index].fn) {
      JitStats stats;
      GRADC_TRY_STATUS(compileUnit({index}, &stats));
    }
  }
  return std::make_unique<JitCall>(*f, entries_[index], layout_, entries_[index].arena_bytes, args);
}

Expected<TensorMap> JitExecutor::call(const std::string &name, const TensorMap &args) {
  GRADC_TRY(c, bindCall(name, args));
  return c->runAndUnpack();
}

Expected<std::unique_ptr<BoundCall>> JitExecutor::bind(const std::string &name,
                                                       const TensorMap &args) {
  GRADC_TRY(c, bindCall(name, args));
  return std::unique_ptr<BoundCall>(std::move(c));
}

} // namespace

Expected<std::unique_ptr<Executor>> makeJitExecutor(ir::Module m, const JitOptions &opts,
                                                    JitStats *stats) {
  auto start = std::chrono::steady_clock::now();
  JitStats local;
  stats = stats ? stats : &local;
  auto exec = std::make_unique<JitExecutor>(std::move(m), opts);
  GRADC_TRY_STATUS(exec->compile(opts.functions, stats));
  stats->compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return std::unique_ptr<Executor>(std::move(exec));
}

Expected<std::unique_ptr<Executor>> makeJitExecutor(ir::Module m, JitStats *stats,
                                                    int vector_floats, bool profile_kernels) {
  JitOptions opts;
  opts.vector_floats = vector_floats;
  opts.profile_kernels = profile_kernels;
  return makeJitExecutor(std::move(m), opts, stats);
}

} // namespace gradc::runtime
