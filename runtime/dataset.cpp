// Data set readers (IDX, CSV, safetensors) and the matching of their columns
// to model inputs.
#include "runtime/dataset.h"

#include "runtime/safetensors.h"
#include "support/files.h"

#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

namespace gradc::runtime {
namespace {

namespace fs = std::filesystem;

/// The largest uncompressed data file read (the whole of ImageNet's labels
/// would fit; a gzip bomb does not).
constexpr uint64_t kMaxDataBytes = 4ull << 30;

/// One part of a data set before matching: a name, a per-sample type and
/// the data of every sample.
struct Column {
  std::string name, file;
  Tensor data; ///< [samples, per-sample shape...]
};

std::string perSample(const ir::TensorType &t) {
  ir::Shape s(t.shape.begin() + 1, t.shape.end());
  return std::string(ir::dtypeName(t.dtype)) + ir::shapeStr(s) + " per sample";
}

/// The whole (decompressed) content of `path`; gzip is recognised by content.
Expected<std::string> readMaybeGzip(const std::string &path) {
  // InputFile refuses directories, FIFOs and devices with a clear message.
  GRADC_TRY(probe, support::InputFile::open(path, "data file"));
  (void)probe;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    return Error(path + ": cannot read the data file: " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      gzclose(f);
      return Error(path + ": corrupt gzip data: " + msg);
    }
    if (n == 0)
      break;
    out.append(buf, size_t(n));
    if (out.size() > kMaxDataBytes) {
      gzclose(f);
      return Error(path + ": more than " + std::to_string(kMaxDataBytes >> 30) +
                   " GiB of data; refusing to read it");
    }
  }
  int code = 0;
  std::string msg = gzerror(f, &code);
  gzclose(f);
  if (code != Z_OK && code != Z_STREAM_END)
    return Error(path + ": corrupt gzip data: " + msg);
  return out;
}

/// "name" or "name.gz" in `dir`, whichever exists.
std::optional<std::string> findFile(const std::string &dir, const std::string &name) {
  for (const std::string &n : {name, name + ".gz"})
    if (fs::exists(fs::path(dir) / n))
      return (fs::path(dir) / n).string();
  return std::nullopt;
}

// ---------------------------------------------------------------- IDX

/// An IDX file's pixels as f32 in [0, 1] (images) or class indices (labels).
Expected<Column> idxColumn(const std::string &path, const std::string &name, bool labels) {
  GRADC_TRY(a, readIdx(path));
  if (labels && a.dims.size() != 1)
    return Error(path + ": expected a label file of 1 dimension, got " +
                 std::to_string(a.dims.size()) + " (is it an image file?)");
  if (!labels && a.dims.size() < 2)
    return Error(path +
                 ": expected an image file of at least 2 dimensions (count, rows, ...), "
                 "got " +
                 std::to_string(a.dims.size()) + " (is it a label file?)");
  Column c{name, path, {}};
  if (labels) {
    c.data = Tensor::zeros({ir::DType::I32, {a.dims[0]}});
    for (size_t i = 0; i < a.data.size(); ++i)
      c.data.i32[i] = a.data[i];
  } else {
    c.data = Tensor::zeros({ir::DType::F32, ir::Shape(a.dims.begin(), a.dims.end())});
    for (size_t i = 0; i < a.data.size(); ++i)
      c.data.f32[i] = float(a.data[i]) / 255.0f;
  }
  return c;
}

Expected<std::vector<Column>> readIdxSplit(const std::string &dir, const std::string &prefix) {
  std::string images = prefix + "-images-idx3-ubyte", labels = prefix + "-labels-idx1-ubyte";
  auto ipath = findFile(dir, images), lpath = findFile(dir, labels);
  if (!ipath || !lpath)
    return Error(dir + ": no " + (ipath ? labels : images) + "[.gz] (IDX data sets need " + images +
                 " and " + labels + ", gzipped or not)");
  GRADC_TRY(img, idxColumn(*ipath, "images", false));
  GRADC_TRY(lab, idxColumn(*lpath, "labels", true));
  if (img.data.type.shape[0] != lab.data.type.shape[0])
    return Error(*lpath + ": holds " + std::to_string(lab.data.type.shape[0]) + " labels, but " +
                 *ipath + " holds " + std::to_string(img.data.type.shape[0]) + " images");
  return std::vector<Column>{std::move(img), std::move(lab)};
}

// ---------------------------------------------------------------- CSV

std::vector<std::string> splitFields(const std::string &line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',')
      out.emplace_back();
    else if (c != '\r' && c != ' ' && c != '\t')
      out.back() += c;
  }
  return out;
}

std::optional<double> number(const std::string &s) {
  if (s.empty())
    return std::nullopt;
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (*end || errno == ERANGE || !std::isfinite(v))
    return std::nullopt;
  return v;
}

Expected<std::vector<Column>> readCsv(const std::string &path) {
  GRADC_TRY(text, support::readSmallFile(path, "CSV file", kMaxDataBytes));
  std::vector<float> features;
  std::vector<int32_t> labels;
  size_t width = 0, line_no = 0, pos = 0;
  bool pixels = true;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol == std::string::npos ? eol : eol - pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    std::vector<std::string> f = splitFields(line);
    std::string where = path + ": line " + std::to_string(line_no);
    if (line_no == 1 && !number(f[0]))
      continue; // a header
    if (f.size() < 2)
      return Error(where + ": expected a label and at least one feature, got " +
                   std::to_string(f.size()) + " field");
    if (width == 0)
      width = f.size();
    if (f.size() != width)
      return Error(where + ": expected " + std::to_string(width) +
                   " fields (as the first row), got " + std::to_string(f.size()));
    auto label = number(f[0]);
    if (!label || *label != std::floor(*label) || std::fabs(*label) > 1e9)
      return Error(where + ", column 1: expected a whole-number class label, got '" + f[0] + "'");
    labels.push_back(int32_t(*label));
    for (size_t i = 1; i < f.size(); ++i) {
      auto v = number(f[i]);
      if (!v)
        return Error(where + ", column " + std::to_string(i + 1) + ": expected a number, got '" +
                     f[i] + "'");
      pixels = pixels && *v >= 0 && *v <= 255 && *v == std::floor(*v);
      features.push_back(float(*v));
    }
  }
  if (labels.empty())
    return Error(path + ": no data rows");
  if (pixels)
    for (float &v : features)
      v /= 255.0f;
  int64_t n = int64_t(labels.size());
  Column feat{"features", path, Tensor::zeros({ir::DType::F32, {n, int64_t(width) - 1}})};
  feat.data.f32 = std::move(features);
  Column lab{"labels", path, Tensor::zeros({ir::DType::I32, {n}})};
  lab.data.i32 = std::move(labels);
  return std::vector<Column>{std::move(feat), std::move(lab)};
}

// ---------------------------------------------------------------- safetensors

Expected<std::vector<Column>> readSafetensorsSplit(const std::string &path) {
  GRADC_TRY(tensors, readSafetensors(path));
  std::vector<Column> cols;
  int64_t n = -1;
  for (auto &[name, t] : tensors) {
    if (t.type.shape.empty())
      return Error(path + ": tensor '" + name +
                   "': expected a leading sample dimension, got a "
                   "scalar");
    if (n >= 0 && t.type.shape[0] != n)
      return Error(path + ": tensor '" + name + "' holds " + std::to_string(t.type.shape[0]) +
                   " samples, but '" + cols.front().name + "' holds " + std::to_string(n));
    n = t.type.shape[0];
    cols.push_back({name, path, std::move(t)});
  }
  if (cols.empty())
    return Error(path + ": holds no tensors");
  return cols;
}

// ---------------------------------------------------------------- matching

int64_t sampleElements(const ir::TensorType &t) {
  int64_t n = 1;
  for (size_t i = 1; i < t.shape.size(); ++i)
    n *= t.shape[i];
  return n;
}

bool fits(const Column &c, const InputSpec &in) {
  return c.data.type.dtype == in.type.dtype &&
         sampleElements(c.data.type) == sampleElements(in.type);
}

std::string describeColumns(const std::vector<Column> &cols) {
  std::string s;
  for (const Column &c : cols)
    s += (s.empty() ? "" : ", ") + c.name + " (" + perSample(c.data.type) + ")";
  return s;
}

/// Assigns a column to every input: the one of the same name if it fits,
/// else the only unused column that fits.
Expected<DataSplit> matchColumns(std::vector<Column> cols, const std::vector<InputSpec> &inputs,
                                 const ClassLabels &labels, const std::string &source) {
  DataSplit split;
  split.source = source;
  split.size = cols.front().data.type.shape[0];
  if (split.size == 0)
    return Error(source + ": holds no samples");
  std::vector<bool> used(cols.size(), false);
  for (const InputSpec &in : inputs) {
    int found = -1;
    for (size_t i = 0; i < cols.size() && found < 0; ++i)
      if (!used[i] && cols[i].name == in.name && fits(cols[i], in))
        found = int(i);
    for (size_t i = 0; i < cols.size() && found < 0; ++i)
      if (!used[i] && fits(cols[i], in))
        found = int(i);
    if (found < 0)
      return Error(source + ": no data for model input '" + in.name + "' (" + perSample(in.type) +
                   "); the data set has " + describeColumns(cols));
    used[size_t(found)] = true;
    Column &c = cols[size_t(found)];
    ir::Shape shape = in.type.shape;
    shape[0] = split.size;
    c.data.type.shape = shape;
    if (in.name == labels.input)
      for (size_t i = 0; i < c.data.i32.size(); ++i)
        if (c.data.i32[i] < 0 || c.data.i32[i] >= labels.classes)
          return Error(c.file + ": " + c.name + " of sample " + std::to_string(i) + " is " +
                       std::to_string(c.data.i32[i]) + ", expected a class index in [0, " +
                       std::to_string(labels.classes) + ") for model input '" + in.name + "'");
    split.tensors[in.name] = std::move(c.data);
  }
  return split;
}

Expected<std::vector<Column>> readSplit(const std::string &dir, const std::string &format,
                                        const std::string &stem, std::string &source) {
  if (format == "idx") {
    std::string images = stem + "-images-idx3-ubyte";
    source = findFile(dir, images).value_or((fs::path(dir) / images).string());
    return readIdxSplit(dir, stem);
  }
  source = (fs::path(dir) / (stem + "." + format)).string();
  if (format == "csv")
    return readCsv(source);
  return readSafetensorsSplit(source);
}

} // namespace

Expected<IdxArray> readIdx(const std::string &path) {
  GRADC_TRY(bytes, readMaybeGzip(path));
  if (bytes.size() < 4)
    return Error(path + ": " + std::to_string(bytes.size()) +
                 " bytes is too short for an IDX header (truncated?)");
  auto u8 = [&](size_t i) { return uint8_t(bytes[i]); };
  char magic[16];
  std::snprintf(magic, sizeof magic, "0x%02x%02x%02x%02x", u8(0), u8(1), u8(2), u8(3));
  if (u8(0) != 0 || u8(1) != 0)
    return Error(path + ": wrong magic number " + magic +
                 ": an IDX file starts with two zero bytes, a type byte and a rank byte");
  if (u8(2) != 0x08)
    return Error(path + ": magic number " + magic + ": IDX element type 0x" +
                 std::string(magic + 6, 2) + " is not supported (only 0x08, unsigned bytes)");
  size_t ndim = u8(3);
  if (ndim < 1 || ndim > 4)
    return Error(path + ": IDX header gives " + std::to_string(ndim) +
                 " dimensions, expected 1 to 4");
  size_t header = 4 + 4 * ndim;
  if (bytes.size() < header)
    return Error(path + ": truncated IDX header (" + std::to_string(bytes.size()) + " of " +
                 std::to_string(header) + " bytes)");
  IdxArray a;
  uint64_t total = 1;
  for (size_t d = 0; d < ndim; ++d) {
    size_t at = 4 + 4 * d;
    uint64_t v = uint64_t(u8(at)) << 24 | uint64_t(u8(at + 1)) << 16 | uint64_t(u8(at + 2)) << 8 |
                 u8(at + 3);
    a.dims.push_back(int64_t(v));
    total *= v;
    if (total > kMaxDataBytes)
      return Error(path + ": IDX dimensions give more than " + std::to_string(kMaxDataBytes >> 30) +
                   " GiB of data");
  }
  if (a.dims[0] == 0)
    return Error(path + ": holds no samples");
  uint64_t have = bytes.size() - header;
  if (have != total)
    return Error(path + ": " + (have < total ? "truncated" : "trailing data") + ": the header's " +
                 "dimensions need " + std::to_string(total) + " bytes of data, the file has " +
                 std::to_string(have));
  a.data.assign(bytes.begin() + std::ptrdiff_t(header), bytes.end());
  return a;
}

Expected<DataSet> loadDataSet(const std::string &dir, const std::vector<InputSpec> &inputs,
                              const ClassLabels &labels) {
  if (!fs::is_directory(dir))
    return Error(dir + ": --data must be a directory holding the data set");
  DataSet ds;
  if (findFile(dir, "train-images-idx3-ubyte") || findFile(dir, "train-labels-idx1-ubyte"))
    ds.format = "idx";
  else if (fs::exists(fs::path(dir) / "train.csv"))
    ds.format = "csv";
  else if (fs::exists(fs::path(dir) / "train.safetensors"))
    ds.format = "safetensors";
  else
    return Error(dir + ": no data set found: expected IDX files (train-images-idx3-ubyte[.gz], "
                       "train-labels-idx1-ubyte[.gz], t10k-...), train.csv and test.csv, or "
                       "train.safetensors and test.safetensors");
  const char *test_stem = ds.format == "idx" ? "t10k" : "test";
  for (auto [split, stem] : {std::pair{&ds.train, "train"}, std::pair{&ds.test, test_stem}}) {
    std::string source;
    GRADC_TRY(cols, readSplit(dir, ds.format, stem, source));
    GRADC_TRY(matched, matchColumns(std::move(cols), inputs, labels, source));
    *split = std::move(matched);
  }
  return ds;
}

void gatherBatch(const DataSplit &split, const std::vector<int64_t> &rows, TensorMap &batch) {
  for (auto &[name, dst] : batch) {
    const Tensor &src = split.tensors.at(name);
    size_t per = size_t(src.numElements() / split.size);
    for (size_t r = 0; r < rows.size(); ++r) {
      size_t from = size_t(rows[r]) * per, to = r * per;
      if (src.type.dtype == ir::DType::F32)
        std::memcpy(dst.f32.data() + to, src.f32.data() + from, per * sizeof(float));
      else
        std::memcpy(dst.i32.data() + to, src.i32.data() + from, per * sizeof(int32_t));
    }
  }
}

} // namespace gradc::runtime
