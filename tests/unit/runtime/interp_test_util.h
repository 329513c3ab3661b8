// Helpers for interpreter tests: evaluate one op on given operands.
#pragma once

#include "ir/function.h"
#include "runtime/interpreter.h"

#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

namespace gradc::runtime::test_util {

/// An operand: its type and its elements.
using TypedBuffer = std::pair<ir::TensorType, DoubleBuffer>;

/// Evaluates a function made of one `op` node over `operands`.
inline DoubleBuffer evalOp(ir::OpKind op, const std::vector<TypedBuffer> &operands,
                           ir::Attrs attrs = {}) {
  ir::Function f("test");
  std::vector<ir::ValueId> ids;
  std::vector<DoubleBuffer> args;
  for (size_t i = 0; i < operands.size(); ++i) {
    ids.push_back(f.addArg("a" + std::to_string(i), ir::ArgRole::Input, operands[i].first));
    args.push_back(operands[i].second);
  }
  ir::ValueId y = f.addNode(op, ids, std::move(attrs));
  f.addResult("y", ir::ResultRole::Output, y);
  return evaluate(f, args)[0];
}

/// The output type `op` gives for these operands.
inline ir::TensorType outType(ir::OpKind op, const std::vector<ir::TensorType> &operands,
                              const ir::Attrs &attrs) {
  auto t = ir::inferType(op, operands, attrs);
  EXPECT_TRUE(bool(t)) << (t ? "" : t.error().message());
  return *t;
}

inline DoubleBuffer randomBuffer(std::mt19937_64 &gen, int64_t n) {
  std::uniform_real_distribution<double> dist(-1, 1);
  DoubleBuffer b(static_cast<size_t>(n));
  for (double &v : b)
    v = dist(gen);
  return b;
}

inline double dot(const DoubleBuffer &a, const DoubleBuffer &b) {
  EXPECT_EQ(a.size(), b.size());
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    s += a[i] * b[i];
  return s;
}

inline void expectNear(const DoubleBuffer &got, const DoubleBuffer &want, double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

} // namespace gradc::runtime::test_util
