// gradc::CompiledModel: a model compiled to native code by the JIT, with its
// parameters, for inference and training; and ahead-of-time objects.
#pragma once

#include "gradc/export.h"
#include "gradc/host_tensor.h"
#include "gradc/model.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

/// How compile builds a model.
struct CompileOptions {
  /// Threads each call may use (the caller's included); 0: every CPU the
  /// process may run on. Results are the same bits at any count.
  int threads = 1;
  /// Named-dim overrides, e.g. {{"B", 128}} (the CLI's --dim B=128).
  std::map<std::string, int64_t> dims = {};
  /// Use the on-disk compile cache (the CLI's default; --no-cache turns it off).
  bool cache = true;
  /// "jit" (native code) or "interp" (the reference interpreter, in double).
  std::string backend = "jit";
};

class CompiledModel;

/// Compiles `model` (its training functions too when it has a loss) to
/// native code; the on-disk cache makes a repeated compile quick.
GRADC_API CompiledModel compile(const Model &model, const CompileOptions &options = {});

/// A compiled model: forward for inference and, for a model with a loss,
/// backward and train_step. Parameters use PyTorch's names
/// ("fc1.weight"); they start uninitialised: call init or load_weights
/// first. Methods throw gradc::Error on a wrong feed, weight or file.
///
/// forward and backward may run on several threads at once (each call has
/// its own buffers); the methods that change the model (init, load_weights,
/// train_step, set_parameter, set_epoch, set_threads) must not overlap any
/// other call.
class GRADC_API CompiledModel {
public:
  /// Frees the native code and the parameters.
  ~CompiledModel();
  /// Takes over `other`'s code and parameters; `other` may then only be destroyed.
  CompiledModel(CompiledModel &&other) noexcept;
  /// Takes over `other`'s code and parameters; `other` may then only be destroyed.
  CompiledModel &operator=(CompiledModel &&other) noexcept;

  /// Draws every parameter as PyTorch initialises the layer (uniform in
  /// ±1/√fan_in), deterministically from `seed`: `gradc run --seed`.
  void init(uint64_t seed = 0);
  /// Reads every parameter by PyTorch name from a safetensors file (a
  /// state_dict saved with safetensors): exactly the model's, of its shapes.
  /// Values are taken as they are (NaN included), as PyTorch does.
  void load_weights(const std::string &path);
  /// Writes the parameters by PyTorch name to a safetensors file.
  void save_weights(const std::string &path) const;

  /// Runs forward on `feed` (one tensor per model input, by name): returns
  /// "out.<name>" per output, and "loss" for a model with a loss. For
  /// inference the loss's target may be left out; there is no "loss" then.
  TensorMap forward(const TensorMap &feed);
  /// The gradients: "grad.<param>" per trained parameter, and "loss".
  /// Parameters do not change.
  TensorMap backward(const TensorMap &feed);
  /// One optimizer step on `feed`; returns the loss before it.
  float train_step(const TensorMap &feed);
  /// Sets the learning rate to what the optimizer's schedule gives for
  /// epoch `epoch` (0-based; PyTorch's scheduler after `epoch` steps).
  void set_epoch(int64_t epoch);
  /// The learning rate the next train_step uses.
  double learning_rate() const;
  /// How many threads each call may use (0: every CPU).
  void set_threads(int threads);

  /// The parameter names in order (PyTorch's).
  std::vector<std::string> parameter_names() const;
  /// The parameter `name`.
  HostTensor parameter(const std::string &name) const;
  /// Replaces the parameter `name` (same shape and dtype).
  void set_parameter(const std::string &name, const HostTensor &value);
  /// Every parameter by name.
  TensorMap parameters() const;
  /// True when the model has a loss, so backward and train_step exist.
  bool trainable() const;

private:
  friend CompiledModel compile(const Model &model, const CompileOptions &options);
  struct Impl;
  explicit CompiledModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// How compile_to_object emits code.
struct ObjectOptions {
  /// What the output file holds.
  enum class Emit {
    object,   ///< a relocatable object file (`gradc compile --emit obj`)
    assembly, ///< assembly text (`--emit asm`)
    llvm_ir,  ///< optimised LLVM IR text (`--emit llvm`)
  };
  Emit emit = Emit::object; ///< what to write
  /// The target triple (`gradc compile --triple`, docs/embedding.md), e.g.
  /// "aarch64-linux-gnu" or "thumbv7em-none-eabihf"; empty for the build
  /// machine's.
  std::string triple = "";
  /// "native" (the build machine's CPU, all its features; only for its own
  /// triple) or an LLVM CPU name of the triple such as "x86-64" for code
  /// that runs on any x86-64; empty for the triple's baseline CPU, or native
  /// without a triple.
  std::string cpu = "";
  /// Extra LLVM target features, e.g. "+avx2,-avx512f" (`--features`).
  std::string features = "";
  /// Link the thread pool (false: `--no-threads`; triples without an OS
  /// never have one).
  bool threads = true;
  /// Named-dim overrides, e.g. {{"B", 1}}.
  std::map<std::string, int64_t> dims = {};
};

/// Ahead-of-time compilation, as `gradc compile`: an object file needing
/// only libc, libm and pthreads, and (unless `header_path` is empty) the C
/// header declaring its functions.
GRADC_API void compile_to_object(const Model &model, const std::string &object_path,
                                 const std::string &header_path = "",
                                 const ObjectOptions &options = {});

} // namespace gradc
