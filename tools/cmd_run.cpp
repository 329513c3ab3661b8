// gradc run: one model, one batch, exact numbers (spec/cli.md).
#include "driver/run.h"
#include "runtime/safetensors.h"
#include "support/files.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/memory_limit.h"
#include "tools/pipeline_flags.h"

namespace gradc::tools {
namespace {

/// What the flags ask for: the run, and where its results go.
struct RunOptions : driver::RunOptions {
  std::string out;
};

Expected<RunOptions> parseRunOptions(int argc, char **argv) {
  GRADC_TRY(args, parseArgs("run", argc, argv, 2,
                            withPipelineFlags({{"feed", true},
                                               {"out", true},
                                               {"weights", true},
                                               {"seed", true},
                                               {"steps", true},
                                               {"dim", true, true},
                                               {"backend", true},
                                               {"max-memory", true},
                                               {"threads", true},
                                               {"allow-nonfinite", false},
                                               {"no-cache", false},
                                               {"check-numerics", false},
                                               {"input-grad", true, true}})));
  RunOptions o;
  if (args.positional.size() != 1)
    return Error("gradc run: expected one MODEL.json, got " +
                 std::to_string(args.positional.size()) +
                 " (usage: gradc run MODEL.json --feed FEED.safetensors --out OUT.safetensors)");
  o.model = args.positional[0];
  if (!args.has("feed") || !args.has("out"))
    return Error(std::string("gradc run: --") + (args.has("feed") ? "out" : "feed") +
                 " is required");
  if (args.has("weights") && args.has("seed"))
    return Error("gradc run: give --weights or --seed, not both");
  o.feed = args.get("feed");
  o.out = args.get("out");
  o.weights = args.get("weights");
  o.backend = args.get("backend", "jit");
  o.allow_nonfinite = args.has("allow-nonfinite");
  o.cache = !args.has("no-cache");
  o.check_numerics = args.has("check-numerics");
  GRADC_TRY(seed, parseCount("seed", args.get("seed", "0")));
  GRADC_TRY(steps, parseCount("steps", args.get("steps", "0")));
  GRADC_TRY(dims, parseDims(args.all("dim")));
  GRADC_TRY(threads, parseThreads(args));
  o.threads = threads;
  if (args.has("max-memory")) {
    GRADC_TRY(limit, parseByteSize("max-memory", args.get("max-memory")));
    o.max_memory = limit;
  } else {
    o.max_memory = defaultMaxMemory();
  }
  o.seed = uint64_t(seed);
  o.steps = steps;
  o.dims = dims;
  GRADC_TRY(pipeline, pipelineOptions(args));
  o.pipeline = pipeline;
  o.pipeline.input_grads = args.all("input-grad");
  GRADC_TRY_STATUS(driver::checkRunOptions(o));
  GRADC_TRY_STATUS(support::checkOutputPaths(
      "run", {{"--out", o.out}},
      {{"the model", o.model}, {"--feed", o.feed}, {"--weights", o.weights}}));
  return o;
}

} // namespace

int cmdRun(int argc, char **argv) {
  auto opts = parseRunOptions(argc, argv);
  if (!opts)
    return fail(opts.error().message());
  auto out = driver::runModel(*opts);
  if (!out)
    return fail(out.error().message());
  Status s = runtime::writeSafetensors(opts->out, *out);
  if (!s)
    return fail(s.error().message());
  return 0;
}

} // namespace gradc::tools
