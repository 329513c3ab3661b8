// Command-line parsing.
#include "tools/cli_args.h"

#include "runtime/executor.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace gradc::tools {

std::string Args::get(const std::string &f, const std::string &def) const {
  auto it = flags.find(f);
  return it == flags.end() ? def : it->second.back();
}

const std::vector<std::string> &Args::all(const std::string &f) const {
  static const std::vector<std::string> none;
  auto it = flags.find(f);
  return it == flags.end() ? none : it->second;
}

Expected<Args> parseArgs(const std::string &command, int argc, char **argv, int first,
                         const std::vector<FlagSpec> &specs) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    // A one-letter flag may also be written with one dash: -o FILE.
    if (a.size() == 2 && a[0] == '-' && a[1] != '-')
      for (const FlagSpec &s : specs)
        if (s.name.size() == 1 && s.name[0] == a[1])
          a = "-" + a;
    if (a.size() < 2 || a.compare(0, 2, "--") != 0 || a == "--") {
      args.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const FlagSpec *spec = nullptr;
    for (const FlagSpec &s : specs)
      if (s.name == name)
        spec = &s;
    if (!spec) {
      std::string close = closestFlag(name, specs);
      if (!close.empty())
        return Error("gradc " + command + ": unknown option '--" + name + "'; did you mean '--" +
                     close + "'? (see gradc " + command + " --help)");
      std::string known;
      for (const FlagSpec &s : specs)
        known += (known.empty() ? "--" : ", --") + s.name;
      return Error("gradc " + command + ": unknown option '--" + name + "' (expected one of " +
                   known + "; see gradc " + command + " --help)");
    }
    if (spec->takes_value && !inline_value) {
      if (i + 1 >= argc)
        return Error("gradc " + command + ": option '--" + name + "' needs a value");
      value = argv[++i];
    } else if (!spec->takes_value && inline_value) {
      return Error("gradc " + command + ": option '--" + name + "' takes no value");
    }
    // No flag takes an empty value: "--backend ''" must not quietly mean the
    // default, nor "--out ''" run a whole model before failing to write.
    if (spec->takes_value && value.empty())
      return Error("gradc " + command + ": option '--" + name +
                   "' needs a value, got an empty string");
    if (!spec->repeatable && args.has(name))
      return Error("gradc " + command + ": option '--" + name + "' is given twice");
    args.flags[name].push_back(value);
  }
  return args;
}

bool helpRequested(int argc, char **argv, int first) {
  for (int i = first; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h"))
      return true;
  return false;
}

namespace {

/// Levenshtein distance: insertions, deletions and substitutions.
size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

} // namespace

std::string closestFlag(const std::string &name, const std::vector<FlagSpec> &specs) {
  std::string best;
  size_t best_distance = 3;
  for (const FlagSpec &s : specs) {
    size_t d = editDistance(name, s.name);
    if (d < best_distance && 2 * d < std::max(name.size(), s.name.size())) {
      best = s.name;
      best_distance = d;
    }
  }
  return best;
}

Expected<int64_t> parseCount(const std::string &flag, const std::string &text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return Error("--" + flag + ": expected a non-negative integer, got '" + text + "'");
  return int64_t(std::stoll(text));
}

Expected<int> parseThreads(const Args &args) {
  if (!args.has("threads"))
    return runtime::availableCpus();
  std::string text = args.get("threads");
  auto n = parseCount("threads", text);
  if (!n || *n < 1 || *n > 256)
    return Error("--threads: expected a whole number from 1 to 256, got '" + text + "'");
  return int(*n);
}

Expected<double> parseNumber(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v))
    return Error("--" + flag + ": expected a number, got '" + text + "'");
  return v;
}

Expected<std::map<std::string, int64_t>> parseDims(const std::vector<std::string> &items) {
  std::map<std::string, int64_t> dims;
  for (const std::string &it : items) {
    auto eq = it.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error("--dim: expected NAME=VALUE, got '" + it + "'");
    GRADC_TRY(v, parseCount("dim " + it.substr(0, eq), it.substr(eq + 1)));
    if (v < 1)
      return Error("--dim " + it.substr(0, eq) + ": expected a positive integer, got '" +
                   it.substr(eq + 1) + "'");
    dims[it.substr(0, eq)] = v;
  }
  return dims;
}

} // namespace gradc::tools
