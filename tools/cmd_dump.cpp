// gradc dump: the IR after a named stage or pass, as text or dot; and the
// pass pipeline itself (--list-passes). The stages are driver/dump.h's.
#include "driver/dump.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/pipeline_flags.h"
#include "tools/target_flags.h"

#include <cstdio>

namespace gradc::tools {
namespace {

Expected<std::string> dump(const Args &args) {
  if (args.has("list-passes")) {
    if (!args.positional.empty() || args.has("stage"))
      return Error("gradc dump: --list-passes takes no MODEL.json and no --stage");
    return driver::listPasses();
  }
  if (args.positional.size() != 1)
    return Error("gradc dump: expected one MODEL.json (usage: gradc dump MODEL.json --stage "
                 "STAGE [--format text|dot])");
  driver::DumpOptions o;
  o.model = args.positional[0];
  o.stage = args.get("stage", "parsed");
  o.format = args.get("format", "text");
  o.emit = targetOptions(args);
  GRADC_TRY_STATUS(driver::checkDumpOptions(o));
  GRADC_TRY(dims, parseDims(args.all("dim")));
  GRADC_TRY(pipeline, pipelineOptions(args));
  o.dims = dims;
  o.pipeline = pipeline;
  o.pipeline.input_grads = args.all("input-grad");
  return driver::dump(o);
}

} // namespace

int cmdDump(int argc, char **argv) {
  auto args = parseArgs("dump", argc, argv, 2,
                        withPipelineFlags(withTargetFlags({{"stage", true},
                                                           {"format", true},
                                                           {"dim", true, true},
                                                           {"input-grad", true, true},
                                                           {"list-passes", false}})));
  if (!args)
    return fail(args.error().message());
  auto text = dump(*args);
  if (!text)
    return fail(text.error().message());
  std::fputs(text->c_str(), stdout);
  return 0;
}

} // namespace gradc::tools
