// libFuzzer target: a gradc.model/1 file through the frontend, the verifier and, for small
// models, the whole default pass pipeline (autodiff, optimizer, simplification, fusion), with the
// verifier after every function. Any input may be refused with an Error; none may crash, hang
// or produce a module that does not verify.
#include "frontend/model_json.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "support/files.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

/// The pipeline runs only on models this small, so that one input costs milliseconds: the
/// frontend accepts shapes up to 2^31 elements, and constant folding would evaluate them.
constexpr int64_t kMaxPipelineElements = 1 << 16;
constexpr size_t kMaxPipelineNodes = 256;

bool smallEnough(const gradc::ir::Module &m) {
  int64_t elements = 0;
  for (const gradc::ir::Function &f : m.functions) {
    if (f.nodes().size() > kMaxPipelineNodes)
      return false;
    for (const gradc::ir::Node &n : f.nodes()) {
      elements += f.type(n.result).numElements();
      if (elements > kMaxPipelineElements)
        return false;
    }
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > gradc::frontend::kMaxModelFileBytes)
    return -1;
  std::string text(reinterpret_cast<const char *>(data), size);
  auto m = gradc::frontend::parseModel(text, "fuzz.json");
  if (!m)
    return 0;
  GRADC_CHECK(gradc::ir::verify(*m), "the frontend produced a module that does not verify");
  if (!smallEnough(*m))
    return 0;
  // The pass manager aborts if a pass breaks the IR; an Error here is a user problem.
  gradc::Status s = gradc::passes::buildTrainingFunctions(*m);
  if (s)
    GRADC_CHECK(gradc::ir::verify(*m), "the pipeline produced a module that does not verify");
  return 0;
}
