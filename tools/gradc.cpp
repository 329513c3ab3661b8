// gradc: the command-line front door (spec/cli.md). Dispatches to the
// sub-commands in cmd_*.cpp.
#include "gradc/version.h"
#include "support/json_text.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#include <cstdio>
#include <cstring>
#include <iterator>
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

/// One sub-command: its name, entry point and usage (what `gradc NAME
/// --help` prints; `gradc --help` prints them all).
struct Command {
  const char *name;
  int (*run)(int, char **);
  const char *usage;
  bool pipeline_flags; ///< takes --disable-pass, --print-after, ... too
};

const Command kCommands[] = {
    {"run", gradc::tools::cmdRun,
     "run MODEL.json --feed F.safetensors --out O.safetensors\n"
     "      [--weights W.safetensors | --seed S] [--steps N] [--dim NAME=V]... [--backend "
     "jit|interp]\n"
     "      [--input-grad INPUT]... [--threads N] [--check-numerics] [--no-cache]\n"
     "      [--max-memory BYTES] [--allow-nonfinite]\n"
     "      run forward once and, with --steps N, N training steps; write the results\n"
     "      (--input-grad adds grad.INPUT, d loss / d input, e.g. for saliency maps)\n",
     true},
    {"compile", gradc::tools::cmdCompile,
     "compile MODEL.json -o model.o [--header model.h] [--emit obj|asm|llvm] [--dim NAME=V]...\n"
     "      [--triple TRIPLE] [--target CPU] [--features +a,-b] [--no-threads]\n"
     "      ahead-of-time object (and C header) needing only libc, libm and pthreads\n"
     "      (--no-threads or a no-OS triple: memcpy, memset, expf and logf only);\n"
     "      --triple cross-compiles (default: this machine, --target native)\n"
     "      gradc compile --list-targets: the supported triples, default CPUs, threads\n",
     true},
    {"bench", gradc::tools::cmdBench,
     "bench MODEL.json [--threads N] [--format text|json] [--dim NAME=V]... [--min-time S]\n"
     "      compile time and median forward / train-step times (JIT)\n",
     true},
    {"train", gradc::tools::cmdTrain,
     "train MODEL.json --data DIR [--epochs E] [--seed S] [--batch B] [--threads N]\n"
     "      [--metrics FILE.jsonl] [--plot FILE.svg] [--save CKPT.safetensors]\n"
     "      [--resume CKPT.safetensors]\n"
     "      train on a data set (IDX, CSV or safetensors files in DIR), test every epoch\n",
     false},
    {"eval", gradc::tools::cmdEval,
     "eval MODEL.json --weights W.safetensors --data DIR [--batch B] [--split test|train]\n"
     "      loss, accuracy and confusion matrix on a data set\n",
     false},
    {"predict", gradc::tools::cmdPredict,
     "predict MODEL.json --weights W.safetensors --feed F.safetensors --out O.safetensors\n"
     "      outputs and argmax classes for every sample of a feed\n",
     false},
    {"dump", gradc::tools::cmdDump,
     "dump MODEL.json --stage parsed|grad|optimizer|train|all|llvm|asm|PASS\n"
     "      [--format text|dot] [--dim NAME=V]... [--triple TRIPLE] [--target CPU]\n"
     "      [--features +a,-b] [--no-threads]\n"
     "      print the IR after a stage or a pass; dump --list-passes lists the pipeline\n",
     true},
    {"opt", gradc::tools::cmdOpt,
     "opt FILE.ir --passes=PASS,PASS... [--format text|dot]\n"
     "      run optimisation passes in order on IR text and print the result\n",
     false},
    {"compare", gradc::tools::cmdCompare,
     "compare EXPECTED.safetensors ACTUAL.safetensors [--rtol R] [--atol A]\n"
     "      compare two tensor files element by element\n",
     false},
    {"inspect", gradc::tools::cmdInspect,
     "inspect FILE.safetensors [--limit N]\n"
     "      list the tensors in a file with a few values and statistics\n",
     false},
};

const char *kPipelineFlags =
    "  run, compile, bench and dump also take --disable-pass=PASS (repeatable),\n"
    "  --print-after=PASS, --print-after-all, --time-passes and --verify-each\n"
    "  (the verifier always runs after every pass)\n";

std::string usage() {
  std::string text = "gradc - a static computation-graph compiler for neural networks\n"
                     "\n"
                     "usage: gradc COMMAND [ARGS]   (gradc COMMAND --help: one command;\n"
                     "                              gradc --version: the version)\n"
                     "\n";
  for (const Command &c : kCommands) {
    text += std::string("  ") + c.usage;
    if (std::string(c.name) == "opt")
      text += std::string("\n") + kPipelineFlags;
  }
  return text;
}

/// `gradc NAME --help`: the command's usage on stdout.
int commandHelp(const Command &c) {
  std::string text = std::string("usage: gradc ") + c.usage;
  if (c.pipeline_flags)
    text += std::string("\n") + kPipelineFlags;
  std::fputs(text.c_str(), stdout);
  return 0;
}

int dispatch(int argc, char **argv) {
  using namespace gradc::tools;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(usage().c_str(), argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "--version") {
    std::puts("gradc " GRADC_VERSION_STRING);
    return 0;
  }
  for (const Command &c : kCommands)
    if (cmd == c.name)
      return helpRequested(argc, argv, 2) ? commandHelp(c) : c.run(argc, argv);
  std::string names;
  const size_t n = std::size(kCommands);
  for (size_t i = 0; i < n; ++i)
    names += std::string(i == 0 ? "" : i + 1 == n ? " or " : ", ") + kCommands[i].name;
  return fail("unknown command '" + cmd + "' (expected " + names + "; see gradc --help)");
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
