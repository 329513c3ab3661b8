// OurCNN from the seed lecture (LeNet-like: two conv + max-pool stages, three
// linear layers, cross-entropy, SGD with momentum) in gradc's C++ DSL,
// trained a few steps on one random batch of 3×32×32 images; saves the
// weights by PyTorch name and the model as a gradc.model/1 file.
// Usage: our_cnn [STEPS] [OUT_DIR]
#include <gradc/gradc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

namespace {

/// The network, as the seed writes it in PyTorch.
gradc::Model ourCnn(int64_t batch) {
  using namespace gradc;
  Model m("our_cnn");
  m.dim("B", batch);
  Tensor image = m.input("image", {"B", 3, 32, 32});
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
  m.optimizer(sgd({.lr = 0.01, .momentum = 0.9}));
  return m;
}

/// A batch of random images with random labels (a stand-in for CIFAR-10).
gradc::TensorMap randomBatch(int64_t batch) {
  std::mt19937 gen(0);
  std::normal_distribution<float> pixel(0, 1);
  gradc::HostTensor image = gradc::HostTensor::zeros({batch, 3, 32, 32});
  for (float &v : image.f32)
    v = pixel(gen);
  gradc::HostTensor label = gradc::HostTensor::zeros({batch}, gradc::DType::i32);
  for (int32_t &v : label.i32)
    v = int32_t(gen() % 10);
  return {{"image", image}, {"label", label}};
}

} // namespace

int main(int argc, char **argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 5;
  std::string out_dir = argc > 2 ? argv[2] : ".";
  try {
    gradc::Model m = ourCnn(32);
    std::ofstream(out_dir + "/our_cnn.json") << gradc::to_json(m);

    gradc::CompiledModel net = gradc::compile(m, {.threads = 0});
    net.init(/*seed=*/0);
    gradc::TensorMap batch = randomBatch(32);
    float first = 0, last = 0;
    for (int step = 0; step < steps; ++step) {
      last = net.train_step(batch);
      if (step == 0)
        first = last;
      std::printf("step %d  loss %.5f\n", step + 1, last);
    }
    net.save_weights(out_dir + "/our_cnn.safetensors");
    std::printf("%zu parameters saved to %s/our_cnn.safetensors\n", net.parameter_names().size(),
                out_dir.c_str());
    if (steps > 1 && !(last < first)) {
      std::fprintf(stderr, "our_cnn: the loss did not go down (%f -> %f)\n", first, last);
      return 1;
    }
    return 0;
  } catch (const gradc::Error &e) {
    std::fprintf(stderr, "our_cnn: %s\n", e.what());
    return 1;
  }
}
