// Passes by name on IR text.
#include "driver/opt.h"

#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pipeline.h"

#include <fstream>
#include <sstream>

namespace gradc::driver {
namespace {

Expected<std::string> readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error(path + ": cannot read the IR file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return Error(path + ": cannot read the IR file");
  return text.str();
}

} // namespace

Status checkOptOptions(const OptOptions &o) {
  if (o.format != "text" && o.format != "dot")
    return Error("--format: expected text or dot, got '" + o.format + "'");
  return Status::ok();
}

Expected<std::vector<std::unique_ptr<passes::Pass>>> namedPasses(const std::string &list,
                                                                 const passes::PipelineOptions &o) {
  std::vector<std::unique_ptr<passes::Pass>> out;
  std::stringstream items(list);
  if (!list.empty() && list.back() == ',')
    return Error("--passes: empty pass name in '" + list + "'");
  for (std::string name; std::getline(items, name, ',');) {
    if (name.empty())
      return Error("--passes: empty pass name in '" + list + "'");
    const passes::PassInfo *p = passes::findPass(name);
    if (!p)
      return Error("--passes: unknown pass '" + name + "' (expected one of " + passes::passNames() +
                   ")");
    if (p->required)
      return Error("--passes: pass '" + name +
                   "' needs a model's parameters and optimizer (use gradc dump MODEL.json "
                   "--stage " +
                   name + ")");
    out.push_back(p->make(o));
  }
  return out;
}

Expected<std::string> opt(const OptOptions &o) {
  GRADC_TRY_STATUS(checkOptOptions(o));
  GRADC_TRY(passes, namedPasses(o.passes, o.pipeline));
  GRADC_TRY(text, readText(o.input));
  auto m = ir::parseModuleText(text);
  if (!m)
    return m.error().withPrefix(o.input + ": ");
  GRADC_TRY_STATUS(passes::runPasses(*m, passes, o.pipeline));
  return o.format == "dot" ? ir::printDot(*m) : ir::printText(*m);
}

} // namespace gradc::driver
