// TargetMachine setup, the O2 pipeline and emission of object, assembly or
// IR text; files are written to a temporary name and renamed into place.
#include "codegen/target.h"

#include "support/files.h"

#include "codegen/lower.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace gradc::codegen {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

void optimizeModule(llvm::Module &mod, llvm::TargetMachine &tm) {
  mod.setTargetTriple(tm.getTargetTriple().str());
  mod.setDataLayout(tm.createDataLayout());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  // O2, not O3: on these kernels it compiles about a third faster and the
  // code measured as fast or faster (bench, all four shared models).
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  mpm.run(mod, mam);
}

int vectorFloats(const llvm::TargetMachine &tm) {
  const llvm::MCSubtargetInfo *sti = tm.getMCSubtargetInfo();
  if (sti->checkFeatures("+avx512f"))
    return 16;
  if (sti->checkFeatures("+avx"))
    return 8;
  return 4;
}

int vectorRegisters(const llvm::TargetMachine &tm) {
  return tm.getMCSubtargetInfo()->checkFeatures("+avx512f") ? 32 : 16;
}

namespace {

std::string hostFeatures() {
  std::string out;
  for (const auto &[name, on] : llvm::sys::getHostCPUFeatures())
    out += (out.empty() ? "" : ",") + std::string(on ? "+" : "-") + name.str();
  return out;
}

Expected<std::unique_ptr<llvm::TargetMachine>> makeTargetMachine(const EmitOptions &opts) {
  initializeNativeTarget();
  bool native = opts.cpu == "native";
  std::string triple = native ? llvm::sys::getProcessTriple() : llvm::sys::getDefaultTargetTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return Error("no LLVM target for " + triple + ": " + error);
  std::string cpu = native ? llvm::sys::getHostCPUName().str() : opts.cpu;
  std::string features = native ? hostFeatures() : "";
  if (!opts.features.empty())
    features += (features.empty() ? "" : ",") + opts.features;
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(triple, "", ""));
  if (!sti || !sti->isCPUStringValid(cpu))
    return Error("unknown target CPU '" + opts.cpu + "' for " + triple);
  llvm::TargetOptions to;
  std::unique_ptr<llvm::TargetMachine> tm(
      target->createTargetMachine(triple, cpu, features, to, llvm::Reloc::PIC_, std::nullopt,
                                  llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return Error("cannot create a target machine for " + triple + " (cpu " + cpu + ")");
  return tm;
}

std::unique_ptr<llvm::Module> lowerFor(const ir::Module &m, llvm::LLVMContext &ctx,
                                       const EmitOptions &opts, llvm::TargetMachine &tm) {
  LowerOptions lo;
  lo.plan = opts.plan;
  lo.cpu = opts.cpu;
  lo.vector_floats = opts.vector_floats > 0 ? opts.vector_floats : vectorFloats(tm);
  lo.vector_registers = opts.vector_registers > 0 ? opts.vector_registers : vectorRegisters(tm);
  if (getenv("GRADC_VREGS"))
    lo.vector_registers = atoi(getenv("GRADC_VREGS"));
  if (opts.caches.l1 > 0)
    lo.caches = opts.caches;
  else if (opts.cpu == "native")
    lo.caches = hostCacheSizes();
  lo.packed_wrappers = opts.packed_wrappers;
  lo.profile_kernels = opts.profile_kernels;
  return lowerModule(m, ctx, lo);
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
  GRADC_TRY(tm, makeTargetMachine(opts));
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> mod = lowerFor(m, ctx, opts, *tm);
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
Status compilePart(const llvm::SmallVector<char, 0> &bitcode, const EmitOptions &opts,
                   std::string &out) {
  GRADC_TRY(tm, makeTargetMachine(opts));
  llvm::LLVMContext ctx;
  llvm::MemoryBufferRef ref(llvm::StringRef(bitcode.data(), bitcode.size()), "part");
  llvm::Expected<std::unique_ptr<llvm::Module>> piece = llvm::parseBitcodeFile(ref, ctx);
  GRADC_CHECK(bool(piece), "cannot read back a module part: " + llvm::toString(piece.takeError()));
  llvm::SmallString<0> obj;
  GRADC_TRY_STATUS(emitCode(**piece, *tm, llvm::CodeGenFileType::ObjectFile, obj));
  out = std::string(obj.str());
  return Status::ok();
}

} // namespace

Expected<std::vector<std::string>> compileObjects(const ir::Module &m, const EmitOptions &opts,
                                                  int threads) {
  GRADC_TRY(tm, makeTargetMachine(opts));
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> mod = lowerFor(m, ctx, opts, *tm);
  if (threads <= 1) {
    llvm::SmallString<0> obj;
    GRADC_TRY_STATUS(emitCode(*mod, *tm, llvm::CodeGenFileType::ObjectFile, obj));
    return std::vector<std::string>{std::string(obj.str())};
  }
  std::vector<llvm::SmallVector<char, 0>> parts = splitModule(*mod, threads);
  std::vector<std::string> objects(parts.size());
  std::vector<Status> status(parts.size(), Status::ok());
  std::vector<std::thread> workers;
  for (size_t p = 0; p < parts.size(); ++p)
    workers.emplace_back([&, p] { status[p] = compilePart(parts[p], opts, objects[p]); });
  for (std::thread &t : workers)
    t.join();
  for (const Status &st : status)
    GRADC_TRY_STATUS(st);
  return objects;
}

Status emitModule(const ir::Module &m, const EmitOptions &opts, const std::string &path) {
  GRADC_TRY(data, emitToString(m, opts));
  return support::writeFileAtomic(path, data);
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
