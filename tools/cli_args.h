// Command-line parsing for the gradc sub-commands: positional arguments and
// --flags checked against a per-command table, errors as values.
#pragma once

#include "support/error.h"

#include <map>
#include <string>
#include <vector>

namespace gradc::tools {

struct FlagSpec {
  std::string name; ///< without "--"; a one-letter name also takes "-x"
  bool takes_value; ///< --name VALUE (or --name=VALUE)
  bool repeatable = false;
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> flags;

  bool has(const std::string &f) const { return flags.count(f) != 0; }
  /// The flag's value, or `def` when absent.
  std::string get(const std::string &f, const std::string &def = "") const;
  const std::vector<std::string> &all(const std::string &f) const;
};

/// Parses argv[first..] for `command`. An unknown flag, a missing value or a
/// repeated single flag is an Error naming it; an unknown flag close to a
/// known one suggests it ("unknown option '--step'; did you mean '--steps'?").
Expected<Args> parseArgs(const std::string &command, int argc, char **argv, int first,
                         const std::vector<FlagSpec> &specs);

/// True when argv[first..] asks for help (--help or -h): every command then
/// prints its usage instead of running (gradc.cpp).
bool helpRequested(int argc, char **argv, int first);

/// The known flag closest to `name` (edit distance at most 2, and less than
/// half its length), or "" when none is.
std::string closestFlag(const std::string &name, const std::vector<FlagSpec> &specs);

/// Parses a whole non-negative integer (no sign, no trailing text).
Expected<int64_t> parseCount(const std::string &flag, const std::string &text);
/// Parses a finite float.
Expected<double> parseNumber(const std::string &flag, const std::string &text);
/// The --threads flag of run and bench: 1 to 256, by default every CPU the
/// process may run on (runtime::availableCpus).
Expected<int> parseThreads(const Args &args);
/// Parses repeated NAME=VALUE dimension overrides.
Expected<std::map<std::string, int64_t>> parseDims(const std::vector<std::string> &items);

} // namespace gradc::tools
