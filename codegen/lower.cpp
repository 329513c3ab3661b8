// Lowers IR functions to LLVM by their execution plan: binds every value in
// memory to its home (argument, result buffer, arena offset, alias, the
// parameter it updates), emits each kernel as its own internal function with
// one noalias pointer per distinct buffer it touches, calls the kernels in
// order, then copies the results and updates that were not written in place;
// last links in the runtime library (the thread pool) that kernels call.
#include "codegen/lower.h"

#include "codegen/abi.h"
#include "codegen/emit.h"
#include "codegen/rtlib.h"
#include "plan/plan.h"

#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/Verifier.h>

#include <algorithm>
#include <llvm/Support/raw_ostream.h>
#include <map>
#include <unistd.h>

namespace gradc::codegen {

llvm::Value *EmitContext::entryAlloca(const char *name, llvm::Type *type) {
  llvm::BasicBlock &entry = b.GetInsertBlock()->getParent()->getEntryBlock();
  llvm::IRBuilder<> eb(&entry, entry.begin());
  return eb.CreateAlloca(type ? type : f32Ty(), nullptr, name);
}

void EmitContext::zero(ir::ValueId v) {
  b.CreateMemSet(ptr[size_t(v)], b.getInt8(0), i64(f.type(v).byteSize()), llvm::MaybeAlign(4));
}

llvm::Value *EmitContext::loadLanes(ir::ValueId v, llvm::Value *flat, unsigned lanes,
                                    llvm::Value *mask) {
  auto *vecTy = llvm::FixedVectorType::get(f32Ty(), lanes);
  llvm::Value *at = b.CreateInBoundsGEP(f32Ty(), ptr[size_t(v)], flat);
  if (!mask)
    return b.CreateAlignedLoad(vecTy, at, llvm::Align(4));
  return b.CreateMaskedLoad(vecTy, at, llvm::Align(4), mask, llvm::Constant::getNullValue(vecTy));
}

void EmitContext::storeLanes(ir::ValueId v, llvm::Value *flat, llvm::Value *x, llvm::Value *mask) {
  if (!x->getType()->isVectorTy())
    return store(v, flat, x);
  storeLanesAt(ptr[size_t(v)], flat, x, mask);
}

void EmitContext::storeLanesAt(llvm::Value *base, llvm::Value *flat, llvm::Value *x,
                               llvm::Value *mask) {
  llvm::Value *at = b.CreateInBoundsGEP(f32Ty(), base, flat);
  if (!mask)
    b.CreateAlignedStore(x, at, llvm::Align(4));
  else
    b.CreateMaskedStore(x, at, llvm::Align(4), mask);
}

llvm::Value *EmitContext::callLibm(const char *name, llvm::Value *x) {
  llvm::FunctionCallee callee = module.getOrInsertFunction(name, f32Ty(), f32Ty());
  if (auto *fn = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    fn->setDoesNotThrow();
    fn->setWillReturn();
  }
  return b.CreateCall(callee, {x});
}

namespace {

llvm::Function *declareFunction(llvm::Module &mod, const FunctionAbi &abi, int64_t alignment) {
  llvm::LLVMContext &ctx = mod.getContext();
  std::vector<llvm::Type *> types;
  for (const AbiParam &p : abi.params)
    types.push_back(p.kind == AbiParam::Kind::Scalar ? llvm::Type::getFloatTy(ctx)
                                                     : llvm::PointerType::get(ctx, 0));
  auto *fty = llvm::FunctionType::get(llvm::Type::getFloatTy(ctx), types, false);
  auto *fn = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, abi.symbol, mod);
  fn->setDoesNotThrow();
  for (size_t i = 0; i < abi.params.size(); ++i) {
    const AbiParam &p = abi.params[i];
    llvm::Argument *a = fn->getArg(unsigned(i));
    a->setName(p.c_name);
    if (p.kind == AbiParam::Kind::Scalar)
      continue;
    a->addAttr(llvm::Attribute::NoAlias);
    if (p.is_const)
      a->addAttr(llvm::Attribute::ReadOnly);
    if (p.kind == AbiParam::Kind::Scratch)
      a->addAttr(llvm::Attribute::getWithAlignment(ctx, llvm::Align(uint64_t(alignment))));
  }
  return fn;
}

/// The LLVM argument of each ABI parameter kind (Params, Grads, State, Scratch).
struct Buffers {
  llvm::Value *params = nullptr, *grads = nullptr, *state = nullptr, *scratch = nullptr;
  /// By arg / result index; a parameter's, gradient's or state's slot is
  /// computed on first use (argPtr, resultPtr).
  std::vector<llvm::Value *> arg_ptr, result_ptr;
  const plan::ModulePlan *layout = nullptr;
};

llvm::Value *slotPtr(EmitContext &c, llvm::Value *base, const std::vector<plan::TensorSlot> &slots,
                     const std::string &name) {
  const plan::TensorSlot *s = plan::ModulePlan::find(slots, name);
  GRADC_CHECK(s && base, "no buffer slot for tensor " + name);
  return c.b.CreateConstInBoundsGEP1_64(c.b.getInt8Ty(), base, uint64_t(s->offset), name);
}

/// Binds every argument and result of f to a pointer.
Buffers bindBuffers(EmitContext &c, llvm::Function *fn, const FunctionAbi &abi,
                    const plan::ModulePlan &ml) {
  const ir::Function &f = c.f;
  Buffers buf;
  buf.arg_ptr.assign(f.args().size(), nullptr);
  buf.result_ptr.assign(f.results().size(), nullptr);
  for (size_t i = 0; i < abi.params.size(); ++i) {
    const AbiParam &p = abi.params[i];
    llvm::Value *a = fn->getArg(unsigned(i));
    switch (p.kind) {
    case AbiParam::Kind::Params:
      buf.params = a;
      break;
    case AbiParam::Kind::Grads:
      buf.grads = a;
      break;
    case AbiParam::Kind::State:
      buf.state = a;
      break;
    case AbiParam::Kind::Scratch:
      buf.scratch = a;
      break;
    case AbiParam::Kind::Input:
      buf.arg_ptr[size_t(p.index)] = a;
      break;
    case AbiParam::Kind::Scalar: {
      llvm::Value *slot = c.entryAlloca(p.c_name.c_str());
      c.b.CreateStore(a, slot);
      buf.arg_ptr[size_t(p.index)] = slot;
      break;
    }
    case AbiParam::Kind::Output:
      buf.result_ptr[size_t(p.index)] = a;
      break;
    }
  }
  buf.layout = &ml;
  return buf;
}

/// Argument i's pointer: an ABI parameter's, or its slot in the packed
/// params, grads or state (emitted on first use, at the builder's position).
llvm::Value *argPtr(EmitContext &c, Buffers &buf, size_t i) {
  llvm::Value *&p = buf.arg_ptr[i];
  if (p)
    return p;
  const ir::Arg &a = c.f.args()[i];
  const plan::ModulePlan &ml = *buf.layout;
  if (a.role == ir::ArgRole::Param)
    p = slotPtr(c, buf.params, ml.params, a.name);
  else if (a.role == ir::ArgRole::Grad)
    p = slotPtr(c, buf.grads, ml.params, gradTarget(a.name));
  else if (a.role == ir::ArgRole::State)
    p = slotPtr(c, buf.state, ml.state, a.name);
  GRADC_CHECK(p, "argument " + a.name + " without a buffer");
  return p;
}

/// Result r's pointer: an output parameter, or a gradient's slot (on first use).
llvm::Value *resultPtr(EmitContext &c, Buffers &buf, size_t r) {
  llvm::Value *&p = buf.result_ptr[r];
  if (!p && c.f.results()[r].role == ir::ResultRole::Grad)
    p = slotPtr(c, buf.grads, buf.layout->params, gradTarget(c.f.results()[r].name));
  return p;
}

/// Binds values to their base pointers on first use (c.ptr; nullptr for
/// registers). Arena values at one offset share one pointer, so kernels can
/// tell buffers apart. Binding on use keeps a function's pointers to what its
/// kernels touch: a segment of a long function (lowerFunction) computes its own.
class Binder {
public:
  Binder(EmitContext &c, Buffers &buf, const plan::FunctionPlan &fp) : c_(c), buf_(buf), fp_(fp) {
    c.ptr.assign(c.f.values().size(), nullptr);
  }

  llvm::Value *bind(ir::ValueId v) {
    llvm::Value *&p = c_.ptr[size_t(v)];
    if (p)
      return p;
    const plan::ValuePlan &vp = fp_.values[size_t(v)];
    switch (vp.home) {
    case plan::Home::Register:
      return nullptr;
    case plan::Home::Arg:
    case plan::Home::Update:
      p = argPtr(c_, buf_, size_t(vp.index));
      break;
    case plan::Home::Result:
      p = resultPtr(c_, buf_, size_t(vp.index));
      break;
    case plan::Home::Arena: {
      llvm::Value *&a = arena_[vp.offset];
      if (!a)
        a = c_.b.CreateConstInBoundsGEP1_64(c_.b.getInt8Ty(), buf_.scratch, uint64_t(vp.offset));
      p = a;
      break;
    }
    case plan::Home::Alias:
      GRADC_CHECK(vp.index < v, "alias of a later value");
      p = bind(ir::ValueId(vp.index));
      break;
    }
    GRADC_CHECK(p, "value without a buffer in " + c_.f.name());
    return p;
  }

  /// Every value that kernel k's nodes read or write.
  void bindKernel(const plan::Kernel &k) {
    for (int32_t i = k.first; i < k.end; ++i) {
      const ir::Node &n = c_.f.nodes()[size_t(i)];
      for (ir::ValueId o : n.operands)
        bind(o);
      bind(n.result);
    }
  }

private:
  EmitContext &c_;
  Buffers &buf_;
  const plan::FunctionPlan &fp_;
  std::map<int64_t, llvm::Value *> arena_;
};

/// Everything a kernel's code depends on, as text: its kind and space, and
/// per node the op, attributes and types, operands (a node of the kernel, or
/// a buffer argument and type), and where the result goes. Kernels with equal
/// signatures share one LLVM function, so a model that repeats a layer
/// compiles its code once (compile time follows the distinct kernels).
std::string kernelSignature(const EmitContext &c, const plan::FunctionPlan &fp,
                            const plan::Kernel &k, const std::vector<llvm::Value *> &bufs) {
  auto bufIndex = [&](ir::ValueId v) {
    auto it = std::find(bufs.begin(), bufs.end(), c.ptr[size_t(v)]);
    return it == bufs.end() ? std::string("r") : "b" + std::to_string(it - bufs.begin());
  };
  std::string sig = std::string(plan::kernelKindName(k.kind)) + ir::shapeStr(k.space) + "|";
  for (int32_t i = k.first; i < k.end; ++i) {
    const ir::Node &n = c.f.nodes()[size_t(i)];
    sig += ir::opName(n.op);
    for (const auto &spec : ir::opInfo(n.op).attrs)
      if (const ir::AttrValue *a = n.attrs.find(spec.name))
        sig += "," + ir::attrValueStr(*a);
    for (ir::ValueId o : n.operands) {
      int32_t node = c.f.value(o).node;
      sig += node >= k.first && node < k.end ? " n" + std::to_string(node - k.first)
                                             : " " + bufIndex(o) + c.f.type(o).str();
    }
    const plan::ValuePlan &vp = fp.values[size_t(n.result)];
    sig += " ->" + c.f.type(n.result).str() + bufIndex(n.result) +
           (vp.home == plan::Home::Alias ? "a" : "") + ";";
  }
  return sig;
}

/// Emits kernel `k` as `internal void <symbol>.k<i>(ptr noalias...)` over the
/// distinct buffers it touches (or reuses an equal kernel's function), and
/// calls it from the entry point.
void emitKernelCall(EmitContext &c, const FunctionAbi &abi, const plan::FunctionPlan &fp,
                    size_t index, llvm::Value *scratch, int vw,
                    std::map<std::string, llvm::Function *> &emitted) {
  const plan::Kernel &k = fp.kernels[index];
  std::vector<llvm::Value *> bufs; // distinct base pointers, in first-use order
  auto touch = [&](ir::ValueId v) {
    llvm::Value *p = c.ptr[size_t(v)];
    if (p && std::find(bufs.begin(), bufs.end(), p) == bufs.end())
      bufs.push_back(p);
  };
  for (int32_t i = k.first; i < k.end; ++i) {
    const ir::Node &n = c.f.nodes()[size_t(i)];
    for (ir::ValueId o : n.operands)
      touch(o);
    touch(n.result);
  }
  // The workspace, if any, is the last argument.
  size_t nbufs = bufs.size();
  if (k.workspace_bytes > 0)
    bufs.push_back(
        c.b.CreateConstInBoundsGEP1_64(c.b.getInt8Ty(), scratch, uint64_t(k.workspace_offset)));
  std::string sig = kernelSignature(c, fp, k, bufs) + "|ws" + std::to_string(k.workspace_bytes) +
                    "|vw" + std::to_string(vw);
  llvm::Function *&kfn = emitted[sig];
  if (!kfn) {
    llvm::LLVMContext &ctx = c.module.getContext();
    llvm::Type *ptrTy = llvm::PointerType::get(ctx, 0);
    auto *fty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                        std::vector<llvm::Type *>(bufs.size(), ptrTy), false);
    kfn = llvm::Function::Create(fty, llvm::Function::InternalLinkage,
                                 abi.symbol + ".k" + std::to_string(index), c.module);
    kfn->setDoesNotThrow();
    kfn->addFnAttr(llvm::Attribute::NoInline);
    for (size_t i = 0; i < bufs.size(); ++i) {
      kfn->getArg(unsigned(i))->addAttr(llvm::Attribute::NoAlias);
      kfn->getArg(unsigned(i))->addAttr(llvm::Attribute::NoCapture);
    }
    llvm::IRBuilder<> kb(llvm::BasicBlock::Create(ctx, "entry", kfn));
    EmitContext kc = c.child(kb);
    for (size_t v = 0; v < c.ptr.size(); ++v) {
      auto it = std::find(bufs.begin(), bufs.begin() + long(nbufs), c.ptr[v]);
      if (c.ptr[v] && it != bufs.begin() + long(nbufs))
        kc.ptr[v] = kfn->getArg(unsigned(it - bufs.begin()));
    }
    emitKernel(kc, fp, k, k.workspace_bytes > 0 ? kfn->getArg(unsigned(nbufs)) : nullptr, vw);
    kb.CreateRetVoid();
  }
  c.b.CreateCall(kfn, bufs);
}

void copyValue(EmitContext &c, llvm::Value *dst, ir::ValueId v) {
  if (dst == c.ptr[size_t(v)])
    return;
  c.b.CreateMemCpy(dst, llvm::MaybeAlign(4), c.ptr[size_t(v)], llvm::MaybeAlign(4),
                   c.i64(c.f.type(v).byteSize()));
}

/// Copies results not computed in place, reads the loss, then applies the
/// updates last so that no earlier read sees a new parameter value.
llvm::Value *emitEpilogue(EmitContext &c, Buffers &buf, Binder &bind) {
  llvm::Value *loss = nullptr;
  const auto &results = c.f.results();
  for (size_t r = 0; r < results.size(); ++r) {
    const ir::Result &res = results[r];
    bind.bind(res.value);
    if (res.role == ir::ResultRole::Loss && !loss)
      loss = c.load(res.value, c.i64(0));
    else if (res.role != ir::ResultRole::Update)
      copyValue(c, resultPtr(c, buf, r), res.value); // nothing when written in place
  }
  for (const ir::Result &res : results)
    if (res.role == ir::ResultRole::Update)
      copyValue(c, argPtr(c, buf, size_t(res.updates)), res.value);
  return loss ? loss : c.f32(0);
}

/// With profiling on (`function` >= 0), calls gradc_profile_tick(function, point).
void emitProfileTick(EmitContext &c, int32_t function, size_t point) {
  if (function < 0)
    return;
  llvm::Type *i32 = c.b.getInt32Ty();
  llvm::FunctionCallee tick = c.module.getOrInsertFunction(
      "gradc_profile_tick", llvm::FunctionType::get(c.b.getVoidTy(), {i32, i32}, false));
  c.b.CreateCall(tick, {c.b.getInt32(uint32_t(function)), c.b.getInt32(uint32_t(point))});
}

/// On x86, subnormal floats flushed to zero, in results (FTZ) and operands
/// (DAZ), for the duration of a call: an operation on them takes a microcode
/// assist of about a hundred cycles on Intel cores, and a model trained near
/// convergence produces them (mlp_fashion's train step on a learnt batch:
/// 0.57 -> 0.77 ms). TensorFlow and oneDNN flush them the same way. Returns
/// the caller's MXCSR, which leaveFlushToZero restores; null elsewhere.
llvm::Value *enterFlushToZero(EmitContext &c, const std::string &triple) {
  if (triple.rfind("x86_64", 0) != 0)
    return nullptr;
  auto *stmxcsr = llvm::Intrinsic::getDeclaration(&c.module, llvm::Intrinsic::x86_sse_stmxcsr);
  auto *ldmxcsr = llvm::Intrinsic::getDeclaration(&c.module, llvm::Intrinsic::x86_sse_ldmxcsr);
  llvm::Value *saved = c.entryAlloca("mxcsr", c.b.getInt32Ty());
  llvm::Value *mode = c.entryAlloca("mxcsr.ftz", c.b.getInt32Ty());
  c.b.CreateCall(stmxcsr, {saved});
  c.b.CreateStore(c.b.CreateOr(c.b.CreateLoad(c.b.getInt32Ty(), saved), c.b.getInt32(0x8040)),
                  mode);
  c.b.CreateCall(ldmxcsr, {mode});
  return saved;
}

void leaveFlushToZero(EmitContext &c, llvm::Value *saved) {
  if (saved)
    c.b.CreateCall(llvm::Intrinsic::getDeclaration(&c.module, llvm::Intrinsic::x86_sse_ldmxcsr),
                   {saved});
}

/// Kernels a function calls from one LLVM function (more: segments).
constexpr size_t kSegmentKernels = 64;

/// `profile`: the function's index for gradc_profile_tick, or -1 for no profiling.
void lowerFunction(llvm::Module &mod, const ir::Module &m, const ir::Function &f,
                   const plan::ModulePlan &mp, const plan::FunctionPlan &fp,
                   const LowerOptions &opts, std::map<std::string, llvm::Function *> &emitted,
                   int32_t profile) {
  FunctionAbi abi = functionAbi(m, f);
  llvm::Function *fn =
      declareFunction(mod, abi, opts.alignment > 0 ? opts.alignment : plan::kAlignment);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(mod.getContext(), "entry", fn));
  EmitContext c{b, mod, f, {}, opts.vector_registers, opts.caches, opts.threads};
  llvm::Value *fp_mode =
      enterFlushToZero(c, opts.triple.empty() ? hostRuntimeTriple() : opts.triple);
  // A long function calls its kernels from segment functions of
  // kSegmentKernels kernels each, which bind their own pointers: in one
  // function, the pointers of values that live from the forward pass to the
  // backward one stay live across thousands of calls, and register
  // allocation grows with their product (a 2000-layer tanh chain: 17 s).
  // Kernels [lo, hi) bound and called from the function `kc` builds.
  auto callKernels = [&](EmitContext &kc, Buffers &kbuf, Binder &kbind, size_t lo, size_t hi) {
    for (size_t k = lo; k < hi; ++k) {
      kbind.bindKernel(fp.kernels[k]);
      emitProfileTick(kc, profile, k);
      emitKernelCall(kc, abi, fp, k, kbuf.scratch, opts.vector_floats, emitted);
    }
  };
  const bool segmented = fp.kernels.size() > kSegmentKernels;
  if (segmented) {
    std::vector<llvm::Type *> types(fn->getFunctionType()->param_begin(),
                                    fn->getFunctionType()->param_end());
    auto *sty = llvm::FunctionType::get(b.getVoidTy(), types, false);
    std::vector<llvm::Value *> args;
    for (llvm::Argument &a : fn->args())
      args.push_back(&a);
    for (size_t lo = 0; lo < fp.kernels.size(); lo += kSegmentKernels) {
      auto *sf =
          llvm::Function::Create(sty, llvm::Function::InternalLinkage,
                                 abi.symbol + ".s" + std::to_string(lo / kSegmentKernels), mod);
      sf->setDoesNotThrow();
      sf->addFnAttr(llvm::Attribute::NoInline);
      for (unsigned i = 0; i < fn->arg_size(); ++i)
        sf->addParamAttrs(
            i, llvm::AttrBuilder(mod.getContext(), fn->getAttributes().getParamAttrs(i)));
      llvm::IRBuilder<> sb(llvm::BasicBlock::Create(mod.getContext(), "entry", sf));
      EmitContext sc = c.child(sb);
      Buffers sbuf = bindBuffers(sc, sf, abi, mp);
      Binder sbind(sc, sbuf, fp);
      callKernels(sc, sbuf, sbind, lo, std::min(fp.kernels.size(), lo + kSegmentKernels));
      sb.CreateRetVoid();
      b.CreateCall(sf, args);
    }
  }
  Buffers buf = bindBuffers(c, fn, abi, mp);
  Binder bind(c, buf, fp);
  if (!segmented)
    callKernels(c, buf, bind, 0, fp.kernels.size());
  emitProfileTick(c, profile, fp.kernels.size());
  llvm::Value *ret = emitEpilogue(c, buf, bind);
  emitProfileTick(c, profile, fp.kernels.size() + 1);
  leaveFlushToZero(c, fp_mode);
  b.CreateRet(ret);
}

/// float NAME_packed(void **ptrs, const float *scalars) { return NAME(...); }
void emitPackedWrapper(llvm::Module &mod, const FunctionAbi &abi) {
  llvm::LLVMContext &ctx = mod.getContext();
  llvm::Function *inner = mod.getFunction(abi.symbol);
  llvm::Type *ptrTy = llvm::PointerType::get(ctx, 0), *f32Ty = llvm::Type::getFloatTy(ctx);
  auto *fty = llvm::FunctionType::get(f32Ty, {ptrTy, ptrTy}, false);
  auto *fn = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, packedSymbol(abi), mod);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  std::vector<llvm::Value *> args;
  uint64_t np = 0, ns = 0;
  for (const AbiParam &p : abi.params) {
    bool scalar = p.kind == AbiParam::Kind::Scalar;
    llvm::Value *base = fn->getArg(scalar ? 1 : 0);
    llvm::Type *ty = scalar ? f32Ty : ptrTy;
    args.push_back(b.CreateLoad(ty, b.CreateConstInBoundsGEP1_64(ty, base, scalar ? ns++ : np++)));
  }
  b.CreateRet(b.CreateCall(inner, args));
}

} // namespace

CacheSizes hostCacheSizes() {
  CacheSizes c;
  auto read = [](int name, int64_t &to) {
    long v = sysconf(name);
    if (v > 0)
      to = v;
  };
  read(_SC_LEVEL1_DCACHE_SIZE, c.l1);
  read(_SC_LEVEL2_CACHE_SIZE, c.l2);
  read(_SC_LEVEL3_CACHE_SIZE, c.l3);
  return c;
}

std::unique_ptr<llvm::Module> lowerModule(const ir::Module &m, llvm::LLVMContext &ctx,
                                          const LowerOptions &opts) {
  auto mod = std::make_unique<llvm::Module>(cIdentifier(m.name), ctx);
  const plan::ModulePlan &mp = opts.plan ? *opts.plan : plan::buildPlan(m);
  std::map<std::string, llvm::Function *> emitted; // kernels by signature
  for (size_t i = 0; i < m.functions.size(); ++i) {
    lowerFunction(*mod, m, m.functions[i], mp, mp.functions[i], opts, emitted,
                  opts.profile_kernels ? int32_t(i) : -1);
    if (opts.packed_wrappers)
      emitPackedWrapper(*mod, functionAbi(m, m.functions[i]));
  }
  linkRuntime(*mod, cIdentifier(m.name), opts.triple.empty() ? hostRuntimeTriple() : opts.triple,
              opts.threads);
  std::string msg;
  llvm::raw_string_ostream os(msg);
  GRADC_CHECK(!llvm::verifyModule(*mod, &os), "invalid LLVM IR: " + os.str());
  return mod;
}

} // namespace gradc::codegen
