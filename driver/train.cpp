// The training loop, its shuffling generator and its background data path.
#include "driver/train.h"

#include "driver/plot_svg.h"
#include "frontend/model_json.h"
#include "passes/optimizer.h"
#include "runtime/init.h"
#include "runtime/schedule.h"
#include "support/files.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>

namespace gradc::driver {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// SplitMix64: one 64-bit word of state, so a checkpoint holds it exactly.
uint64_t nextRandom(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// A uniform permutation of [0, n) (Fisher-Yates, unbiased by rejection).
std::vector<int64_t> permutation(int64_t n, uint64_t &state) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    uint64_t bound = uint64_t(i) + 1, limit = UINT64_MAX - UINT64_MAX % bound, x;
    do
      x = nextRandom(state);
    while (x >= limit);
    std::swap(p[size_t(i)], p[size_t(x % bound)]);
  }
  return p;
}

/// Gathers the batches of one epoch on a background thread, a few steps
/// ahead of the compiled step, so that shuffled loading never stalls it. The
/// thread refills the ring in bursts (when half of it is free) and each side
/// is woken only when the other waits, so the kernels' threads are seldom
/// preempted.
class Prefetcher {
public:
  Prefetcher(const runtime::DataSplit &split, const std::vector<int64_t> &perm, int64_t batch,
             int64_t first_step)
      : split_(split), perm_(perm), batch_(batch), next_(first_step), done_(first_step) {
    worker_ = std::thread([this] { produce(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  /// The batch of the next step; valid until release(), and the caller may
  /// swap its tensors for others of the same types. `waited` grows by the
  /// time spent waiting for it.
  runtime::TensorMap &next(double &waited) {
    std::unique_lock<std::mutex> lock(mu_);
    if (next_ <= done_) {
      auto start = Clock::now();
      consumer_waiting_ = true;
      cv_.wait(lock, [&] { return next_ > done_; });
      consumer_waiting_ = false;
      waited += secondsSince(start);
    }
    return slots_[size_t(done_ % kSlots)];
  }
  void release() {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++done_;
      wake = producer_waiting_ && next_ - done_ <= kSlots / 2;
    }
    if (wake)
      cv_.notify_all();
  }

private:
  static constexpr int64_t kSlots = 8;

  void produce() {
    int64_t steps = (split_.size + batch_ - 1) / batch_;
    for (int64_t s = next_; s < steps; ++s) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (s - done_ >= kSlots) {
          producer_waiting_ = true;
          cv_.wait(lock, [&] { return quit_ || s - done_ <= kSlots / 2; });
          producer_waiting_ = false;
        }
        if (quit_)
          return;
      }
      int64_t first = s * batch_, rows = std::min(batch_, split_.size - first);
      runtime::TensorMap &slot = slots_[size_t(s % kSlots)];
      for (const auto &[name, t] : split_.tensors) {
        ir::TensorType type = t.type;
        type.shape[0] = rows;
        if (slot[name].type != type)
          slot[name] = runtime::Tensor::zeros(type);
      }
      std::vector<int64_t> rows_idx(perm_.begin() + first, perm_.begin() + first + rows);
      runtime::gatherBatch(split_, rows_idx, slot);
      bool wake;
      {
        std::lock_guard<std::mutex> lock(mu_);
        next_ = s + 1;
        wake = consumer_waiting_;
      }
      if (wake)
        cv_.notify_all();
    }
  }

  const runtime::DataSplit &split_;
  const std::vector<int64_t> &perm_;
  int64_t batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t next_, done_; ///< steps produced, steps consumed
  bool quit_ = false, producer_waiting_ = false, consumer_waiting_ = false;
  runtime::TensorMap slots_[kSlots];
  std::thread worker_;
};

/// Training state shared by the steps of a run.
struct Loop {
  const TrainOptions &o;
  const TrainCallbacks &cb;
  Session &session;
  runtime::DataSet data;
  TrainState st;
  Instance *active = nullptr; ///< the instance holding the newest params and state
  TrainResult result;
};

/// Copies the newest params and state out of the active instance.
void collect(Loop &l) {
  if (!l.active)
    return;
  runtime::TensorMap res = l.active->train->results();
  for (auto *map : {&l.st.params, &l.st.state})
    for (auto &[name, t] : *map) {
      auto it = res.find(name);
      if (it != res.end())
        t = std::move(it->second);
    }
}

/// Makes `inst` the active instance, moving the params and state into it.
void activate(Loop &l, Instance *inst) {
  if (inst == l.active)
    return;
  collect(l);
  for (auto *map : {&l.st.params, &l.st.state})
    for (const auto &[name, t] : *map)
      inst->train->set(name, t);
  l.active = inst;
}

Status writeOutputs(Loop &l) {
  if (!l.o.metrics.empty()) {
    std::string text;
    for (const EpochMetrics &e : l.st.history)
      text += metricsJson(e) + "\n";
    GRADC_TRY_STATUS(support::writeFileAtomic(l.o.metrics, text));
  }
  if (!l.o.plot.empty())
    GRADC_TRY_STATUS(support::writeFileAtomic(
        l.o.plot, learningCurvesSvg(l.st.history, l.session.module().name)));
  return Status::ok();
}

Status save(Loop &l) {
  collect(l);
  return l.o.save.empty() ? Status::ok() : saveCheckpoint(l.o.save, l.st);
}

Error diverged(const Loop &l, int64_t step, float loss) {
  return Error(l.o.model.path + ": training diverged: the loss of epoch " +
               std::to_string(l.st.epoch + 1) + ", step " + std::to_string(step + 1) + " is " +
               (std::isnan(loss) ? "NaN" : "infinite") +
               " (try a smaller learning rate; --allow-nonfinite runs on)");
}

/// One epoch's training steps from l.st.step on; false when stopped.
Expected<bool> trainSteps(Loop &l, const std::vector<int64_t> &perm, double lr,
                          const std::atomic<bool> *stop) {
  const runtime::DataSplit &train = l.data.train;
  int64_t batch = l.session.batch(), steps = (train.size + batch - 1) / batch;
  int64_t total_steps = steps * (l.o.epochs - l.st.epoch);
  runtime::Tensor lr_t = runtime::Tensor::scalar(float(lr));
  Prefetcher pf(train, perm, batch, l.st.step);
  auto start = Clock::now(), last_report = start;
  double before = l.st.seconds;
  int64_t first_step = l.st.step;
  for (int64_t s = l.st.step; s < steps; ++s) {
    if (stop && stop->load())
      return false;
    int64_t rows = std::min(batch, train.size - s * batch);
    GRADC_TRY(inst, l.session.instance(rows));
    activate(l, inst);
    // The batch's buffers go into the step; the slot gets the last batch's back.
    for (auto &[name, t] : pf.next(l.result.wait_seconds))
      inst->train->swapInput(name, t);
    pf.release();
    inst->train->set(passes::kLrArg, lr_t);
    auto t0 = Clock::now();
    float loss = inst->train->run();
    l.result.step_seconds += secondsSince(t0);
    if (!l.o.allow_nonfinite && !std::isfinite(loss))
      return diverged(l, s, loss);
    l.st.loss_sum += double(loss) * double(rows);
    l.st.seen += rows;
    l.st.step = s + 1;
    l.result.samples += rows;
    double elapsed = secondsSince(start);
    l.st.seconds = before + elapsed;
    if (l.cb.progress && (s + 1 == steps || secondsSince(last_report) > 0.1)) {
      last_report = Clock::now();
      double per_step = elapsed / double(s + 1 - first_step);
      l.cb.progress({l.st.epoch + 1, l.o.epochs, s + 1, steps, l.st.loss_sum / double(l.st.seen),
                     double(l.st.seen) / l.st.seconds, per_step * double(total_steps - (s + 1))});
    }
  }
  return true;
}

/// Trains epoch l.st.epoch from step l.st.step; false when stopped.
Expected<bool> runEpoch(Loop &l, const std::atomic<bool> *stop) {
  uint64_t rng_at_start = l.st.rng;
  std::vector<int64_t> perm = permutation(l.data.train.size, l.st.rng);
  uint64_t rng_after = l.st.rng;
  l.st.rng = rng_at_start; // a mid-epoch checkpoint replays this epoch's shuffle
  double lr = runtime::scheduledLr(l.session.module().optimizer, l.st.epoch);
  auto t0 = Clock::now();
  GRADC_TRY(finished, trainSteps(l, perm, lr, stop));
  l.result.train_seconds += secondsSince(t0);
  if (!finished) {
    GRADC_TRY_STATUS(save(l));
    return false;
  }
  collect(l);
  GRADC_TRY(eval, evaluate(l.session, l.st.params, l.data.test));
  EpochMetrics m{l.st.epoch + 1,
                 l.st.loss_sum / double(l.st.seen),
                 eval.loss,
                 eval.accuracy ? *eval.accuracy : -1.0,
                 lr,
                 l.st.seconds};
  l.st.history.push_back(m);
  l.st.epoch += 1;
  l.st.step = 0;
  l.st.rng = rng_after;
  l.st.loss_sum = 0;
  l.st.seen = 0;
  l.st.seconds = 0;
  if (l.cb.epoch)
    l.cb.epoch(m, eval);
  GRADC_TRY_STATUS(save(l));
  GRADC_TRY_STATUS(writeOutputs(l));
  return true;
}

/// The state a run starts from: a checkpoint, or fresh parameters.
Expected<TrainState> startState(const TrainOptions &o, const Session &s) {
  GRADC_TRY(text, support::readSmallFile(o.model.path, "model file", frontend::kMaxModelFileBytes));
  if (o.resume.empty()) {
    TrainState st;
    st.model_text = text;
    st.params = runtime::initParams(s.module(), o.seed);
    st.state = runtime::initState(s.module());
    st.rng = o.seed;
    st.seed = o.seed;
    st.batch = s.batch();
    return st;
  }
  GRADC_TRY(st, loadCheckpoint(o.resume));
  GRADC_TRY_STATUS(checkCheckpoint(o.resume, st, s.module()));
  if (st.batch != s.batch())
    return Error(o.resume + ": the checkpoint was trained in batches of " +
                 std::to_string(st.batch) + ", this run uses " + std::to_string(s.batch()) +
                 " (pass --batch " + std::to_string(st.batch) + ")");
  st.model_text = text;
  return st;
}

/// The batch size a resumed run keeps: the checkpoint's, unless --batch says.
Expected<int64_t> resumeBatch(const TrainOptions &o) {
  if (o.resume.empty() || o.model.batch > 0)
    return o.model.batch;
  GRADC_TRY(st, loadCheckpoint(o.resume));
  return st.batch;
}

} // namespace

Expected<TrainResult> train(const TrainOptions &o, const TrainCallbacks &cb,
                            const std::atomic<bool> *stop) {
  ModelSpec spec = o.model;
  GRADC_TRY(batch, resumeBatch(o));
  spec.batch = batch;
  auto t0 = Clock::now();
  GRADC_TRY(session, Session::open(spec, true));
  GRADC_TRY(data, runtime::loadDataSet(o.data, session->inputs(), session->labels()));
  // The remainders' instances are compiled now, not in the middle of an epoch.
  for (int64_t n : {data.train.size, data.test.size})
    if (n % session->batch() != 0)
      GRADC_TRY_STATUS(session->instance(n % session->batch()));
  GRADC_TRY(st, startState(o, *session));
  if (cb.note)
    cb.note("gradc train: " + session->module().name + ", " + data.format + " data: " +
            std::to_string(data.train.size) + " training and " + std::to_string(data.test.size) +
            " test samples in batches of " + std::to_string(session->batch()) + " (setup " +
            std::to_string(int(secondsSince(t0) * 1000)) + " ms)");
  Loop l{o, cb, *session, std::move(data), std::move(st), nullptr, {}};
  activate(l, session->instance(session->batch()).take());
  while (l.st.epoch < o.epochs) {
    GRADC_TRY(finished, runEpoch(l, stop));
    if (!finished || (stop && stop->load())) {
      l.result.interrupted = true;
      break;
    }
  }
  // A resumed run with no epoch left still writes its metrics and plot.
  if (!l.result.interrupted && l.result.samples == 0)
    GRADC_TRY_STATUS(writeOutputs(l));
  l.result.history = l.st.history;
  return l.result;
}

} // namespace gradc::driver
