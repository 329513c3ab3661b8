// Stable text and Graphviz dot forms of IR functions and modules.
#pragma once

#include "ir/function.h"

#include <string>
#include <vector>

namespace gradc::ir {

/// Printed names of every value of `f`: arguments and named nodes keep their
/// user names (%fc1.weight, %fc1), others are numbered in node order (%3).
/// Names are unique within the function.
std::vector<std::string> valueNames(const Function &f);

/// Deterministic text: one line per argument group, node and result; every
/// value carries its dtype and shape.
std::string printText(const Function &f, const std::string &module_name = "");
std::string printText(const Module &m);

/// Graphviz dot: arguments as ellipses, nodes as boxes, results as notes.
std::string printDot(const Function &f, const std::string &module_name = "");
std::string printDot(const Module &m);

} // namespace gradc::ir
