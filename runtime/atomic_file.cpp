// Atomic whole-file writes (temporary file, then rename).
#include "runtime/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace gradc::runtime {

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

} // namespace gradc::runtime
