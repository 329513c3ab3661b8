// Typed, validating access to nlohmann/json values for the model frontend.
// Every failure is one Error "<file>: <json pointer>: <what was expected>".
// Internal to frontend/: nothing outside this layer sees nlohmann types.
#pragma once

#include "support/error.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace gradc::frontend {

/// Objects keep their file order: model inputs become arguments in that order.
using Json = nlohmann::ordered_json;

/// `parent` + "/" + `key`, with `key` escaped as RFC 6901 requires.
std::string childPointer(const std::string &parent, const std::string &key);
std::string childPointer(const std::string &parent, size_t index);

/// A short rendering of a JSON value for messages ("x" is shown as "x", with quotes).
std::string describe(const Json &v);

/// "a, b, c".
std::string joinNames(const std::vector<std::string> &names);

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
bool isIdentifier(const std::string &s);

/// Reads JSON values of one file, turning every mismatch into a precise Error.
class JsonReader {
public:
  explicit JsonReader(std::string file) : file_(std::move(file)) {}

  const std::string &file() const { return file_; }

  /// "<file>: <ptr>: <what>".
  Error error(const std::string &ptr, const std::string &what) const;

  /// Errors unless `v` is an object whose keys are all in `allowed`;
  /// `context` says whose keys they are ("linear layer").
  Status checkObject(const Json &v, const std::string &ptr, const std::vector<std::string> &allowed,
                     const std::string &context) const;

  /// The member `key` of object `obj`, or an error naming it as missing.
  Expected<const Json *> require(const Json &obj, const std::string &ptr, const std::string &key,
                                 const std::string &context) const;

  /// An integer in [lo, hi]; `expected` describes it ("a positive integer").
  /// Floats and booleans are rejected even when integral.
  Expected<int64_t> integer(const Json &v, const std::string &ptr, int64_t lo, int64_t hi,
                            const std::string &expected) const;
  /// A size: integer in [1, ir::kMaxElements].
  Expected<int64_t> size(const Json &v, const std::string &ptr) const;
  /// `int2`: an integer >= lo (and <= ir::kMaxElements), or a pair [h, w] of them.
  Expected<std::array<int64_t, 2>> int2(const Json &v, const std::string &ptr, int64_t lo) const;
  /// A finite number (integer or float, not a boolean) in [lo, hi].
  Expected<double> number(const Json &v, const std::string &ptr, double lo, double hi,
                          const std::string &expected) const;
  Expected<bool> boolean(const Json &v, const std::string &ptr) const;
  Expected<std::string> string(const Json &v, const std::string &ptr) const;

private:
  std::string file_;
};

} // namespace gradc::frontend
