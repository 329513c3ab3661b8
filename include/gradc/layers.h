// The layer ops of the model DSL: one free function per op of the model
// format, with an options aggregate whose members are the op's attributes.
// `h = sigmoid(linear(x, {.out_features = 5, .name = "fc1"}))`.
#pragma once

#include "gradc/export.h"
#include "gradc/tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

/// An `int2` attribute: one integer for both spatial axes (`5`) or a pair
/// `{h, w}` (`{3, 5}`); default-constructed it is unset (the format's default).
struct Int2 {
  /// Unset: the attribute takes the format's default.
  Int2() = default;
  /// The same value for height and width.
  Int2(int64_t both) : h(both), w(both), set(true) {}
  /// Height and width.
  Int2(int64_t height, int64_t width) : h(height), w(width), set(true) {}
  int64_t h = 0;    ///< along the height
  int64_t w = 0;    ///< along the width
  bool set = false; ///< false: unset
};

// Options: the format's attributes in the order of docs/model-format.md's
// table, then `name`. Unset members take the format's defaults; an empty
// name gives the format's default `<op>_<index>`.

/// The options of ops without attributes (flatten, identity, sigmoid, relu,
/// tanh, add, sub, mul).
struct NameOptions {
  std::string name = {}; ///< the layer's name (default `<op>_<index>`)
};

/// linear: y = x·Wᵀ + b, [N, in] → [N, out_features].
struct LinearOptions {
  std::optional<int64_t> out_features = {}; ///< required
  std::optional<bool> bias = {};            ///< default true
  std::string name = {};                    ///< default `linear_<index>`
};

/// conv2d: [N, C, H, W] → [N, out_channels, H', W'].
struct Conv2dOptions {
  std::optional<int64_t> out_channels = {}; ///< required
  Int2 kernel = {};                         ///< required
  Int2 stride = {};                         ///< default 1
  Int2 padding = {};                        ///< default 0
  Int2 dilation = {};                       ///< default 1
  std::optional<bool> bias = {};            ///< default true
  std::string name = {};                    ///< default `conv2d_<index>`
};

/// maxpool2d and avgpool2d: [N, C, H, W] → [N, C, H', W'].
struct Pool2dOptions {
  Int2 kernel = {};      ///< required
  Int2 stride = {};      ///< default: the kernel
  Int2 padding = {};     ///< default 0, at most half the kernel
  std::string name = {}; ///< default `<op>_<index>`
};

/// reshape: the same elements in a new shape.
struct ReshapeOptions {
  std::vector<Dim> shape = {}; ///< required; one entry may be -1
  std::string name = {};       ///< default `reshape_<index>`
};

/// leaky_relu: x for x > 0, else slope·x.
struct LeakyReluOptions {
  std::optional<double> slope = {}; ///< default 0.01
  std::string name = {};            ///< default `leaky_relu_<index>`
};

/// softmax and log_softmax along one axis.
struct SoftmaxOptions {
  std::optional<int64_t> axis = {}; ///< default -1 (the last)
  std::string name = {};            ///< default `<op>_<index>`
};

using FlattenOptions = NameOptions;       ///< flatten has no attribute
using IdentityOptions = NameOptions;      ///< identity has no attribute
using SigmoidOptions = NameOptions;       ///< sigmoid has no attribute
using ReluOptions = NameOptions;          ///< relu has no attribute
using TanhOptions = NameOptions;          ///< tanh has no attribute
using AddOptions = NameOptions;           ///< add has no attribute
using SubOptions = NameOptions;           ///< sub has no attribute
using MulOptions = NameOptions;           ///< mul has no attribute
using MaxPool2dOptions = Pool2dOptions;   ///< maxpool2d's attributes
using AvgPool2dOptions = Pool2dOptions;   ///< avgpool2d's attributes
using LogSoftmaxOptions = SoftmaxOptions; ///< log_softmax's attributes

/// Fully connected layer; params `<name>.weight` [out, in] and `<name>.bias` [out].
GRADC_API Tensor linear(const Tensor &x, const LinearOptions &options = {});
/// 2-D convolution; params `<name>.weight` [O, C, kh, kw] and `<name>.bias` [O].
GRADC_API Tensor conv2d(const Tensor &x, const Conv2dOptions &options = {});
/// Max pooling; padding counts as −∞.
GRADC_API Tensor maxpool2d(const Tensor &x, const Pool2dOptions &options = {});
/// Average pooling; padding counts as zeros and is in the divisor.
GRADC_API Tensor avgpool2d(const Tensor &x, const Pool2dOptions &options = {});
/// [N, ...] → [N, product of the rest].
GRADC_API Tensor flatten(const Tensor &x, const NameOptions &options = {});
/// The same elements in `options.shape`.
GRADC_API Tensor reshape(const Tensor &x, const ReshapeOptions &options = {});
/// x itself, under a new name.
GRADC_API Tensor identity(const Tensor &x, const NameOptions &options = {});
/// 1 / (1 + e^−x), elementwise.
GRADC_API Tensor sigmoid(const Tensor &x, const NameOptions &options = {});
/// max(x, 0), elementwise.
GRADC_API Tensor relu(const Tensor &x, const NameOptions &options = {});
/// tanh(x), elementwise.
GRADC_API Tensor tanh(const Tensor &x, const NameOptions &options = {});
/// x for x > 0, else slope·x, elementwise.
GRADC_API Tensor leaky_relu(const Tensor &x, const LeakyReluOptions &options = {});
/// softmax along `options.axis`.
GRADC_API Tensor softmax(const Tensor &x, const SoftmaxOptions &options = {});
/// log(softmax) along `options.axis`, computed stably.
GRADC_API Tensor log_softmax(const Tensor &x, const SoftmaxOptions &options = {});
/// a + b, elementwise; equal shapes (a skip connection).
GRADC_API Tensor add(const Tensor &a, const Tensor &b, const NameOptions &options = {});
/// a − b, elementwise; equal shapes.
GRADC_API Tensor sub(const Tensor &a, const Tensor &b, const NameOptions &options = {});
/// a · b, elementwise; equal shapes.
GRADC_API Tensor mul(const Tensor &a, const Tensor &b, const NameOptions &options = {});

/// add(a, b): `a + b` reads as the skip connection it is.
GRADC_API Tensor operator+(const Tensor &a, const Tensor &b);
/// sub(a, b).
GRADC_API Tensor operator-(const Tensor &a, const Tensor &b);
/// mul(a, b).
GRADC_API Tensor operator*(const Tensor &a, const Tensor &b);

} // namespace gradc
