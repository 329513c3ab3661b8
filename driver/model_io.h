// What every model-running command shares (the CLI, training, evaluation):
// compiling a model file to a Module, and reading weights and feeds checked
// against it.
#pragma once

#include "frontend/model_json.h"
#include "ir/function.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "runtime/jit.h"
#include "runtime/tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace gradc::driver {

/// Which functions compileModel builds besides forward.
enum class Functions {
  Parsed,   ///< forward as the frontend lowered it: no pass runs
  Forward,  ///< forward only, through the optimisation passes
  Training, ///< also backward, optimizer_step, train_step; an error without a loss
  All,      ///< the training functions when the model has a loss
};

/// Parses `path` and runs the pass pipeline that builds `fns`, as `opts`
/// asks (input gradients, disabled passes, printing, timing, stopping).
Expected<ir::Module> compileModel(const std::string &path, const frontend::DimOverrides &dims,
                                  Functions fns, const passes::PipelineOptions &opts = {});

/// As compileModel, from a module the frontend lowered (JSON or DSL);
/// `source` names the model in messages.
Expected<ir::Module> compileModule(ir::Module m, const std::string &source, Functions fns,
                                   const passes::PipelineOptions &opts = {});

/// Checks `got` holds exactly the tensors in `want` (name → type): a missing,
/// extra or wrongly typed one is an Error naming `path`, the `what` ("weight")
/// and the tensor.
Status checkTensorSet(const std::string &path, const char *what,
                      const std::vector<std::pair<std::string, ir::TensorType>> &want,
                      const runtime::TensorMap &got);

/// Reads parameters by PyTorch name (from a weights file or a training
/// checkpoint, whose optimizer state is skipped). A missing, extra or wrongly shaped
/// tensor is an error naming the file and the tensor.
/// A NaN or infinite value is an error naming the tensor and element unless
/// `allow_nonfinite`.
Expected<runtime::TensorMap> loadWeights(const ir::Module &m, const std::string &path,
                                         bool allow_nonfinite = false);

/// Reads one tensor per model input, named as the input. Also checks class
/// indices for a cross-entropy target lie in [0, classes).
/// A NaN or infinite value is an error naming the tensor and element unless
/// `allow_nonfinite`.
Expected<runtime::TensorMap> loadFeed(const ir::Module &m, const std::string &path,
                                      bool allow_nonfinite = false);

/// Checks `feed` holds exactly one tensor per model input, of its type, and
/// valid class indices; `where` names the feed in messages.
Status checkFeed(const ir::Module &m, const runtime::TensorMap &feed, const std::string &where);

/// Checks `weights` holds exactly the parameters of `m`, of their types.
Status checkWeights(const ir::Module &m, const runtime::TensorMap &weights,
                    const std::string &where);

/// Checks class indices of the cross-entropy target in `feed`; `where`
/// names the source in the message.
Status checkLabels(const ir::Module &m, const runtime::TensorMap &feed, const std::string &where);

/// The backend named by --backend: "jit" (default) or "interp". `stats`
/// receives the JIT's compile time. The JIT uses the compile cache in
/// runtime::defaultCacheDir() unless `cache` is false (--no-cache). It
/// compiles `functions` at once (all when empty) and any other on its first
/// call.
Expected<std::unique_ptr<runtime::Executor>> makeExecutor(ir::Module m, const std::string &backend,
                                                          runtime::JitStats *stats = nullptr,
                                                          bool cache = true,
                                                          std::vector<std::string> functions = {});

} // namespace gradc::driver
