// The ABI of compiled functions (see abi.h and docs of the CLI's `compile`).
#include "codegen/abi.h"

#include <cctype>

namespace gradc::codegen {

std::string cIdentifier(const std::string &name) {
  std::string out;
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])))
    out = "_" + out;
  return out;
}

std::string gradTarget(const std::string &grad_name) {
  const std::string prefix = "grad.";
  if (grad_name.compare(0, prefix.size(), prefix) == 0)
    return grad_name.substr(prefix.size());
  return grad_name;
}

namespace {

/// "optimizer.lr" -> "lr": scalars are named in C by their last component.
std::string lastComponent(const std::string &name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

bool hasArg(const ir::Function &f, ir::ArgRole role) {
  for (const ir::Arg &a : f.args())
    if (a.role == role)
      return true;
  return false;
}

bool hasResult(const ir::Function &f, ir::ResultRole role) {
  for (const ir::Result &r : f.results())
    if (r.role == role)
      return true;
  return false;
}

std::string outputName(const std::string &result_name) {
  const std::string prefix = "out.";
  if (result_name.compare(0, prefix.size(), prefix) == 0)
    return result_name.substr(prefix.size());
  return result_name;
}

} // namespace

FunctionAbi functionAbi(const ir::Module &m, const ir::Function &f) {
  using K = AbiParam::Kind;
  FunctionAbi abi;
  abi.symbol = cIdentifier(m.name + "_" + f.name());
  for (size_t r = 0; r < f.results().size(); ++r) {
    const ir::Result &res = f.results()[r];
    if (res.role == ir::ResultRole::Loss && abi.loss_result < 0)
      abi.loss_result = int32_t(r);
    if (res.role == ir::ResultRole::Update && res.updates >= 0 &&
        f.args()[size_t(res.updates)].role == ir::ArgRole::Param)
      abi.writes_params = true;
  }
  if (hasArg(f, ir::ArgRole::Param))
    abi.params.push_back({K::Params, "params", !abi.writes_params});
  if (hasArg(f, ir::ArgRole::Grad) || hasResult(f, ir::ResultRole::Grad))
    abi.params.push_back({K::Grads, "grads", !hasResult(f, ir::ResultRole::Grad)});
  if (hasArg(f, ir::ArgRole::State))
    abi.params.push_back({K::State, "state", false});
  for (size_t i = 0; i < f.args().size(); ++i) {
    const ir::Arg &a = f.args()[i];
    if (a.role == ir::ArgRole::Input)
      abi.params.push_back({K::Input, "in_" + cIdentifier(a.name), true,
                            f.type(a.value).dtype == ir::DType::I32, int32_t(i)});
  }
  for (size_t i = 0; i < f.args().size(); ++i)
    if (f.args()[i].role == ir::ArgRole::Scalar)
      abi.params.push_back(
          {K::Scalar, cIdentifier(lastComponent(f.args()[i].name)), false, false, int32_t(i)});
  for (size_t r = 0; r < f.results().size(); ++r)
    if (f.results()[r].role == ir::ResultRole::Output)
      abi.params.push_back({K::Output, "out_" + cIdentifier(outputName(f.results()[r].name)), false,
                            false, int32_t(r)});
  abi.params.push_back({K::Scratch, "scratch", false});
  return abi;
}

std::string packedSymbol(const FunctionAbi &abi) { return abi.symbol + "_packed"; }

} // namespace gradc::codegen
