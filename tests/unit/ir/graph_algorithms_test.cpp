// Boost.Graph-backed algorithms over functions.
#include "ir/clone.h"
#include "ir/graph_algorithms.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace gradc::ir {
namespace {

Function diamond() {
  Function f("f");
  ValueId x = f.addArg("x", ArgRole::Input, f32({3}));
  ValueId a = f.addNode(OpKind::Exp, {x});
  ValueId b = f.addNode(OpKind::Relu, {x});
  ValueId c = f.addNode(OpKind::Add, {a, b});
  f.addNode(OpKind::Tanh, {x}); // dead
  f.addResult("out", ResultRole::Output, c);
  return f;
}

TEST(GraphAlgorithms, TopologicalOrderPutsProducersFirst) {
  Function f = diamond();
  auto order = topologicalOrder(f);
  ASSERT_EQ(order.size(), f.nodes().size());
  auto pos = [&](int32_t n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  EXPECT_LT(pos(0), pos(2));
  EXPECT_LT(pos(1), pos(2));
}

TEST(GraphAlgorithms, LiveNodesAndFiltering) {
  Function f = diamond();
  auto live = liveNodes(f);
  EXPECT_EQ(live, (std::vector<bool>{true, true, true, false}));
  Function g = filterNodes(f, live);
  EXPECT_EQ(g.nodes().size(), 3u);
  EXPECT_EQ(g.results().size(), 1u);
}

TEST(GraphAlgorithms, UsersAreListedOnce) {
  Function f("f");
  ValueId x = f.addArg("x", ArgRole::Input, f32({3}));
  f.addNode(OpKind::Mul, {x, x});
  auto users = valueUsers(f);
  EXPECT_EQ(users[size_t(x)], (std::vector<int32_t>{0}));
}

} // namespace
} // namespace gradc::ir
