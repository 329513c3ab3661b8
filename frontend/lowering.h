// Shared state of lowering one model file to the `forward` function: the
// names defined so far, named dims and the size budget. Internal to frontend/.
#pragma once

#include "frontend/json_reader.h"
#include "ir/function.h"

#include <map>
#include <string>

namespace gradc::frontend {

/// Params plus activations of one model may not exceed this many bytes.
inline constexpr int64_t kMaxModelBytes = int64_t(16) << 30;

/// What a model input or layer name refers to.
struct Symbol {
  ir::ValueId value = ir::kNoValue;
  int64_t layer = -1; ///< index of the defining layer, -1 for a model input
};

struct Lowering {
  Lowering(const JsonReader &reader, ir::Module &module, ir::Function &fn)
      : reader(reader), module(module), fn(fn) {}

  const JsonReader &reader;
  ir::Module &module;
  ir::Function &fn;
  /// Named dimensions after --dim overrides.
  std::map<std::string, int64_t> dims;
  /// Model inputs and the layers lowered so far.
  std::map<std::string, Symbol> defined;
  /// Every layer's name (given or default) by index, known before lowering
  /// so "used before it is defined" differs from "never defined".
  std::map<std::string, int64_t> layer_names;
  int64_t bytes = 0;

  Error error(const std::string &ptr, const std::string &what) const {
    return reader.error(ptr, what);
  }

  /// The value named by the string `v`. i32 model inputs are rejected
  /// unless `allow_i32` (only a cross_entropy target may use them).
  Expected<ir::ValueId> resolve(const Json &v, const std::string &ptr, bool allow_i32 = false);

  /// A shape: a list of positive integers or dim names; with `allow_infer`
  /// one entry may be -1, returned as -1.
  Expected<ir::Shape> shape(const Json &v, const std::string &ptr, bool allow_infer = false) const;

  /// "B, C", or "(none)": the dims a message may suggest.
  std::string knownDims() const;

  /// Counts `type` against the model's size budget.
  Status charge(const std::string &ptr, const ir::TensorType &type);

  /// Appends a node; a shape-rule failure becomes an error at `ptr`.
  Expected<ir::ValueId> node(const std::string &ptr, ir::OpKind op,
                             std::vector<ir::ValueId> operands, ir::Attrs attrs = {},
                             std::string name = "");

  /// Adds parameter `name` (an argument and a Module ParamInfo).
  Expected<ir::ValueId> param(const std::string &ptr, const std::string &name, ir::Shape shape,
                              double init_bound);
};

/// Lowers `/layers` (a non-empty array) into l.fn, defining every layer name.
Status lowerLayers(Lowering &l, const Json &layers);

/// Lowers `/loss` and adds the "loss" result; sets has_loss and the class input.
Status lowerLoss(Lowering &l, const Json &loss);

/// Reads `/optimizer` into `out`.
Status parseOptimizer(const JsonReader &r, const Json &opt, ir::OptimizerConfig &out);

} // namespace gradc::frontend
