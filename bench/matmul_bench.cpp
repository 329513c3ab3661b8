// gradc's generated matmul against OpenBLAS's cblas_sgemm on one thread: at
// 512^3 and at every matmul shape of the shared models' train steps, read from
// the compiled IR. Prints GFLOP/s of both, the ratio and the measured FMA peak.
// OpenBLAS reads OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE when it is loaded, so
// they must be unset in the command that starts this program (bench/README.md).
#include "frontend/model_json.h"
#include "ir/flops.h"
#include "ir/printer.h"
#include "passes/pipeline.h"
#include "runtime/fma_peak.h"
#include "runtime/init.h"
#include "runtime/jit.h"
#include "support/timing.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace gradc::bench {
namespace {

/// C[m, n] = op(A) op(B), op a transpose where the flag says.
struct Shape {
  int64_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;
  auto key() const { return std::tie(m, n, k, ta, tb); }
  bool operator<(const Shape &o) const { return key() < o.key(); }
  std::string str() const {
    return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + " " +
           (ta ? "At" : "A") + "*" + (tb ? "Bt" : "B");
  }
};

struct Row {
  Shape shape;
  std::vector<std::string> used_by; ///< "model %value" of each matmul node
  double gradc_gflops = 0, blas_gflops = 0, max_rel_err = 0;
};

/// The median time in seconds of a call of `fn` after two warm-up calls, over
/// at least 5 samples and at least `min_ms` milliseconds of them. A sample
/// times a batch of calls taking at least kMinSampleSeconds and divides
/// (support/timing.h): a smol_mlp matmul takes tens of nanoseconds, and
/// single-call samples measured the clock (30 or 40 ns for either peer).
constexpr double kMinSampleSeconds = 2e-6;

template <class Fn> double medianSeconds(Fn &&fn, double min_ms) {
  fn();
  fn();
  const int64_t calls = support::batchSize(fn, kMinSampleSeconds, int64_t(1) << 20);
  std::vector<double> times;
  double spent = 0;
  while (times.size() < 5 || (spent < min_ms * 1e-3 && times.size() < 100000)) {
    double t = support::timeBatch(fn, calls);
    times.push_back(t / double(calls));
    spent += t;
  }
  std::nth_element(times.begin(), times.begin() + long(times.size() / 2), times.end());
  return times[times.size() / 2];
}

/// Every matmul of each model's compiled train_step (forward when it has no loss).
Status collectShapes(const std::vector<std::string> &models, std::map<Shape, Row> &rows) {
  for (const std::string &path : models) {
    GRADC_TRY(m, frontend::loadModel(path));
    GRADC_TRY_STATUS(passes::buildTrainingFunctions(m));
    const ir::Function *f = m.find(m.has_loss ? "train_step" : "forward");
    std::vector<std::string> names = ir::valueNames(*f);
    for (const ir::Node &n : f->nodes()) {
      if (n.op != ir::OpKind::MatMul)
        continue;
      const ir::Shape &a = f->type(n.operands[0]).shape, &c = f->type(n.result).shape;
      Shape s{c[0], c[1], 0, n.attrs.b("transpose_a"), n.attrs.b("transpose_b")};
      s.k = s.ta ? a[0] : a[1];
      Row &r = rows[s];
      r.shape = s;
      r.used_by.push_back(m.name + " " + names[size_t(n.result)]);
    }
  }
  return Status::ok();
}

/// A module whose forward is the one matmul `s`: C = op(A) op(B).
ir::Module matmulModule(const Shape &s) {
  ir::Module m;
  m.name = "matmul";
  ir::Function f("forward");
  ir::ValueId a =
      f.addArg("a", ir::ArgRole::Input, ir::f32(s.ta ? ir::Shape{s.k, s.m} : ir::Shape{s.m, s.k}));
  ir::ValueId b =
      f.addArg("b", ir::ArgRole::Input, ir::f32(s.tb ? ir::Shape{s.n, s.k} : ir::Shape{s.k, s.n}));
  ir::ValueId c =
      f.addNode(ir::OpKind::MatMul, {a, b}, {{"transpose_a", s.ta}, {"transpose_b", s.tb}}, "c");
  f.addResult("out.c", ir::ResultRole::Output, c);
  m.functions.push_back(std::move(f));
  return m;
}

/// Times gradc's and OpenBLAS's matmul on the same random operands, and
/// compares their products.
Status measure(Row &r, double min_ms) {
  const Shape &s = r.shape;
  ir::Module m = matmulModule(s);
  double flops = ir::functionFlops(m.functions[0]);
  runtime::TensorMap args = runtime::randomInputs(m, 0);
  GRADC_TRY(exec, runtime::makeJitExecutor(std::move(m)));
  exec->setThreads(1); // one thread, as OpenBLAS (openblas_set_num_threads(1))
  GRADC_TRY(call, exec->bind("forward", args));
  r.gradc_gflops = flops / medianSeconds([&] { call->run(); }, min_ms) * 1e-9;

  const std::vector<float> &a = args.at("a").f32, &b = args.at("b").f32;
  std::vector<float> c(size_t(s.m * s.n));
  auto sgemm = [&] {
    cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
                int(s.m), int(s.n), int(s.k), 1.0f, a.data(), int(s.ta ? s.m : s.k), b.data(),
                int(s.tb ? s.k : s.n), 0.0f, c.data(), int(s.n));
  };
  r.blas_gflops = flops / medianSeconds(sgemm, min_ms) * 1e-9;

  GRADC_TRY(out, exec->call("forward", args));
  const std::vector<float> &g = out.at("out.c").f32;
  double scale = 0, err = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    scale = std::max(scale, double(std::fabs(c[i])));
    err = std::max(err, double(std::fabs(g[i] - c[i])));
  }
  r.max_rel_err = scale > 0 ? err / scale : err;
  return Status::ok();
}

double geomean(const std::vector<double> &xs) {
  double log_sum = 0;
  for (double x : xs)
    log_sum += std::log(x);
  return xs.empty() ? 0 : std::exp(log_sum / double(xs.size()));
}

void printText(const std::vector<Row> &rows, const runtime::FmaPeak &peak) {
  std::printf("%s, core %s, 1 thread; FMA peak %.1f GFLOP/s per core\n", openblas_get_config(),
              openblas_get_corename(), peak.gflops);
  std::printf("ratio = gradc / OpenBLAS GFLOP/s (> 1: gradc is faster)\n");
  std::printf("%-20s %9s %6s %9s %6s %7s %9s  %s\n", "M x N x K  op", "gradc", "peak", "OpenBLAS",
              "peak", "ratio", "rel err", "used by");
  std::vector<double> ratios;
  for (const Row &r : rows) {
    double ratio = r.gradc_gflops / r.blas_gflops;
    if (!r.used_by.empty())
      ratios.push_back(ratio);
    std::string users;
    for (const std::string &u : r.used_by)
      users += (users.empty() ? "" : ", ") + u;
    std::printf("%-20s %9.2f %5.1f%% %9.2f %5.1f%% %6.2fx %9.1e  %s\n", r.shape.str().c_str(),
                r.gradc_gflops, 100 * r.gradc_gflops / peak.gflops, r.blas_gflops,
                100 * r.blas_gflops / peak.gflops, ratio, r.max_rel_err, users.c_str());
  }
  std::printf("geomean ratio over the models' shapes: %.2fx\n", geomean(ratios));
}

void printJson(const std::vector<Row> &rows, const runtime::FmaPeak &peak) {
  std::printf("{\"openblas_config\": \"%s\", \"openblas_core\": \"%s\", \"peak_gflops\": %.4f, "
              "\"shapes\": [",
              openblas_get_config(), openblas_get_corename(), peak.gflops);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row &r = rows[i];
    const Shape &s = r.shape;
    std::printf("%s{\"m\": %lld, \"n\": %lld, \"k\": %lld, \"transpose_a\": %s, "
                "\"transpose_b\": %s, \"gradc_gflops\": %.4f, \"openblas_gflops\": %.4f, "
                "\"ratio\": %.4f, \"max_rel_err\": %.3g, \"used_by\": [",
                i ? ", " : "", (long long)s.m, (long long)s.n, (long long)s.k,
                s.ta ? "true" : "false", s.tb ? "true" : "false", r.gradc_gflops, r.blas_gflops,
                r.gradc_gflops / r.blas_gflops, r.max_rel_err);
    for (size_t j = 0; j < r.used_by.size(); ++j)
      std::printf("%s\"%s\"", j ? ", " : "", r.used_by[j].c_str());
    std::printf("]}");
  }
  std::printf("]}\n");
}

const char *kUsage =
    "usage: gradc_matmul_bench [--min-time S] [--format text|json] [--no-models] [MODEL.json...]\n"
    "  Times gradc's matmul and OpenBLAS sgemm (1 thread) at 512^3 and at every matmul of the\n"
    "  models' train steps (default: examples/models/*.json). Run it with\n"
    "  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE: OpenBLAS reads both when it loads.\n";

int fail(const std::string &message) {
  std::fprintf(stderr, "gradc_matmul_bench: %s\n", message.c_str());
  return 1;
}

struct Options {
  double min_ms = 300;
  bool json = false;
  std::vector<std::string> models; ///< empty: examples/models/*.json
  bool no_models = false;
};

/// Parses the flags; an error message, or "" when the run should go on.
std::string parseOptions(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--min-time" && has_value)
      o.min_ms = std::atof(argv[++i]) * 1e3;
    else if (a == "--format" && has_value)
      o.json = std::strcmp(argv[++i], "json") == 0;
    else if (a == "--no-models")
      o.no_models = true;
    else if (!a.empty() && a[0] == '-')
      return "unknown flag '" + a + "'";
    else
      o.models.push_back(a);
  }
  if (o.models.empty() && !o.no_models) {
    for (const auto &e :
         std::filesystem::directory_iterator(std::string(GRADC_SOURCE_DIR) + "/examples/models"))
      if (e.path().extension() == ".json")
        o.models.push_back(e.path().string());
    std::sort(o.models.begin(), o.models.end());
  }
  return "";
}

int run(int argc, char **argv) {
  Options o;
  if (argc > 1 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    std::printf("%s", kUsage);
    return 0;
  }
  if (std::string err = parseOptions(argc, argv, o); !err.empty()) {
    std::fprintf(stderr, "%s", kUsage);
    return fail(err);
  }
  for (const char *var : {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"})
    if (const char *v = std::getenv(var))
      std::fprintf(
          stderr,
          "gradc_matmul_bench: warning: %s=%s was set when OpenBLAS loaded and may slow it "
          "down; run under env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE\n",
          var, v);
  openblas_set_num_threads(1);
  std::map<Shape, Row> by_shape;
  if (Status s = collectShapes(o.models, by_shape); !s)
    return fail(s.error().message());
  // 512^3 first, then the models' shapes in order.
  std::vector<Row> rows(1);
  rows[0].shape = Shape{512, 512, 512};
  for (auto &[shape, row] : by_shape) {
    if (shape.key() == rows[0].shape.key())
      rows[0].used_by = row.used_by;
    else
      rows.push_back(row);
  }
  for (Row &r : rows) {
    std::fprintf(stderr, "timing %s ...\n", r.shape.str().c_str());
    if (Status s = measure(r, o.min_ms); !s)
      return fail(s.error().message());
  }
  auto peak = runtime::measureFmaPeak();
  if (!peak)
    return fail(peak.error().message());
  o.json ? printJson(rows, *peak) : printText(rows, *peak);
  return 0;
}

} // namespace
} // namespace gradc::bench

int main(int argc, char **argv) { return gradc::bench::run(argc, argv); }
