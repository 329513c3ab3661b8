// The one pass interface, and the runner that verifies after every pass.
#pragma once

#include "support/error.h"
#include "ir/function.h"

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
  /// the IR to stderr (then aborts: it is a compiler bug).
  bool verify_each = true;
  /// Stop after the pass of this name (for dumps); empty runs everything.
  std::string stop_after;
  /// Model inputs whose gradients `backward` also returns ("grad.<input>").
  std::vector<std::string> input_grads;
};

/// Runs `passes` in order with the verifier between them.
Status runPasses(ir::Module &m, const std::vector<std::unique_ptr<Pass>> &passes,
                 const PipelineOptions &opts);

} // namespace gradc::passes
