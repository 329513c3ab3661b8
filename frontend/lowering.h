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

// The parts of a model document, each lowered on its own. The JSON frontend
// lowers a whole file through them in order; the C++ DSL (frontend/dsl.cpp)
// lowers each part as the program adds it, so both give the same IR and the
// same messages.

/// Checks `/name` of `root` and sets the module's name.
Status readName(const JsonReader &r, const Json &root, ir::Module &m);

/// Defines the dim `/dims/<name>` with the size `v`.
Status readDim(Lowering &l, const std::string &name, const Json &v);

/// Defines model input `name` from its description `v` at pointer `p`.
Status readInput(Lowering &l, const std::string &name, const Json &v, const std::string &p);

/// Adds the output named by `v` (pointer `p`) as result "out.<name>".
Status readOutput(Lowering &l, const Json &v, const std::string &p);

/// The name of layer `index` (given, or `<op>_<index>`), checked to be new
/// and recorded in l.layer_names.
Expected<std::string> layerName(Lowering &l, const Json &layer, size_t index);

/// Lowers layer `index` named `name` (from layerName); `prev` is the name of
/// the layer before it ("" for the first), the default input.
Status lowerLayer(Lowering &l, const Json &layer, size_t index, const std::string &name,
                  const std::string &prev);

/// Lowers `/layers` (a non-empty array) into l.fn, defining every layer name.
Status lowerLayers(Lowering &l, const Json &layers);

/// Lowers `/loss` and adds the "loss" result; sets has_loss and the class input.
Status lowerLoss(Lowering &l, const Json &loss);

/// Reads `/optimizer` into `out`.
Status parseOptimizer(const JsonReader &r, const Json &opt, ir::OptimizerConfig &out);

/// Parses untrusted model text into a document (no lowering yet).
Expected<Json> parseJson(const std::string &text, const std::string &file);

/// Lowers a whole parsed model document (what parseModel does after parsing).
Expected<ir::Module> lowerDocument(const Json &root, const std::string &file,
                                   const std::map<std::string, int64_t> &dims = {});

} // namespace gradc::frontend
