// Files gradc reads and writes on a user's behalf. Writes are atomic (a
// temporary beside the target, then rename), and outputs are checked before
// any work starts, so that no command can overwrite one of its own inputs or
// leave a partial file.
#pragma once

#include "support/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc::support {

/// A regular file opened for reading in pieces: its size is known before
/// anything is read, so a reader can check a file's header against it and
/// allocate nothing for a file it is going to refuse.
class InputFile {
public:
  /// Opens `path`; `what` names the file in errors ("safetensors file"):
  /// "<path>: cannot read the <what>: <reason>". FIFOs, devices and
  /// directories are refused before anything is read.
  static Expected<InputFile> open(const std::string &path, const std::string &what);
  InputFile(InputFile &&other) noexcept;
  InputFile &operator=(InputFile &&) = delete;
  ~InputFile();

  uint64_t size() const { return size_; }
  const std::string &path() const { return path_; }
  /// Reads bytes [offset, offset + n) into `dst`; an error if the file ended.
  Status read(uint64_t offset, uint64_t n, void *dst) const;

private:
  InputFile(std::string path, std::string what, int fd, uint64_t size)
      : path_(std::move(path)), what_(std::move(what)), fd_(fd), size_(size) {}
  std::string path_, what_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

/// The whole of a regular file of at most `max_bytes` bytes.
Expected<std::string> readSmallFile(const std::string &path, const std::string &what,
                                    uint64_t max_bytes);

/// Writes `data` to `path` atomically: to "<path>.tmp.<pid>" (created fresh,
/// flushed to disk), then renamed over `path`, so that `path` holds either its
/// old content or all of `data`, whenever the process dies. On an error the
/// temporary is removed; one left by a killed process is removed by the next
/// successful write to `path`. The error reads "<path>: cannot write: <reason>".
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
