// safetensors reading and writing. The reader trusts nothing in the file: every
// length and offset is checked against the file size before it is used.
#include "runtime/safetensors.h"

#include "support/files.h"
#include "support/json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <unistd.h>

namespace gradc::runtime {
namespace {

using json = nlohmann::json;
using Bytes = std::vector<uint8_t>;

/// One tensor as the header describes it, validated except for its layout
/// relative to the other tensors.
struct Entry {
  std::string name;
  std::string dtype; ///< "F32", "I32" or "I64"
  ir::Shape shape;
  int64_t numElements = 0;
  uint64_t begin = 0, end = 0;
};

uint64_t loadLE(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

void storeLE(uint8_t *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    p[i] = uint8_t(v >> (8 * i));
}

size_t dtypeSize(const std::string &dtype) { return dtype == "I64" ? 8 : 4; }

Expected<ir::Shape> parseShape(const json &j) {
  if (!j.is_array())
    return Error("'shape' must be an array of integers");
  ir::Shape shape;
  for (const json &d : j) {
    if (!d.is_number_integer())
      return Error("'shape' must be an array of integers, got " + j.dump());
    if (d.is_number_unsigned() ? d.get<uint64_t>() > uint64_t(ir::kMaxElements)
                               : d.get<int64_t>() < 0)
      return Error("shape " + j.dump() + " has a negative or too large dimension");
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

Expected<Entry> parseEntry(const std::string &name, const json &j) {
  if (!j.is_object())
    return Error("entry must be an object with dtype, shape and data_offsets");
  for (const char *key : {"dtype", "shape", "data_offsets"})
    if (!j.contains(key))
      return Error(std::string("entry has no '") + key + "'");
  Entry e;
  e.name = name;
  if (!j["dtype"].is_string())
    return Error("'dtype' must be a string");
  e.dtype = j["dtype"].get<std::string>();
  if (e.dtype != "F32" && e.dtype != "I32" && e.dtype != "I64")
    return Error("unsupported dtype '" + e.dtype + "' (only F32, I32 and I64 are accepted)");
  GRADC_TRY(shape, parseShape(j["shape"]));
  auto n = ir::checkedNumElements(shape);
  if (!n)
    return Error("shape " + ir::shapeStr(shape) + " has more than " +
                 std::to_string(ir::kMaxElements) + " elements");
  e.shape = std::move(shape);
  e.numElements = *n;
  const json &off = j["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
      !off[1].is_number_unsigned())
    return Error("'data_offsets' must be two non-negative integers, got " + off.dump());
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  return e;
}

/// Checks each entry's byte range against its size and the data section, and
/// that the ranges tile the data section without gaps or overlaps.
Status checkLayout(std::vector<Entry> &entries, uint64_t dataSize) {
  for (const Entry &e : entries) {
    std::string where = "tensor '" + e.name + "': ";
    if (e.begin > e.end || e.end > dataSize)
      return Error(where + "data_offsets [" + std::to_string(e.begin) + ", " +
                   std::to_string(e.end) + "] lie outside the data section of " +
                   std::to_string(dataSize) + " bytes");
    uint64_t want = uint64_t(e.numElements) * dtypeSize(e.dtype);
    if (e.end - e.begin != want)
      return Error(where + "data_offsets span " + std::to_string(e.end - e.begin) + " bytes but " +
                   e.dtype + ir::shapeStr(e.shape) + " needs " + std::to_string(want));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry &e = entries[i];
    if (e.begin < pos)
      return Error("tensor '" + e.name + "': data overlaps tensor '" + entries[i - 1].name + "'");
    if (e.begin > pos)
      return Error("tensor '" + e.name + "': gap of " + std::to_string(e.begin - pos) +
                   " unused bytes before its data");
    pos = e.end;
  }
  if (pos != dataSize)
    return Error(std::to_string(dataSize - pos) + " unused bytes after the last tensor's data");
  return Status::ok();
}

Expected<Tensor> decode(const Entry &e, const uint8_t *data) {
  bool isF32 = e.dtype == "F32";
  Tensor t = Tensor::zeros({isF32 ? ir::DType::F32 : ir::DType::I32, e.shape});
  const uint8_t *p = data + e.begin;
  for (int64_t i = 0; i < e.numElements; ++i) {
    if (isF32) {
      t.f32[size_t(i)] = std::bit_cast<float>(uint32_t(loadLE(p + 4 * i, 4)));
    } else if (e.dtype == "I32") {
      t.i32[size_t(i)] = std::bit_cast<int32_t>(uint32_t(loadLE(p + 4 * i, 4)));
    } else {
      int64_t v = std::bit_cast<int64_t>(loadLE(p + 8 * i, 8));
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        return Error("tensor '" + e.name + "': I64 value " + std::to_string(v) + " at element " +
                     std::to_string(i) + " does not fit in I32");
      t.i32[size_t(i)] = int32_t(v);
    }
  }
  return t;
}

/// The header's "__metadata__" object (string to string, as the format says).
Status parseMetadata(const json &j, Metadata &meta) {
  if (!j.is_object())
    return Error("'__metadata__' must be an object of strings");
  for (const auto &[key, value] : j.items()) {
    if (!value.is_string())
      return Error("'__metadata__': '" + key + "' must be a string");
    meta[key] = value.get<std::string>();
  }
  return Status::ok();
}

Expected<std::vector<Entry>> parseHeader(const uint8_t *begin, const uint8_t *end, Metadata &meta) {
  // The same linear check as for model files (syntax, NUL bytes, duplicate
  // names, depth) before nlohmann builds the DOM: a NUL would otherwise end
  // the header early, and a duplicate name silently replace the first entry.
  std::string_view text(reinterpret_cast<const char *>(begin), size_t(end - begin));
  Status valid = support::checkJsonText(text);
  if (!valid)
    return valid.error().withPrefix("header: ");
  json header = json::parse(begin, end, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded())
    return Error("header is not valid JSON");
  if (!header.is_object())
    return Error("header must be a JSON object");
  std::vector<Entry> entries;
  for (const auto &[name, value] : header.items()) {
    if (name == "__metadata__") {
      GRADC_TRY_STATUS(parseMetadata(value, meta));
      continue;
    }
    auto e = parseEntry(name, value);
    if (!e)
      return e.error().withPrefix("tensor '" + name + "': ");
    entries.push_back(e.take());
  }
  return entries;
}

/// Where the bytes come from: a file read in pieces, or a buffer in memory.
struct Source {
  uint64_t size = 0;
  std::function<Status(uint64_t offset, uint64_t n, void *dst)> read;
};

/// Reads and checks a file in order, allocating only for what has passed:
/// the 8-byte length, the header (at most kMaxSafetensorsHeader bytes), the
/// entries and their layout against the file's size, and only then the data.
Expected<TensorMap> read(const Source &file, Metadata &meta) {
  uint64_t size = file.size;
  if (size < 8)
    return Error("file of " + std::to_string(size) +
                 " bytes is too short for the 8-byte header length");
  uint8_t lenBytes[8];
  GRADC_TRY_STATUS(file.read(0, 8, lenBytes));
  uint64_t headerLen = loadLE(lenBytes, 8);
  if (headerLen > kMaxSafetensorsHeader)
    return Error("header length " + std::to_string(headerLen) + " exceeds the limit of " +
                 std::to_string(kMaxSafetensorsHeader) + " bytes");
  if (headerLen > size - 8)
    return Error("header length " + std::to_string(headerLen) + " runs past the end of the " +
                 std::to_string(size) + "-byte file");
  Bytes header(headerLen);
  GRADC_TRY_STATUS(file.read(8, headerLen, header.data()));
  GRADC_TRY(entries, parseHeader(header.data(), header.data() + headerLen, meta));
  uint64_t dataSize = size - 8 - headerLen;
  GRADC_TRY_STATUS(checkLayout(entries, dataSize));
  Bytes data(dataSize);
  GRADC_TRY_STATUS(file.read(8 + headerLen, dataSize, data.data()));
  TensorMap out;
  for (const Entry &e : entries) {
    GRADC_TRY(t, decode(e, data.data()));
    out.emplace(e.name, std::move(t));
  }
  return out;
}

/// The JSON header for `tensors`, padded with spaces to a multiple of 8.
Expected<std::string> makeHeader(const TensorMap &tensors, const Metadata &meta) {
  json header = json::object();
  if (!meta.empty())
    header["__metadata__"] = meta;
  uint64_t offset = 0;
  for (const auto &[name, t] : tensors) {
    if (name == "__metadata__")
      return Error("tensor name '__metadata__' is reserved by the safetensors format");
    size_t n = size_t(t.numElements());
    bool isF32 = t.type.dtype == ir::DType::F32;
    GRADC_CHECK((isF32 ? t.f32.size() : t.i32.size()) == n,
                "tensor '" + name + "' holds the wrong number of elements");
    header[name] = {{"dtype", isF32 ? "F32" : "I32"},
                    {"shape", t.type.shape},
                    {"data_offsets", {offset, offset + 4 * n}}};
    offset += 4 * n;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception &) {
    return Error("a tensor name is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

/// The whole file: length, header, little-endian data.
std::string serialize(const std::string &header, const TensorMap &tensors) {
  std::string out(8, '\0');
  storeLE(reinterpret_cast<uint8_t *>(out.data()), header.size(), 8);
  out += header;
  for (const auto &[name, t] : tensors) {
    size_t at = out.size();
    out.resize(at + size_t(t.numElements()) * 4);
    auto *p = reinterpret_cast<uint8_t *>(out.data() + at);
    for (int64_t i = 0; i < t.numElements(); ++i) {
      uint32_t bits = t.type.dtype == ir::DType::F32 ? std::bit_cast<uint32_t>(t.f32[size_t(i)])
                                                     : std::bit_cast<uint32_t>(t.i32[size_t(i)]);
      storeLE(p + 4 * i, bits, 4);
    }
  }
  return out;
}

} // namespace

Expected<TensorMap> readSafetensors(const std::string &path, Metadata *meta) {
  Metadata local;
  GRADC_TRY(file, support::InputFile::open(path, "safetensors file"));
  Source source{file.size(), [&file](uint64_t offset, uint64_t n, void *dst) {
                  return file.read(offset, n, dst);
                }};
  auto tensors = read(source, meta ? *meta : local);
  if (!tensors && tensors.error().message().rfind(path + ": ", 0) != 0)
    return tensors.error().withPrefix(path + ": ");
  return tensors;
}

Expected<TensorMap> parseSafetensors(std::string_view bytes, const std::string &name) {
  Source source{bytes.size(), [bytes](uint64_t offset, uint64_t n, void *dst) -> Status {
                  GRADC_CHECK(offset <= bytes.size() && n <= bytes.size() - offset,
                              "read past the end of a checked buffer");
                  if (n > 0) // an empty data section has no buffer: dst may be null
                    std::memcpy(dst, bytes.data() + offset, size_t(n));
                  return Status::ok();
                }};
  Metadata meta;
  auto tensors = read(source, meta);
  if (!tensors)
    return tensors.error().withPrefix(name + ": ");
  return tensors;
}

Status writeSafetensors(const std::string &path, const TensorMap &tensors, const Metadata &meta) {
  auto header = makeHeader(tensors, meta);
  if (!header)
    return header.error().withPrefix(path + ": cannot write: ");
  return support::writeFileAtomic(path, serialize(*header, tensors));
}

} // namespace gradc::runtime
