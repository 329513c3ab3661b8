// The DSL twins of the model files: each reads as the file does, layer by layer.
#include "tests/api/dsl_models.h"

namespace gradc::test {
namespace {

Model smolMlp() {
  Model m("smol_mlp");
  m.dim("B", 4);
  Tensor x = m.input("x", {"B", 3});
  Tensor target = m.input("target", {"B", 2});
  Tensor h = sigmoid(linear(x, {.out_features = 5, .name = "fc1"}));
  h = sigmoid(linear(h, {.out_features = 4, .name = "fc2"}));
  Tensor y = linear(h, {.out_features = 2, .name = "fc3"});
  m.output(y);
  m.loss(mse(y, target));
  m.optimizer(sgd({.lr = 0.1}));
  return m;
}

/// our_cnn and cnn_fashion: the seed's CNN on `channels`×`size`² images.
Model lenet(const std::string &name, int64_t batch, int64_t channels, int64_t size, double lr) {
  Model m(name);
  m.dim("B", batch);
  Tensor image = m.input("image", {"B", channels, size, size});
  Tensor label = m.input("label", {"B"}, DType::i32);
  Tensor h = relu(conv2d(image, {.out_channels = 18, .kernel = 5, .name = "conv1"}));
  h = maxpool2d(h, {.kernel = 2, .name = "pool1"});
  h = relu(conv2d(h, {.out_channels = 32, .kernel = 3, .name = "conv2"}));
  h = maxpool2d(h, {.kernel = 2, .name = "pool2"});
  h = flatten(h, {.name = "flat"});
  h = relu(linear(h, {.out_features = 120, .name = "fc1"}));
  h = relu(linear(h, {.out_features = 84, .name = "fc2"}));
  Tensor logits = linear(h, {.out_features = 10, .name = "fc3"});
  m.output(logits);
  m.loss(cross_entropy(logits, label));
  m.optimizer(sgd({.lr = lr, .momentum = 0.9}));
  return m;
}

Model ourCnn() { return lenet("our_cnn", 32, 3, 32, 0.01); }
Model cnnFashion() { return lenet("cnn_fashion", 64, 1, 28, 0.05); }

Model mlpFashion() {
  Model m("mlp_fashion");
  m.dim("B", 64);
  Tensor image = m.input("image", {"B", 1, 28, 28});
  Tensor label = m.input("label", {"B"}, DType::i32);
  Tensor h = flatten(image, {.name = "flat"});
  h = relu(linear(h, {.out_features = 256, .name = "fc1"}));
  h = relu(linear(h, {.out_features = 128, .name = "fc2"}));
  Tensor logits = linear(h, {.out_features = 10, .name = "fc3"});
  m.output(logits);
  m.loss(cross_entropy(logits, label));
  m.optimizer(sgd({.lr = 0.05, .momentum = 0.9, .schedule = step_lr(4, 0.3)}));
  return m;
}

Model avgpoolMaeAdam() {
  Model m("avgpool_mae_adam");
  m.dim("B", 7);
  Tensor image = m.input("image", {"B", 1, 8, 6});
  Tensor target = m.input("target", {"B", 2});
  Tensor h = conv2d(image, {.out_channels = 2,
                            .kernel = {2, 3},
                            .stride = 1,
                            .padding = {1, 1},
                            .dilation = 1,
                            .name = "conv"});
  h = avgpool2d(h, {.kernel = 2, .name = "avg"});
  h = maxpool2d(h, {.kernel = {2, 3}, .stride = {1, 2}, .padding = {1, 1}, .name = "pool"});
  h = flatten(h, {.name = "flat"});
  Tensor y = linear(h, {.out_features = 2, .bias = false, .name = "fc"});
  m.output(y);
  m.loss(mae(y, target));
  m.optimizer(adam());
  return m;
}

Model cnnSkipConnection() {
  Model m("cnn_skip_connection");
  m.dim("B", 5);
  Tensor image = m.input("image", {"B", 2, 6, 6});
  Tensor target = m.input("target", {"B", 2});
  Tensor c1 = conv2d(image, {.out_channels = 2, .kernel = 3, .padding = 1, .name = "c1"});
  Tensor t1 = tanh(c1, {.name = "t1"});
  Tensor c2 = conv2d(t1, {.out_channels = 2, .kernel = 3, .padding = {1, 1}, .name = "c2"});
  Tensor res = add(image, c2, {.name = "res"});
  Tensor prod = mul(res, t1, {.name = "prod"});
  Tensor diff = sub(prod, c1, {.name = "diff"});
  Tensor h = avgpool2d(diff, {.kernel = 3, .stride = 2, .padding = 1, .name = "avg"});
  h = flatten(h, {.name = "flat"});
  Tensor y = linear(h, {.out_features = 2, .name = "fc"});
  m.output(y);
  m.loss(bce_with_logits(y, target));
  m.optimizer(adam({.lr = 0.005, .betas = {{0.5, 0.9}}, .schedule = cosine_lr(10, 0.001)}));
  return m;
}

Model convStrideDilation() {
  Model m("conv_stride_dilation");
  m.dim("B", 3);
  Tensor image = m.input("image", {"B", 2, 11, 9});
  Tensor target = m.input("target", {"B", 4});
  Tensor h = tanh(conv2d(image, {.out_channels = 4,
                                 .kernel = {3, 2},
                                 .stride = {2, 1},
                                 .padding = {1, 0},
                                 .dilation = {1, 2},
                                 .name = "conv_a"}));
  h = sigmoid(conv2d(h, {.out_channels = 3,
                         .kernel = 3,
                         .stride = 2,
                         .padding = 2,
                         .dilation = 2,
                         .bias = false,
                         .name = "conv_b"}));
  h = flatten(h, {.name = "flat"});
  Tensor y = linear(h, {.out_features = 4, .name = "fc"});
  m.output(y);
  m.loss(mse(y, target));
  m.optimizer(sgd({.lr = 0.05, .momentum = 0.9, .nesterov = true, .schedule = cosine_lr(5, 0)}));
  return m;
}

Model intermediateOutputCe() {
  Model m("intermediate_output_ce");
  m.dim("B", 7);
  Tensor x = m.input("x", {"B", 5});
  Tensor label = m.input("label", {"B"}, DType::i32);
  Tensor h = tanh(linear(x, {.out_features = 6, .name = "fc1"}), {.name = "h"});
  Tensor logits = linear(h, {.out_features = 4, .name = "logits"});
  log_softmax(logits, {.name = "logp"});
  m.output(h);
  m.output(logits);
  m.loss(cross_entropy(logits, label));
  m.optimizer(adam({.lr = 0.01}));
  return m;
}

Model leakyReluDefaultOptimizer() {
  Model m("leaky_relu_default_optimizer");
  m.dim("B", 3);
  Tensor x = m.input("x", {"B", 4});
  Tensor target = m.input("target", {"B", 3});
  Tensor h = leaky_relu(linear(x, {.out_features = 8}));
  h = leaky_relu(linear(h, {.out_features = 8}), {.slope = 0.2});
  Tensor prob = sigmoid(linear(h, {.out_features = 3, .bias = false}), {.name = "prob"});
  m.output(prob);
  m.loss(mse(prob, target));
  return m;
}

Model namedDimsConvChain() {
  Model m("named_dims_conv_chain");
  Dim b = m.dim("B", 3), c = m.dim("C", 2), s = m.dim("S", 7);
  Tensor image = m.input("image", {b, c, s, s});
  Tensor label = m.input("label", {b}, DType::i32);
  Tensor h = conv2d(image, {.out_channels = 3, .kernel = 3, .stride = 2, .name = "conv1"});
  h = leaky_relu(h, {.slope = 0.1});
  h = conv2d(
      h, {.out_channels = 4, .kernel = {1, 3}, .padding = {0, 1}, .bias = false, .name = "conv2"});
  h = maxpool2d(h, {.kernel = 2, .stride = 1, .name = "pool"});
  h = linear(flatten(h, {.name = "flat"}), {.out_features = 5, .name = "fc"});
  Tensor logp = log_softmax(h, {.axis = -1, .name = "logp"});
  m.output(logp);
  m.loss(cross_entropy(logp, label));
  m.optimizer(sgd({.lr = 0.05, .momentum = 0.8, .weight_decay = 0.01, .nesterov = true}));
  return m;
}

Model outputsWithoutLoss() {
  Model m("outputs_without_loss");
  m.dim("B", 5);
  Tensor x = m.input("x", {"B", 3, 6, 6});
  Tensor h = relu(conv2d(
      x,
      {.out_channels = 2, .kernel = {3, 1}, .stride = {1, 2}, .dilation = {2, 1}, .name = "conv"}));
  Tensor hidden = flatten(h, {.name = "hidden"});
  Tensor fc = linear(hidden, {.out_features = 4, .name = "fc"});
  Tensor probs = softmax(fc, {.name = "probs"});
  Tensor logp = log_softmax(fc, {.name = "logp"});
  for (const Tensor &t : {x, hidden, probs, logp})
    m.output(t);
  return m;
}

Model poolOverlapPadding() {
  Model m("pool_overlap_padding");
  m.dim("B", 5);
  Tensor image = m.input("image", {"B", 3, 10, 10});
  Tensor label = m.input("label", {"B"}, DType::i32);
  Tensor h = conv2d(image, {.out_channels = 4, .kernel = 3, .padding = 1, .name = "conv1"});
  h = tanh(h, {.name = "act1"});
  h = maxpool2d(h, {.kernel = 3, .stride = 2, .padding = 1, .name = "pool_max"});
  h = avgpool2d(h, {.kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 0}, .name = "pool_avg"});
  h = flatten(h, {.name = "flat"});
  Tensor y = linear(h, {.out_features = 3, .name = "fc"});
  m.output(y);
  m.loss(cross_entropy(y, label));
  m.optimizer(sgd({.lr = 0.1, .momentum = 0.5, .dampening = 0.3, .schedule = step_lr(3, 0.5)}));
  return m;
}

Model reshapeBatchMerge() {
  Model m("reshape_batch_merge");
  m.dim("B", 5);
  Tensor x = m.input("x", {"B", 4, 3});
  Tensor target = m.input("target", {"B", 8});
  Tensor h = reshape(x, {.shape = {-1, 3}, .name = "rows"});
  h = leaky_relu(linear(h, {.out_features = 2, .name = "fc1"}));
  h = reshape(h, {.shape = {-1, 8}, .name = "merged"});
  h = linear(h, {.out_features = 8, .name = "fc2"});
  h = tanh(reshape(h, {.shape = {-1, 2, 4}, .name = "cube"}));
  Tensor flat = flatten(h, {.name = "flat"});
  m.output(flat);
  m.loss(rmse(flat, target));
  m.optimizer(sgd({.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.001}));
  return m;
}

Model residualAddSubMul() {
  Model m("residual_add_sub_mul");
  m.dim("B", 7);
  Tensor x = m.input("x", {"B", 6});
  Tensor target = m.input("target", {"B", 6});
  Tensor fc1 = linear(x, {.out_features = 6, .name = "fc1"});
  Tensor h = relu(fc1, {.name = "act1"});
  h = linear(h, {.out_features = 6, .name = "fc2"});
  Tensor skip = add(x, h, {.name = "skip"});
  Tensor diff = sub(skip, fc1, {.name = "diff"});
  Tensor gate = sigmoid(fc1, {.name = "gate"});
  Tensor gated = mul(diff, gate, {.name = "gated"});
  Tensor y = linear(gated, {.out_features = 6, .name = "fc3"});
  m.output(y);
  m.loss(mse(y, target));
  m.optimizer(sgd({.lr = 0.05, .weight_decay = 0.01}));
  return m;
}

Model softmaxAxisBce() {
  Model m("softmax_axis_bce");
  m.dim("B", 3);
  Tensor image = m.input("image", {"B", 2, 5, 5});
  Tensor target = m.input("target", {"B", 4});
  Tensor h = conv2d(image, {.out_channels = 3, .kernel = 2, .name = "conv"});
  h = softmax(h, {.axis = 1, .name = "chan_softmax"});
  h = log_softmax(h, {.axis = -2, .name = "row_logsoftmax"});
  h = avgpool2d(h, {.kernel = 2, .name = "avg"});
  h = linear(flatten(h, {.name = "flat"}), {.out_features = 4, .name = "fc"});
  Tensor logits = identity(h, {.name = "logits"});
  m.output(logits);
  m.loss(bce_with_logits(logits, target));
  m.optimizer(adam({.lr = 0.01,
                    .betas = {{0.8, 0.99}},
                    .eps = 1e-6,
                    .weight_decay = 0.05,
                    .schedule = exponential_lr(0.9)}));
  return m;
}

Model twoOutputsInputPassthrough() {
  Model m("two_outputs_input_passthrough");
  m.dim("B", 3);
  Tensor x = m.input("x", {"B", 4});
  Tensor target = m.input("target", {"B", 2});
  Tensor pred = linear(x, {.out_features = 2, .name = "pred"});
  Tensor err = sub(pred, target, {.name = "err"});
  m.output(target);
  m.output(err);
  m.loss(mse(pred, target));
  m.optimizer(sgd({.lr = 0.1, .schedule = exponential_lr(0.95)}));
  return m;
}

} // namespace

const std::vector<DslModel> &dslModels() {
  static const std::vector<DslModel> models = {
      {"examples/models/smol_mlp.json", smolMlp},
      {"examples/models/our_cnn.json", ourCnn},
      {"examples/models/cnn_fashion.json", cnnFashion},
      {"examples/models/mlp_fashion.json", mlpFashion},
      {"tests/models/avgpool_mae_adam.json", avgpoolMaeAdam},
      {"tests/models/cnn_skip_connection.json", cnnSkipConnection},
      {"tests/models/conv_stride_dilation.json", convStrideDilation},
      {"tests/models/intermediate_output_ce.json", intermediateOutputCe},
      {"tests/models/leaky_relu_default_optimizer.json", leakyReluDefaultOptimizer},
      {"tests/models/named_dims_conv_chain.json", namedDimsConvChain},
      {"tests/models/outputs_without_loss.json", outputsWithoutLoss},
      {"tests/models/pool_overlap_padding.json", poolOverlapPadding},
      {"tests/models/reshape_batch_merge.json", reshapeBatchMerge},
      {"tests/models/residual_add_sub_mul.json", residualAddSubMul},
      {"tests/models/softmax_axis_bce.json", softmaxAxisBce},
      {"tests/models/two_outputs_input_passthrough.json", twoOutputsInputPassthrough},
  };
  return models;
}

} // namespace gradc::test
