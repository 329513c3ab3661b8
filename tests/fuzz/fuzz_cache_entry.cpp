// libFuzzer target: bytes as a compile-cache entry, through the reader the JIT uses
// (runtime::parseCacheEntry). An entry's checksum would stop every mutation at the first
// check, so the first byte picks the mode: odd, the rest is an entry as it is; even, the rest
// is an entry body that gets its correct checksum appended, and the key is the one it holds,
// so that mutations reach the count and size fields. An entry that parses must serialise back
// to the same bytes.
#include "runtime/compile_cache.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/xxhash.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string entry(reinterpret_cast<const char *>(data) + 1, size - 1);
  using gradc::runtime::kCacheEntryMagic, gradc::runtime::kCacheKeyChars;
  std::string key(kCacheKeyChars, '0');
  if (data[0] % 2 == 0) {
    if (entry.size() >= kCacheEntryMagic.size() + kCacheKeyChars)
      key = entry.substr(kCacheEntryMagic.size(), kCacheKeyChars);
    uint64_t sum = llvm::xxh3_64bits(llvm::StringRef(entry));
    for (int i = 0; i < 8; ++i)
      entry.push_back(char((sum >> (8 * i)) & 0xff));
  }
  auto objects = gradc::runtime::parseCacheEntry(entry, key);
  if (objects)
    GRADC_CHECK(gradc::runtime::serializeCacheEntry(key, *objects) == entry,
                "a cache entry that parses does not serialise back to itself");
  return 0;
}
