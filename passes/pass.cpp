// Pass runner.
#include "passes/pass.h"

#include "ir/printer.h"
#include "ir/verifier.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace gradc::passes {
namespace {

bool listed(const std::vector<std::string> &names, const std::string &name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

struct Timing {
  std::string pass;
  double ms;
  bool changed;
};

void printTimes(const std::vector<Timing> &times) {
  double total = 0;
  std::fprintf(stderr, "gradc: pass times\n  %-16s %10s  %s\n", "pass", "ms", "changed");
  for (const Timing &t : times) {
    std::fprintf(stderr, "  %-16s %10.3f  %s\n", t.pass.c_str(), t.ms, t.changed ? "yes" : "no");
    total += t.ms;
  }
  std::fprintf(stderr, "  %-16s %10.3f\n", "total", total);
}

} // namespace

Status runPasses(ir::Module &m, const std::vector<std::unique_ptr<Pass>> &passes,
                 const PipelineOptions &opts) {
  // The pass after which to stop: the last run of opts.stop_after.
  size_t end = passes.size();
  if (!opts.stop_after.empty())
    for (size_t i = 0; i < passes.size(); ++i)
      if (opts.stop_after == passes[i]->name())
        end = i + 1;
  std::vector<Timing> times;
  for (size_t i = 0; i < end; ++i) {
    Pass &p = *passes[i];
    if (listed(opts.disabled, p.name()))
      continue;
    auto start = std::chrono::steady_clock::now();
    auto changed = p.run(m);
    std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
    if (!changed)
      return changed.error();
    times.push_back({p.name(), ms.count(), *changed});
    if (opts.verify_each) {
      Status s = ir::verify(m);
      if (!s) {
        std::fprintf(stderr, "%s\n", ir::printText(m).c_str());
        GRADC_CHECK(false, std::string("verifier failed after pass '") + p.name() +
                               "': " + s.error().message());
      }
    }
    if (opts.print_after_all || listed(opts.print_after, p.name()))
      std::fprintf(stderr, "// *** IR after %s (pass %zu of %zu) ***\n%s", p.name(), i + 1,
                   passes.size(), ir::printText(m).c_str());
  }
  if (opts.time_passes)
    printTimes(times);
  return Status::ok();
}

bool rewriteEachFunction(ir::Module &m, const std::function<ir::NodeRewrite()> &make_rewrite) {
  bool any = false;
  for (ir::Function &f : m.functions) {
    bool changed = false;
    ir::Function g = ir::rewriteNodes(f, make_rewrite(), &changed);
    if (changed)
      f = std::move(g);
    any = any || changed;
  }
  return any;
}

} // namespace gradc::passes
