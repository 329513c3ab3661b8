// A model compiled at the batch sizes a data set needs: the main batch and,
// when the data does not divide by it, the remainder (compiled on first use),
// so that every sample is used and every compiled shape stays static.
#pragma once

#include "driver/model_io.h"
#include "runtime/dataset.h"

#include <map>
#include <memory>
#include <optional>

namespace gradc::driver {

/// What to compile and how to run it.
struct ModelSpec {
  std::string path;
  frontend::DimOverrides dims;
  int64_t batch = 0; ///< 0: the model's own batch size
  bool cache = true; ///< use the on-disk compile cache
  int threads = 0;   ///< kernel threads (0: every CPU)
};

/// The model compiled for one batch size, with its functions bound once.
struct Instance {
  int64_t batch = 0;
  std::unique_ptr<runtime::Executor> exec;
  std::unique_ptr<runtime::BoundCall> train;   ///< train_step (null without a loss)
  std::unique_ptr<runtime::BoundCall> forward; ///< forward
  runtime::TensorMap inputs;                   ///< one batch of every model input
};

class Session {
public:
  /// Compiles `spec` at its batch size. With `training`, the model needs a loss.
  static Expected<std::unique_ptr<Session>> open(const ModelSpec &spec, bool training);

  /// The main instance's module.
  const ir::Module &module() const { return main_->exec->module(); }
  int64_t batch() const { return main_->batch; }
  /// The model inputs, typed for one main batch.
  std::vector<runtime::InputSpec> inputs() const;
  runtime::ClassLabels labels() const { return {module().class_input, module().num_classes}; }
  /// The output result holding class scores ("out.fc3": [batch, classes]), or
  /// empty when the model has no class labels.
  std::string scores() const;
  /// The instance for a batch of `rows` samples: the main one or, compiled on
  /// first use, one for the remainder.
  Expected<Instance *> instance(int64_t rows);

private:
  Session(ModelSpec spec, bool training) : spec_(std::move(spec)), training_(training) {}
  Expected<std::unique_ptr<Instance>> compile(int64_t batch);

  ModelSpec spec_;
  bool training_;
  Instance *main_ = nullptr;
  std::map<int64_t, std::unique_ptr<Instance>> instances_;
};

/// Loss, accuracy and confusion matrix of a model on a data split.
struct EvalResult {
  int64_t samples = 0;
  double loss = 0;                ///< mean over samples (0 without a loss)
  std::optional<double> accuracy; ///< fraction correct, for class labels
  int64_t classes = 0;
  std::vector<int64_t> confusion; ///< classes x classes: row = label, column = prediction
};

/// Runs forward over `split` in order, in batches of the session's size (the
/// last one smaller), with parameters `params`.
Expected<EvalResult> evaluate(Session &s, const runtime::TensorMap &params,
                              const runtime::DataSplit &split);

/// Every output of forward for each sample of `split` (outputs gain a leading
/// sample dimension), plus "class.<output>" (the argmax, I32 [samples]) for
/// the class-score output.
Expected<runtime::TensorMap> predict(Session &s, const runtime::TensorMap &params,
                                     const runtime::DataSplit &split);

/// The samples of a prediction feed (one tensor per model input, named as
/// the input, samples first) as a data split; the class-label input may be
/// left out. `path` names the feed in errors.
Expected<runtime::DataSplit> feedSplit(const Session &s, runtime::TensorMap feed,
                                       const std::string &path);

/// Zero tensors for every argument of `fn` in `m`.
runtime::TensorMap zeroArgs(const ir::Module &m, const std::string &fn);

} // namespace gradc::driver
