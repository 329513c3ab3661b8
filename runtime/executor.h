// One interface over the backends that run a compiled model: the reference
// interpreter and the LLVM JIT. The CLI and tests are written against it.
#pragma once

#include "ir/function.h"
#include "runtime/tensor.h"
#include "support/error.h"

#include <memory>
#include <string>

namespace gradc::runtime {

/// One function call with its arguments packed once, for calling again and
/// again (benchmarks, training loops). In-place updates accumulate across
/// calls, as they would in the caller's own buffers.
class BoundCall {
public:
  virtual ~BoundCall() = default;
  /// Runs the function; returns the loss (0 without one).
  virtual float run() = 0;
  /// Replaces argument `name` (any role: a new batch, learning rate or
  /// parameters) for the next runs. `t` must have the argument's type: a
  /// mismatch is a bug in the caller.
  virtual void set(const std::string &name, const Tensor &t) = 0;
  /// Exchanges the data of input `name` with `t`'s, without copying: the
  /// next runs read what `t` held, and `t` receives the previous batch's
  /// buffer. `t` must have the input's type.
  virtual void swapInput(const std::string &name, Tensor &t) = 0;
  /// The results of the last run by result name (outputs, loss, grads), with
  /// every updated param and state as it is now.
  virtual TensorMap results() = 0;
};

/// Runs the functions of one ir::Module. Arguments are passed by argument
/// name (inputs, params, "grad.<param>", state names, "optimizer.lr"), results come
/// back by result name; updates (new params and state) are results too.
class Executor {
public:
  virtual ~Executor() = default;
  /// Calls function `fn`. A missing argument or one of the wrong type is an
  /// Error naming it.
  virtual Expected<TensorMap> call(const std::string &fn, const TensorMap &args) = 0;
  /// Packs `args` for repeated calls of `fn`; the same checks as call().
  virtual Expected<std::unique_ptr<BoundCall>> bind(const std::string &fn,
                                                    const TensorMap &args) = 0;
  virtual const ir::Module &module() const = 0;
  /// How many threads each call may use (the calling one included); n <= 0
  /// means every CPU the process may run on, the default. Results are the same
  /// bits at any count. The interpreter runs on one thread and ignores it.
  virtual void setThreads(int n) { (void)n; }
};

/// The CPUs this process may run on (its affinity mask), at least 1: what
/// "every CPU" means for setThreads and the CLI's --threads.
int availableCpus();

/// The interpreter backend (double precision, results rounded to f32).
std::unique_ptr<Executor> makeInterpreterExecutor(ir::Module m);

/// Checks `args` against the arguments of `f`: present, right dtype and
/// shape. Extra entries are ignored. Shared by every backend.
Status checkArgs(const ir::Function &f, const TensorMap &args);

/// The function `fn` of `m`, with `args` checked against it: what every
/// backend's call() and bind() start with.
Expected<const ir::Function *> findChecked(const ir::Module &m, const std::string &fn,
                                           const TensorMap &args);

} // namespace gradc::runtime
