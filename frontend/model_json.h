// The JSON model frontend: gradc.model/1 files (spec in docs/model-format.md)
// to a Module holding the `forward` function.
#pragma once

#include "ir/function.h"
#include "support/error.h"

#include <map>
#include <string>

namespace gradc::frontend {

/// Named-dimension overrides from the command line (`--dim B=128`).
using DimOverrides = std::map<std::string, int64_t>;

/// Parses and validates a model file and lowers it to a Module whose only
/// function is `forward`:
///   args:    every model input (ArgRole::Input, file order), then every
///            parameter (ArgRole::Param, layer order, weight before bias);
///   results: "out.<name>" for each model output (ResultRole::Output), then
///            "loss" (ResultRole::Loss) when the model has a loss.
/// Module metadata (params with init bounds, optimizer, class input) is
/// filled in. Any violation of the format is one Error:
///   "<file>: <json pointer>: <what was expected>".
Expected<ir::Module> loadModel(const std::string &path, const DimOverrides &dims = {});

/// The largest model file loadModel reads (a 2000-layer model is about 100 KB).
inline constexpr uint64_t kMaxModelFileBytes = 16ull << 20;

/// As loadModel, from JSON text; `file` is only used in messages.
Expected<ir::Module> parseModel(const std::string &text, const std::string &file,
                                const DimOverrides &dims = {});

} // namespace gradc::frontend
