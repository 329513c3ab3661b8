// Atomic whole-file writes and the checks on output paths.
#include "support/files.h"

#include "support/json_text.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
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

Status writeFileAtomic(const std::string &path, const std::string &data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    return Error(path + ": cannot write: " + std::strerror(errno));
  bool ok = data.empty() || std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = std::fflush(f) == 0 && ok;
  int err = errno;
  ok = std::fclose(f) == 0 && ok;
  if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ok = false;
  }
  if (!ok) {
    std::remove(tmp.c_str());
    return Error(path + ": cannot write: " + std::strerror(err ? err : EIO));
  }
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
