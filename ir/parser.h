// Reads the IR text that printText writes back into Functions and Modules, so
// tests and bug reports can start from text: print(parse(print(f))) == print(f).
#pragma once

#include "ir/function.h"

#include <string>

namespace gradc::ir {

/// Parses one `func @title(...) {...}` block. The whole title becomes the
/// function's name (so `@m.forward` gives a function named "m.forward" and
/// reprints identically). Every node is rebuilt with Function::tryAddNode
/// and its printed type must equal the inferred one; the result verifies.
/// Named values keep their name, numbered ones (%0) get none. Errors read
/// "line L: what was expected".
Expected<Function> parseFunction(const std::string &text);

/// Parses a sequence of `func @module.fn(...) {...}` blocks, as
/// printText(Module) writes them. All titles must share the module prefix
/// (the text before the last '.'), which becomes Module::name; other
/// module metadata (params, optimizer, ...) stays default.
Expected<Module> parseModuleText(const std::string &text);

} // namespace gradc::ir
