// Training checkpoints: one safetensors file holding the parameters under
// their PyTorch names, the optimizer state under "optimizer.<name>", and in
// its metadata everything else a bit-identical resume needs (docs/training.md).
#pragma once

#include "ir/function.h"
#include "runtime/safetensors.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc::driver {

/// The "format" metadata value of a checkpoint.
inline constexpr const char *kCheckpointFormat = "gradc.checkpoint/1";
/// The prefix of optimizer-state tensors in a checkpoint.
inline constexpr const char *kStatePrefix = "optimizer.";

/// One epoch's figures, as --metrics writes them.
struct EpochMetrics {
  int64_t epoch = 0; ///< 1-based
  double train_loss = 0, test_loss = 0;
  double test_accuracy = -1; ///< a fraction; negative: the model has no class labels
  double lr = 0;
  double seconds = 0;
};

/// Where training stands: the model, its tensors and the position in the
/// data. `step` > 0 marks a checkpoint taken mid-epoch (on a signal).
struct TrainState {
  std::string model_text; ///< the model file, as trained
  runtime::TensorMap params, state;
  int64_t epoch = 0;   ///< epochs completed
  int64_t step = 0;    ///< steps done in epoch `epoch` (0-based)
  uint64_t rng = 0;    ///< the shuffle generator at the start of epoch `epoch`
  uint64_t seed = 0;   ///< --seed the run started with
  int64_t batch = 0;   ///< the batch size
  double loss_sum = 0; ///< sum of loss x samples over the steps done this epoch
  int64_t seen = 0;    ///< samples trained on this epoch
  double seconds = 0;  ///< training time spent in this epoch so far
  std::vector<EpochMetrics> history;
};

/// Writes `s` to `path` atomically.
Status saveCheckpoint(const std::string &path, const TrainState &s);

/// Reads a checkpoint written by saveCheckpoint; a file that is not one, or
/// bad metadata, is an Error naming the file and the metadata key.
Expected<TrainState> loadCheckpoint(const std::string &path);

/// Checks the tensors of `s` (read from `path`) against `m`: every param and
/// state, by name and type; any difference is an Error naming the tensor.
Status checkCheckpoint(const std::string &path, const TrainState &s, const ir::Module &m);

/// One epoch as a JSON object on one line (the --metrics format).
std::string metricsJson(const EpochMetrics &e);

} // namespace gradc::driver
