// The op table (generated from ops.def), node attributes and the shape/dtype
// rule every op's node must satisfy.
#pragma once

#include "ir/types.h"
#include "support/error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gradc::ir {

enum class OpKind : uint8_t {
#define GRADC_OP(Enum, name, arity, kind, attrs) Enum,
#include "ir/ops.def"
};

enum class OpClass : uint8_t { Source, Unary, Binary, Structured };

enum class AttrKind : uint8_t { Float, Int, Bool, Ints };

struct AttrSpec {
  std::string name;
  AttrKind kind;
};

/// One row of the op table.
struct OpInfo {
  OpKind kind;
  const char *name;
  int arity;
  OpClass cls;
  std::vector<AttrSpec> attrs;
};

/// The row for `op`.
const OpInfo &opInfo(OpKind op);
/// All ops, in table order.
const std::vector<OpInfo> &allOps();
std::optional<OpKind> opFromName(const std::string &name);
inline const char *opName(OpKind op) { return opInfo(op).name; }
inline bool isElementwise(OpKind op) {
  OpClass c = opInfo(op).cls;
  return c == OpClass::Unary || c == OpClass::Binary;
}

using AttrValue = std::variant<double, int64_t, bool, std::vector<int64_t>>;

/// A node's attributes by name. Accessors abort on a missing or mistyped
/// attribute: the verifier has checked them against the op's schema.
class Attrs {
public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> init) : map_(init) {}

  Attrs &set(const std::string &name, AttrValue v) {
    map_[name] = std::move(v);
    return *this;
  }
  bool has(const std::string &name) const { return map_.count(name) != 0; }
  const AttrValue *find(const std::string &name) const;
  double f(const std::string &name) const;
  int64_t i(const std::string &name) const;
  bool b(const std::string &name) const;
  const std::vector<int64_t> &ints(const std::string &name) const;
  const std::map<std::string, AttrValue> &map() const { return map_; }
  bool operator==(const Attrs &o) const { return map_ == o.map_; }

private:
  std::map<std::string, AttrValue> map_;
};

/// Text of one attribute value as the printer shows it: 0.5, 3, true, [1, 2].
std::string attrValueStr(const AttrValue &v);

/// Checks `attrs` against the op's schema: every attribute present with the
/// right kind, none extra. The message names the attribute.
Status checkAttrs(OpKind op, const Attrs &attrs);

/// The op's output type for these operand types and attributes, or an error
/// that says what did not fit, with both shapes. The single shape/dtype rule
/// used by builders, the frontend and the verifier.
Expected<TensorType> inferType(OpKind op, const std::vector<TensorType> &operands,
                               const Attrs &attrs);

/// Output extent of a window op along one axis (PyTorch's formula), or
/// std::nullopt when the window does not fit.
std::optional<int64_t> windowOutSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                                     int64_t dilation);

} // namespace gradc::ir
