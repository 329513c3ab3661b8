// safetensors reading and writing: bounds-checked against the file size,
// header size limited, written atomically (temporary file, then rename).
#pragma once

#include "runtime/tensor.h"
#include "support/error.h"

#include <map>
#include <string>
#include <string_view>

namespace gradc::runtime {

/// Largest JSON header accepted (100 MiB, as the reference implementation).
inline constexpr uint64_t kMaxSafetensorsHeader = 100ull << 20;

/// The string-to-string "__metadata__" object of a safetensors header.
using Metadata = std::map<std::string, std::string>;

/// Reads every tensor of a safetensors file. F32 and I32 are read as they
/// are, I64 is converted to I32 (values outside int32 are an error); any
/// other dtype, a truncated file, offsets outside the data section,
/// overlapping or gapped data, or a malformed header is an Error naming the
/// file and the tensor. `meta`, if given, receives the header's metadata (a
/// "__metadata__" that is not an object of strings is an error).
Expected<TensorMap> readSafetensors(const std::string &path, Metadata *meta = nullptr);

/// As readSafetensors, from the bytes of a whole file held in memory (the
/// fuzzer's entry point); `name` stands for the file in messages.
Expected<TensorMap> parseSafetensors(std::string_view bytes, const std::string &name);

/// Writes `tensors` (sorted by name, 8-byte aligned header) to a temporary
/// file beside `path` and renames it over `path`, so a failure never leaves
/// a partial file. `meta`, if not empty, is written as "__metadata__".
Status writeSafetensors(const std::string &path, const TensorMap &tensors,
                        const Metadata &meta = {});

} // namespace gradc::runtime
