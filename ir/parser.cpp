// Parser for the IR text of ir/printer.cpp. A hand-written scanner over the
// whole text that counts lines; every user mistake is an Error naming the line.
#include "ir/parser.h"

#include "ir/verifier.h"

#include <charconv>
#include <map>
#include <set>
#include <utility>

namespace gradc::ir {
namespace {

/// A value as written: %name, %"quoted name" or a number %3 (unnamed).
struct ValueRef {
  std::string name;
  bool numbered = false;
  std::string text() const { return "%" + name; }
};

bool identChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '+' || c == '-';
}

bool nameChar(char c) { return identChar(c) && c != '+' && c != '-'; }

/// Printable form of arbitrary bytes for messages.
std::string visible(const std::string &s) {
  static const char *hex = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      o += char(c);
    } else {
      o += "\\x";
      o += hex[c >> 4];
      o += hex[c & 15];
    }
  }
  return o;
}

std::optional<ArgRole> argRoleFromName(const std::string &s) {
  for (ArgRole r : {ArgRole::Input, ArgRole::Param, ArgRole::Grad, ArgRole::State, ArgRole::Scalar})
    if (s == argRoleName(r))
      return r;
  return std::nullopt;
}

std::optional<ResultRole> resultRoleFromName(const std::string &s) {
  for (ResultRole r : {ResultRole::Output, ResultRole::Loss, ResultRole::Grad, ResultRole::Update})
    if (s == resultRoleName(r))
      return r;
  return std::nullopt;
}

class Parser {
public:
  explicit Parser(const std::string &text) : s_(text) {}

  /// Skips blank lines; true when nothing but whitespace is left.
  bool atEnd() {
    skipBlankLines();
    skipSpaces();
    return pos_ >= s_.size();
  }
  int line() const { return line_; }
  Expected<Function> function();

private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool atEol() const { return pos_ >= s_.size() || s_[pos_] == '\n'; }
  void skipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r'))
      ++pos_;
  }
  void skipBlankLines();
  std::string found() const;
  Error expected(const std::string &what) const {
    return Error("line " + std::to_string(line_) + ": expected " + what + ", found " + found());
  }
  Error at(int line, const std::string &what) const {
    return Error("line " + std::to_string(line) + ": " + what);
  }
  bool eat(char c) {
    skipSpaces();
    if (peek() != c)
      return false;
    ++pos_;
    return true;
  }
  Status expect(char c) {
    if (eat(c))
      return Status::ok();
    return expected(std::string("'") + c + "'");
  }
  bool eatWord(const std::string &w);
  Status endOfLine();
  std::string word();
  Expected<int64_t> integer();
  Expected<std::vector<int64_t>> intList();
  Expected<TensorType> type();
  Expected<ValueRef> valueRef();
  Expected<ValueId> use();
  Status define(const ValueRef &ref, ValueId v, int line);
  Expected<AttrValue> attrValue(const AttrSpec &spec);
  Expected<Attrs> attrs(OpKind op);
  Expected<std::string> title();
  Status argLine(Function &f);
  Status nodeLine(Function &f);
  Status resultLine(Function &f);

  const std::string &s_;
  size_t pos_ = 0;
  int line_ = 1;
  /// Values in scope, keyed by (numbered, name): %3 and %"3" differ.
  std::map<std::pair<bool, std::string>, ValueId> scope_;
};

void Parser::skipBlankLines() {
  for (;;) {
    size_t save = pos_;
    skipSpaces();
    if (peek() != '\n') {
      pos_ = save;
      return;
    }
    ++pos_;
    ++line_;
  }
}

std::string Parser::found() const {
  if (pos_ >= s_.size())
    return "end of input";
  if (s_[pos_] == '\n')
    return "end of line";
  size_t end = pos_ + 1;
  if (identChar(s_[pos_]))
    while (end < s_.size() && end - pos_ < 24 && identChar(s_[end]))
      ++end;
  return "'" + visible(s_.substr(pos_, end - pos_)) + "'";
}

bool Parser::eatWord(const std::string &w) {
  skipSpaces();
  if (s_.compare(pos_, w.size(), w) != 0)
    return false;
  if (pos_ + w.size() < s_.size() && identChar(s_[pos_ + w.size()]))
    return false;
  pos_ += w.size();
  return true;
}

Status Parser::endOfLine() {
  skipSpaces();
  if (pos_ >= s_.size())
    return Status::ok();
  if (s_[pos_] != '\n')
    return expected("end of line");
  ++pos_;
  ++line_;
  return Status::ok();
}

/// A bare token: op, role, dtype, attribute name, number, true/false.
std::string Parser::word() {
  skipSpaces();
  size_t start = pos_;
  while (pos_ < s_.size() && identChar(s_[pos_]))
    ++pos_;
  return s_.substr(start, pos_ - start);
}

Expected<int64_t> Parser::integer() {
  skipSpaces();
  size_t start = pos_;
  std::string w = word();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
  if (w.empty() || ec != std::errc() || end != w.data() + w.size()) {
    pos_ = start;
    return ec == std::errc::result_out_of_range ? expected("an integer in 64-bit range")
                                                : expected("an integer");
  }
  return v;
}

Expected<std::vector<int64_t>> Parser::intList() {
  GRADC_TRY_STATUS(expect('['));
  std::vector<int64_t> out;
  if (eat(']'))
    return out;
  do {
    GRADC_TRY(v, integer());
    out.push_back(v);
  } while (eat(','));
  GRADC_TRY_STATUS(expect(']'));
  return out;
}

Expected<TensorType> Parser::type() {
  skipSpaces();
  size_t start = pos_;
  std::optional<DType> dtype = parseDType(word());
  if (!dtype) {
    pos_ = start;
    return expected("a type like f32[4, 3]");
  }
  GRADC_TRY(shape, intList());
  return TensorType{*dtype, std::move(shape)};
}

Expected<ValueRef> Parser::valueRef() {
  if (!eat('%'))
    return expected("a value name like %x");
  ValueRef ref;
  if (peek() == '"') {
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size())
        ++pos_;
      line_ += s_[pos_] == '\n';
      ref.name += s_[pos_++];
    }
    if (pos_ >= s_.size())
      return expected("a closing '\"'");
    ++pos_;
    return ref;
  }
  while (pos_ < s_.size() && nameChar(s_[pos_]))
    ref.name += s_[pos_++];
  if (ref.name.empty())
    return expected("a value name after '%'");
  ref.numbered = ref.name.find_first_not_of("0123456789") == std::string::npos;
  return ref;
}

Expected<ValueId> Parser::use() {
  GRADC_TRY(ref, valueRef());
  auto it = scope_.find({ref.numbered, ref.name});
  if (it == scope_.end())
    return at(line_, "unknown value " + visible(ref.text()));
  return it->second;
}

Status Parser::define(const ValueRef &ref, ValueId v, int line) {
  if (!scope_.emplace(std::make_pair(ref.numbered, ref.name), v).second)
    return at(line, "value " + visible(ref.text()) + " is defined twice");
  return Status::ok();
}

Expected<AttrValue> Parser::attrValue(const AttrSpec &spec) {
  skipSpaces();
  size_t start = pos_;
  switch (spec.kind) {
  case AttrKind::Float: {
    std::string w = word();
    double d = 0;
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), d);
    if (!w.empty() && ec == std::errc() && end == w.data() + w.size())
      return AttrValue(d);
    pos_ = start;
    return expected("a number for attribute '" + spec.name + "'");
  }
  case AttrKind::Int: {
    GRADC_TRY(i, integer());
    return AttrValue(i);
  }
  case AttrKind::Bool: {
    std::string w = word();
    if (w == "true" || w == "false")
      return AttrValue(w == "true");
    pos_ = start;
    return expected("true or false for attribute '" + spec.name + "'");
  }
  case AttrKind::Ints: {
    GRADC_TRY(list, intList());
    return AttrValue(std::move(list));
  }
  }
  return expected("an attribute value");
}

/// `{name = value, ...}` in any order; checkAttrs (via tryAddNode) then
/// reports missing ones.
Expected<Attrs> Parser::attrs(OpKind op) {
  Attrs out;
  if (!eat('{'))
    return out;
  if (eat('}'))
    return out;
  const OpInfo &info = opInfo(op);
  do {
    skipSpaces();
    size_t start = pos_;
    std::string name = word();
    const AttrSpec *spec = nullptr;
    for (const AttrSpec &s : info.attrs)
      spec = s.name == name ? &s : spec;
    if (!spec) {
      pos_ = start;
      return expected("an attribute of " + std::string(info.name));
    }
    if (out.has(name))
      return at(line_, "attribute '" + name + "' is given twice");
    GRADC_TRY_STATUS(expect('='));
    GRADC_TRY(v, attrValue(*spec));
    out.set(name, std::move(v));
  } while (eat(','));
  GRADC_TRY_STATUS(expect('}'));
  return out;
}

/// `func @title(` up to the end of the line; the title may hold any byte.
Expected<std::string> Parser::title() {
  if (!eatWord("func"))
    return expected("'func'");
  GRADC_TRY_STATUS(expect('@'));
  size_t eol = s_.find('\n', pos_);
  eol = eol == std::string::npos ? s_.size() : eol;
  size_t last = eol;
  while (last > pos_ && (s_[last - 1] == ' ' || s_[last - 1] == '\t' || s_[last - 1] == '\r'))
    --last;
  if (last == pos_ || s_[last - 1] != '(' || last - 1 == pos_)
    return expected("a function name followed by '(' at the end of the line");
  std::string t = s_.substr(pos_, last - 1 - pos_);
  pos_ = last;
  GRADC_TRY_STATUS(endOfLine());
  return t;
}

/// `%name: f32[4, 3] role`
Status Parser::argLine(Function &f) {
  int line = line_;
  GRADC_TRY(ref, valueRef());
  if (ref.numbered)
    return at(line, "argument " + ref.text() + " needs a name, not a number");
  GRADC_TRY_STATUS(expect(':'));
  GRADC_TRY(t, type());
  if (!checkedNumElements(t.shape))
    return at(line, "argument type " + t.str() + " has a negative or too large shape");
  skipSpaces();
  size_t start = pos_;
  auto role = argRoleFromName(word());
  if (!role) {
    pos_ = start;
    return expected("an argument role (input, param, grad, state, scalar)");
  }
  GRADC_TRY_STATUS(endOfLine());
  if (f.findArg(ref.name) >= 0)
    return at(line, "argument " + visible(ref.text()) + " is defined twice");
  ValueId v = f.addArg(ref.name, *role, t);
  return define(ref, v, line);
}

/// `%name = op %a, %b {attr = value} : f32[4, 5]`
Status Parser::nodeLine(Function &f) {
  int line = line_;
  GRADC_TRY(ref, valueRef());
  GRADC_TRY_STATUS(expect('='));
  skipSpaces();
  size_t start = pos_;
  std::optional<OpKind> op = opFromName(word());
  if (!op) {
    pos_ = start;
    return expected("an op name");
  }
  std::vector<ValueId> operands;
  skipSpaces();
  if (peek() == '%') {
    do {
      GRADC_TRY(v, use());
      operands.push_back(v);
    } while (eat(','));
  }
  GRADC_TRY(a, attrs(*op));
  GRADC_TRY_STATUS(expect(':'));
  GRADC_TRY(t, type());
  GRADC_TRY_STATUS(endOfLine());
  auto v = f.tryAddNode(*op, std::move(operands), std::move(a), ref.numbered ? "" : ref.name);
  if (!v)
    return at(line, v.error().message());
  if (f.type(*v) != t)
    return at(line, visible(ref.text()) + " is annotated " + t.str() + " but " + opName(*op) +
                        " gives " + f.type(*v).str());
  return define(ref, *v, line);
}

/// `role "result name" = %v [into %arg]`
Status Parser::resultLine(Function &f) {
  int line = line_;
  skipSpaces();
  size_t start = pos_;
  auto role = resultRoleFromName(word());
  if (!role) {
    pos_ = start;
    return expected("a result role (output, loss, grad, update) or '}'");
  }
  GRADC_TRY_STATUS(expect('"'));
  size_t close = pos_;
  while (close < s_.size() && s_[close] != '"' && s_[close] != '\n')
    ++close;
  if (close >= s_.size() || s_[close] != '"') {
    pos_ = close;
    return expected("a closing '\"'");
  }
  std::string name = s_.substr(pos_, close - pos_);
  pos_ = close + 1;
  GRADC_TRY_STATUS(expect('='));
  GRADC_TRY(v, use());
  int32_t updates = -1;
  if (eatWord("into")) {
    GRADC_TRY(target, use());
    updates = f.value(target).arg;
    if (updates < 0)
      return at(line, "'into' must name an argument");
  }
  GRADC_TRY_STATUS(endOfLine());
  if (f.findResult(name) >= 0)
    return at(line, "result \"" + visible(name) + "\" is defined twice");
  f.addResult(name, *role, v, updates);
  return Status::ok();
}

Expected<Function> Parser::function() {
  skipBlankLines();
  scope_.clear();
  int line = line_;
  GRADC_TRY(name, title());
  Function f(name);
  for (skipBlankLines(); !eat(')'); skipBlankLines())
    GRADC_TRY_STATUS(argLine(f));
  GRADC_TRY_STATUS(expect('{'));
  GRADC_TRY_STATUS(endOfLine());
  int32_t kernels = 0;
  for (skipBlankLines(); !eatWord("return"); skipBlankLines()) {
    if (!eatWord("kernel")) {
      GRADC_TRY_STATUS(nodeLine(f));
      continue;
    }
    // `kernel @kN {`, node lines, `}`: the nodes of one fused kernel.
    int line = line_;
    GRADC_TRY_STATUS(expect('@'));
    skipSpaces();
    std::string k = word();
    if (k != "k" + std::to_string(kernels))
      return at(line, "expected kernel @k" + std::to_string(kernels) + " (kernels are numbered " +
                          "in order from k0), got @" + visible(k));
    GRADC_TRY_STATUS(expect('{'));
    GRADC_TRY_STATUS(endOfLine());
    size_t first = f.nodes().size();
    for (skipBlankLines(); !eat('}'); skipBlankLines())
      GRADC_TRY_STATUS(nodeLine(f));
    GRADC_TRY_STATUS(endOfLine());
    if (f.nodes().size() == first)
      return at(line, "kernel @" + k + " is empty");
    for (size_t i = first; i < f.nodes().size(); ++i)
      f.setKernel(i, kernels);
    ++kernels;
  }
  GRADC_TRY_STATUS(endOfLine());
  for (skipBlankLines(); !eat('}'); skipBlankLines())
    GRADC_TRY_STATUS(resultLine(f));
  GRADC_TRY_STATUS(endOfLine());
  Status ok = verify(f);
  if (!ok)
    return at(line, "@" + visible(name) + ": " + ok.error().message());
  return f;
}

} // namespace

Expected<Function> parseFunction(const std::string &text) {
  Parser p(text);
  GRADC_TRY(f, p.function());
  if (!p.atEnd())
    return Error("line " + std::to_string(p.line()) + ": expected end of input after the function");
  return f;
}

Expected<Module> parseModuleText(const std::string &text) {
  Parser p(text);
  Module m;
  while (!p.atEnd()) {
    int line = p.line();
    GRADC_TRY(f, p.function());
    std::string title = f.name();
    size_t dot = title.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == title.size())
      return Error("line " + std::to_string(line) + ": expected a title @module.function, got @" +
                   visible(title));
    std::string module = title.substr(0, dot);
    if (!m.functions.empty() && module != m.name)
      return Error("line " + std::to_string(line) + ": function @" + visible(title) +
                   " is not in module " + visible(m.name));
    m.name = module;
    f.setName(title.substr(dot + 1));
    if (m.find(f.name()))
      return Error("line " + std::to_string(line) + ": function " + visible(f.name()) +
                   " is defined twice");
    m.functions.push_back(std::move(f));
  }
  return m;
}

} // namespace gradc::ir
