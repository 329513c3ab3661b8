// The simplification passes against the reference interpreter: each pass,
// alone on the hand-written IR of tests/ir/opt/ and in the default pipeline
// on a model, gives the interpreter's answer on random inputs.
#include "grad_check_util.h"

#include "frontend/model_json.h"
#include "ir/parser.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace gradc::testing {
namespace {

ir::Module readModule(const std::string &file) {
  std::ifstream in(std::string(GRADC_SOURCE_DIR) + "/tests/ir/opt/" + file);
  std::stringstream text;
  text << in.rdbuf();
  auto m = ir::parseModuleText(text.str());
  EXPECT_TRUE(bool(m)) << file << ": " << (m ? "" : m.error().message());
  return m ? std::move(*m) : ir::Module{};
}

/// Random arguments for `f`, in [-2, 2) and kept away from 0 (log, div);
/// class indices in [0, 3) and optimizer state positive (Adam's sqrt(v)).
std::vector<runtime::DoubleBuffer> randomArgs(const ir::Function &f, uint64_t seed) {
  std::vector<runtime::DoubleBuffer> args;
  for (const ir::Arg &a : f.args()) {
    int64_t n = f.type(a.value).numElements();
    if (f.type(a.value).dtype == ir::DType::I32)
      args.push_back(runtime::DoubleBuffer(size_t(n), 2));
    else if (a.role == ir::ArgRole::State || a.role == ir::ArgRole::Scalar)
      args.push_back(randomValues(seed++, n, 0.1, 2));
    else
      args.push_back(randomValues(seed++, n, -2, 2, 0.1));
  }
  return args;
}

/// Every result of `after` equals the same-named result of `before`, to
/// `rtol` of the result's largest magnitude (NaN and Inf must match).
void expectSameResults(const ir::Function &before, const ir::Function &after, double rtol) {
  ASSERT_EQ(before.args().size(), after.args().size());
  ASSERT_EQ(before.results().size(), after.results().size());
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    auto args = randomArgs(before, seed * 100);
    auto want = runtime::evaluate(before, args), got = runtime::evaluate(after, args);
    for (size_t r = 0; r < want.size(); ++r) {
      const ir::Result &res = before.results()[r];
      EXPECT_EQ(res.name, after.results()[r].name);
      EXPECT_EQ(res.role, after.results()[r].role);
      EXPECT_EQ(res.updates, after.results()[r].updates);
      double scale = 0;
      for (double v : want[r])
        scale = std::isfinite(v) ? std::max(scale, std::fabs(v)) : scale;
      for (size_t i = 0; i < want[r].size(); ++i) {
        if (std::isnan(want[r][i]))
          EXPECT_TRUE(std::isnan(got[r][i])) << res.name << "[" << i << "]";
        else if (std::isinf(want[r][i]))
          EXPECT_EQ(want[r][i], got[r][i]) << res.name << "[" << i << "]";
        else
          EXPECT_NEAR(want[r][i], got[r][i], rtol * std::max(scale, 1e-30))
              << before.name() << " " << res.name << "[" << i << "]";
      }
    }
  }
}

void checkPassAlone(const std::string &file, const std::string &pass, double rtol) {
  ir::Module before = readModule(file);
  ir::Module after = before;
  std::vector<std::unique_ptr<passes::Pass>> list;
  list.push_back(passes::findPass(pass)->make({}));
  ASSERT_TRUE(bool(passes::runPasses(after, list, {})));
  ASSERT_TRUE(bool(ir::verify(after)));
  for (size_t i = 0; i < before.functions.size(); ++i)
    expectSameResults(before.functions[i], after.functions[i], rtol);
}

// Constants are folded in float, the interpreter computes in double.
TEST(Simplify, ConstantFoldMatchesTheInterpreter) {
  checkPassAlone("constant_fold.ir", "constant-fold", 1e-6);
}
// Composed affines round once; the other rewrites are exact.
TEST(Simplify, AlgebraicMatchesTheInterpreter) {
  checkPassAlone("algebraic.ir", "algebraic", 1e-12);
}
TEST(Simplify, CseMatchesTheInterpreter) { checkPassAlone("cse.ir", "cse", 0); }
TEST(Simplify, DceMatchesTheInterpreter) { checkPassAlone("dce.ir", "dce", 0); }

const char *kModel = R"({"format": "gradc.model/1", "name": "m", "dims": {"B": 3},
  "inputs": {"x": {"shape": ["B", 4]}, "y": {"shape": ["B"], "dtype": "i32"}},
  "layers": [{"name": "fc1", "op": "linear", "input": "x", "out_features": 5},
             {"op": "tanh"}, {"name": "fc2", "op": "linear", "out_features": 3}],
  "outputs": ["fc2"], "loss": {"op": "cross_entropy", "input": "fc2", "target": "y"},
  "optimizer": {"op": "adam", "weight_decay": 0.01}})";

// The whole pipeline on a model: every function gives the same results with
// and without the simplification passes, and the passes shrink train_step.
TEST(Simplify, DefaultPipelineKeepsEveryFunctionsResults) {
  auto plain = frontend::parseModel(kModel, "m.json");
  ASSERT_TRUE(bool(plain)) << plain.error().message();
  ir::Module simplified = *plain;
  passes::PipelineOptions off;
  off.disabled = {"constant-fold", "algebraic", "cse", "dce"};
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(*plain, off)));
  ASSERT_TRUE(bool(passes::buildTrainingFunctions(simplified)));
  ASSERT_EQ(plain->functions.size(), 4u);
  for (const ir::Function &f : plain->functions) {
    const ir::Function *g = simplified.find(f.name());
    ASSERT_NE(g, nullptr) << f.name();
    // Folded constants are float (1/3 of the mean over B = 3 is 0.33333334f):
    // a relative change of about 1e-8 in double, nothing in float.
    expectSameResults(f, *g, 1e-6);
  }
  EXPECT_LT(simplified.find("train_step")->nodes().size(),
            plain->find("train_step")->nodes().size());
}

} // namespace
} // namespace gradc::testing
