// `gradc dump` as a library call: a model's IR after a named stage or pass,
// as text or dot; its execution plan, arenas, LLVM IR or assembly; and the
// pass pipeline itself (--list-passes).
#pragma once

#include "codegen/target.h"
#include "frontend/model_json.h"
#include "passes/pass.h"
#include "support/error.h"

#include <string>

namespace gradc::driver {

struct DumpOptions {
  std::string model;            ///< the model file
  std::string stage = "parsed"; ///< a named stage (docs/cli.md) or a pass
  std::string format = "text";  ///< "text", "dot", or "json" (stage memory only)
  /// The target of stages llvm and asm (triple, CPU, features, threads).
  codegen::EmitOptions emit;
  frontend::DimOverrides dims;
  passes::PipelineOptions pipeline; ///< with the --input-grad inputs; stop_after is set by dump
};

/// Checks the stage and the format of `o` (not the model): dump does so
/// first, and the CLI before it parses the rest of its flags, so its
/// errors come in the order of docs/cli.md.
Status checkDumpOptions(const DumpOptions &o);

/// Compiles `o.model` up to `o.stage` and prints it as `gradc dump` does.
Expected<std::string> dump(const DumpOptions &o);

/// The default pipeline in order, one pass a line with its description
/// (`gradc dump --list-passes`).
std::string listPasses();

} // namespace gradc::driver
