// The training loop of `gradc train`: epochs over a shuffled data set in
// static-shape batches (the remainder in a second compiled instance), the
// learning-rate schedule stepped per epoch, a test evaluation per epoch,
// metrics, plots and checkpoints, and a bit-identical resume (docs/training.md).
#pragma once

#include "driver/checkpoint.h"
#include "driver/session.h"

#include <atomic>
#include <functional>

namespace gradc::driver {

struct TrainOptions {
  ModelSpec model;
  std::string data;    ///< the data set's directory
  std::string save;    ///< checkpoint written after every epoch (and on a stop)
  std::string resume;  ///< checkpoint to continue from
  std::string metrics; ///< JSON lines, one object per epoch
  std::string plot;    ///< SVG learning curves
  int64_t epochs = 1;  ///< total epochs, counting those a resumed run has done
  uint64_t seed = 0;   ///< parameter initialisation and shuffling
  bool allow_nonfinite = false;
};

/// Where an epoch stands, for a progress display.
struct Progress {
  int64_t epoch = 0, epochs = 0; ///< 1-based epoch of `epochs`
  int64_t step = 0, steps = 0;   ///< steps done of this epoch's
  double loss = 0;               ///< mean training loss of the epoch so far
  double samples_per_s = 0;      ///< this epoch's rate
  double eta_s = 0;              ///< seconds to the end of the last epoch (test passes excluded)
};

struct TrainCallbacks {
  std::function<void(const std::string &)> note; ///< one line about the setup
  std::function<void(const Progress &)> progress;
  std::function<void(const EpochMetrics &, const EvalResult &)> epoch;
};

struct TrainResult {
  std::vector<EpochMetrics> history;
  bool interrupted = false; ///< stopped by `stop` (the checkpoint is saved)
  int64_t samples = 0;      ///< training samples stepped on in this run
  double step_seconds = 0;  ///< time in the compiled train steps
  double wait_seconds = 0;  ///< time the steps waited for the data path
  double train_seconds = 0; ///< wall time of the training passes
};

/// Trains as `o` says. `stop`, polled after every step, ends training once
/// the step is done: the checkpoint (if --save) is written first.
Expected<TrainResult> train(const TrainOptions &o, const TrainCallbacks &cb,
                            const std::atomic<bool> *stop);

} // namespace gradc::driver
