// gradc compare and gradc inspect: looking at safetensors files
// (driver/tensors.h).
#include "driver/tensors.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#include <cstdio>

namespace gradc::tools {
namespace {

Expected<driver::CompareResult> compare(const Args &args) {
  if (args.positional.size() != 2)
    return Error("gradc compare: expected EXPECTED.safetensors ACTUAL.safetensors");
  driver::CompareOptions o;
  o.expected = args.positional[0];
  o.actual = args.positional[1];
  GRADC_TRY(rtol, parseNumber("rtol", args.get("rtol", "1e-4")));
  GRADC_TRY(atol, parseNumber("atol", args.get("atol", "1e-5")));
  GRADC_TRY(scale_rtol, parseNumber("scale-rtol", args.get("scale-rtol", "-1")));
  o.tol = {rtol, atol, scale_rtol, args.has("allow-nonfinite")};
  o.no_extra = args.has("no-extra");
  return driver::compareFiles(o);
}

Expected<std::string> inspect(const Args &args) {
  if (args.positional.size() != 1)
    return Error("gradc inspect: expected one FILE.safetensors");
  GRADC_TRY(limit, parseCount("limit", args.get("limit", "8")));
  return driver::inspect({args.positional[0], limit});
}

} // namespace

int cmdCompare(int argc, char **argv) {
  auto args = parseArgs("compare", argc, argv, 2,
                        {{"rtol", true},
                         {"atol", true},
                         {"scale-rtol", true},
                         {"allow-nonfinite", false},
                         {"no-extra", false}});
  if (!args)
    return fail(args.error().message());
  auto r = compare(*args);
  if (!r)
    return fail(r.error().message());
  std::fputs(r->report.c_str(), stdout);
  return r->ok() ? 0 : 1;
}

int cmdInspect(int argc, char **argv) {
  auto args = parseArgs("inspect", argc, argv, 2, {{"limit", true}});
  if (!args)
    return fail(args.error().message());
  auto text = inspect(*args);
  if (!text)
    return fail(text.error().message());
  std::fputs(text->c_str(), stdout);
  return 0;
}

} // namespace gradc::tools
