// Atomic whole-file writes and the checks on output paths.
#include "support/files.h"

#include "support/json_text.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace gradc::support {

Expected<InputFile> InputFile::open(const std::string &path, const std::string &what) {
  std::string prefix = path + ": cannot read the " + what + ": ";
  if (path.empty())
    return Error("cannot read the " + what + ": the path is empty");
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat refuses it next.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return Error(prefix + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    return Error(prefix + (dir          ? "it is a directory"
                           : st.st_mode ? "not a regular file"
                                        : std::strerror(err)));
  }
  return InputFile(path, what, fd, uint64_t(st.st_size));
}

InputFile::InputFile(InputFile &&other) noexcept
    : path_(std::move(other.path_)), what_(std::move(other.what_)), fd_(other.fd_),
      size_(other.size_) {
  other.fd_ = -1;
}

InputFile::~InputFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

Status InputFile::read(uint64_t offset, uint64_t n, void *dst) const {
  auto *p = static_cast<char *>(dst);
  while (n > 0) {
    ssize_t got = ::pread(fd_, p, size_t(std::min<uint64_t>(n, 1u << 30)), off_t(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return Error(path_ + ": cannot read the " + what_ + ": " +
                   (got < 0 ? std::strerror(errno) : "the file ended early (was it truncated?)"));
    p += got;
    offset += uint64_t(got);
    n -= uint64_t(got);
  }
  return Status::ok();
}

Expected<std::string> readSmallFile(const std::string &path, const std::string &what,
                                    uint64_t max_bytes) {
  GRADC_TRY(file, InputFile::open(path, what));
  if (file.size() > max_bytes)
    return Error(path + ": cannot read the " + what + ": it has " + std::to_string(file.size()) +
                 " bytes, more than the limit of " + std::to_string(max_bytes));
  std::string text(size_t(file.size()), '\0');
  GRADC_TRY_STATUS(file.read(0, file.size(), text.data()));
  return text;
}

namespace {

/// Writes all of `data` to `fd`, then flushes it to the disk; false with errno set on failure.
bool writeAll(int fd, const std::string &data) {
  const char *p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, std::min<size_t>(left, 1u << 30));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return false;
    }
    p += n;
    left -= size_t(n);
  }
  return ::fsync(fd) == 0;
}

/// Removes "<path>.tmp.<pid>" files that a killed gradc left beside `path`: temporaries whose
/// process no longer exists. Best effort; the target itself is never touched.
void removeStaleTemporaries(const std::string &path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string prefix = target.filename().string() + ".tmp.";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
      continue;
    std::string pid = name.substr(prefix.size());
    if (pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (::kill(pid_t(std::stol(pid)), 0) != 0 && errno == ESRCH)
      ::unlink(it->path().c_str());
  }
}

} // namespace

Status writeFileAtomic(const std::string &path, const std::string &data) {
  // The temporary is created fresh (O_EXCL, no symbolic link followed); one left by a dead
  // process with our pid is removed first.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(tmp.c_str(), flags, 0666);
  if (fd < 0 && errno == EEXIST && ::unlink(tmp.c_str()) == 0)
    fd = ::open(tmp.c_str(), flags, 0666);
  if (fd < 0)
    return Error(path + ": cannot write: " + std::strerror(errno));
  bool ok = writeAll(fd, data);
  int err = ok ? 0 : errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ok = false;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return Error(path + ": cannot write: " + std::strerror(err ? err : EIO));
  }
  removeStaleTemporaries(path);
  return Status::ok();
}

bool sameFile(const std::string &a, const std::string &b) {
  namespace fs = std::filesystem;
  std::error_code ec1, ec2;
  if (fs::exists(a, ec1) && fs::exists(b, ec2))
    return fs::equivalent(a, b, ec1) && !ec1;
  // weakly_canonical resolves the links of the part that exists, so "./x",
  // "dir/../x" and a link to the directory all compare equal.
  fs::path pa = fs::weakly_canonical(fs::absolute(a, ec1), ec1);
  fs::path pb = fs::weakly_canonical(fs::absolute(b, ec2), ec2);
  return !ec1 && !ec2 ? pa == pb : fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
}

Status checkOutputPaths(const std::string &command, const std::vector<NamedPath> &outputs,
                        const std::vector<NamedPath> &inputs) {
  std::string who = "gradc " + command + ": ";
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath &out = outputs[i];
    if (out.path.empty())
      return Error(who + out.flag + ": expected a file path, got ''");
    std::string quoted = "'" + escaped(out.path) + "'";
    std::error_code ec;
    if (std::filesystem::is_directory(out.path, ec))
      return Error(who + out.flag + " " + quoted + " is a directory; expected a file path");
    for (const NamedPath &in : inputs)
      if (!in.path.empty() && sameFile(out.path, in.path))
        return Error(who + out.flag + " " + quoted + " is the same file as " + in.flag + " '" +
                     escaped(in.path) + "'; writing it would destroy that input");
    for (size_t j = 0; j < i; ++j)
      if (sameFile(out.path, outputs[j].path))
        return Error(who + outputs[j].flag + " and " + out.flag + " name the same file " + quoted);
  }
  return Status::ok();
}

} // namespace gradc::support
