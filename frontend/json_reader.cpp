// Typed JSON accessors with file + JSON-pointer diagnostics.
#include "frontend/json_reader.h"

#include "ir/types.h"
#include "support/json_text.h"

#include <cmath>
#include <limits>

namespace gradc::frontend {

std::string childPointer(const std::string &parent, const std::string &key) {
  return parent + "/" + support::pointerToken(key);
}

std::string childPointer(const std::string &parent, size_t index) {
  return parent + "/" + std::to_string(index);
}

std::string describe(const Json &v) {
  std::string s = v.dump();
  if (s.size() > 60)
    s = s.substr(0, 57) + "...";
  return s;
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i ? ", " : "") + names[i];
  return s;
}

bool isIdentifier(const std::string &s) {
  if (s.empty())
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0))
      return false;
  }
  return true;
}

Error JsonReader::error(const std::string &ptr, const std::string &what) const {
  return Error(file_ + ": " + (ptr.empty() ? "/" : ptr) + ": " + what);
}

Status JsonReader::checkObject(const Json &v, const std::string &ptr,
                               const std::vector<std::string> &allowed,
                               const std::string &context) const {
  if (!v.is_object())
    return error(ptr, "expected an object (" + context + "), got " + describe(v));
  for (const auto &item : v.items()) {
    bool known = false;
    for (const std::string &a : allowed)
      known = known || a == item.key();
    if (!known)
      return error(childPointer(ptr, item.key()), "unknown key \"" + item.key() + "\" in " +
                                                      context + "; expected one of " +
                                                      joinNames(allowed));
  }
  return Status::ok();
}

Expected<const Json *> JsonReader::require(const Json &obj, const std::string &ptr,
                                           const std::string &key,
                                           const std::string &context) const {
  auto it = obj.find(key);
  if (it == obj.end())
    return error(childPointer(ptr, key), "missing \"" + key + "\" (required by " + context + ")");
  return &*it;
}

Expected<int64_t> JsonReader::integer(const Json &v, const std::string &ptr, int64_t lo, int64_t hi,
                                      const std::string &expected) const {
  // Parsed non-negative integers are unsigned, the C++ DSL's are signed:
  // both read the same.
  if (v.is_number_integer()) {
    bool huge = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX);
    int64_t i = huge ? INT64_MAX : v.get<int64_t>();
    if (!huge && i >= lo && i <= hi)
      return i;
    if (hi >= 0 && i > hi)
      return error(ptr, "expected " + expected + ", got " + describe(v) +
                            ", which is too large (the limit is " + std::to_string(hi) + ")");
  }
  return error(ptr, "expected " + expected + ", got " + describe(v));
}

Expected<int64_t> JsonReader::size(const Json &v, const std::string &ptr) const {
  return integer(v, ptr, 1, ir::kMaxElements, "a positive integer");
}

Expected<std::array<int64_t, 2>> JsonReader::int2(const Json &v, const std::string &ptr,
                                                  int64_t lo) const {
  std::string what = lo > 0 ? "a positive integer" : "a non-negative integer";
  std::string expected = what + " or a pair [h, w]";
  if (v.is_array()) {
    if (v.size() != 2)
      return error(ptr, "expected " + expected + ", got a list of " + std::to_string(v.size()) +
                            " values " + describe(v));
    std::array<int64_t, 2> out{};
    for (size_t i = 0; i < 2; ++i) {
      GRADC_TRY(x, integer(v[i], childPointer(ptr, i), lo, ir::kMaxElements, what));
      out[i] = x;
    }
    return out;
  }
  if (!v.is_number_integer())
    return error(ptr, "expected " + expected + ", got " + describe(v));
  GRADC_TRY(x, integer(v, ptr, lo, ir::kMaxElements, expected));
  return std::array<int64_t, 2>{x, x};
}

Expected<double> JsonReader::number(const Json &v, const std::string &ptr, double lo, double hi,
                                    const std::string &expected) const {
  if (v.is_number()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d >= lo && d <= hi)
      return d;
  }
  return error(ptr, "expected " + expected + ", got " + describe(v));
}

Expected<bool> JsonReader::boolean(const Json &v, const std::string &ptr) const {
  if (!v.is_boolean())
    return error(ptr, "expected true or false, got " + describe(v));
  return v.get<bool>();
}

Expected<std::string> JsonReader::string(const Json &v, const std::string &ptr) const {
  if (!v.is_string())
    return error(ptr, "expected a string, got " + describe(v));
  return v.get<std::string>();
}

} // namespace gradc::frontend
