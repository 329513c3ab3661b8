// The gradc version this header belongs to.
#pragma once

/// Major version: a change breaks the C++ API or the ABI of libgradc.
#define GRADC_VERSION_MAJOR 0
/// Minor version: additions.
#define GRADC_VERSION_MINOR 1
/// Patch version: fixes.
#define GRADC_VERSION_PATCH 0
/// "0.1.0".
#define GRADC_VERSION_STRING "0.1.0"
