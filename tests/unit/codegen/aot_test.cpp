// Ahead-of-time output: the object needs only libc/libm, the header compiles
// as C99 and C++, and a C program linked with the object computes what the
// JIT computes. Uses the host's cc, c++ and nm.
#include "codegen_test_util.h"
#include "tests/unit/temp_dir.h"

#include "codegen/header.h"
#include "codegen/target.h"
#include "codegen/triples.h"
#include "plan/plan.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace gradc::codegen::testing {
namespace {

using ir::OpKind;
using ir::Shape;

/// A module with every ABI feature and libm-calling ops.
ir::Module aotModule() {
  ir::Function f("train");
  ir::ValueId x = f.addArg("x", ir::ArgRole::Input, ir::f32({3, 5}));
  ir::ValueId w = f.addArg("fc.weight", ir::ArgRole::Param, ir::f32({5, 4}));
  ir::ValueId lr = f.addArg("lr", ir::ArgRole::Scalar, ir::f32({}));
  ir::ValueId h =
      f.addNode(OpKind::MatMul, {x, w}, {{"transpose_a", false}, {"transpose_b", false}});
  ir::ValueId t = f.addNode(OpKind::Tanh, {f.addNode(OpKind::Softplus, {h})});
  ir::ValueId s = f.addNode(OpKind::LogSoftmax, {t}, {{"axis", int64_t(1)}});
  ir::ValueId loss =
      f.addNode(OpKind::ReduceSum, {f.addNode(OpKind::Exp, {s})}, {{"axes", Shape{0, 1}}});
  ir::ValueId lrb = f.addNode(OpKind::Broadcast, {lr}, {{"shape", Shape{5, 4}}, {"dims", Shape{}}});
  ir::ValueId w2 = f.addNode(OpKind::Sub, {w, f.addNode(OpKind::Mul, {lrb, w})});
  f.addResult("out.logp", ir::ResultRole::Output, s);
  f.addResult("loss", ir::ResultRole::Loss, loss);
  f.addResult("fc.weight", ir::ResultRole::Update, w2, 1);
  ir::Module m = moduleOf(std::move(f), "aot");
  m.optimizer.lr = 0.05;
  return m;
}

struct TempDir : gradc::testing::TempDir {
  TempDir() : gradc::testing::TempDir("gradc_aot") {}
};

std::string run(const std::string &cmd, int *status = nullptr) {
  std::string out;
  FILE *p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  int rc = p ? ::pclose(p) : -1;
  if (status)
    *status = rc;
  return out;
}

void writeFile(const std::string &path, const std::string &text) { std::ofstream(path) << text; }

TEST(Aot, ObjectNeedsOnlyLibcLibmAndPthreads) {
  TempDir dir;
  std::string obj = dir.path + "/aot.o";
  for (const char *cpu : {"native", "x86-64"}) {
    SCOPED_TRACE(cpu);
    EmitOptions opts;
    opts.cpu = cpu;
    Status st = emitModule(aotModule(), opts, obj);
    ASSERT_TRUE(bool(st)) << st.error().message();
    // libm and the string functions; pthreads, the CPU count and the clock (how
    // long a worker spins) for the thread pool.
    std::set<std::string> allowed = {"clock_gettime",
                                     "expf",
                                     "logf",
                                     "sqrtf",
                                     "fabsf",
                                     "tanhf",
                                     "log1pf",
                                     "memset",
                                     "memcpy",
                                     "memmove",
                                     "pthread_cond_broadcast",
                                     "pthread_cond_signal",
                                     "pthread_cond_wait",
                                     "pthread_create",
                                     "pthread_join",
                                     "pthread_mutex_lock",
                                     "pthread_mutex_trylock",
                                     "pthread_mutex_unlock",
                                     "sched_getaffinity",
                                     "__sched_cpucount",
                                     "sysconf"};
    std::istringstream syms(run("nm -u " + obj));
    std::string line;
    while (std::getline(syms, line)) {
      std::string name = line.substr(line.find_last_of(' ') + 1);
      EXPECT_TRUE(allowed.count(name)) << "unexpected undefined symbol " << name;
    }
    EXPECT_NE(run("nm " + obj).find("T aot_train"), std::string::npos);
  }
}

TEST(Aot, UnknownCpuIsAnError) {
  EmitOptions opts;
  opts.cpu = "no-such-cpu";
  Status st = emitModule(aotModule(), opts, "/tmp/gradc_never_written.o");
  ASSERT_FALSE(bool(st));
  EXPECT_NE(st.error().message().find("no-such-cpu"), std::string::npos);
}

// Every supported triple gives an ELF object for its machine (e_machine, ELF
// class), and its facts: pointer size, threads only with an OS, alignment.
TEST(Aot, ObjectForEveryTriple) {
  const std::pair<const char *, std::pair<int, int>> machines[] = {
      {"x86_64-linux-gnu", {62, 2}},
      {"aarch64-linux-gnu", {183, 2}},
      {"arm-linux-gnueabihf", {40, 1}},
      {"riscv64-linux-gnu", {243, 2}},
      {"thumbv7em-none-eabihf", {40, 1}}};
  ASSERT_EQ(supportedTriples().size(), std::size(machines));
  for (const auto &[triple, machine] : machines) {
    SCOPED_TRACE(triple);
    EmitOptions opts;
    opts.triple = triple;
    opts.cpu = "";
    opts.threads = false; // every build of gradc has the no-threads runtime
    auto obj = emitModuleData(aotModule(), opts);
    ASSERT_TRUE(bool(obj)) << obj.error().message();
    ASSERT_GT(obj->size(), 20u);
    EXPECT_EQ(obj->substr(0, 4), "\x7f"
                                 "ELF");
    EXPECT_EQ(int((*obj)[4]), machine.second); // ELFCLASS32 or 64
    EXPECT_EQ(int(uint8_t((*obj)[18])) | int(uint8_t((*obj)[19])) << 8, machine.first);
    auto fp = objectFootprint(*obj);
    ASSERT_TRUE(bool(fp)) << fp.error().message();
    EXPECT_GT(fp->flash, 0);
    EXPECT_EQ(fp->static_ram, 0) << "no thread pool, no static data";
    auto facts = targetFacts(opts);
    ASSERT_TRUE(bool(facts));
    EXPECT_EQ(facts->pointer_bytes, machine.second == 1 ? 4 : 8);
    EXPECT_FALSE(facts->threads);
    opts.threads = true;
    auto threaded = targetFacts(opts);
    if (threaded) { // a Linux triple whose pool this gradc has
      EXPECT_EQ(threaded->threads, facts->os);
    }
    std::string header = emitCHeader(aotModule(), nullptr, *facts, &*fp);
    EXPECT_NE(header.find("#define AOT_TRIPLE \"" + std::string(triple) + "\""), std::string::npos);
    EXPECT_NE(header.find("#define AOT_ALIGNMENT " + std::to_string(facts->alignment)),
              std::string::npos);
    EXPECT_NE(header.find("#define AOT_FLASH_BYTES " + std::to_string(fp->flash)),
              std::string::npos);
    EXPECT_NE(header.find("#define AOT_THREADS 0"), std::string::npos);
    auto text = dumpAsm(aotModule(), opts); // gradc dump --stage asm --triple
    ASSERT_TRUE(bool(text)) << text.error().message();
    EXPECT_NE(text->find("aot_train:"), std::string::npos);
  }
}

TEST(Aot, UnknownTripleCpuOrFeatureIsAnError) {
  EmitOptions opts;
  opts.triple = "mips-linux-gnu";
  Status st = emitModule(aotModule(), opts, "/tmp/gradc_never_written.o");
  ASSERT_FALSE(bool(st));
  for (const TripleInfo &t : supportedTriples())
    EXPECT_NE(st.error().message().find(t.name), std::string::npos) << st.error().message();
  opts.triple = "aarch64-linux-gnu";
  opts.cpu = "native"; // the host is no AArch64 machine in CI
  if (!hostTriple() || std::string(hostTriple()->name) != opts.triple) {
    EXPECT_FALSE(bool(targetFacts(opts)));
  }
  opts.cpu = "cortex-a53";
  opts.features = "+neon,+no-such-feature";
  auto bad = targetFacts(opts);
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(bad.error().message().find("+no-such-feature"), std::string::npos);
  opts.features = "+crc";
  opts.threads = false;
  EXPECT_TRUE(bool(targetFacts(opts)));
}

TEST(Aot, AsmAndLlvmText) {
  auto ll = dumpLLVM(aotModule());
  ASSERT_TRUE(bool(ll));
  EXPECT_NE(ll->find("define float @aot_train("), std::string::npos);
  auto s = dumpAsm(aotModule());
  ASSERT_TRUE(bool(s));
  EXPECT_NE(s->find("aot_train:"), std::string::npos);
}

TEST(Aot, HeaderCompilesAsC99AndCxx) {
  TempDir dir;
  writeFile(dir.path + "/aot.h", emitCHeader(aotModule()));
  writeFile(dir.path + "/use.c", "#include \"aot.h\"\nint use(void) { return AOT_NUM_PARAMS + "
                                 "(int)aot_params[0].numel; }\n");
  int rc = 0;
  std::string out = run("cc -std=c99 -pedantic -Wall -Wextra -Werror -c " + dir.path +
                            "/use.c -o " + dir.path + "/use_c.o",
                        &rc);
  EXPECT_EQ(rc, 0) << out;
  out = run("c++ -x c++ -std=c++17 -Wall -Wextra -Werror -c " + dir.path + "/use.c -o " + dir.path +
                "/use_cc.o",
            &rc);
  EXPECT_EQ(rc, 0) << out;
}

const char *kDriver = R"(#include "aot.h"
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  float *params = aligned_alloc(64, AOT_PARAMS_BYTES);
  void *scratch = aligned_alloc(64, AOT_TRAIN_SCRATCH_BYTES + 64);
  float x[15], logp[12];
  const gradc_tensor_desc *w = &aot_params[0];
  for (int i = 0; i < 15; ++i) x[i] = 0.1f * (float)i - 0.7f;
  for (int i = 0; i < w->numel; ++i) params[w->offset / 4 + i] = 0.05f * (float)(i % 7) - 0.1f;
  float loss = aot_train(params, x, AOT_DEFAULT_LR, logp, scratch);
  printf("%.9g\n", loss);
  for (int i = 0; i < 12; ++i) printf("%.9g\n", logp[i]);
  for (int i = 0; i < w->numel; ++i) printf("%.9g\n", params[w->offset / 4 + i]);
  free(params);
  free(scratch);
  return 0;
}
)";

TEST(Aot, LinkedCProgramMatchesJit) {
  TempDir dir;
  ir::Module m = aotModule();
  ASSERT_TRUE(bool(emitModule(m, {}, dir.path + "/aot.o")));
  writeFile(dir.path + "/aot.h", emitCHeader(m));
  writeFile(dir.path + "/main.c", kDriver);
  int rc = 0;
  std::string out = run("cc -std=c11 -O1 -Wall -Werror -o " + dir.path + "/prog " + dir.path +
                            "/main.c " + dir.path + "/aot.o -lm",
                        &rc);
  ASSERT_EQ(rc, 0) << out;
  std::istringstream got(run(dir.path + "/prog"));
  runtime::TensorMap args;
  args["x"] = runtime::Tensor::zeros(ir::f32({3, 5}));
  for (int i = 0; i < 15; ++i)
    args["x"].f32[size_t(i)] = 0.1f * float(i) - 0.7f;
  args["fc.weight"] = runtime::Tensor::zeros(ir::f32({5, 4}));
  for (int i = 0; i < 20; ++i)
    args["fc.weight"].f32[size_t(i)] = 0.05f * float(i % 7) - 0.1f;
  args["lr"] = runtime::Tensor::scalar(0.05f);
  auto want = jitOf(m)->call("train", args);
  ASSERT_TRUE(bool(want));
  std::vector<float> expect = want->at("loss").f32;
  for (const char *r : {"out.logp", "fc.weight"})
    expect.insert(expect.end(), want->at(r).f32.begin(), want->at(r).f32.end());
  for (float e : expect) {
    double v = 0;
    ASSERT_TRUE(bool(got >> v));
    EXPECT_NEAR(v, e, 1e-6 + 1e-5 * std::fabs(e));
  }
}

} // namespace
} // namespace gradc::codegen::testing
