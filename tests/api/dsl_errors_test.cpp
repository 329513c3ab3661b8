// DSL mistakes throw gradc::Error with the JSON frontend's message: each case
// is the C++ twin of a model of tests/error/models/, and the messages must be
// equal after the source ("bad: " against "<file>: ").
#include <gradc/gradc.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

namespace gradc {
namespace {

std::string errorModel(const std::string &name) {
  return std::string(GRADC_SOURCE_DIR) + "/tests/error/models/" + name + ".json";
}

/// The message `fn` throws, or "" (a test failure) when it throws nothing.
std::string thrown(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const Error &e) {
    return e.what();
  }
  ADD_FAILURE() << "no gradc::Error thrown";
  return "";
}

/// `dsl` fails as the JSON file tests/error/models/<name>.json does.
void expectJsonMessage(const std::string &name, const std::function<void()> &dsl,
                       const std::string &source = "bad") {
  std::string file = errorModel(name);
  std::string json = thrown([&] { load_model(file); });
  ASSERT_EQ(json.rfind(file + ": ", 0), 0u) << json;
  std::string got = thrown(dsl);
  ASSERT_EQ(got.rfind(source + ": ", 0), 0u) << got;
  EXPECT_EQ(got.substr(source.size() + 2), json.substr(file.size() + 2));
}

/// The shared start of the error models: dims and inputs.
struct Bad {
  Model m{"bad"};
  Tensor x, t, label, img;
  Bad() {
    m.dim("B", 4);
    x = m.input("x", {"B", 3});
    t = m.input("t", {"B", 2});
    label = m.input("label", {"B"}, DType::i32);
    img = m.input("img", {"B", 1, 8, 8});
  }
  /// fc1 = linear(x, 2), the output, with an mse loss against t.
  Tensor fc1() {
    Tensor y = linear(x, {.out_features = 2, .name = "fc1"});
    m.output(y);
    return y;
  }
};

TEST(DslErrors, MissingAttribute) {
  expectJsonMessage("missing_attribute", [] { linear(Bad().x, {.name = "fc1"}); });
}

TEST(DslErrors, MissingLr) {
  expectJsonMessage("missing_lr", [] {
    Bad b;
    b.m.loss(mse(b.fc1(), b.t));
    b.m.optimizer(sgd({.momentum = 0.9}));
  });
}

TEST(DslErrors, Sizes) {
  expectJsonMessage("zero_size", [] { linear(Bad().x, {.out_features = 0, .name = "fc1"}); });
  expectJsonMessage("negative_size", [] { linear(Bad().x, {.out_features = -2, .name = "fc1"}); });
  expectJsonMessage("huge_out_features",
                    [] { linear(Bad().x, {.out_features = 3000000000, .name = "fc1"}); });
  expectJsonMessage("huge_weight",
                    [] { linear(Bad().x, {.out_features = 2000000000, .name = "fc1"}); });
  expectJsonMessage("huge_input", [] {
    Model m("bad");
    m.dim("B", 4);
    m.input("x", {"B", 1000000000});
  });
  expectJsonMessage("model_over_16gib", [] {
    Bad b;
    linear(b.x, {.out_features = 100000000, .name = "a"});
    linear(b.x, {.out_features = 100000000, .name = "b"});
    linear(b.x, {.out_features = 100000000, .name = "fc1"});
  });
}

TEST(DslErrors, NameUsedTwice) {
  expectJsonMessage("duplicate_layer_name", [] {
    Tensor h = linear(Bad().x, {.out_features = 3, .name = "fc1"});
    linear(h, {.out_features = 2, .name = "fc1"});
  });
  expectJsonMessage("duplicate_input_name", [] { relu(Bad().x, {.name = "t"}); });
}

TEST(DslErrors, ShapesThatDoNotFit) {
  expectJsonMessage("add_shapes", [] {
    Bad b;
    add(linear(b.x, {.out_features = 3, .name = "a"}), b.t, {.name = "fc1"});
  });
  expectJsonMessage("conv_window_too_big",
                    [] { conv2d(Bad().img, {.out_channels = 2, .kernel = 9, .name = "c1"}); });
  expectJsonMessage("linear_rank", [] { linear(Bad().img, {.out_features = 2, .name = "fc1"}); });
  expectJsonMessage("reshape_count", [] { reshape(Bad().x, {.shape = {"B", 5}, .name = "r"}); });
  expectJsonMessage("axis_out_of_range", [] { softmax(Bad().x, {.axis = -3, .name = "s"}); });
  expectJsonMessage("pool_padding",
                    [] { maxpool2d(Bad().img, {.kernel = 2, .padding = 2, .name = "p"}); });
}

TEST(DslErrors, Dtypes) {
  expectJsonMessage("i32_as_layer_input",
                    [] { linear(Bad().label, {.out_features = 2, .name = "fc1"}); });
  expectJsonMessage("ce_target_dtype", [] {
    Bad b;
    b.m.loss(cross_entropy(b.fc1(), b.t));
  });
  expectJsonMessage("mse_target_i32", [] {
    Bad b;
    b.m.loss(mse(b.fc1(), b.label));
  });
}

TEST(DslErrors, LossTargets) {
  expectJsonMessage("loss_target_shape", [] {
    Bad b;
    b.m.loss(mse(b.fc1(), b.x));
  });
  expectJsonMessage("loss_target_is_layer", [] {
    Bad b;
    Tensor y = b.fc1();
    b.m.loss(mse(y, relu(y, {.name = "t2"})));
  });
}

TEST(DslErrors, Dims) {
  expectJsonMessage("dim_not_positive", [] { Model("bad").dim("B", 0); });
  expectJsonMessage("unknown_dim", [] {
    Model m("bad");
    m.dim("B", 4);
    m.input("x", {"N", 3});
  });
}

TEST(DslErrors, Optimizers) {
  expectJsonMessage("nesterov_without_momentum", [] {
    Bad b;
    b.m.loss(mse(b.fc1(), b.t));
    b.m.optimizer(sgd({.lr = 0.1, .nesterov = true}));
  });
  expectJsonMessage("adam_betas", [] {
    Bad b;
    b.m.loss(mse(b.fc1(), b.t));
    b.m.optimizer(adam({.betas = {{0.9, 1.5}}}));
  });
}

TEST(DslErrors, IncompleteModels) {
  expectJsonMessage("empty_layers", [] { to_ir(Bad().m); });
  expectJsonMessage("empty_outputs", [] {
    Bad b;
    Tensor y = linear(b.x, {.out_features = 2, .name = "fc1"});
    b.m.loss(mse(y, b.t));
    compile(b.m);
  });
  expectJsonMessage(
      "bad_name", [] { Model("my model"); }, "my model");
}

TEST(DslErrors, LoadModelThrowsTheCliMessage) {
  for (const char *name : {"missing_attribute", "add_shapes", "unknown_op", "invalid_json"}) {
    std::string file = errorModel(name);
    std::string cmd = std::string(GRADC_BIN) + " dump " + file + " --stage parsed 2>&1";
    std::string cli;
    FILE *p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, p))
      cli.append(buf, n);
    EXPECT_NE(::pclose(p), 0) << cmd;
    EXPECT_EQ(cli, "gradc: error: " + thrown([&] { load_model(file); }) + "\n") << name;
  }
}

// Mistakes only a program can make.

TEST(DslErrors, ATensorOfAnotherModel) {
  Bad a;
  Model other("other");
  Tensor y = other.input("y", {4, 3});
  EXPECT_EQ(thrown([&] { add(a.x, y); }),
            "bad: /layers/0/inputs/1: \"y\" is a tensor of model \"other\", not of model \"bad\"");
  EXPECT_EQ(thrown([&] { a.m.output(y); }),
            "bad: /outputs/0: \"y\" is a tensor of model \"other\", not of model \"bad\"");
  EXPECT_EQ(thrown([&] { a.m.loss(mse(a.x, y)); }),
            "bad: /loss/target: \"y\" is a tensor of model \"other\", not of model \"bad\"");
}

TEST(DslErrors, ATensorOfNoModel) {
  EXPECT_EQ(thrown([] { relu(Tensor()); }),
            "gradc::relu: the tensor belongs to no model (a default-constructed gradc::Tensor)");
}

TEST(DslErrors, PartsGivenTwice) {
  Bad b;
  EXPECT_EQ(thrown([&] { b.m.dim("B", 8); }), "bad: /dims/B: the dim \"B\" is declared twice");
  EXPECT_EQ(thrown([&] { b.m.input("x", {2}); }),
            "bad: /inputs/x: duplicate name: \"x\" is already a model input");
  Tensor y = b.fc1();
  b.m.loss(mse(y, b.t));
  EXPECT_EQ(thrown([&] { b.m.loss(mse(y, b.t)); }),
            "bad: /loss: the model has a loss already; a model has one loss");
  EXPECT_EQ(thrown([&] { b.m.output(y); }), "bad: /outputs/1: \"fc1\" is listed twice");
  EXPECT_EQ(thrown([&] { b.m.tensor("nope"); }), "bad: no model input or layer is called \"nope\"");
}

} // namespace
} // namespace gradc
