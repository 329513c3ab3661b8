// The one pass interface, and the runner that verifies after every pass.
#pragma once

#include "ir/function.h"
#include "ir/rewrite.h"
#include "support/error.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gradc::passes {

/// A transformation of a whole module. run() returns whether anything
/// changed, or an Error for a user-visible problem (a model that cannot be
/// trained, say). Broken invariants abort instead.
class Pass {
public:
  virtual ~Pass() = default;
  /// The CLI name, as in `gradc dump --stage NAME`: "autodiff", "dce".
  virtual const char *name() const = 0;
  virtual Expected<bool> run(ir::Module &m) = 0;
};

struct PipelineOptions {
  /// Run the verifier after every pass; a failure names the pass and dumps
  /// the IR to stderr (then aborts: it is a compiler bug). Always on by
  /// default (`--verify-each` only says so).
  bool verify_each = true;
  /// Stop after the last run of the pass of this name (for dumps); empty
  /// runs everything.
  std::string stop_after;
  /// Model inputs whose gradients `backward` also returns ("grad.<input>").
  std::vector<std::string> input_grads;
  /// Optimisation passes not to run (every run of each).
  std::vector<std::string> disabled;
  /// Print the module text to stderr after every run of these passes.
  std::vector<std::string> print_after;
  /// Print the module text to stderr after every pass.
  bool print_after_all = false;
  /// Print a table of the passes' times to stderr when the pipeline ends.
  bool time_passes = false;
};

/// Runs `passes` in order with the verifier between them, printing and
/// timing as `opts` asks. Passes named in opts.disabled are skipped.
Status runPasses(ir::Module &m, const std::vector<std::unique_ptr<Pass>> &passes,
                 const PipelineOptions &opts);

/// Rebuilds every function of `m` with ir::rewriteNodes, taking a fresh
/// hook for each function from `make_rewrite` (hooks may keep per-function
/// state). A function no node of which was replaced stays as it was.
/// Returns whether any function changed.
bool rewriteEachFunction(ir::Module &m, const std::function<ir::NodeRewrite()> &make_rewrite);

} // namespace gradc::passes
