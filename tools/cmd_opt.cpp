// gradc opt: runs named passes, in order, on IR text (how passes are tested
// alone) and prints the resulting module.
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pipeline.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/pipeline_flags.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace gradc::tools {
namespace {

/// The passes named in --passes=a,b,c, in that order.
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

Expected<std::string> opt(const Args &args) {
  if (args.positional.size() != 1)
    return Error("gradc opt: expected one FILE.ir (usage: gradc opt FILE.ir --passes=a,b,c "
                 "[--format text|dot])");
  std::string format = args.get("format", "text");
  if (format != "text" && format != "dot")
    return Error("--format: expected text or dot, got '" + format + "'");
  GRADC_TRY(pipeline, pipelineOptions(args));
  GRADC_TRY(passes, namedPasses(args.get("passes"), pipeline));
  const std::string &path = args.positional[0];
  GRADC_TRY(text, readText(path));
  auto m = ir::parseModuleText(text);
  if (!m)
    return m.error().withPrefix(path + ": ");
  GRADC_TRY_STATUS(passes::runPasses(*m, passes, pipeline));
  return format == "dot" ? ir::printDot(*m) : ir::printText(*m);
}

} // namespace

int cmdOpt(int argc, char **argv) {
  auto args = parseArgs("opt", argc, argv, 2,
                        withPipelineFlags({{"passes", true}, {"format", true}}, false));
  if (!args)
    return fail(args.error().message());
  auto text = opt(*args);
  if (!text)
    return fail(text.error().message());
  std::fputs(text->c_str(), stdout);
  return 0;
}

} // namespace gradc::tools
