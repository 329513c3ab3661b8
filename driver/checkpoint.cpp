// Checkpoint files and the per-epoch metrics record.
#include "driver/checkpoint.h"

#include "driver/model_io.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace gradc::driver {
namespace {

/// `v` in the shortest form that reads back as the same double.
std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// The number after `"key": ` in a metricsJson line, or nullopt.
std::optional<double> field(const std::string &line, const std::string &key) {
  size_t at = line.find("\"" + key + "\": ");
  if (at == std::string::npos)
    return std::nullopt;
  const char *p = line.c_str() + at + key.size() + 4;
  if (std::strncmp(p, "null", 4) == 0)
    return -1.0;
  char *end = nullptr;
  double v = std::strtod(p, &end);
  if (end == p)
    return std::nullopt;
  return v;
}

Expected<EpochMetrics> parseMetrics(const std::string &line, const std::string &where) {
  EpochMetrics e;
  double *fields[] = {&e.train_loss, &e.test_loss, &e.test_accuracy, &e.lr, &e.seconds};
  const char *names[] = {"train_loss", "test_loss", "test_accuracy", "lr", "seconds"};
  auto epoch = field(line, "epoch");
  if (!epoch)
    return Error(where + ": expected \"epoch\" in '" + line + "'");
  e.epoch = int64_t(*epoch);
  for (size_t i = 0; i < 5; ++i) {
    auto v = field(line, names[i]);
    if (!v)
      return Error(where + ": expected \"" + names[i] + "\" in '" + line + "'");
    *fields[i] = *v;
  }
  return e;
}

Expected<int64_t> integer(const runtime::Metadata &meta, const std::string &key,
                          const std::string &path) {
  auto it = meta.find(key);
  char *end = nullptr;
  if (it != meta.end() && !it->second.empty()) {
    long long v = std::strtoll(it->second.c_str(), &end, 10);
    if (!*end && v >= 0)
      return int64_t(v);
  }
  return Error(path + ": checkpoint metadata '" + key + "': expected a whole number" +
               (it == meta.end() ? ", but it is missing" : ", got '" + it->second + "'"));
}

Expected<double> real(const runtime::Metadata &meta, const std::string &key,
                      const std::string &path) {
  auto it = meta.find(key);
  char *end = nullptr;
  if (it != meta.end() && !it->second.empty()) {
    double v = std::strtod(it->second.c_str(), &end);
    if (!*end)
      return v;
  }
  return Error(path + ": checkpoint metadata '" + key + "': expected a number" +
               (it == meta.end() ? ", but it is missing" : ", got '" + it->second + "'"));
}

} // namespace

std::string metricsJson(const EpochMetrics &e) {
  return "{\"epoch\": " + std::to_string(e.epoch) + ", \"train_loss\": " + exact(e.train_loss) +
         ", \"test_loss\": " + exact(e.test_loss) + ", \"test_accuracy\": " +
         (e.test_accuracy < 0 ? std::string("null") : exact(e.test_accuracy)) +
         ", \"lr\": " + exact(e.lr) + ", \"seconds\": " + exact(e.seconds) + "}";
}

Status saveCheckpoint(const std::string &path, const TrainState &s) {
  runtime::TensorMap tensors = s.params;
  for (const auto &[name, t] : s.state)
    tensors[kStatePrefix + name] = t;
  std::string history;
  for (const EpochMetrics &e : s.history)
    history += metricsJson(e) + "\n";
  runtime::Metadata meta{{"format", kCheckpointFormat},
                         {"model", s.model_text},
                         {"epoch", std::to_string(s.epoch)},
                         {"step", std::to_string(s.step)},
                         {"rng_state", std::to_string(s.rng)},
                         {"seed", std::to_string(s.seed)},
                         {"batch", std::to_string(s.batch)},
                         {"epoch_loss_sum", exact(s.loss_sum)},
                         {"epoch_samples", std::to_string(s.seen)},
                         {"epoch_seconds", exact(s.seconds)},
                         {"history", history}};
  return runtime::writeSafetensors(path, tensors, meta);
}

Status checkCheckpoint(const std::string &path, const TrainState &s, const ir::Module &m) {
  std::vector<std::pair<std::string, ir::TensorType>> params, state;
  for (const ir::ParamInfo &p : m.params)
    params.push_back({p.name, p.type});
  for (const ir::StateInfo &p : m.states)
    state.push_back({p.name, p.type});
  GRADC_TRY_STATUS(checkTensorSet(path, "checkpoint parameter", params, s.params));
  return checkTensorSet(path, "checkpoint optimizer-state (optimizer.*)", state, s.state);
}

Expected<TrainState> loadCheckpoint(const std::string &path) {
  runtime::Metadata meta;
  GRADC_TRY(tensors, runtime::readSafetensors(path, &meta));
  if (meta["format"] != kCheckpointFormat)
    return Error(path + ": not a gradc training checkpoint (its metadata has no \"format\": \"" +
                 kCheckpointFormat + "\"; a weights file is read with --weights)");
  TrainState s;
  s.model_text = meta["model"];
  for (auto &[name, t] : tensors) {
    if (name.rfind(kStatePrefix, 0) == 0)
      s.state[name.substr(std::strlen(kStatePrefix))] = std::move(t);
    else
      s.params[name] = std::move(t);
  }
  GRADC_TRY(epoch, integer(meta, "epoch", path));
  GRADC_TRY(step, integer(meta, "step", path));
  GRADC_TRY(seed, integer(meta, "seed", path));
  GRADC_TRY(batch, integer(meta, "batch", path));
  GRADC_TRY(seen, integer(meta, "epoch_samples", path));
  GRADC_TRY(loss_sum, real(meta, "epoch_loss_sum", path));
  GRADC_TRY(seconds, real(meta, "epoch_seconds", path));
  const std::string &rng = meta["rng_state"];
  char *end = nullptr;
  s.rng = std::strtoull(rng.c_str(), &end, 10);
  if (rng.empty() || *end)
    return Error(path + ": checkpoint metadata 'rng_state': expected a whole number, got '" + rng +
                 "'");
  s.epoch = epoch;
  s.step = step;
  s.seed = uint64_t(seed);
  s.batch = batch;
  s.seen = seen;
  s.loss_sum = loss_sum;
  s.seconds = seconds;
  const std::string &history = meta["history"];
  for (size_t pos = 0; pos < history.size();) {
    size_t eol = history.find('\n', pos);
    std::string line = history.substr(pos, eol - pos);
    pos = eol == std::string::npos ? history.size() : eol + 1;
    GRADC_TRY(e, parseMetrics(line, path + ": checkpoint metadata 'history'"));
    s.history.push_back(e);
  }
  return s;
}

} // namespace gradc::driver
