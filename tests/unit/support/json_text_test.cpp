// checkJsonText: the linear pre-check shared by both JSON readers.
#include "support/json_text.h"

#include <gtest/gtest.h>

#include <string>

namespace gradc::support {
namespace {

std::string err(std::string_view text, int depth = kMaxJsonDepth) {
  Status s = checkJsonText(text, depth);
  return s ? std::string("ok") : s.error().message();
}

TEST(JsonText, AcceptsValidJson) {
  EXPECT_EQ(err(R"({"a": [1, 2.5, -3, true, null, "x"], "b": {"c": {}}})"), "ok");
  EXPECT_EQ(err("  [ ]  \n"), "ok");
  // The same key in two different objects is fine.
  EXPECT_EQ(err(R"([{"a": 1}, {"a": 2}])"), "ok");
}

TEST(JsonText, SyntaxErrorsHaveLineAndColumn) {
  EXPECT_EQ(err("{\n  \"a\": [1, 2\n}"), "line 3, column 1: invalid JSON: syntax error while "
                                         "parsing array - unexpected '}'; expected ']'");
  EXPECT_NE(err("{} {}").find("invalid JSON"), std::string::npos);
  EXPECT_NE(err("").find("invalid JSON"), std::string::npos);
}

TEST(JsonText, NumberOverflowIsAnErrorNotAnException) {
  EXPECT_EQ(err(R"({"lr": 1e999})"),
            "line 1, column 8: invalid JSON: number overflow parsing '1e999'");
  EXPECT_NE(err("[-1e400]").find("number overflow"), std::string::npos);
}

TEST(JsonText, NulByteIsRefusedWherever) {
  EXPECT_EQ(err(std::string("{}\0garbage", 10)), "line 1, column 3: invalid JSON: a NUL byte");
  EXPECT_EQ(err(std::string("{\"a\n\": \0}", 9)), "line 2, column 4: invalid JSON: a NUL byte");
}

TEST(JsonText, DuplicateKeyNamesItsPointer) {
  EXPECT_EQ(err(R"({"a": [0, {"b/c": 1, "b/c": 2}]})"),
            "/a/1/b~1c: duplicate key \"b/c\" (a key may appear once in an object)");
}

TEST(JsonText, DepthLimitNamesItsPointer) {
  EXPECT_EQ(err(R"({"a": [[1]]})", 3), "ok");
  EXPECT_EQ(err(R"({"a": [0, [[1]]]})", 3), "/a/1/0: nested deeper than 3 levels");
  std::string deep(100000, '[');
  EXPECT_NE(err(deep + std::string(100000, ']')).find("nested deeper than 32 levels"),
            std::string::npos);
}

TEST(JsonText, EscapedKeepsAMessageOnOneLine) {
  EXPECT_EQ(escaped("fc1.weight"), "fc1.weight");
  EXPECT_EQ(escaped("a\nb\tc\\d"), "a\\nb\\tc\\d");
  EXPECT_EQ(escaped("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(escaped(std::string("\0\x7f", 2)), "\\x00\\x7f");
  EXPECT_EQ(escaped("gewicht\xc3\xa4"), "gewicht\xc3\xa4"); // UTF-8 passes through
  EXPECT_EQ(escaped("a\xc2\x9b"
                    "2J"),
            "a\\u009b2J"); // but not C1 controls (CSI)
}

} // namespace
} // namespace gradc::support
