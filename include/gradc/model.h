// gradc::Model: a network built in C++, the DSL twin of a gradc.model/1 file
// (docs/dsl.md), and the conversions between the two.
#pragma once

#include "gradc/export.h"
#include "gradc/tensor.h"
#include "gradc/training.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

/// A model under construction. Each call adds one part of the model format
/// (dims, inputs, layers through the op functions of <gradc/layers.h>,
/// outputs, loss, optimizer) and checks it at once: a mistake throws
/// gradc::Error with the message the JSON frontend gives for the same
/// mistake in the equivalent file (see to_json), and leaves the model as it
/// was before the call.
///
/// Models are move-only; tensors keep their model's graph alive.
class GRADC_API Model {
public:
  /// An empty model called `name` (`[A-Za-z_][A-Za-z0-9_]*`, the JSON "name").
  explicit Model(const std::string &name);
  /// Releases the model (tensors of it keep its graph alive).
  ~Model();
  /// Takes over `other`'s model; `other` may then only be destroyed or assigned.
  Model(Model &&other) noexcept;
  /// Takes over `other`'s model; `other` may then only be destroyed or assigned.
  Model &operator=(Model &&other) noexcept;
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  /// Declares the named dim `name` of size `size` ("dims"); returns it for
  /// use in shapes.
  Dim dim(const std::string &name, int64_t size);
  /// Declares model input `name` ("inputs") of `shape` and `dtype`.
  Tensor input(const std::string &name, const std::vector<Dim> &shape, DType dtype = DType::f32);
  /// Adds `t` to what forward returns ("outputs"), in call order.
  void output(const Tensor &t);
  /// Sets the loss that training minimises ("loss"); at most once.
  void loss(const Loss &loss);
  /// Sets the optimizer ("optimizer"); without one, SGD with lr 0.01.
  void optimizer(const Optimizer &optimizer);

  /// The model's name.
  const std::string &name() const;
  /// The model input or layer called `name`, e.g. to extend a loaded model.
  Tensor tensor(const std::string &name) const;
  /// The model inputs, in declaration order.
  std::vector<Tensor> inputs() const;
  /// The outputs, in call order.
  std::vector<Tensor> outputs() const;
  /// Names of the parameters, in order (PyTorch's: "fc1.weight", "fc1.bias").
  std::vector<std::string> parameter_names() const;
  /// True once loss() was called.
  bool has_loss() const;

private:
  friend struct detail::Access;
  Model() = default;
  std::shared_ptr<detail::ModelImpl> impl_;
};

/// The model-format text of `m` (a gradc.model/1 file): `gradc` commands
/// read it, and load_model gives back a model with the same IR.
GRADC_API std::string to_json(const Model &m);

/// Reads the model file at `path` into a Model that programs may use and
/// extend as one built in C++. Throws gradc::Error with the message
/// `gradc run` gives for the file.
GRADC_API Model load_model(const std::string &path);

/// As load_model, from model-format text; `source` names it in messages.
GRADC_API Model parse_model(const std::string &text, const std::string &source = "<model>");

/// The graph IR of `m`'s forward function as the frontend lowers it (the
/// text of `gradc dump MODEL.json --stage parsed`). Throws gradc::Error when
/// the model is incomplete (no layer or no output).
GRADC_API std::string to_ir(const Model &m);

} // namespace gradc
