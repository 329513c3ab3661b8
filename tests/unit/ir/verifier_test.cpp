// The verifier names the node or result that breaks an invariant.
#include "ir/function.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <gtest/gtest.h>

namespace gradc::ir {
namespace {

TEST(Verifier, AcceptsWellFormedFunctions) {
  Function f("forward");
  ValueId x = f.addArg("x", ArgRole::Input, f32({2, 3}));
  ValueId y = f.addNode(OpKind::Relu, {x}, {}, "act");
  f.addResult("out.act", ResultRole::Output, y);
  EXPECT_TRUE(bool(verify(f)));
}

TEST(Verifier, RejectsUpdatesOfInputs) {
  Function f("step");
  ValueId x = f.addArg("x", ArgRole::Input, f32({2}));
  f.addResult("x", ResultRole::Update, f.addNode(OpKind::Relu, {x}), 0);
  Status s = verify(f);
  ASSERT_FALSE(bool(s));
  EXPECT_NE(s.error().message().find("not a param or state"), std::string::npos);
}

TEST(Verifier, RejectsUpdatesOfTheWrongType) {
  Function f("step");
  ValueId p = f.addArg("p", ArgRole::Param, f32({2, 3}));
  ValueId r = f.addNode(OpKind::ReduceSum, {p}, {{"axes", std::vector<int64_t>{0}}});
  f.addResult("p", ResultRole::Update, r, 0);
  Status s = verify(f);
  ASSERT_FALSE(bool(s));
  EXPECT_NE(s.error().message().find("f32[3]"), std::string::npos);
}

TEST(Printer, NamesAreUniqueAndStable) {
  Function f("forward");
  ValueId x = f.addArg("x", ArgRole::Input, f32({2}));
  ValueId a = f.addNode(OpKind::Relu, {x}, {}, "x"); // clashes with the argument
  ValueId b = f.addNode(OpKind::Exp, {a}, {}, "odd name");
  f.addResult("out", ResultRole::Output, b);
  auto names = valueNames(f);
  EXPECT_EQ(names[size_t(x)], "%x");
  EXPECT_EQ(names[size_t(a)], "%0");
  EXPECT_EQ(names[size_t(b)], "%\"odd name\"");
  EXPECT_EQ(printText(f), printText(f));
}

} // namespace
} // namespace gradc::ir
