// Every shared and test model (examples/models/, tests/models/) written in
// the C++ DSL, as a program would write it, for the API tests.
#pragma once

#include <gradc/gradc.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace gradc::test {

/// One model: the file it mirrors (relative to the source tree) and its DSL twin.
struct DslModel {
  std::string file;
  std::function<Model()> build;
};

/// GoogleTest prints a model as its file (and test names stay stable).
inline void PrintTo(const DslModel &m, std::ostream *os) { *os << m.file; }

/// All of them, shared models first.
const std::vector<DslModel> &dslModels();

} // namespace gradc::test
