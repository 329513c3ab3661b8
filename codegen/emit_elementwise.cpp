// LLVM lowering of constants and elementwise ops: one flat loop per node
// whose body is the op's scalar formula (numerics as in ir/ops.def).
#include "codegen/emit.h"

#include <llvm/IR/Intrinsics.h>

namespace gradc::codegen {
namespace {

/// The constant v as a float, or splat over the lanes when `like` is a vector
/// (a vectorised kernel evaluates the same formulas on whole vectors).
llvm::Value *k(EmitContext &c, llvm::Value *like, double v) {
  llvm::Value *s = c.f32(v);
  if (auto *vt = llvm::dyn_cast<llvm::FixedVectorType>(like->getType()))
    return llvm::ConstantVector::getSplat(vt->getElementCount(), llvm::cast<llvm::Constant>(s));
  return s;
}

llvm::Value *intrinsic(EmitContext &c, llvm::Intrinsic::ID id, llvm::Value *x) {
  return c.b.CreateUnaryIntrinsic(id, x);
}

llvm::Value *selectGt0(EmitContext &c, llvm::Value *x, llvm::Value *pos, llvm::Value *neg) {
  return c.b.CreateSelect(c.b.CreateFCmpOGT(x, k(c, x, 0)), pos, neg);
}

/// sigmoid without overflow: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below.
llvm::Value *sigmoid(EmitContext &c, llvm::Value *x) {
  auto &b = c.b;
  llvm::Value *e =
      intrinsic(c, llvm::Intrinsic::exp, b.CreateFNeg(intrinsic(c, llvm::Intrinsic::fabs, x)));
  llvm::Value *den = b.CreateFAdd(k(c, x, 1), e);
  llvm::Value *pos = b.CreateFDiv(k(c, x, 1), den);
  llvm::Value *neg = b.CreateFDiv(e, den);
  return b.CreateSelect(b.CreateFCmpOGE(x, k(c, x, 0)), pos, neg);
}

/// softplus = max(x, 0) + log1p(exp(-|x|)).
llvm::Value *softplus(EmitContext &c, llvm::Value *x) {
  auto &b = c.b;
  llvm::Value *e =
      intrinsic(c, llvm::Intrinsic::exp, b.CreateFNeg(intrinsic(c, llvm::Intrinsic::fabs, x)));
  llvm::Value *mx = b.CreateSelect(b.CreateFCmpOLT(x, k(c, x, 0)), k(c, x, 0), x);
  return b.CreateFAdd(mx, c.callLibm("log1pf", e));
}

llvm::Value *sign(EmitContext &c, llvm::Value *x) {
  auto &b = c.b;
  llvm::Value *neg = b.CreateSelect(b.CreateFCmpOLT(x, k(c, x, 0)), k(c, x, -1), k(c, x, 0));
  return selectGt0(c, x, k(c, x, 1), neg);
}

llvm::Value *unary(EmitContext &c, const ir::Node &n, llvm::Value *x) {
  auto &b = c.b;
  switch (n.op) {
  case ir::OpKind::Exp:
    return intrinsic(c, llvm::Intrinsic::exp, x);
  case ir::OpKind::Log:
    return intrinsic(c, llvm::Intrinsic::log, x);
  case ir::OpKind::Sqrt:
    return intrinsic(c, llvm::Intrinsic::sqrt, x);
  case ir::OpKind::Abs:
    return intrinsic(c, llvm::Intrinsic::fabs, x);
  case ir::OpKind::Sign:
    return sign(c, x);
  case ir::OpKind::Relu:
    return b.CreateSelect(b.CreateFCmpOLT(x, k(c, x, 0)), k(c, x, 0), x);
  case ir::OpKind::Sigmoid:
    return sigmoid(c, x);
  case ir::OpKind::Tanh:
    return c.callLibm("tanhf", x);
  case ir::OpKind::Softplus:
    return softplus(c, x);
  case ir::OpKind::LeakyRelu:
    return selectGt0(c, x, x, b.CreateFMul(k(c, x, float(n.attrs.f("slope"))), x));
  case ir::OpKind::Step:
    return selectGt0(c, x, k(c, x, float(n.attrs.f("high"))), k(c, x, float(n.attrs.f("low"))));
  case ir::OpKind::Affine:
    return b.CreateFAdd(b.CreateFMul(k(c, x, float(n.attrs.f("scale"))), x),
                        k(c, x, float(n.attrs.f("shift"))));
  default:
    GRADC_CHECK(false, std::string("not a unary op: ") + ir::opName(n.op));
  }
}

llvm::Value *binary(EmitContext &c, const ir::Node &n, llvm::Value *x, llvm::Value *y) {
  auto &b = c.b;
  switch (n.op) {
  case ir::OpKind::Add:
    return b.CreateFAdd(x, y);
  case ir::OpKind::Sub:
    return b.CreateFSub(x, y);
  case ir::OpKind::Mul:
    return b.CreateFMul(x, y);
  case ir::OpKind::Div:
    return b.CreateFDiv(x, y);
  case ir::OpKind::SafeDiv:
    return b.CreateSelect(b.CreateFCmpOEQ(y, k(c, x, 0)), k(c, x, 0), b.CreateFDiv(x, y));
  default:
    GRADC_CHECK(false, std::string("not a binary op: ") + ir::opName(n.op));
  }
}

} // namespace

void emitConstant(EmitContext &c, const ir::Node &n) {
  llvm::Value *v = c.f32(float(n.attrs.f("value")));
  emitLoopNest(c.b, {c.f.type(n.result).numElements()},
               [&](llvm::ArrayRef<llvm::Value *> i) { c.store(n.result, i[0], v); });
}

llvm::Value *emitScalarOp(EmitContext &c, const ir::Node &n, llvm::ArrayRef<llvm::Value *> args) {
  return args.size() == 2 ? binary(c, n, args[0], args[1]) : unary(c, n, args[0]);
}

void emitElementwise(EmitContext &c, const ir::Node &n) {
  bool is_binary = n.operands.size() == 2;
  emitLoopNest(c.b, {c.f.type(n.result).numElements()}, [&](llvm::ArrayRef<llvm::Value *> i) {
    llvm::Value *x = c.load(n.operands[0], i[0]);
    llvm::Value *y = is_binary ? binary(c, n, x, c.load(n.operands[1], i[0])) : unary(c, n, x);
    c.store(n.result, i[0], y);
  });
}

} // namespace gradc::codegen
