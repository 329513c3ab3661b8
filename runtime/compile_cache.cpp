// The compile cache: keys from SHA-256, entries as one checked file each.
#include "runtime/compile_cache.h"

#include "support/files.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/Support/SHA256.h>
#include <llvm/Support/xxhash.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <link.h>

namespace gradc::runtime {
namespace {

constexpr uint64_t kMaxEntryBytes = uint64_t(1) << 30;

/// The GNU build id of the loaded object holding this code (libgradc, or the
/// program when linked statically), as hex; empty when it has none. Not the
/// main program's: the code generator lives in the library, which changes
/// without the `gradc` executable changing.
std::string buildId() {
  struct Search {
    uintptr_t self;
    std::string id;
  } search{reinterpret_cast<uintptr_t>(&buildId), {}};
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *out) {
        auto &s = *static_cast<Search *>(out);
        bool holds = false;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &ph = info->dlpi_phdr[i];
          uintptr_t start = info->dlpi_addr + ph.p_vaddr;
          holds = holds || (ph.p_type == PT_LOAD && s.self >= start && s.self - start < ph.p_memsz);
        }
        if (!holds)
          return 0; // on to the next object
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_NOTE)
            continue;
          auto *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
          const char *end = p + ph.p_memsz;
          while (p + sizeof(ElfW(Nhdr)) <= end) {
            auto *nh = reinterpret_cast<const ElfW(Nhdr) *>(p);
            const char *name = p + sizeof(ElfW(Nhdr));
            const char *desc = name + ((nh->n_namesz + 3) & ~3u);
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0) {
              s.id = llvm::toHex(llvm::StringRef(desc, nh->n_descsz), true);
              return 1;
            }
            p = desc + ((nh->n_descsz + 3) & ~3u);
          }
        }
        return 1;
      },
      &search);
  return search.id;
}

/// What identifies this program's code generator: the build id of the object
/// holding it, else a hash of the executable (computed once).
const std::string &programIdentity() {
  static const std::string id = [] {
    std::string b = buildId();
    if (!b.empty())
      return "build-id " + b;
    auto exe = support::readSmallFile("/proc/self/exe", "executable", kMaxEntryBytes);
    return exe ? "exe " + llvm::utohexstr(llvm::xxh3_64bits(*exe)) : std::string("unknown");
  }();
  return id;
}

void putU64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(char((v >> (8 * i)) & 0xff));
}

bool getU64(std::string_view in, size_t &at, uint64_t &v) {
  if (in.size() < at + 8)
    return false;
  v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t(uint8_t(in[at + size_t(i)])) << (8 * i);
  at += 8;
  return true;
}

} // namespace

std::string defaultCacheDir() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/gradc";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/gradc";
  return "";
}

std::string cacheKey(const std::string &ir_text, const std::string &options) {
  llvm::SHA256 h;
  auto field = [&](llvm::StringRef s) {
    std::string len;
    putU64(len, s.size()); // length-prefixed: no two field lists hash alike
    h.update(len);
    h.update(s);
  };
  field(ir_text);
  field(options);
  field(programIdentity());
  field(LLVM_VERSION_STRING);
  field(llvm::sys::getProcessTriple());
  field(llvm::sys::getHostCPUName());
  std::vector<std::string> features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    features.push_back((f.second ? "+" : "-") + f.first().str());
  std::sort(features.begin(), features.end());
  field(llvm::join(features, ","));
  std::array<uint8_t, 32> digest = h.final();
  return llvm::toHex(digest, true);
}

std::string CompileCache::pathOf(const std::string &key) const { return dir_ + "/" + key + ".o"; }

std::optional<std::vector<std::string>> parseCacheEntry(std::string_view d,
                                                        const std::string &key) {
  size_t at = 0;
  uint64_t sum = 0, count = 0;
  if (d.size() < kCacheEntryMagic.size() + key.size() + 1 + 16 ||
      d.substr(0, kCacheEntryMagic.size()) != kCacheEntryMagic)
    return std::nullopt;
  size_t body = d.size() - 8;
  if (!getU64(d, body, sum) || llvm::xxh3_64bits(llvm::StringRef(d.data(), d.size() - 8)) != sum)
    return std::nullopt;
  at = kCacheEntryMagic.size();
  if (d.substr(at, key.size()) != key || d[at + key.size()] != '\n')
    return std::nullopt;
  at += key.size() + 1;
  if (!getU64(d, at, count) || count == 0 || count > 4096)
    return std::nullopt;
  std::vector<uint64_t> sizes(count);
  for (uint64_t &s : sizes)
    if (!getU64(d, at, s))
      return std::nullopt;
  std::vector<std::string> objects;
  for (uint64_t s : sizes) {
    if (at > d.size() - 8 || s > d.size() - 8 - at)
      return std::nullopt;
    objects.emplace_back(d.substr(at, s));
    at += s;
  }
  if (at != d.size() - 8)
    return std::nullopt;
  return objects;
}

std::string serializeCacheEntry(const std::string &key, const std::vector<std::string> &objects) {
  std::string data = std::string(kCacheEntryMagic) + key + "\n";
  putU64(data, objects.size());
  for (const std::string &o : objects)
    putU64(data, o.size());
  for (const std::string &o : objects)
    data += o;
  putU64(data, llvm::xxh3_64bits(data));
  return data;
}

std::optional<std::vector<std::string>> CompileCache::load(const std::string &key) const {
  auto data = support::readSmallFile(pathOf(key), "compile cache entry", kMaxEntryBytes);
  if (!data)
    return std::nullopt;
  return parseCacheEntry(*data, key);
}

Status CompileCache::store(const std::string &key, const std::vector<std::string> &objects) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    return Error(dir_ + ": cannot create the compile cache directory: " + ec.message());
  return support::writeFileAtomic(pathOf(key), serializeCacheEntry(key, objects));
}

} // namespace gradc::runtime
