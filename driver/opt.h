// `gradc opt` as a library call: named passes run, in order, on a module
// read from IR text (how passes are tested alone), and the result printed.
#pragma once

#include "passes/pass.h"
#include "support/error.h"

#include <memory>
#include <string>
#include <vector>

namespace gradc::driver {

struct OptOptions {
  std::string input;           ///< the IR text file
  std::string passes;          ///< pass names separated by commas, run in this order
  std::string format = "text"; ///< "text" or "dot"
  passes::PipelineOptions pipeline;
};

/// Checks the format of `o`: opt does so first, and the CLI before it
/// parses the pipeline flags, so its errors come in the order of docs/cli.md.
Status checkOptOptions(const OptOptions &o);

/// The passes named in `list` ("a,b,c"), in that order, made with `o`. A
/// pass that needs a model's parameters and optimizer is an error.
Expected<std::vector<std::unique_ptr<passes::Pass>>> namedPasses(const std::string &list,
                                                                 const passes::PipelineOptions &o);

/// Reads `o.input`, runs `o.passes` on it and prints the module.
Expected<std::string> opt(const OptOptions &o);

} // namespace gradc::driver
