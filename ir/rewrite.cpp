// Node-by-node rebuilding and structural node identity.
#include "ir/rewrite.h"

#include <bit>
#include <cstdint>

namespace gradc::ir {
namespace {

void mix(size_t &h, uint64_t v) { h ^= size_t(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }

/// Equality of attribute values with doubles compared bit for bit.
bool sameAttr(const AttrValue &a, const AttrValue &b) {
  if (a.index() != b.index())
    return false;
  if (const double *x = std::get_if<double>(&a))
    return std::bit_cast<uint64_t>(*x) == std::bit_cast<uint64_t>(std::get<double>(b));
  return a == b;
}

void mixAttr(size_t &h, const AttrValue &v) {
  mix(h, v.index());
  if (const double *d = std::get_if<double>(&v))
    mix(h, std::bit_cast<uint64_t>(*d));
  else if (const int64_t *i = std::get_if<int64_t>(&v))
    mix(h, uint64_t(*i));
  else if (const bool *b = std::get_if<bool>(&v))
    mix(h, *b ? 1 : 0);
  else
    for (int64_t x : std::get<std::vector<int64_t>>(v))
      mix(h, uint64_t(x));
}

} // namespace

Function rewriteNodes(const Function &f, const NodeRewrite &rewrite, bool *changed) {
  Function out(f.name());
  std::vector<ValueId> map(f.values().size(), kNoValue);
  for (const Arg &a : f.args())
    map[size_t(a.value)] = out.addArg(a.name, a.role, f.type(a.value));
  bool any = false;
  for (const Node &n : f.nodes()) {
    Node mapped = n;
    for (ValueId &o : mapped.operands) {
      GRADC_CHECK(map[size_t(o)] != kNoValue, "operand used before its definition");
      o = map[size_t(o)];
    }
    mapped.result = kNoValue;
    const std::string &name = f.value(n.result).name;
    out.setOrigin(n.origin); // nodes made in place of n come from where n came from
    ValueId v = rewrite(out, mapped);
    if (v == kNoValue) {
      v = out.addNode(mapped.op, std::move(mapped.operands), std::move(mapped.attrs), name);
    } else {
      GRADC_CHECK(v >= 0 && size_t(v) < out.values().size(), "rewrite returned no value");
      GRADC_CHECK(out.type(v) == f.type(n.result), "rewrite changed the type of a value");
      any = true;
      if (!name.empty() && out.value(v).name.empty() && out.value(v).node >= 0)
        out.setValueName(v, name);
    }
    map[size_t(n.result)] = v;
  }
  for (const Result &r : f.results())
    out.addResult(r.name, r.role, map[size_t(r.value)], r.updates);
  if (changed)
    *changed = any;
  return out;
}

const Node *definingNode(const Function &f, ValueId v) {
  int32_t n = f.value(v).node;
  return n < 0 ? nullptr : &f.nodes()[size_t(n)];
}

bool sameComputation(const Node &a, const Node &b) {
  if (a.op != b.op || a.operands != b.operands || a.attrs.map().size() != b.attrs.map().size())
    return false;
  auto ia = a.attrs.map().begin();
  for (auto ib = b.attrs.map().begin(); ib != b.attrs.map().end(); ++ia, ++ib)
    if (ia->first != ib->first || !sameAttr(ia->second, ib->second))
      return false;
  return true;
}

size_t computationHash(const Node &n) {
  size_t h = 0;
  mix(h, uint64_t(n.op));
  for (ValueId o : n.operands)
    mix(h, uint64_t(uint32_t(o)));
  for (const auto &[name, v] : n.attrs.map()) {
    mix(h, std::hash<std::string>{}(name));
    mixAttr(h, v);
  }
  return h;
}

} // namespace gradc::ir
