// The compile cache: keys change with their inputs, entries round-trip, and a
// damaged entry (truncated, flipped byte, wrong key, garbage) is a miss that
// the next store replaces.
#include "runtime/compile_cache.h"

#include "tests/unit/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace gradc::runtime {
namespace {

struct TempDir : gradc::testing::TempDir {
  TempDir() : gradc::testing::TempDir("gradc-cache-test") {}
};

std::string readAll(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeAll(const std::string &path, const std::string &data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

TEST(CompileCache, KeyDependsOnIrAndOptions) {
  std::string k = cacheKey("func @m.f()", "vw=16");
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, cacheKey("func @m.f()", "vw=16"));
  EXPECT_NE(k, cacheKey("func @m.g()", "vw=16"));
  EXPECT_NE(k, cacheKey("func @m.f()", "vw=8"));
  // Length-prefixed fields: moving text from one field to the other changes the key.
  EXPECT_NE(cacheKey("ab", "c"), cacheKey("a", "bc"));
}

TEST(CompileCache, StoreThenLoad) {
  TempDir dir;
  CompileCache cache(dir.path + "/nested/gradc");
  std::string key = cacheKey("ir", "opts");
  EXPECT_FALSE(cache.load(key));
  std::vector<std::string> objects = {std::string("\x7f"
                                                  "ELF one\0x",
                                                  10),
                                      "two", ""};
  ASSERT_TRUE(bool(cache.store(key, objects)));
  auto got = cache.load(key);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, objects);
  EXPECT_FALSE(cache.load(cacheKey("other ir", "opts")));
}

TEST(CompileCache, DamagedEntriesAreMissesAndGetReplaced) {
  TempDir dir;
  CompileCache cache(dir.path);
  std::string key = cacheKey("ir", "opts");
  std::vector<std::string> objects = {"object code one", "object code two"};
  ASSERT_TRUE(bool(cache.store(key, objects)));
  std::string good = readAll(cache.pathOf(key));
  std::vector<std::string> damaged;
  for (size_t n : {size_t(0), size_t(5), good.size() / 2, good.size() - 1})
    damaged.push_back(good.substr(0, n)); // truncated
  for (size_t at : {size_t(0), size_t(20), good.size() / 2, good.size() - 1}) {
    std::string d = good;
    d[at] = char(d[at] ^ 0x40); // one flipped bit
    damaged.push_back(d);
  }
  damaged.push_back(good + "trailing");
  damaged.push_back(std::string(4096, '\xff'));
  for (const std::string &d : damaged) {
    writeAll(cache.pathOf(key), d);
    EXPECT_FALSE(cache.load(key)) << d.size() << " bytes";
    ASSERT_TRUE(bool(cache.store(key, objects)));
    EXPECT_EQ(*cache.load(key), objects);
  }
  // An intact entry copied under another key is not that key's entry.
  std::string other = cacheKey("other", "opts");
  writeAll(cache.pathOf(other), good);
  EXPECT_FALSE(cache.load(other));
}

TEST(CompileCache, EntryBytesRoundTrip) {
  std::string key(64, 'a');
  std::vector<std::string> objects = {"object one", "obj 2", ""};
  std::string entry = serializeCacheEntry(key, objects);
  auto back = parseCacheEntry(entry, key);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, objects);
  EXPECT_FALSE(parseCacheEntry(entry, std::string(64, 'b')));
  EXPECT_FALSE(parseCacheEntry(entry.substr(0, entry.size() - 1), key));
  EXPECT_FALSE(parseCacheEntry("", key));
}

TEST(CompileCache, UnwritableDirectoryIsAnError) {
  TempDir dir;
  writeAll(dir.path + "/file", "x");
  CompileCache cache(dir.path + "/file/sub");
  Status st = cache.store(cacheKey("ir", ""), {"o"});
  ASSERT_FALSE(bool(st));
  EXPECT_NE(st.error().message().find("compile cache"), std::string::npos);
}

TEST(CompileCache, DefaultDirectoryFollowsXdg) {
  const char *old = std::getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  EXPECT_EQ(defaultCacheDir(), "/x/cache/gradc");
  unsetenv("XDG_CACHE_HOME");
  const char *home = std::getenv("HOME");
  if (home) {
    EXPECT_EQ(defaultCacheDir(), std::string(home) + "/.cache/gradc");
  }
  if (old)
    setenv("XDG_CACHE_HOME", saved.c_str(), 1);
}

} // namespace
} // namespace gradc::runtime
