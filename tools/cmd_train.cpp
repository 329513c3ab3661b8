// gradc train, eval and predict (docs/cli.md, docs/training.md): argument
// parsing and printing around driver/train.h and driver/session.h.
#include "driver/train.h"
#include "runtime/safetensors.h"
#include "support/files.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace gradc::tools {
namespace {

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signal = 0;

extern "C" void onStopSignal(int sig) {
  g_signal = sig;
  g_stop.store(true);
  // A second signal ends the process at once.
  std::signal(sig, SIG_DFL);
}

/// The flags every model-running command here shares.
std::vector<FlagSpec> withModelFlags(std::vector<FlagSpec> flags) {
  for (const char *f : {"batch", "threads", "dim"})
    flags.push_back({f, true, std::string(f) == "dim"});
  flags.push_back({"no-cache", false});
  return flags;
}

Expected<driver::ModelSpec> modelSpec(const std::string &cmd, const Args &args,
                                      const std::string &usage) {
  if (args.positional.size() != 1)
    return Error("gradc " + cmd + ": expected one MODEL.json, got " +
                 std::to_string(args.positional.size()) + " (usage: " + usage + ")");
  driver::ModelSpec m;
  m.path = args.positional[0];
  GRADC_TRY(dims, parseDims(args.all("dim")));
  GRADC_TRY(threads, parseThreads(args));
  GRADC_TRY(batch, parseCount("batch", args.get("batch", "0")));
  if (args.has("batch") && (batch < 1 || batch > 1000000))
    return Error("--batch: expected a whole number from 1 to 1000000, got '" + args.get("batch") +
                 "'");
  m.dims = dims;
  m.threads = threads;
  m.batch = batch;
  m.cache = !args.has("no-cache");
  return m;
}

Expected<driver::TrainOptions> parseTrainOptions(int argc, char **argv) {
  const char *usage = "gradc train MODEL.json --data DIR [--epochs E]";
  GRADC_TRY(args, parseArgs("train", argc, argv, 2,
                            withModelFlags({{"data", true},
                                            {"epochs", true},
                                            {"seed", true},
                                            {"metrics", true},
                                            {"plot", true},
                                            {"save", true},
                                            {"resume", true},
                                            {"allow-nonfinite", false}})));
  GRADC_TRY(model, modelSpec("train", args, usage));
  driver::TrainOptions o;
  o.model = model;
  if (!args.has("data"))
    return Error(std::string("gradc train: --data DIR is required (usage: ") + usage + ")");
  o.data = args.get("data");
  GRADC_TRY(epochs, parseCount("epochs", args.get("epochs", "1")));
  GRADC_TRY(seed, parseCount("seed", args.get("seed", "0")));
  if (epochs < 1 || epochs > 100000)
    return Error("--epochs: expected a whole number from 1 to 100000, got '" + args.get("epochs") +
                 "'");
  o.epochs = epochs;
  o.seed = uint64_t(seed);
  o.metrics = args.get("metrics");
  o.plot = args.get("plot");
  o.save = args.get("save");
  o.resume = args.get("resume");
  o.allow_nonfinite = args.has("allow-nonfinite");
  std::vector<support::NamedPath> outputs;
  for (const char *f : {"metrics", "plot", "save"})
    if (args.has(f))
      outputs.push_back({std::string("--") + f, args.get(f)});
  // --save may name the --resume file: it is replaced atomically.
  GRADC_TRY_STATUS(support::checkOutputPaths("train", outputs, {{"the model", o.model.path}}));
  return o;
}

std::string duration(double s) {
  char buf[32];
  long t = long(s + 0.5);
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  return buf;
}

void printProgressBar(const driver::Progress &p) {
  const int width = 24;
  int filled = int(double(width) * double(p.step) / double(p.steps));
  std::string bar(size_t(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld loss %.4f %.0f samples/s ETA %s",
               (long long)p.epoch, (long long)p.epochs, bar.c_str(), (long long)p.step,
               (long long)p.steps, p.loss, p.samples_per_s, duration(p.eta_s).c_str());
  std::fflush(stderr);
}

/// Without a terminal: a plain progress line at most every 10 seconds.
void printProgressLine(const driver::Progress &p) {
  static auto last = std::chrono::steady_clock::now();
  auto now = std::chrono::steady_clock::now();
  if (p.step == p.steps)
    last = now; // the epoch line follows
  if (p.step == p.steps || now - last < std::chrono::seconds(10))
    return;
  last = now;
  std::printf("epoch %lld/%lld: step %lld/%lld, loss %.4f, %.0f samples/s, ETA %s\n",
              (long long)p.epoch, (long long)p.epochs, (long long)p.step, (long long)p.steps,
              p.loss, p.samples_per_s, duration(p.eta_s).c_str());
  std::fflush(stdout);
}

void printEpoch(const driver::EpochMetrics &m, int64_t epochs, bool tty) {
  if (tty)
    std::fprintf(stderr, "\r\033[K");
  std::printf("epoch %lld/%lld: train loss %.4f, test loss %.4f", (long long)m.epoch,
              (long long)epochs, m.train_loss, m.test_loss);
  if (m.test_accuracy >= 0)
    std::printf(", test accuracy %.2f%%", 100 * m.test_accuracy);
  std::printf(", lr %.6g, %.2f s\n", m.lr, m.seconds);
  std::fflush(stdout);
}

void printConfusion(const driver::EvalResult &r) {
  std::printf("confusion matrix (rows: label, columns: predicted class):\n      ");
  for (int64_t j = 0; j < r.classes; ++j)
    std::printf("%6lld", (long long)j);
  std::printf("\n");
  for (int64_t i = 0; i < r.classes; ++i) {
    std::printf("%6lld", (long long)i);
    for (int64_t j = 0; j < r.classes; ++j)
      std::printf("%6lld", (long long)r.confusion[size_t(i * r.classes + j)]);
    std::printf("\n");
  }
}

} // namespace

int cmdTrain(int argc, char **argv) {
  auto opts = parseTrainOptions(argc, argv);
  if (!opts)
    return fail(opts.error().message());
  bool tty = isatty(STDERR_FILENO);
  driver::TrainCallbacks cb;
  cb.note = [](const std::string &s) { std::printf("%s\n", s.c_str()); };
  cb.progress = tty ? printProgressBar : printProgressLine;
  int64_t epochs = opts->epochs;
  cb.epoch = [epochs, tty](const driver::EpochMetrics &m, const driver::EvalResult &) {
    printEpoch(m, epochs, tty);
  };
  std::signal(SIGINT, onStopSignal);
  std::signal(SIGTERM, onStopSignal);
  auto result = driver::train(*opts, cb, &g_stop);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!result)
    return fail(result.error().message());
  if (tty)
    std::fprintf(stderr, "\r\033[K");
  if (result->samples > 0)
    std::printf("trained on %lld samples: %.0f samples/s, %.0f samples/s in the compiled steps "
                "alone (the data path waited %.3f s)\n",
                (long long)result->samples, double(result->samples) / result->train_seconds,
                double(result->samples) / result->step_seconds, result->wait_seconds);
  if (result->interrupted) {
    int sig = g_signal ? int(g_signal) : SIGINT;
    std::printf("stopped by %s after the current step%s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                opts->save.empty() ? "" : ("; checkpoint saved to " + opts->save).c_str());
    std::fflush(stdout);
    return 128 + sig;
  }
  return 0;
}

namespace {

/// A model compiled for evaluation with its weights loaded: what eval and
/// predict start from.
struct Loaded {
  std::unique_ptr<driver::Session> session;
  runtime::TensorMap weights;
};

/// Parses the flags of `cmd` (the model flags, --weights and `extra`, all
/// required, and eval's --split), compiles the model and reads the weights.
Expected<std::pair<Args, Loaded>> openWithWeights(const std::string &cmd, int argc, char **argv,
                                                  const std::vector<std::string> &extra,
                                                  const std::string &usage) {
  std::vector<FlagSpec> flags{{"weights", true}};
  if (cmd == "eval")
    flags.push_back({"split", true});
  for (const std::string &f : extra)
    flags.push_back({f, true});
  GRADC_TRY(args, parseArgs(cmd, argc, argv, 2, withModelFlags(flags)));
  GRADC_TRY(spec, modelSpec(cmd, args, usage));
  for (const std::string &f : extra)
    if (!args.has(f))
      return Error("gradc " + cmd + ": --" + f + " is required (usage: " + usage + ")");
  if (!args.has("weights"))
    return Error("gradc " + cmd + ": --weights is required (usage: " + usage + ")");
  if (args.has("out"))
    GRADC_TRY_STATUS(support::checkOutputPaths(cmd, {{"--out", args.get("out")}},
                                               {{"the model", spec.path},
                                                {"--feed", args.get("feed")},
                                                {"--weights", args.get("weights")}}));
  GRADC_TRY(session, driver::Session::open(spec, false));
  GRADC_TRY(weights, driver::loadWeights(session->module(), args.get("weights")));
  return std::pair{std::move(args), Loaded{std::move(session), std::move(weights)}};
}

Status eval(int argc, char **argv) {
  GRADC_TRY(opened, openWithWeights("eval", argc, argv, {"data"},
                                    "gradc eval MODEL.json --weights W.safetensors --data DIR "
                                    "[--split test|train]"));
  auto &[args, m] = opened;
  std::string split = args.get("split", "test");
  if (split != "test" && split != "train")
    return Error("--split: expected 'test' or 'train', got '" + split + "'");
  GRADC_TRY(data, runtime::loadDataSet(args.get("data"), m.session->inputs(), m.session->labels()));
  const runtime::DataSplit &part = split == "test" ? data.test : data.train;
  GRADC_TRY(r, driver::evaluate(*m.session, m.weights, part));
  std::printf("%s: %lld samples: loss %.4f", part.source.c_str(), (long long)r.samples, r.loss);
  if (r.accuracy)
    std::printf(", accuracy %.2f%%", 100 * *r.accuracy);
  std::printf("\n");
  if (r.classes > 0)
    printConfusion(r);
  return Status::ok();
}

Status predict(int argc, char **argv) {
  GRADC_TRY(opened, openWithWeights("predict", argc, argv, {"feed", "out"},
                                    "gradc predict MODEL.json --weights W.safetensors --feed "
                                    "F.safetensors --out O.safetensors"));
  auto &[args, m] = opened;
  GRADC_TRY(feed, runtime::readSafetensors(args.get("feed")));
  GRADC_TRY(split, driver::feedSplit(*m.session, std::move(feed), args.get("feed")));
  GRADC_TRY(out, driver::predict(*m.session, m.weights, split));
  return runtime::writeSafetensors(args.get("out"), out);
}

} // namespace

int cmdEval(int argc, char **argv) {
  Status s = eval(argc, argv);
  return s ? 0 : fail(s.error().message());
}

int cmdPredict(int argc, char **argv) {
  Status s = predict(argc, argv);
  return s ? 0 : fail(s.error().message());
}

} // namespace gradc::tools
