// gradc::Error, the one error type of gradc: a complete user-facing message
// naming the file or model, the place and what was expected.
#pragma once

#include "gradc/export.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace gradc {

/// A user-facing diagnostic: one complete message naming the file (or
/// model), the place (JSON pointer, tensor name) and what was expected.
///
/// Inside the library errors travel as values (`Expected<T>`); every public
/// function throws them, so a caller writes
/// `try { ... } catch (const gradc::Error &e) { std::cerr << e.what(); }`.
class [[nodiscard]] GRADC_API Error : public std::runtime_error {
public:
  /// An error with the complete message `message`.
  explicit Error(std::string message) : std::runtime_error(message), message_(std::move(message)) {}
  /// The message (the same text as what()).
  const std::string &message() const noexcept { return message_; }
  /// A copy with `prefix` put in front ("file.json: /layers/3: ...").
  Error withPrefix(const std::string &prefix) const { return Error(prefix + message_); }

private:
  std::string message_;
};

} // namespace gradc
