// Atomic whole-file writes and the checks on output paths.
#include "support/files.h"

#include "support/json_text.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace gradc::support {

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
