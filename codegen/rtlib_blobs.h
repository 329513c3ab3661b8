// The bitcode of rtlib/, embedded in gradc at build time (rtlib/embed.cmake writes the
// definitions); read only by codegen/rtlib.cpp.
#pragma once

#include <cstddef>

namespace gradc::codegen {

struct RtlibBlob {
  const char *name; ///< the source file's stem ("pool")
  const char
      *triple; ///< gradc's name of its triple; "" for the target-independent no-threads build
  const unsigned char *data;
  size_t size;
};

extern const RtlibBlob kRtlibBlobs[];
extern const size_t kRtlibBlobCount;

} // namespace gradc::codegen
