// libFuzzer target: bytes as a safetensors file, through the same reader `gradc run` uses for
// feeds and weights. Every tensor it returns must hold exactly its shape's element count.
#include "runtime/safetensors.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  auto tensors = gradc::runtime::parseSafetensors(bytes, "fuzz.safetensors");
  if (!tensors)
    return 0;
  for (const auto &[name, t] : *tensors) {
    size_t n = size_t(t.numElements());
    bool f32 = t.type.dtype == gradc::ir::DType::F32;
    GRADC_CHECK((f32 ? t.f32.size() : t.i32.size()) == n, "tensor '" + name + "' has the wrong size");
  }
  return 0;
}
