// Every shared and test model (examples/models/, tests/models/) written in
// the C++ DSL, as a program would write it, for the API tests.
#pragma once

#include <gradc/gradc.h>

#include <functional>
#include <string>
#include <vector>

namespace gradc::test {

/// One model: the file it mirrors (relative to the source tree) and its DSL twin.
struct DslModel {
  std::string file;
  std::function<Model()> build;
};

/// All of them, shared models first.
const std::vector<DslModel> &dslModels();

} // namespace gradc::test
