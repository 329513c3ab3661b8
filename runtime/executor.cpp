// The backend-independent argument check and the interpreter executor.
#include "runtime/executor.h"

#include "runtime/interpreter.h"

#include <algorithm>
#include <sched.h>
#include <thread>

namespace gradc::runtime {

int availableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
}

Status checkArgs(const ir::Function &f, const TensorMap &args) {
  for (const ir::Arg &a : f.args()) {
    auto it = args.find(a.name);
    if (it == args.end())
      return Error(f.name() + ": missing " + ir::argRoleName(a.role) + " tensor '" + a.name + "'");
    const ir::TensorType &want = f.type(a.value);
    if (it->second.type != want)
      return Error(f.name() + ": tensor '" + a.name + "' must be " + want.str() + ", got " +
                   it->second.type.str());
  }
  return Status::ok();
}

Expected<const ir::Function *> findChecked(const ir::Module &m, const std::string &fn,
                                           const TensorMap &args) {
  const ir::Function *f = m.find(fn);
  if (!f)
    return Error("model '" + m.name + "' has no function '" + fn + "'");
  GRADC_TRY_STATUS(checkArgs(*f, args));
  return f;
}

namespace {

class InterpreterExecutor : public Executor {
public:
  explicit InterpreterExecutor(ir::Module m) : module_(std::move(m)) {}

  Expected<TensorMap> call(const std::string &fn, const TensorMap &args) override {
    GRADC_TRY(f, findChecked(module_, fn, args));
    return evaluate(*f, args);
  }
  Expected<std::unique_ptr<BoundCall>> bind(const std::string &fn, const TensorMap &args) override {
    GRADC_TRY(f, findChecked(module_, fn, args));
    return std::unique_ptr<BoundCall>(std::make_unique<InterpreterCall>(*f, args));
  }
  const ir::Module &module() const override { return module_; }

private:
  /// Re-evaluates with the arguments, feeding updates back as the JIT's
  /// in-place buffers do.
  class InterpreterCall : public BoundCall {
  public:
    InterpreterCall(const ir::Function &f, TensorMap args) : f_(f), args_(std::move(args)) {}
    float run() override {
      last_ = evaluate(f_, args_);
      for (const ir::Result &r : f_.results())
        if (r.role == ir::ResultRole::Update)
          args_[f_.args()[size_t(r.updates)].name] = last_.at(r.name);
      auto it = last_.find("loss");
      return it == last_.end() ? 0.0f : it->second.f32[0];
    }
    void set(const std::string &name, const Tensor &t) override {
      auto it = args_.find(name);
      GRADC_CHECK(it != args_.end() && it->second.type == t.type, "set: bad argument " + name);
      it->second = t;
    }
    void swapInput(const std::string &name, Tensor &t) override {
      auto it = args_.find(name);
      GRADC_CHECK(it != args_.end() && it->second.type == t.type, "swapInput: bad input " + name);
      std::swap(it->second, t);
    }
    TensorMap results() override { return last_; }

  private:
    const ir::Function &f_;
    TensorMap args_;
    TensorMap last_;
  };

  ir::Module module_;
};

} // namespace

std::unique_ptr<Executor> makeInterpreterExecutor(ir::Module m) {
  return std::make_unique<InterpreterExecutor>(std::move(m));
}

} // namespace gradc::runtime
