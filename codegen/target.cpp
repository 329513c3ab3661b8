// TargetMachine setup, the O2 pipeline and emission of object, assembly or
// IR text; files are written to a temporary name and renamed into place.
#include "codegen/target.h"

#include "support/files.h"

#include "codegen/lower.h"
#include "codegen/rtlib.h"
#include "codegen/triples.h"
#include "plan/plan.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassInstrumentation.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ELFObjectFile.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/Transforms/Scalar/LoopPassManager.h>
#include <llvm/Transforms/Scalar/LoopStrengthReduce.h>
#include <llvm/Transforms/Utils/CanonicalizeFreezeInLoops.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <unistd.h>

// llvm::Any tells types apart by the address of Any::TypeId<T>::Id, a symbol
// libLLVM exports. The shared libgradc is linked with --exclude-libs,ALL
// (driver/CMakeLists.txt), which made its own instances local: no any_cast of
// the pass manager's IR units matched, and the cleanup gate below let every
// pass run. Declared here as instantiated elsewhere, with default visibility,
// they resolve to libLLVM's (weak definitions in a static LLVM as well).
namespace llvm {
extern template struct __attribute__((visibility("default"))) Any::TypeId<const Function *>;
extern template struct __attribute__((visibility("default"))) Any::TypeId<const Loop *>;
} // namespace llvm

namespace gradc::codegen {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Every target: the JIT compiles for the host, `gradc compile --triple` for any.
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    llvm::InitializeAllAsmParsers();
    // Loop strength reduction runs in optimizeModule, function by function
    // (kNoLoopStrengthReduction), instead of in the code generator's IR
    // passes, which would run it on every function. LLVM offers no other
    // switch than this process-wide option: a program that links gradc and
    // generates code with the same LLVM inherits it.
    auto &options = llvm::cl::getRegisteredOptions();
    auto found = options.find("disable-lsr");
    GRADC_CHECK(found != options.end(), "LLVM has no -disable-lsr option");
    static_cast<llvm::cl::opt<bool> *>(found->second)->setValue(true);
  });
}

namespace {

/// The passes O2 may run on a kCleanupOnly function: promote the
/// accumulators' stack slots, fold the index arithmetic, merge blocks, unroll
/// the constant-trip loops of the register tiles and hoist what is invariant.
/// Each runs at its first kCleanupRuns places in O2's pipeline, per function
/// (SROA, EarlyCSE, InstCombine and SimplifyCFG: all before the loop passes)
/// or per loop (LICM and full unrolling). Loop canonicalisation and analyses
/// always run: the loop passes rely on them.
constexpr std::string_view kCleanupPasses[] = {"SROAPass",           "EarlyCSEPass",
                                               "InstCombinePass",    "SimplifyCFGPass",
                                               "LoopFullUnrollPass", "LICMPass"};
constexpr int kCleanupRuns = 2;

/// O2's interprocedural passes, which find nothing to do in a lowered module
/// (noinline kernels of pointers, called from entry points that only
/// sequence them) and took a fifth of the optimiser's time on the CNNs. They
/// still run on code optimised for size, where any byte saved counts.
constexpr std::string_view kInterproceduralPasses[] = {"InlinerPass",
                                                       "IPSCCPPass",
                                                       "CalledValuePropagationPass",
                                                       "InferFunctionAttrsPass",
                                                       "PostOrderFunctionAttrsPass",
                                                       "ReversePostOrderFunctionAttrsPass",
                                                       "GlobalOptPass",
                                                       "DeadArgumentEliminationPass"};

/// Whether pass `id` is one of `passes`.
template <size_t N> bool listed(const std::string_view (&passes)[N], llvm::StringRef id) {
  return std::find(std::begin(passes), std::end(passes), std::string_view(id)) != std::end(passes);
}

/// Whether O2's pass `id` runs on `ir` (a function, loop, SCC or module).
class CleanupGate {
public:
  explicit CleanupGate(bool for_size) : for_size_(for_size) {}

  bool shouldRun(llvm::StringRef id, llvm::Any ir) {
    if (!for_size_ && listed(kInterproceduralPasses, id))
      return false;
    const llvm::Function *f = nullptr;
    const llvm::Loop *loop = nullptr;
    if (const auto *fp = llvm::any_cast<const llvm::Function *>(&ir))
      f = *fp;
    else if (const auto *lp = llvm::any_cast<const llvm::Loop *>(&ir))
      loop = *lp, f = loop->getHeader()->getParent();
    saw_function_ = saw_function_ || f;
    // Loop strength reduction (after O2, optimizeModule), as the code
    // generator would run it, except where the kernel opts out.
    if (id == "LoopStrengthReducePass" || id == "CanonicalizeFreezeInLoopsPass")
      return !f || !f->hasFnAttribute(kNoLoopStrengthReduction);
    // Code optimised for size (optsize: lowerFor's microcontroller code)
    // keeps the whole pipeline: its flash is what matters, and O2 removes
    // 64-bit divisions a Cortex-M would call a libgcc routine for. (rtlib's
    // parallel-for is minsize by its source, on every target.)
    if (!f || !f->hasFnAttribute(kCleanupOnly) ||
        f->hasFnAttribute(llvm::Attribute::OptimizeForSize))
      return true;
    if (id == "LoopSimplifyPass" || id == "LCSSAPass" || id.contains("AnalysisPass"))
      return true;
    if (!listed(kCleanupPasses, id))
      return false;
    std::string where = f->getName().str();
    if (loop)
      where += "/" + loop->getHeader()->getName().str();
    return ++runs_[{where, id.str()}] <= kCleanupRuns;
  }

  /// Whether some pass ran on a function or loop the gate could identify.
  bool sawFunction() const { return saw_function_; }

private:
  bool for_size_, saw_function_ = false;
  /// Runs by function (and loop header) name and pass: a function O2
  /// deletes may leave its address to a new one, and a gate keyed by address
  /// would then depend on the allocator.
  std::map<std::pair<std::string, std::string>, int> runs_;
};

} // namespace

void optimizeModule(llvm::Module &mod, llvm::TargetMachine &tm) {
  mod.setTargetTriple(tm.getTargetTriple().str());
  mod.setDataLayout(tm.createDataLayout());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  CleanupGate gate(std::any_of(mod.begin(), mod.end(), [](const llvm::Function &f) {
    return f.hasFnAttribute(llvm::Attribute::OptimizeForSize);
  }));
  llvm::PassInstrumentationCallbacks pic;
  pic.registerShouldRunOptionalPassCallback(
      [&](llvm::StringRef id, llvm::Any ir) { return gate.shouldRun(id, ir); });
  llvm::PassBuilder pb(&tm, llvm::PipelineTuningOptions(), std::nullopt, &pic);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  // O2, not O3: on these kernels it compiles about a third faster and the
  // code measured as fast or faster (bench, all four shared models).
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  bool bodies = std::any_of(mod.begin(), mod.end(),
                            [](const llvm::Function &f) { return !f.isDeclaration(); });
  mpm.run(mod, mam);
  // The code generator's loop strength reduction, here so that the gate can
  // skip it per function (initializeNativeTarget turned the code
  // generator's off).
  llvm::LoopPassManager lsr_loops;
  lsr_loops.addPass(llvm::CanonicalizeFreezeInLoopsPass());
  lsr_loops.addPass(llvm::LoopStrengthReducePass());
  llvm::FunctionPassManager lsr;
  lsr.addPass(llvm::createFunctionToLoopPassAdaptor(std::move(lsr_loops)));
  for (llvm::Function &fn : mod)
    if (!fn.isDeclaration() && !fn.hasFnAttribute(kNoLoopStrengthReduction))
      lsr.run(fn, fam); // (not even loop canonicalisation on the others)
  // Function passes ran, so the gate met functions, unless llvm::Any's type
  // identity broke (the note on TypeId above) and it silently let every
  // pass run everywhere.
  GRADC_CHECK(!bodies || gate.sawFunction(),
              "the cleanup gate could not identify any function of the module");
}

int vectorFloats(const llvm::TargetMachine &tm) {
  const llvm::MCSubtargetInfo *sti = tm.getMCSubtargetInfo();
  const llvm::Triple &t = tm.getTargetTriple();
  if (t.isX86())
    return sti->checkFeatures("+avx512f") ? 16 : sti->checkFeatures("+avx") ? 8 : 4;
  if (t.isAArch64() || t.isARM() || t.isThumb())
    return sti->checkFeatures("+neon") ? 4 : 1;
  // RISC-V without V, and anything else: LLVM would split each vector into
  // scalars anyway, with shuffles and spills around the masked loads.
  return 1;
}

int vectorRegisters(const llvm::TargetMachine &tm) {
  const llvm::MCSubtargetInfo *sti = tm.getMCSubtargetInfo();
  const llvm::Triple &t = tm.getTargetTriple();
  if (t.isX86())
    return sti->checkFeatures("+avx512f") ? 32 : 16;
  if (t.isAArch64())
    return 32;
  if ((t.isARM() || t.isThumb()) && sti->checkFeatures("+neon"))
    return 16;
  // Scalar kernels: the float registers (RV64's f0-f31, the Cortex-M4F's s0-s31).
  return 32;
}

namespace {

std::string hostFeatures() {
  std::string out;
  for (const auto &[name, on] : llvm::sys::getHostCPUFeatures())
    out += (out.empty() ? "" : ",") + std::string(on ? "+" : "-") + name.str();
  return out;
}

/// Checks every "+name" / "-name" of `features` against the target's table.
Status checkFeatures(const std::string &features, const llvm::MCSubtargetInfo &sti,
                     const std::string &triple) {
  llvm::SmallVector<llvm::StringRef, 8> items;
  llvm::StringRef(features).split(items, ',', -1, false);
  for (llvm::StringRef item : items) {
    bool known = false;
    if (item.size() > 1 && (item[0] == '+' || item[0] == '-'))
      for (const llvm::SubtargetFeatureKV &kv : sti.getAllProcessorFeatures())
        known = known || item.drop_front() == kv.Key;
    if (!known)
      return Error("--features: '" + item.str() + "' is not +FEATURE or -FEATURE of a feature of " +
                   triple + " (llc-19 -mtriple=" + triple + " -mattr=help lists them)");
  }
  return Status::ok();
}

/// A target machine for `opts`, with what it resolved to in `facts` (optional).
Expected<std::unique_ptr<llvm::TargetMachine>> makeTargetMachine(const EmitOptions &opts,
                                                                 TargetFacts *facts = nullptr) {
  initializeNativeTarget();
  const TripleInfo *info = nullptr;
  if (!opts.triple.empty()) {
    GRADC_TRY(found, findTriple(opts.triple));
    info = found;
  }
  const TripleInfo *host = hostTriple();
  bool native = opts.cpu == "native" || (opts.cpu.empty() && !info);
  if (native && info && info != host)
    return Error(std::string("--target native is this machine's CPU, which cannot run ") +
                 info->name + " code: leave --target out (default " + info->cpu +
                 ") or name a CPU (llc-19 -mtriple=" + info->llvm_triple + " -mcpu=help)");
  std::string triple = info     ? std::string(info->llvm_triple)
                       : native ? llvm::sys::getProcessTriple()
                                : llvm::sys::getDefaultTargetTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return Error("no LLVM target for " + triple + ": " + error);
  std::string cpu = native             ? llvm::sys::getHostCPUName().str()
                    : opts.cpu.empty() ? info->cpu
                                       : opts.cpu;
  std::string features = native ? hostFeatures() : info ? info->features : "";
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(triple, "", ""));
  if (!sti || !sti->isCPUStringValid(cpu))
    return Error(
        "unknown target CPU '" + opts.cpu + "' for " + triple +
        (info ? "" : " (--triple compiles for another machine: gradc compile --list-targets)"));
  GRADC_TRY_STATUS(checkFeatures(opts.features, *sti, triple));
  if (!opts.features.empty())
    features += (features.empty() ? "" : ",") + opts.features;
  bool os = !info || info->os;
  std::string name = info ? info->name : host ? host->name : hostRuntimeTriple();
  bool threads = opts.threads && os;
  if (threads && !hasThreadPool(name))
    return Error(
        "this gradc has no thread pool for " + name +
        ": it was built without that triple's C headers (bash tools/setup.sh --cross "
        "installs them; then re-run cmake and rebuild gradc), or compile with --no-threads");
  llvm::TargetOptions to;
  if (info)
    to.MCOptions.ABIName = info->abi;
  // Bare metal: a section per function and constant, so that the linker's
  // --gc-sections keeps only the entry points a firmware calls.
  to.FunctionSections = to.DataSections = !os;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, to, os ? llvm::Reloc::PIC_ : llvm::Reloc::Static, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return Error("cannot create a target machine for " + triple + " (cpu " + cpu + ")");
  if (facts) {
    facts->triple = name;
    facts->os = os;
    facts->threads = threads;
    facts->alignment = info ? info->alignment : plan::kAlignment;
    facts->pointer_bytes = int(tm->getPointerSize(0));
  }
  return tm;
}

std::unique_ptr<llvm::Module> lowerFor(const ir::Module &m, llvm::LLVMContext &ctx,
                                       const EmitOptions &opts, llvm::TargetMachine &tm,
                                       const TargetFacts &facts) {
  LowerOptions lo;
  lo.plan = opts.plan;
  lo.cpu = opts.cpu;
  lo.triple = facts.triple;
  lo.threads = facts.threads;
  lo.alignment = facts.alignment;
  lo.vector_floats = opts.vector_floats > 0 ? opts.vector_floats : vectorFloats(tm);
  lo.vector_registers = opts.vector_registers > 0 ? opts.vector_registers : vectorRegisters(tm);
  if (opts.caches.l1 > 0)
    lo.caches = opts.caches;
  else if (opts.cpu == "native")
    lo.caches = hostCacheSizes();
  lo.packed_wrappers = opts.packed_wrappers;
  lo.profile_kernels = opts.profile_kernels;
  std::unique_ptr<llvm::Module> mod = lowerModule(m, ctx, lo);
  // A microcontroller's flash is small and its core has no cache for unrolled
  // loops to fill: optimise for size (LLVM's -Os) where there is no OS.
  if (!facts.os)
    for (llvm::Function &fn : *mod)
      if (!fn.isDeclaration())
        fn.addFnAttr(llvm::Attribute::OptimizeForSize);
  return mod;
}

/// Optimises `mod` and appends its object code (or assembly) to `out`.
Status emitCode(llvm::Module &mod, llvm::TargetMachine &tm, llvm::CodeGenFileType type,
                llvm::SmallVectorImpl<char> &out) {
  optimizeModule(mod, tm);
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type))
    return Error("the LLVM target cannot emit this file type");
  pm.run(mod);
  return Status::ok();
}

Expected<std::string> emitToString(const ir::Module &m, const EmitOptions &opts) {
  TargetFacts facts;
  GRADC_TRY(tm, makeTargetMachine(opts, &facts));
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> mod = lowerFor(m, ctx, opts, *tm, facts);
  llvm::SmallString<0> buffer;
  if (opts.kind == EmitOptions::Kind::Llvm) {
    optimizeModule(*mod, *tm);
    llvm::raw_svector_ostream os(buffer);
    mod->print(os, nullptr);
    return std::string(buffer.str());
  }
  GRADC_TRY_STATUS(emitCode(*mod, *tm,
                            opts.kind == EmitOptions::Kind::Asm
                                ? llvm::CodeGenFileType::AssemblyFile
                                : llvm::CodeGenFileType::ObjectFile,
                            buffer));
  return std::string(buffer.str());
}

/// Cuts `mod` into at most `parts` modules, returned as bitcode so that each
/// can be read into a context of its own. Functions are dealt largest first
/// to the least loaded part; local functions become hidden globals so that
/// parts can call each other; local constants are copied into every part,
/// mutable globals go to the first part.
std::vector<llvm::SmallVector<char, 0>> splitModule(llvm::Module &mod, int parts) {
  std::vector<std::pair<size_t, llvm::Function *>> sized;
  for (llvm::Function &fn : mod) {
    if (fn.isDeclaration())
      continue;
    if (fn.hasLocalLinkage()) {
      fn.setLinkage(llvm::GlobalValue::ExternalLinkage);
      fn.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
    // By instruction count before O2. Cleanup-only functions were weighed at
    // 3/4 (a quarter of the passes), but the convolution kernels are among
    // them and take the longest an instruction (our_cnn's conv2 about 75 us,
    // the micro-kernel 17): weighed alike, our_cnn's parts balanced better
    // (cold compile 187-195 -> 171-183 ms) and no model's worse.
    sized.emplace_back(fn.getInstructionCount(), &fn);
  }
  // Mutable globals (the thread pool's state) live in the first part only,
  // visible to the others.
  std::map<const llvm::GlobalValue *, size_t> part;
  for (llvm::GlobalVariable &gv : mod.globals()) {
    if (gv.isDeclaration() || (gv.isConstant() && gv.hasLocalLinkage()))
      continue;
    if (gv.hasLocalLinkage()) {
      gv.setLinkage(llvm::GlobalValue::ExternalLinkage);
      gv.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
    part[&gv] = 0;
  }
  std::stable_sort(sized.begin(), sized.end(),
                   [](const auto &x, const auto &y) { return x.first > y.first; });
  std::vector<size_t> load(size_t(std::max(parts, 1)), 0);
  for (const auto &[size, fn] : sized) {
    size_t p = size_t(std::min_element(load.begin(), load.end()) - load.begin());
    load[p] += size;
    part[fn] = p;
  }
  std::vector<llvm::SmallVector<char, 0>> out;
  for (size_t p = 0; p < load.size(); ++p) {
    if (load[p] == 0)
      continue;
    llvm::ValueToValueMapTy map;
    std::unique_ptr<llvm::Module> piece =
        llvm::CloneModule(mod, map, [&](const llvm::GlobalValue *gv) {
          auto it = part.find(gv);
          return it == part.end() ? gv->hasLocalLinkage() : it->second == p;
        });
    llvm::raw_svector_ostream os(out.emplace_back());
    llvm::WriteBitcodeToFile(*piece, os);
  }
  return out;
}

/// Reads one part back into a context of its own and compiles it to `out`.
Status compilePart(const llvm::SmallVector<char, 0> &bitcode, llvm::TargetMachine &tm,
                   std::string &out) {
  llvm::LLVMContext ctx;
  llvm::MemoryBufferRef ref(llvm::StringRef(bitcode.data(), bitcode.size()), "part");
  llvm::Expected<std::unique_ptr<llvm::Module>> piece = llvm::parseBitcodeFile(ref, ctx);
  GRADC_CHECK(bool(piece), "cannot read back a module part: " + llvm::toString(piece.takeError()));
  llvm::SmallString<0> obj;
  GRADC_TRY_STATUS(emitCode(**piece, tm, llvm::CodeGenFileType::ObjectFile, obj));
  out = std::string(obj.str());
  return Status::ok();
}

} // namespace

Expected<std::vector<std::string>> compileObjects(const ir::Module &m, const EmitOptions &opts,
                                                  int threads) {
  TargetFacts facts;
  GRADC_TRY(tm, makeTargetMachine(opts, &facts));
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> mod = lowerFor(m, ctx, opts, *tm, facts);
  if (threads <= 1) {
    llvm::SmallString<0> obj;
    GRADC_TRY_STATUS(emitCode(*mod, *tm, llvm::CodeGenFileType::ObjectFile, obj));
    return std::vector<std::string>{std::string(obj.str())};
  }
  // Two parts a thread, taken from a queue: the parts' compile times differ
  // by more than their sizes say, and a thread that finishes early takes the
  // next (measured 5-7% faster than one part a thread on the CNNs).
  std::vector<llvm::SmallVector<char, 0>> parts = splitModule(*mod, 2 * threads);
  std::vector<std::string> objects(parts.size());
  std::vector<Status> status(parts.size(), Status::ok());
  std::vector<std::thread> workers;
  std::atomic<size_t> next{0};
  for (int w = 0; w < threads; ++w)
    workers.emplace_back([&] {
      // One target machine a worker, for all its parts (3-5 ms of our_cnn's
      // cold compile when each part made its own).
      Expected<std::unique_ptr<llvm::TargetMachine>> wtm = makeTargetMachine(opts);
      for (size_t p; (p = next.fetch_add(1)) < parts.size();)
        status[p] = wtm ? compilePart(parts[p], **wtm, objects[p]) : Status(wtm.error());
    });
  for (std::thread &t : workers)
    t.join();
  for (const Status &st : status)
    GRADC_TRY_STATUS(st);
  return objects;
}

Expected<TargetFacts> targetFacts(const EmitOptions &opts) {
  TargetFacts facts;
  GRADC_TRY(tm, makeTargetMachine(opts, &facts));
  (void)tm;
  return facts;
}

Status emitModule(const ir::Module &m, const EmitOptions &opts, const std::string &path) {
  GRADC_TRY(data, emitToString(m, opts));
  return support::writeFileAtomic(path, data);
}

Expected<std::string> emitModuleData(const ir::Module &m, const EmitOptions &opts) {
  return emitToString(m, opts);
}

Expected<ObjectFootprint> objectFootprint(const std::string &object) {
  llvm::MemoryBufferRef ref(llvm::StringRef(object.data(), object.size()), "object");
  llvm::Expected<std::unique_ptr<llvm::object::ObjectFile>> obj =
      llvm::object::ObjectFile::createObjectFile(ref);
  if (!obj)
    return Error("not an object file: " + llvm::toString(obj.takeError()));
  if (!llvm::isa<llvm::object::ELFObjectFileBase>(**obj))
    return Error("not an ELF object: its footprint is not measured");
  ObjectFootprint fp;
  for (const llvm::object::SectionRef &s : (*obj)->sections()) {
    llvm::Expected<llvm::StringRef> name = s.getName();
    bool debug = !name || name->starts_with(".debug") || s.isDebugSection();
    // Only what a program keeps: code, constants and data (ELF SHF_ALLOC).
    if (debug || !(llvm::object::ELFSectionRef(s).getFlags() & llvm::ELF::SHF_ALLOC))
      continue;
    bool writable = llvm::object::ELFSectionRef(s).getFlags() & llvm::ELF::SHF_WRITE;
    if (!s.isBSS())
      fp.flash += int64_t(s.getSize());
    if (writable)
      fp.static_ram += int64_t(s.getSize());
  }
  return fp;
}

Expected<std::string> dumpLLVM(const ir::Module &m, const EmitOptions &opts) {
  EmitOptions o = opts;
  o.kind = EmitOptions::Kind::Llvm;
  return emitToString(m, o);
}

Expected<std::string> dumpAsm(const ir::Module &m, const EmitOptions &opts) {
  EmitOptions o = opts;
  o.kind = EmitOptions::Kind::Asm;
  return emitToString(m, o);
}

} // namespace gradc::codegen
