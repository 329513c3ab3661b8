// gradc opt: runs named passes, in order, on IR text (how passes are tested
// alone) and prints the resulting module (driver/opt.h).
#include "driver/opt.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/pipeline_flags.h"

#include <cstdio>

namespace gradc::tools {
namespace {

Expected<std::string> opt(const Args &args) {
  if (args.positional.size() != 1)
    return Error("gradc opt: expected one FILE.ir (usage: gradc opt FILE.ir --passes=a,b,c "
                 "[--format text|dot])");
  driver::OptOptions o;
  o.input = args.positional[0];
  o.passes = args.get("passes");
  o.format = args.get("format", "text");
  GRADC_TRY_STATUS(driver::checkOptOptions(o));
  GRADC_TRY(pipeline, pipelineOptions(args));
  o.pipeline = pipeline;
  return driver::opt(o);
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
