// The C++ DSL's state behind gradc::Model: the parts of the model document
// added so far and their lowering, kept in step. Internal to libgradc.
#pragma once

#include "frontend/lowering.h"
#include "gradc/model.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradc::detail {

/// One model under construction. Every part is lowered when it is added,
/// through the JSON frontend's own functions, so mistakes surface at the
/// call with the JSON frontend's message; the complete document is then
/// lowered once more, as a file would be (lowerModel), for the final IR.
struct ModelImpl {
  /// `source` names the model in messages (its name, or the file it came from).
  explicit ModelImpl(std::string source);
  ModelImpl(const ModelImpl &) = delete;
  ModelImpl &operator=(const ModelImpl &) = delete;

  std::string source;
  // The document's parts, in the model format.
  std::string name;
  frontend::Json dims = frontend::Json::object();
  frontend::Json inputs = frontend::Json::object();
  frontend::Json layers = frontend::Json::array();
  frontend::Json outputs = frontend::Json::array();
  std::optional<frontend::Json> loss, optimizer;

  // The lowering of those parts.
  frontend::JsonReader reader;
  ir::Module module;
  ir::Function fn{"forward"};
  frontend::Lowering lowering;
  std::vector<std::string> layer_names; ///< by index

  /// The whole model document, keys in the format's order.
  frontend::Json document() const;
  /// Lowers the parts again from scratch: after a failed call, this drops
  /// whatever that call lowered before it failed.
  void rebuild();
  /// Throws the error of `s`, after rebuild(), unless it is ok.
  void check(const Status &s);

  /// "<source>: <ptr>: <what>", the frontend's message form.
  Error error(const std::string &ptr, const std::string &what) const {
    return reader.error(ptr, what);
  }
};

/// What the implementation reaches behind the public classes.
struct Access {
  static const std::shared_ptr<ModelImpl> &impl(const Model &m) { return m.impl_; }
  static const std::shared_ptr<ModelImpl> &impl(const Tensor &t) { return t.model_; }
  static Tensor tensor(std::shared_ptr<ModelImpl> m, std::string name) {
    return Tensor(std::move(m), std::move(name));
  }
  static Model model(std::shared_ptr<ModelImpl> impl);
};

/// The module of `m` (forward only, no pass run): its document lowered as
/// the JSON frontend lowers a file, with `dims` overriding named dims.
Expected<ir::Module> lowerModel(const Model &m, const std::map<std::string, int64_t> &dims = {});

/// The model impl that `t` belongs to; throws when `t` is of no model.
ModelImpl &modelOf(const Tensor &t, const std::string &what);

} // namespace gradc::detail
