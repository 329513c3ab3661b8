// GRADC_API: marks what libgradc exports. The library is built with hidden
// visibility, so only declarations carrying it are part of its ABI.
#pragma once

#if defined(_WIN32)
#define GRADC_API
#else
/// Exports a class or function from libgradc.
#define GRADC_API [[gnu::visibility("default")]]
#endif
