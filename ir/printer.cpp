// Text and dot printers. The text form is what golden tests and bug reports
// use, so it changes only on purpose.
#include "ir/printer.h"

#include <sstream>
#include <unordered_set>

namespace gradc::ir {
namespace {

bool plainName(const std::string &s) {
  if (s.empty())
    return false;
  bool digits = true;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.';
    if (!ok)
      return false;
    digits = digits && c >= '0' && c <= '9';
  }
  return !digits;
}

std::string quoteName(const std::string &s) {
  if (plainName(s))
    return "%" + s;
  std::string q = "%\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string attrsText(const Node &n) {
  const OpInfo &info = opInfo(n.op);
  if (info.attrs.empty())
    return "";
  std::string s = " {";
  for (size_t i = 0; i < info.attrs.size(); ++i) {
    const AttrValue *v = n.attrs.find(info.attrs[i].name);
    s += (i ? ", " : "") + info.attrs[i].name + " = " + (v ? attrValueStr(*v) : "<missing>");
  }
  return s + "}";
}

std::string funcTitle(const Function &f, const std::string &module_name) {
  return module_name.empty() ? f.name() : module_name + "." + f.name();
}

std::string dotEscape(const std::string &s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\')
      o += '\\';
    o += c;
  }
  return o;
}

} // namespace

std::vector<std::string> valueNames(const Function &f) {
  std::vector<std::string> names(f.values().size());
  std::unordered_set<std::string> used;
  for (const Arg &a : f.args()) {
    names[size_t(a.value)] = quoteName(a.name);
    used.insert(names[size_t(a.value)]);
  }
  int counter = 0;
  for (const Node &n : f.nodes()) {
    const std::string &user = f.value(n.result).name;
    std::string name = user.empty() ? "" : quoteName(user);
    if (name.empty() || used.count(name))
      name = "%" + std::to_string(counter++);
    used.insert(name);
    names[size_t(n.result)] = name;
  }
  return names;
}

std::string printText(const Function &f, const std::string &module_name) {
  auto names = valueNames(f);
  std::ostringstream out;
  out << "func @" << funcTitle(f, module_name) << "(\n";
  for (const Arg &a : f.args())
    out << "    " << names[size_t(a.value)] << ": " << f.type(a.value).str() << " "
        << argRoleName(a.role) << "\n";
  out << ") {\n";
  int32_t open = -1; // the kernel whose region is open
  for (const Node &n : f.nodes()) {
    if (n.kernel != open && open >= 0)
      out << "  }\n";
    if (n.kernel != open && n.kernel >= 0)
      out << "  kernel @k" << n.kernel << " {\n";
    open = n.kernel;
    out << (open >= 0 ? "    " : "  ") << names[size_t(n.result)] << " = " << opName(n.op);
    for (size_t i = 0; i < n.operands.size(); ++i)
      out << (i ? ", " : " ") << names[size_t(n.operands[i])];
    out << attrsText(n) << " : " << f.type(n.result).str() << "\n";
  }
  if (open >= 0)
    out << "  }\n";
  out << "  return\n";
  for (const Result &r : f.results()) {
    out << "    " << resultRoleName(r.role) << " \"" << r.name << "\" = " << names[size_t(r.value)];
    if (r.updates >= 0)
      out << " into " << names[size_t(f.args()[size_t(r.updates)].value)];
    out << "\n";
  }
  out << "}\n";
  return out.str();
}

std::string printText(const Module &m) {
  std::string s;
  for (size_t i = 0; i < m.functions.size(); ++i)
    s += (i ? "\n" : "") + printText(m.functions[i], m.name);
  return s;
}

std::string printDot(const Function &f, const std::string &module_name) {
  auto names = valueNames(f);
  std::ostringstream out;
  std::string title = funcTitle(f, module_name);
  out << "digraph \"" << dotEscape(title) << "\" {\n";
  out << "  rankdir=TB;\n  node [fontname=\"monospace\", fontsize=10];\n";
  auto id = [&](ValueId v) { return "v" + std::to_string(v); };
  for (const Arg &a : f.args())
    out << "  " << id(a.value) << " [shape=ellipse, label=\"" << dotEscape(names[size_t(a.value)])
        << "\\n"
        << f.type(a.value).str() << " " << argRoleName(a.role) << "\"];\n";
  // A fused kernel is a cluster; edges go outside the clusters.
  int32_t open = -1;
  for (const Node &n : f.nodes()) {
    if (n.kernel != open && open >= 0)
      out << "  }\n";
    if (n.kernel != open && n.kernel >= 0)
      out << "  subgraph cluster_k" << n.kernel << " {\n    label=\"kernel k" << n.kernel
          << "\";\n    style=rounded;\n";
    open = n.kernel;
    out << (open >= 0 ? "    " : "  ") << id(n.result) << " [shape=box, label=\""
        << dotEscape(names[size_t(n.result)]) << " = " << opName(n.op) << "\\n"
        << f.type(n.result).str() << "\"];\n";
  }
  if (open >= 0)
    out << "  }\n";
  for (const Node &n : f.nodes())
    for (ValueId o : n.operands)
      out << "  " << id(o) << " -> " << id(n.result) << ";\n";
  for (size_t i = 0; i < f.results().size(); ++i) {
    const Result &r = f.results()[i];
    out << "  r" << i << " [shape=note, label=\"" << resultRoleName(r.role) << " "
        << dotEscape(r.name) << "\"];\n";
    out << "  " << id(r.value) << " -> r" << i << ";\n";
  }
  out << "}\n";
  return out.str();
}

std::string printDot(const Module &m) {
  std::string s;
  for (const Function &f : m.functions)
    s += printDot(f, m.name);
  return s;
}

} // namespace gradc::ir
