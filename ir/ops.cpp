// The op table built from ops.def, and attribute handling.
#include "ir/ops.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace gradc::ir {
namespace {

std::vector<AttrSpec> parseSchema(const char *schema) {
  std::vector<AttrSpec> out;
  std::istringstream in(schema);
  std::string item;
  while (in >> item) {
    auto colon = item.find(':');
    GRADC_CHECK(colon != std::string::npos && colon + 2 == item.size(), "bad schema " + item);
    char k = item[colon + 1];
    AttrKind kind = k == 'f'   ? AttrKind::Float
                    : k == 'i' ? AttrKind::Int
                    : k == 'b' ? AttrKind::Bool
                               : AttrKind::Ints;
    GRADC_CHECK(k == 'f' || k == 'i' || k == 'b' || k == 'I', "bad schema kind " + item);
    out.push_back({item.substr(0, colon), kind});
  }
  return out;
}

std::vector<OpInfo> buildTable() {
  std::vector<OpInfo> t;
#define GRADC_OP(Enum, name, arity, kind, attrs)                                                   \
  t.push_back({OpKind::Enum, name, arity, OpClass::kind, parseSchema(attrs)});
#include "ir/ops.def"
  return t;
}

const char *kindName(AttrKind k) {
  switch (k) {
  case AttrKind::Float:
    return "a number";
  case AttrKind::Int:
    return "an integer";
  case AttrKind::Bool:
    return "a boolean";
  case AttrKind::Ints:
    return "a list of integers";
  }
  return "?";
}

bool hasKind(const AttrValue &v, AttrKind k) {
  switch (k) {
  case AttrKind::Float:
    return std::holds_alternative<double>(v);
  case AttrKind::Int:
    return std::holds_alternative<int64_t>(v);
  case AttrKind::Bool:
    return std::holds_alternative<bool>(v);
  case AttrKind::Ints:
    return std::holds_alternative<std::vector<int64_t>>(v);
  }
  return false;
}

} // namespace

const std::vector<OpInfo> &allOps() {
  static const std::vector<OpInfo> table = buildTable();
  return table;
}

const OpInfo &opInfo(OpKind op) { return allOps()[size_t(op)]; }

std::optional<OpKind> opFromName(const std::string &name) {
  for (const OpInfo &info : allOps())
    if (name == info.name)
      return info.kind;
  return std::nullopt;
}

const AttrValue *Attrs::find(const std::string &name) const {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

double Attrs::f(const std::string &name) const {
  const AttrValue *v = find(name);
  GRADC_CHECK(v && std::holds_alternative<double>(*v), "float attribute " + name);
  return std::get<double>(*v);
}

int64_t Attrs::i(const std::string &name) const {
  const AttrValue *v = find(name);
  GRADC_CHECK(v && std::holds_alternative<int64_t>(*v), "int attribute " + name);
  return std::get<int64_t>(*v);
}

bool Attrs::b(const std::string &name) const {
  const AttrValue *v = find(name);
  GRADC_CHECK(v && std::holds_alternative<bool>(*v), "bool attribute " + name);
  return std::get<bool>(*v);
}

const std::vector<int64_t> &Attrs::ints(const std::string &name) const {
  const AttrValue *v = find(name);
  GRADC_CHECK(v && std::holds_alternative<std::vector<int64_t>>(*v), "int list attribute " + name);
  return std::get<std::vector<int64_t>>(*v);
}

std::string attrValueStr(const AttrValue &v) {
  if (auto *d = std::get_if<double>(&v)) {
    // Shortest text that reads back to the same double.
    char buf[64];
    for (int prec = 1; prec <= 17; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*g", prec, *d);
      if (std::strtod(buf, nullptr) == *d)
        break;
    }
    std::string s = buf;
    if (s.find_first_of(".eEni") == std::string::npos)
      s += ".0";
    return s;
  }
  if (auto *i = std::get_if<int64_t>(&v))
    return std::to_string(*i);
  if (auto *b = std::get_if<bool>(&v))
    return *b ? "true" : "false";
  return shapeStr(std::get<std::vector<int64_t>>(v));
}

Status checkAttrs(OpKind op, const Attrs &attrs) {
  const OpInfo &info = opInfo(op);
  for (const AttrSpec &spec : info.attrs) {
    const AttrValue *v = attrs.find(spec.name);
    if (!v)
      return Error(std::string(info.name) + ": missing attribute '" + spec.name + "'");
    if (!hasKind(*v, spec.kind))
      return Error(std::string(info.name) + ": attribute '" + spec.name + "' must be " +
                   kindName(spec.kind));
  }
  for (const auto &[name, value] : attrs.map()) {
    bool known = false;
    for (const AttrSpec &spec : info.attrs)
      known = known || spec.name == name;
    if (!known)
      return Error(std::string(info.name) + ": unknown attribute '" + name + "'");
  }
  return Status::ok();
}

std::optional<int64_t> windowOutSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                                     int64_t dilation) {
  if (kernel < 1 || stride < 1 || pad < 0 || dilation < 1)
    return std::nullopt;
  // Bounded operands keep the arithmetic below far from int64 overflow.
  for (int64_t v : {in, kernel, stride, pad, dilation})
    if (v > kMaxElements)
      return std::nullopt;
  int64_t span = dilation * (kernel - 1) + 1;
  int64_t avail = in + 2 * pad - span;
  if (avail < 0)
    return std::nullopt;
  return avail / stride + 1;
}

} // namespace gradc::ir
