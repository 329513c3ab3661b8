// SmolMLP from the seed lecture (3 → 5 → 4 → 2, sigmoid activations, MSE,
// SGD with lr 0.1) in gradc's C++ DSL, trained on its four-sample batch.
// Usage: smol_mlp [STEPS]
#include <gradc/gradc.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 20;
  try {
    gradc::Model m("smol_mlp");
    m.dim("B", 4);
    gradc::Tensor x = m.input("x", {"B", 3});
    gradc::Tensor target = m.input("target", {"B", 2});
    gradc::Tensor a = sigmoid(linear(x, {.out_features = 5, .name = "fc1"}));
    a = sigmoid(linear(a, {.out_features = 4, .name = "fc2"}));
    gradc::Tensor y = linear(a, {.out_features = 2, .name = "fc3"});
    m.output(y);
    m.loss(mse(y, target));
    m.optimizer(gradc::sgd({.lr = 0.1}));

    gradc::CompiledModel net = gradc::compile(m);
    net.init(/*seed=*/0);
    gradc::TensorMap batch = {
        {"x", gradc::HostTensor::from_f32({4, 3},
                                          {0.661f, 0.267f, 0.062f, 0.621f, -0.452f, -0.166f,
                                           -1.523f, 0.382f, -1.028f, -0.563f, -0.892f, -0.058f})},
        {"target", gradc::HostTensor::from_f32({4, 2}, {-0.196f, -0.966f, 0.422f, 0.267f, -0.421f,
                                                        -0.511f, -1.573f, -0.123f})},
    };
    float first = 0, last = 0;
    for (int step = 0; step < steps; ++step) {
      last = net.train_step(batch);
      if (step == 0)
        first = last;
      std::printf("step %2d  loss %.6f\n", step + 1, last);
    }
    gradc::TensorMap out = net.forward(batch);
    std::printf("prediction for the first sample: %.4f %.4f\n", out["out.fc3"].f32[0],
                out["out.fc3"].f32[1]);
    if (steps > 1 && !(last < first)) {
      std::fprintf(stderr, "smol_mlp: the loss did not go down (%f -> %f)\n", first, last);
      return 1;
    }
    return 0;
  } catch (const gradc::Error &e) {
    std::fprintf(stderr, "smol_mlp: %s\n", e.what());
    return 1;
  }
}
