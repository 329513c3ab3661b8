// A tiny classification data set written by the tests themselves (no files
// committed, no Python): 4x4 "images" whose class is the brightest of three
// bands, as IDX (gzipped or not), CSV or safetensors, plus the model that fits it.
#pragma once

#include "runtime/safetensors.h"

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace gradc::testing {

struct TinySamples {
  std::vector<uint8_t> pixels; ///< n x 16
  std::vector<uint8_t> labels; ///< n, in [0, 3)
};

inline TinySamples tinySamples(int n, uint32_t seed) {
  TinySamples s;
  uint32_t x = seed * 2654435761u + 1;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  for (int i = 0; i < n; ++i) {
    uint8_t label = uint8_t(next() % 3);
    for (int p = 0; p < 16; ++p) {
      int band = p * 3 / 16;
      s.pixels.push_back(uint8_t(next() % 120 + (band == label ? 120 : 0)));
    }
    s.labels.push_back(label);
  }
  return s;
}

/// The bytes of an IDX file of unsigned bytes with dims `dims`.
inline std::string idxBytes(const std::vector<uint32_t> &dims, const std::vector<uint8_t> &data) {
  std::string b = {0, 0, 8, char(dims.size())};
  for (uint32_t d : dims)
    for (int k = 3; k >= 0; --k)
      b += char((d >> (8 * k)) & 0xff);
  b.append(data.begin(), data.end());
  return b;
}

inline void writeBytes(const std::string &path, const std::string &bytes, bool gz) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary) << bytes;
  }
}

/// Writes train (n_train) and t10k (n_test) IDX files into `dir`.
inline void writeTinyIdx(const std::string &dir, int n_train, int n_test, bool gz) {
  const char *ext = gz ? ".gz" : "";
  for (auto [stem, n] : {std::pair{"train", n_train}, std::pair{"t10k", n_test}}) {
    TinySamples s = tinySamples(n, std::string(stem) == "train" ? 1 : 2);
    writeBytes(dir + "/" + stem + "-images-idx3-ubyte" + ext,
               idxBytes({uint32_t(n), 4, 4}, s.pixels), gz);
    writeBytes(dir + "/" + stem + "-labels-idx1-ubyte" + ext, idxBytes({uint32_t(n)}, s.labels),
               gz);
  }
}

/// Writes train.csv and test.csv (label, 16 pixels), with a header line if asked.
inline void writeTinyCsv(const std::string &dir, int n_train, int n_test, bool header) {
  for (auto [stem, n] : {std::pair{"train", n_train}, std::pair{"test", n_test}}) {
    TinySamples s = tinySamples(n, std::string(stem) == "train" ? 1 : 2);
    std::ofstream f(dir + "/" + stem + ".csv");
    if (header) {
      f << "label";
      for (int p = 0; p < 16; ++p)
        f << ",pixel" << p;
      f << "\n";
    }
    for (int i = 0; i < n; ++i) {
      f << int(s.labels[size_t(i)]);
      for (int p = 0; p < 16; ++p)
        f << "," << int(s.pixels[size_t(i * 16 + p)]);
      f << "\n";
    }
  }
}

/// Writes train.safetensors and test.safetensors: "image" f32 [n, 1, 4, 4] in
/// [0, 1] and "label" i32 [n].
inline void writeTinySafetensors(const std::string &dir, int n_train, int n_test) {
  for (auto [stem, n] : {std::pair{"train", n_train}, std::pair{"test", n_test}}) {
    TinySamples s = tinySamples(n, std::string(stem) == "train" ? 1 : 2);
    runtime::Tensor img = runtime::Tensor::zeros(ir::f32({n, 1, 4, 4}));
    runtime::Tensor lab = runtime::Tensor::zeros(ir::i32({n}));
    for (size_t i = 0; i < s.pixels.size(); ++i)
      img.f32[i] = float(s.pixels[i]) / 255.0f;
    for (size_t i = 0; i < s.labels.size(); ++i)
      lab.i32[i] = s.labels[i];
    (void)runtime::writeSafetensors(dir + "/" + stem + ".safetensors",
                                    {{"image", img}, {"label", lab}});
  }
}

/// A classifier for the tiny data set: image [B, 1, 4, 4] -> 3 classes.
inline const char *kTinyModel = R"({
  "format": "gradc.model/1",
  "name": "tiny",
  "dims": { "B": 8 },
  "inputs": {
    "image": { "shape": ["B", 1, 4, 4] },
    "label": { "shape": ["B"], "dtype": "i32" }
  },
  "layers": [
    { "name": "flat", "op": "flatten", "input": "image" },
    { "name": "fc1", "op": "linear", "out_features": 8 },
    { "op": "relu" },
    { "name": "fc2", "op": "linear", "out_features": 3 }
  ],
  "outputs": ["fc2"],
  "loss": { "op": "cross_entropy", "input": "fc2", "target": "label" },
  "optimizer": { "op": "sgd", "lr": 0.1, "momentum": 0.9,
                 "schedule": { "op": "step", "step_size": 1, "gamma": 0.5 } }
})";

} // namespace gradc::testing
