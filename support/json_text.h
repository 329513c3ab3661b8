// Checks on untrusted JSON text before anything builds a DOM from it. Both JSON
// readers (model files and safetensors headers) call checkJsonText first, so
// they agree on what they refuse and neither can be slowed down or crashed by
// what they read: the check is one linear SAX pass that keeps O(depth) state
// plus the keys of the objects currently open.
#pragma once

#include "support/error.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace gradc::support {

/// The deepest nesting any gradc JSON input may use. A model file needs four
/// levels and a safetensors header three; both readers share this one limit.
inline constexpr int kMaxJsonDepth = 32;

/// "line L, column C" of byte offset `pos` in `text` (both 1-based).
std::string lineColumn(std::string_view text, size_t pos);

/// Checks that `text` is exactly one JSON value, then only white space, and
/// that it has no NUL byte, no number beyond the range of a double, no object
/// that names a key twice and no nesting deeper than `max_depth`. The error
/// names the place: "line L, column C: ..." for what the lexer sees, or the
/// JSON pointer ("/layers/3/name: ...") for duplicate keys and depth.
Status checkJsonText(std::string_view text, int max_depth = kMaxJsonDepth);

/// `key` escaped as one reference token of a JSON pointer (RFC 6901: ~ and /).
std::string pointerToken(const std::string &key);

/// `s` as it may be printed inside a one-line message: control bytes, DEL and
/// UTF-8 C1 controls become escapes (\n, \t, \x1b, \u009b), so a name from a
/// file can neither split a message nor reach the terminal as an escape
/// sequence. Backslashes are kept as they are, so that names already quoted as
/// JSON ("fc\n1") read the same.
std::string escaped(std::string_view s);

} // namespace gradc::support
