// gradc: the command-line front door (spec/cli.md). Dispatches to the
// sub-commands in cmd_*.cpp.
#include "support/json_text.h"
#include "tools/commands.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <string>

namespace gradc::tools {

int fail(const std::string &message) {
  // Messages quote names from untrusted files (tensors, keys, paths): escape
  // control characters here, once, so no message can span lines or drive the
  // terminal.
  std::fprintf(stderr, "gradc: error: %s\n", support::escaped(message).c_str());
  return 1;
}

} // namespace gradc::tools

namespace {

const char *kUsage =
    "gradc - a static computation-graph compiler for neural networks\n"
    "\n"
    "usage: gradc COMMAND [ARGS]\n"
    "\n"
    "  run MODEL.json --feed F.safetensors --out O.safetensors\n"
    "      [--weights W.safetensors | --seed S] [--steps N] [--dim NAME=V]... [--backend "
    "jit|interp]\n"
    "      [--input-grad INPUT]... [--threads N] [--check-numerics] [--no-cache]\n"
    "      run forward once and, with --steps N, N training steps; write the results\n"
    "      (--input-grad adds grad.INPUT, d loss / d input, e.g. for saliency maps)\n"
    "  compile MODEL.json -o model.o [--header model.h] [--emit obj|asm|llvm] [--target CPU]\n"
    "      [--dim NAME=V]...\n"
    "      ahead-of-time object (and C header) needing only libc, libm and pthreads\n"
    "  bench MODEL.json [--threads N] [--format text|json] [--dim NAME=V]... [--min-time S]\n"
    "      compile time and median forward / train-step times (JIT)\n"
    "  dump MODEL.json --stage parsed|grad|optimizer|train|all|llvm|asm|PASS\n"
    "      [--format text|dot] [--dim NAME=V]... [--target CPU]\n"
    "      print the IR after a stage or a pass; dump --list-passes lists the pipeline\n"
    "  train MODEL.json --data DIR [--epochs E] [--seed S] [--batch B] [--threads N]\n"
    "      [--metrics FILE.jsonl] [--plot FILE.svg] [--save CKPT.safetensors]\n"
    "      [--resume CKPT.safetensors]\n"
    "      train on a data set (IDX, CSV or safetensors files in DIR), test every epoch\n"
    "  eval MODEL.json --weights W.safetensors --data DIR [--batch B] [--split test|train]\n"
    "      loss, accuracy and confusion matrix on a data set\n"
    "  predict MODEL.json --weights W.safetensors --feed F.safetensors --out O.safetensors\n"
    "      outputs and argmax classes for every sample of a feed\n"
    "  opt FILE.ir --passes=PASS,PASS... [--format text|dot]\n"
    "      run optimisation passes in order on IR text and print the result\n"
    "\n"
    "  run, compile, bench and dump also take --disable-pass=PASS (repeatable),\n"
    "  --print-after=PASS, --print-after-all, --time-passes and --verify-each\n"
    "  (the verifier always runs after every pass)\n"
    "  compare EXPECTED.safetensors ACTUAL.safetensors [--rtol R] [--atol A]\n"
    "      compare two tensor files element by element\n"
    "  inspect FILE.safetensors [--limit N]\n"
    "      list the tensors in a file with a few values and statistics\n";

} // namespace

namespace {

int dispatch(int argc, char **argv) {
  using namespace gradc::tools;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "run")
    return cmdRun(argc, argv);
  if (cmd == "dump")
    return cmdDump(argc, argv);
  if (cmd == "compare")
    return cmdCompare(argc, argv);
  if (cmd == "inspect")
    return cmdInspect(argc, argv);
  if (cmd == "compile")
    return cmdCompile(argc, argv);
  if (cmd == "bench")
    return cmdBench(argc, argv);
  if (cmd == "opt")
    return cmdOpt(argc, argv);
  if (cmd == "train")
    return cmdTrain(argc, argv);
  if (cmd == "eval")
    return cmdEval(argc, argv);
  if (cmd == "predict")
    return cmdPredict(argc, argv);
  return fail("unknown command '" + cmd +
              "' (expected run, train, eval, predict, compile, bench, dump, opt, compare or "
              "inspect; see gradc --help)");
}

} // namespace

int main(int argc, char **argv) {
  // A legal model can still need more memory than the machine has: that is
  // the user's problem to hear about, not a crash. Outputs are written only
  // at the end, so nothing partial is left.
  try {
    return dispatch(argc, argv);
  } catch (const std::bad_alloc &) {
    std::string what =
        std::string("gradc ") + argv[1] + (argc > 2 ? std::string(" ") + argv[2] : "");
    return gradc::tools::fail(what + ": out of memory: the model's buffers do not fit in this "
                                     "machine's memory (try a smaller batch with --dim)");
  }
}
