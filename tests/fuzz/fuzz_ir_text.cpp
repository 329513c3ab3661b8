// libFuzzer target: IR text (what `gradc dump` prints and `gradc opt` reads) through the parser.
// What parses must verify and print back to text that parses to the same text.
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20))
    return -1;
  std::string text(reinterpret_cast<const char *>(data), size);
  auto m = gradc::ir::parseModuleText(text);
  if (!m)
    return 0;
  GRADC_CHECK(gradc::ir::verify(*m), "parsed IR does not verify");
  std::string printed = gradc::ir::printText(*m);
  auto again = gradc::ir::parseModuleText(printed);
  GRADC_CHECK(bool(again), "printed IR does not parse: " +
                               (again ? std::string() : again.error().message()) + "\n" + printed);
  GRADC_CHECK(gradc::ir::printText(*again) == printed, "print(parse(print(m))) != print(m)");
  return 0;
}
