// Files gradc reads and writes on a user's behalf. Writes are atomic (a
// temporary beside the target, then rename), and outputs are checked before
// any work starts, so that no command can overwrite one of its own inputs or
// leave a partial file.
#pragma once

#include "support/error.h"

#include <string>
#include <vector>

namespace gradc::support {

/// Writes `data` to `path` atomically. The error reads
/// "<path>: cannot write: <reason>".
Status writeFileAtomic(const std::string &path, const std::string &data);

/// True when `a` and `b` name the same file: the same inode where both exist
/// (hard links, symbolic links, "./x" and "x"), else the same normalised
/// absolute path.
bool sameFile(const std::string &a, const std::string &b);

/// A file named on the command line: the flag that named it ("--out", "-o",
/// or a description such as "the model") and its path.
struct NamedPath {
  std::string flag;
  std::string path;
};

/// Checks, before anything is computed, that every output is a usable path:
/// not empty, not a directory, and not the same file as an input or another
/// output. The error names the flag and the file.
Status checkOutputPaths(const std::string &command, const std::vector<NamedPath> &outputs,
                        const std::vector<NamedPath> &inputs);

} // namespace gradc::support
