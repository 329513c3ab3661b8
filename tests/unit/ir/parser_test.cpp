// The IR text parser: print(parse(print(f))) == print(f) for every function of
// every model, the goldens reprint identically, errors name their line, and
// mutated text never crashes the parser.
#include "frontend/model_json.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

namespace gradc::ir {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> filesIn(const std::string &dir, const std::string &ext) {
  std::vector<fs::path> out;
  for (const auto &e : fs::directory_iterator(fs::path(GRADC_SOURCE_DIR) / dir))
    if (e.path().extension() == ext)
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// Every model with its training functions built.
std::vector<Module> allModules() {
  std::vector<Module> out;
  for (const char *dir : {"examples/models", "tests/models"}) {
    for (const fs::path &p : filesIn(dir, ".json")) {
      auto m = frontend::loadModel(p.string());
      EXPECT_TRUE(bool(m)) << p << ": " << (m ? "" : m.error().message());
      if (!m)
        continue;
      Status s = passes::buildTrainingFunctions(*m);
      EXPECT_TRUE(bool(s)) << p << ": " << (s ? "" : s.error().message());
      out.push_back(m.take());
    }
  }
  return out;
}

std::string errorOf(const std::string &text) {
  auto f = parseFunction(text);
  return f ? "<parsed>" : f.error().message();
}

const char *kSmall = "func @fn(\n"
                     "    %x: f32[2, 3] input\n"
                     "    %w: f32[4, 3] param\n"
                     ") {\n"
                     "  %0 = matmul %x, %w {transpose_a = false, transpose_b = true} : f32[2, 4]\n"
                     "  %act = relu %0 : f32[2, 4]\n"
                     "  return\n"
                     "    output \"out.act\" = %act\n"
                     "}\n";

TEST(Parser, RoundTripsEveryFunctionOfEveryModel) {
  std::vector<Module> modules = allModules();
  ASSERT_GE(modules.size(), 16u);
  size_t functions = 0;
  for (const Module &m : modules) {
    for (const Function &f : m.functions) {
      std::string text = printText(f);
      auto parsed = parseFunction(text);
      ASSERT_TRUE(bool(parsed)) << m.name << "." << f.name() << ": " << parsed.error().message();
      EXPECT_EQ(printText(*parsed), text) << m.name << "." << f.name();
      ++functions;
    }
    std::string text = printText(m);
    auto parsed = parseModuleText(text);
    ASSERT_TRUE(bool(parsed)) << m.name << ": " << parsed.error().message();
    EXPECT_EQ(parsed->name, m.name);
    EXPECT_EQ(printText(*parsed), text);
  }
  EXPECT_GE(functions, 40u);
}

TEST(Parser, ReprintsTheGoldensIdentically) {
  auto goldens = filesIn("tests/ir/golden", ".txt");
  ASSERT_FALSE(goldens.empty());
  for (const fs::path &p : goldens) {
    std::string text = readFile(p);
    auto m = parseModuleText(text);
    ASSERT_TRUE(bool(m)) << p << ": " << m.error().message();
    EXPECT_EQ(printText(*m), text) << p;
    EXPECT_FALSE(m->name.empty());
  }
}

TEST(Parser, NamedValuesKeepTheirNamesNumberedOnesGetNone) {
  auto f = parseFunction(kSmall);
  ASSERT_TRUE(bool(f)) << f.error().message();
  EXPECT_EQ(f->name(), "fn");
  ASSERT_EQ(f->nodes().size(), 2u);
  EXPECT_EQ(f->value(f->nodes()[0].result).name, "");
  EXPECT_EQ(f->value(f->nodes()[1].result).name, "act");
  EXPECT_EQ(f->args()[1].role, ArgRole::Param);
  EXPECT_EQ(f->results()[0].name, "out.act");
  EXPECT_EQ(printText(*f), kSmall);
}

TEST(Parser, RoundTripsQuotedNamesAndOddFloats) {
  Function f("odd");
  ValueId x = f.addArg("odd \"name\"\\", ArgRole::Input, f32({3}));
  f.addArg("7", ArgRole::State, f32({3}));
  ValueId a = f.addNode(OpKind::Affine, {x}, {{"scale", 1e-300}, {"shift", -0.0}}, "3");
  ValueId b = f.addNode(OpKind::Affine, {a},
                        {{"scale", std::numeric_limits<double>::infinity()}, {"shift", 0.1}});
  ValueId c = f.addNode(OpKind::LeakyRelu, {b}, {{"slope", std::nan("")}}, "x y");
  ValueId d =
      f.addNode(OpKind::Step, {c}, {{"low", 1.0 / 3}, {"high", 123456789.0}}, "odd \"name\"\\");
  f.addResult("new state", ResultRole::Update, d, 1);
  ASSERT_TRUE(bool(verify(f)));
  std::string text = printText(f);
  auto parsed = parseFunction(text);
  ASSERT_TRUE(bool(parsed)) << parsed.error().message() << "\n" << text;
  EXPECT_EQ(printText(*parsed), text);
  EXPECT_EQ(parsed->args()[0].name, "odd \"name\"\\");
  EXPECT_EQ(parsed->value(parsed->nodes()[0].result).name, "3");
  EXPECT_EQ(std::signbit(parsed->nodes()[0].attrs.f("shift")), true);
  EXPECT_EQ(parsed->nodes()[2].attrs.f("slope") != parsed->nodes()[2].attrs.f("slope"), true);
  EXPECT_EQ(parsed->results()[0].updates, 1);
}

TEST(Parser, ParsesAModuleAndRejectsMixedModules) {
  std::string two = "func @m.a(\n) {\n  %c = constant {value = 2.5, shape = [2]} : f32[2]\n"
                    "  return\n    output \"c\" = %c\n}\n\n"
                    "func @m.b(\n) {\n  return\n}\n";
  auto m = parseModuleText(two);
  ASSERT_TRUE(bool(m)) << m.error().message();
  EXPECT_EQ(m->name, "m");
  ASSERT_EQ(m->functions.size(), 2u);
  EXPECT_EQ(m->functions[1].name(), "b");
  EXPECT_EQ(printText(*m), two);

  std::string mixed = two;
  mixed.replace(mixed.find("@m.b"), 4, "@n.b");
  auto bad = parseModuleText(mixed);
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(bad.error().message(), "line 8: function @n.b is not in module m");
  EXPECT_FALSE(bool(parseModuleText("func @nomodule(\n) {\n  return\n}\n")));
}

struct ErrorCase {
  std::string from, to, message;
};

TEST(Parser, ErrorsNameTheLineAndWhatWasExpected) {
  std::vector<ErrorCase> cases = {
      {"func @fn(", "fun @fn(", "line 1: expected 'func', found 'fun'"},
      {"%x: f32[2, 3]", "%x: f33[2, 3]", "line 2: expected a type like f32[4, 3], found 'f33'"},
      {"input", "inptu", "line 2: expected an argument role"},
      {"%w: f32[4, 3] param", "%x: f32[4, 3] param", "line 3: argument %x is defined twice"},
      {"%w: f32[4, 3]", "%w: f32[4, 99999999999999999999]",
       "line 3: expected an integer in 64-bit range"},
      {"%w: f32[4, 3]", "%w: f32[-4, 3]", "line 3: argument type f32[-4, 3] has a negative"},
      {"matmul", "matmull", "line 5: expected an op name, found 'matmull'"},
      {"transpose_a = false", "transpose_a = 0", "line 5: expected true or false"},
      {"transpose_a = false, ", "", "line 5: matmul: missing attribute 'transpose_a'"},
      {"transpose_b = true", "transpose_c = true", "line 5: expected an attribute of matmul"},
      {"%x, %w", "%x, %v", "line 5: unknown value %v"},
      {"%x, %w", "%x", "line 5: matmul: takes 2 operands, got 1"},
      {": f32[2, 4]\n  %act", ": f32[4, 2]\n  %act",
       "line 5: %0 is annotated f32[4, 2] but matmul gives f32[2, 4]"},
      {"%act = relu %0", "%0 = relu %0", "line 6: value %0 is defined twice"},
      {"relu %0 : f32[2, 4]", "relu %0 : f32[2, 4] junk",
       "line 6: expected end of line, found 'junk'"},
      {"  return\n", "", "line 7: expected a value name like %x, found 'output'"},
      {"output \"out.act\"", "outptu \"out.act\"", "line 8: expected a result role"},
      {"\"out.act\" = %act", "\"out.act = %act",
       "line 8: expected a closing '\"', found end of line"},
      {"= %act\n", "= %act into %0\n", "line 8: 'into' must name an argument"},
      {"= %act\n", "= %act into %x\n", "line 1: @fn: "},
      {"}\n", "",
       "line 9: expected a result role (output, loss, grad, update) or '}', found end of input"},
      {"}\n", "}\n}\n", "line 10: expected end of input after the function"},
  };
  for (const ErrorCase &c : cases) {
    std::string text = kSmall;
    size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    std::string msg = errorOf(text);
    EXPECT_EQ(msg.substr(0, c.message.size()), c.message) << text;
  }
  EXPECT_EQ(errorOf(""), "line 1: expected 'func', found end of input");
  EXPECT_EQ(errorOf("func @("), "line 1: expected a function name followed by '(' at the end of "
                                "the line, found '('");
}

/// One random edit of `text`: truncation, byte flips, huge numbers, deep
/// brackets, deleted or duplicated lines, swapped bytes.
std::string mutate(std::string text, std::mt19937 &rng) {
  auto pick = [&](size_t n) { return n ? size_t(rng() % n) : 0; };
  static const std::vector<std::string> inserts = {"99999999999999999999",
                                                   "-9223372036854775808",
                                                   "1e999",
                                                   "nan",
                                                   "[[[[[[[[[[[[[[[[",
                                                   "]]]]",
                                                   "%",
                                                   "%\"",
                                                   "\"",
                                                   "{",
                                                   "}",
                                                   ",",
                                                   "\n",
                                                   "\\",
                                                   "%0",
                                                   "%x",
                                                   "into %x",
                                                   "= ",
                                                   ": f32[]",
                                                   std::string(2000, '['),
                                                   "constant",
                                                   "-1",
                                                   "0",
                                                   "4294967296",
                                                   std::string(1, '\0'),
                                                   "\xff"};
  int edits = 1 + int(pick(3));
  for (int e = 0; e < edits && !text.empty(); ++e) {
    size_t at = pick(text.size());
    switch (pick(6)) {
    case 0:
      text.resize(at);
      break;
    case 1:
      text[at] = char(rng());
      break;
    case 2:
      text.insert(at, inserts[pick(inserts.size())]);
      break;
    case 3: {
      size_t end = text.find('\n', at);
      text.erase(at, end == std::string::npos ? std::string::npos : end - at + 1);
      break;
    }
    case 4: {
      size_t begin = text.rfind('\n', at);
      begin = begin == std::string::npos ? 0 : begin + 1;
      size_t end = text.find('\n', at);
      end = end == std::string::npos ? text.size() : end + 1;
      text.insert(begin, text.substr(begin, end - begin));
      break;
    }
    default:
      std::swap(text[at], text[pick(text.size())]);
    }
  }
  return text;
}

TEST(Parser, NeverCrashesOnMutatedText) {
  std::vector<Module> modules = allModules();
  std::vector<std::string> seeds;
  for (const Module &m : modules)
    if (m.name == "smol_mlp" || m.name == "cnn_fashion")
      for (const Function &f : m.functions)
        seeds.push_back(printText(f, m.name));
  seeds.push_back(kSmall);
  ASSERT_GE(seeds.size(), 5u);
  std::mt19937 rng(20240611);
  int parsed = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = mutate(seeds[size_t(i) % seeds.size()], rng);
    auto f = parseFunction(text);
    if (!f) {
      ++failed;
      EXPECT_EQ(f.error().message().rfind("line ", 0), 0u) << f.error().message();
      continue;
    }
    ++parsed;
    EXPECT_TRUE(bool(verify(*f)));
    std::string again = printText(*f);
    auto reparsed = parseFunction(again);
    ASSERT_TRUE(bool(reparsed)) << reparsed.error().message();
    EXPECT_EQ(printText(*reparsed), again);
    auto m = parseModuleText(text);
    (void)m;
  }
  RecordProperty("parsed", parsed);
  RecordProperty("failed", failed);
  EXPECT_GT(failed, 0);
  EXPECT_GT(parsed, 0);
}

} // namespace
} // namespace gradc::ir

namespace gradc::ir {
namespace {

const char *kKernels =
    "func @fn(\n"
    "    %x: f32[2, 3] input\n"
    "    %w: f32[4, 3] param\n"
    ") {\n"
    "  kernel @k0 {\n"
    "    %0 = matmul %x, %w {transpose_a = false, transpose_b = true} : f32[2, 4]\n"
    "    %act = relu %0 : f32[2, 4]\n"
    "  }\n"
    "  kernel @k1 {\n"
    "    %e = exp %act : f32[2, 4]\n"
    "  }\n"
    "  return\n"
    "    output \"out.e\" = %e\n"
    "}\n";

TEST(Parser, KernelRegionsRoundTripAndAreChecked) {
  auto f = parseFunction(kKernels);
  ASSERT_TRUE(bool(f)) << f.error().message();
  EXPECT_EQ(f->numKernels(), 2);
  EXPECT_EQ(f->nodes()[1].kernel, 0);
  EXPECT_EQ(f->nodes()[2].kernel, 1);
  EXPECT_EQ(printText(*f), kKernels);
  auto replaced = [](std::string from, std::string to) {
    std::string text = kKernels;
    text.replace(text.find(from), from.size(), to);
    return errorOf(text);
  };
  EXPECT_EQ(replaced("kernel @k1", "kernel @k2"),
            "line 9: expected kernel @k1 (kernels are numbered in order from k0), got @k2");
  EXPECT_EQ(replaced("  kernel @k1 {\n    %e = exp %act : f32[2, 4]\n  }\n",
                     "  %e = exp %act : f32[2, 4]\n")
                    .find("only some nodes are assigned to kernels") != std::string::npos,
            true);
  EXPECT_EQ(replaced("    %e = exp %act : f32[2, 4]\n", ""), "line 9: kernel @k1 is empty");
}

} // namespace
} // namespace gradc::ir
