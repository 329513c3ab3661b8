// The gradc sub-commands. Each returns the process exit status and prints
// its one error message to stderr itself.
#pragma once

#include <string>

namespace gradc::tools {

int cmdRun(int argc, char **argv);
int cmdDump(int argc, char **argv);
int cmdCompare(int argc, char **argv);
int cmdInspect(int argc, char **argv);
int cmdCompile(int argc, char **argv);
int cmdBench(int argc, char **argv);
int cmdOpt(int argc, char **argv);
int cmdTrain(int argc, char **argv);
int cmdEval(int argc, char **argv);
int cmdPredict(int argc, char **argv);

/// Prints `message` as gradc's one error line and returns exit status 1.
int fail(const std::string &message);

} // namespace gradc::tools
