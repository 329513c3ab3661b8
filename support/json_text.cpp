// One SAX pass over untrusted JSON text: syntax, NUL bytes, number overflow,
// duplicate keys and depth, each reported with its place.
#include "support/json_text.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <unordered_set>
#include <vector>

namespace gradc::support {
namespace {

using Json = nlohmann::json;

/// Tracks where the parser is, as a JSON pointer, and refuses duplicate keys
/// and excess depth. Returning false from a callback stops the parse.
class Checker : public nlohmann::json_sax<Json> {
public:
  explicit Checker(int max_depth) : max_depth_(max_depth) {}

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t &) override { return value(); }
  bool string(string_t &) override { return value(); }
  bool binary(binary_t &) override { return value(); }

  bool start_object(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override { return close(); }

  bool key(string_t &k) override {
    Frame &f = frames_.back();
    f.token = pointerToken(k);
    if (f.keys.insert(k).second)
      return true;
    error_ =
        pointer() + ": duplicate key \"" + escaped(k) + "\" (a key may appear once in an object)";
    return false;
  }

  bool parse_error(std::size_t pos, const std::string &token,
                   const nlohmann::detail::exception &e) override {
    // A syntax error is placed where the lexer stopped; an overflowing number
    // (out_of_range 406, after the whole token was read) at its first digit.
    error_pos_ = e.id == 406 && pos >= token.size() ? pos - token.size() + 1 : pos;
    std::string what = e.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 2:
    // syntax error ..." or "[json.exception.out_of_range.406] number overflow ...": keep the
    // reason, without the exception id and the position (we give our own).
    size_t colon = what.find("]: ");
    size_t at = what.find(": ", what.find(']'));
    if (what.find("parse error") != std::string::npos && at != std::string::npos)
      what = what.substr(at + 2);
    else if (colon != std::string::npos)
      what = what.substr(colon + 3);
    else if (what.find("] ") != std::string::npos)
      what = what.substr(what.find("] ") + 2);
    error_ = what;
    return false;
  }

  const std::string &error() const { return error_; }
  /// Byte offset of a lexer error (1-based, as nlohmann counts), 0 for others.
  size_t errorPos() const { return error_pos_; }

private:
  struct Frame {
    bool array = false;
    size_t index = 0;  ///< elements started so far (arrays)
    std::string token; ///< current key (objects) as a pointer token
    std::unordered_set<std::string> keys;
  };

  std::string pointer() const {
    std::string p;
    for (const Frame &f : frames_)
      p += "/" + (f.array ? std::to_string(f.index - 1) : f.token);
    return p.empty() ? "/" : p;
  }

  /// A value (scalar or container) starts in the current frame.
  bool value() {
    if (!frames_.empty() && frames_.back().array)
      ++frames_.back().index;
    return true;
  }

  bool open(bool array) {
    value();
    if (int(frames_.size()) >= max_depth_) {
      error_ = pointer() + ": nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    frames_.push_back(Frame{array, 0, {}, {}});
    return true;
  }

  bool close() {
    frames_.pop_back();
    return true;
  }

  int max_depth_;
  std::vector<Frame> frames_;
  std::string error_;
  size_t error_pos_ = 0;
};

} // namespace

std::string pointerToken(const std::string &key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string lineColumn(std::string_view text, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

Status checkJsonText(std::string_view text, int max_depth) {
  // nlohmann's lexer takes a NUL byte for the end of the input, so text after
  // one would be ignored; no valid JSON text holds a raw NUL anywhere.
  // An empty text may have no buffer at all, and memchr must not see a null pointer.
  const void *nul = text.empty() ? nullptr : std::memchr(text.data(), '\0', text.size());
  if (nul) {
    size_t pos = size_t(static_cast<const char *>(nul) - text.data());
    return Error(lineColumn(text, pos) + ": invalid JSON: a NUL byte");
  }
  Checker checker(max_depth);
  bool ok =
      Json::sax_parse(text.begin(), text.end(), &checker, nlohmann::detail::input_format_t::json,
                      /*strict=*/true, /*ignore_comments=*/false);
  if (ok)
    return Status::ok();
  if (checker.errorPos() > 0) {
    size_t pos = checker.errorPos() - 1;
    return Error(lineColumn(text, pos) + ": invalid JSON: " + checker.error());
  }
  return Error(checker.error());
}

std::string escaped(std::string_view s) {
  static const char *hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    // C1 controls in UTF-8 (U+0080..U+009F, e.g. CSI U+009B) drive some
    // terminals like ESC [ does.
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      auto d = static_cast<unsigned char>(s[++i]);
      out += "\\u00";
      out += hex[d >> 4];
      out += hex[d & 15];
      continue;
    }
    switch (c) {
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20 || c == 0x7f) {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += char(c);
      }
    }
  }
  return out;
}

} // namespace gradc::support
