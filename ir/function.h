// Graph IR: a Function is an SSA dataflow graph over tensor values; a Module
// holds a model's functions and the metadata of its parameters and state.
#pragma once

#include "ir/ops.h"
#include "ir/types.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace gradc::ir {

using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;

/// What a function argument is. Inputs are data fed per call; params are
/// trainable weights; grads are parameter gradients fed to optimizer_step
/// (named "grad.<param>"); state is persistent optimizer state; scalars are
/// runtime hyper-parameters such as the learning rate.
enum class ArgRole : uint8_t { Input, Param, Grad, State, Scalar };

/// What a function result is. Grads are named "grad.<param>"; updates
/// overwrite a param or state argument in place.
enum class ResultRole : uint8_t { Output, Loss, Grad, Update };

const char *argRoleName(ArgRole r);
const char *resultRoleName(ResultRole r);

struct Value {
  TensorType type;
  std::string name;  ///< user name ("fc1", "fc1.weight"); may be empty
  int32_t node = -1; ///< defining node index, or -1 for an argument
  int32_t arg = -1;  ///< argument index, or -1 for a node result
};

/// Which part of training a node computes.
enum class Phase : uint8_t { Forward, Backward, Optimizer };
const char *phaseName(Phase p); ///< "forward", "backward", "optimizer"

/// Where a node comes from: the model file's layer it was lowered from (its
/// name; "loss" for the loss; empty for IR text) and the phase. The frontend
/// sets it, and every pass that makes nodes passes it on (autodiff: a
/// gradient node takes its forward node's layer; the optimizer: its
/// parameter's layer), so a fault found at run time can name the layer.
/// Not part of the text form.
struct Origin {
  std::string layer;
  Phase phase = Phase::Forward;
};

struct Node {
  OpKind op;
  std::vector<ValueId> operands;
  Attrs attrs;
  ValueId result = kNoValue;
  /// The kernel (one loop nest, one LLVM function) this node is fused into,
  /// once the fusion pass has run; -1 before. The nodes of a kernel are
  /// consecutive and kernels are numbered 0, 1, ... in node order (the
  /// verifier checks both), so the text form prints each as one region.
  int32_t kernel = -1;
  Origin origin;
};

struct Arg {
  std::string name;
  ArgRole role;
  ValueId value;
};

struct Result {
  std::string name; ///< "out.fc3", "loss", "grad.fc1.weight", "fc1.weight"
  ResultRole role;
  ValueId value;
  int32_t updates = -1; ///< for Update: the argument overwritten in place
};

/// One IR function. Nodes are kept in a topological order: every operand is
/// an argument or the result of an earlier node (the verifier checks it).
class Function {
public:
  explicit Function(std::string name) : name_(std::move(name)) {}

  const std::string &name() const { return name_; }
  void setName(std::string name) { name_ = std::move(name); }

  ValueId addArg(const std::string &name, ArgRole role, TensorType type);
  /// Appends a node; its type comes from the op's shape rule. Operand or
  /// attribute mistakes are bugs here: callers validating user input use
  /// inferType first (see tryAddNode).
  ValueId addNode(OpKind op, std::vector<ValueId> operands, Attrs attrs = {},
                  std::string name = "");
  /// As addNode, but a shape-rule failure comes back as an Error.
  Expected<ValueId> tryAddNode(OpKind op, std::vector<ValueId> operands, Attrs attrs = {},
                               std::string name = "");
  void addResult(std::string name, ResultRole role, ValueId value, int32_t updates = -1);
  /// The origin given to the nodes added from now on.
  void setOrigin(Origin o) { origin_ = std::move(o); }
  const Origin &origin() const { return origin_; }
  /// Puts node `node` into kernel `kernel` (see Node::kernel).
  void setKernel(size_t node, int32_t kernel) { nodes_.at(node).kernel = kernel; }
  /// Number of kernels (1 + the largest Node::kernel), 0 before fusion.
  int32_t numKernels() const;

  const std::vector<Value> &values() const { return values_; }
  const std::vector<Node> &nodes() const { return nodes_; }
  const std::vector<Arg> &args() const { return args_; }
  const std::vector<Result> &results() const { return results_; }

  const Value &value(ValueId v) const { return values_.at(size_t(v)); }
  const TensorType &type(ValueId v) const { return value(v).type; }
  void setValueName(ValueId v, std::string name) { values_.at(size_t(v)).name = std::move(name); }
  /// Index of the argument called `name`, or -1.
  int32_t findArg(const std::string &name) const;
  /// Index of the result called `name`, or -1.
  int32_t findResult(const std::string &name) const;

private:
  std::string name_;
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<Arg> args_;
  std::vector<Result> results_;
  // By name: a deep model has thousands of parameters, each checked for a
  // duplicate as it is added.
  std::unordered_map<std::string, int32_t> arg_index_, result_index_;
  Origin origin_;
};

/// A trainable parameter: PyTorch name, type and initialisation (uniform in
/// ±init_bound, PyTorch's default for linear and conv2d).
struct ParamInfo {
  std::string name;
  TensorType type;
  double init_bound = 0;
  /// False when the loss does not depend on it (autodiff finds out): like a
  /// PyTorch parameter whose grad stays None, the optimizer leaves it alone.
  bool trained = true;
};

/// A persistent optimizer-state tensor (momentum buffer, Adam moment, step
/// count), zero-initialised.
struct StateInfo {
  std::string name;
  TensorType type;
};

/// Learning-rate schedule, stepped once per epoch as PyTorch's scheduler of
/// the same name.
struct Schedule {
  enum class Kind : uint8_t { None, Step, Exponential, Cosine } kind = Kind::None;
  int64_t step_size = 0;
  double gamma = 0.1;
  int64_t t_max = 0;
  double eta_min = 0;
};

/// Optimizer hyper-parameters, exactly torch.optim's.
struct OptimizerConfig {
  enum class Kind : uint8_t { Sgd, Adam } kind = Kind::Sgd;
  double lr = 0.01;
  double momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  Schedule schedule;
};

/// Everything compiled from one model: its functions and the metadata a
/// runtime needs to allocate, initialise and name their buffers.
struct Module {
  std::string name;
  std::vector<ParamInfo> params;
  std::vector<StateInfo> states;
  OptimizerConfig optimizer;
  bool has_loss = false;
  /// Names of model inputs holding class indices for a cross-entropy loss,
  /// with the class count, so runtimes can reject out-of-range labels.
  std::string class_input;
  int64_t num_classes = 0;
  /// The named dim the first model input's leading dimension uses ("B"), or
  /// empty when it is a number: the batch dimension `gradc train --batch` sets.
  std::string batch_dim;
  std::vector<Function> functions;

  Function *find(const std::string &fn);
  const Function *find(const std::string &fn) const;
};

} // namespace gradc::ir
