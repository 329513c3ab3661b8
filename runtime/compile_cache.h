// The on-disk compile cache: the object code the JIT compiled for a module,
// keyed by everything that code depends on, so that compiling the same
// module again with the same gradc, LLVM and CPU loads it instead.
#pragma once

#include "support/error.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradc::runtime {

/// $XDG_CACHE_HOME/gradc, else $HOME/.cache/gradc; empty when neither
/// variable is set (no cache).
std::string defaultCacheDir();

/// The key of a compilation: a SHA-256 (hex) over `ir_text` (the module after
/// the passes, as printed), `options` (whatever else changes the code, as
/// text), this program's build (its GNU build id, else a hash of its
/// executable), the LLVM version and the host's triple, CPU and features.
std::string cacheKey(const std::string &ir_text, const std::string &options);

/// The first bytes of every entry, and the length of a key (SHA-256, hex).
inline constexpr std::string_view kCacheEntryMagic = "gradc-cache 1\n";
inline constexpr size_t kCacheKeyChars = 64;

/// An entry's bytes: magic, key, object count and sizes, the objects, and an
/// xxh3 checksum of all that.
std::string serializeCacheEntry(const std::string &key, const std::vector<std::string> &objects);
/// The objects of entry `data` if it is whole and stored under `key`, else
/// nothing. Reads nothing outside `data`, whatever it holds.
std::optional<std::vector<std::string>> parseCacheEntry(std::string_view data,
                                                        const std::string &key);

/// A directory of entries, one file per key. An entry is written atomically
/// (temporary file, then rename) and read back only when whole: its magic,
/// key, sizes and checksum must all agree, else it counts as a miss and the
/// next store replaces it.
class CompileCache {
public:
  explicit CompileCache(std::string dir) : dir_(std::move(dir)) {}

  /// The objects stored under `key`, or nothing (no entry, or a damaged one).
  std::optional<std::vector<std::string>> load(const std::string &key) const;
  /// Stores `objects` under `key`, creating the directory if needed.
  Status store(const std::string &key, const std::vector<std::string> &objects) const;
  /// The file of `key`'s entry.
  std::string pathOf(const std::string &key) const;

private:
  std::string dir_;
};

} // namespace gradc::runtime
