// Data sets: IDX (gzipped or not), CSV and safetensors read and matched to a
// model's inputs; each kind of bad file refused with a message naming the file,
// the place and what was expected.
#include "runtime/dataset.h"

#include "tests/unit/temp_dir.h"
#include "tests/unit/tiny_data_set.h"

#include <gtest/gtest.h>

namespace gradc::runtime {
namespace {

using testing::TempDir;

const std::vector<InputSpec> kInputs = {{"image", ir::f32({8, 1, 4, 4})}, {"label", ir::i32({8})}};
const ClassLabels kLabels{"label", 3};

std::string errorOf(const Expected<DataSet> &d) {
  return d ? std::string("(no error)") : d.error().message();
}

TEST(DataSetTest, IdxPlainAndGzipped) {
  for (bool gz : {false, true}) {
    TempDir dir;
    testing::writeTinyIdx(dir.path, 20, 7, gz);
    auto d = loadDataSet(dir.path, kInputs, kLabels);
    ASSERT_TRUE(bool(d)) << errorOf(d);
    EXPECT_EQ(d->format, "idx");
    EXPECT_EQ(d->train.size, 20);
    EXPECT_EQ(d->test.size, 7);
    const Tensor &img = d->train.tensors.at("image");
    EXPECT_EQ(img.type, ir::f32({20, 1, 4, 4}));
    testing::TinySamples s = testing::tinySamples(20, 1);
    EXPECT_FLOAT_EQ(img.f32[5], float(s.pixels[5]) / 255.0f);
    EXPECT_EQ(d->train.tensors.at("label").i32[3], s.labels[3]);
  }
}

TEST(DataSetTest, CsvWithAndWithoutHeader) {
  for (bool header : {false, true}) {
    TempDir dir;
    testing::writeTinyCsv(dir.path, 12, 5, header);
    auto d = loadDataSet(dir.path, kInputs, kLabels);
    ASSERT_TRUE(bool(d)) << errorOf(d);
    EXPECT_EQ(d->format, "csv");
    EXPECT_EQ(d->train.size, 12);
    testing::TinySamples s = testing::tinySamples(12, 1);
    EXPECT_FLOAT_EQ(d->train.tensors.at("image").f32[17], float(s.pixels[17]) / 255.0f);
    EXPECT_EQ(d->test.tensors.at("label").type, ir::i32({5}));
  }
}

TEST(DataSetTest, Safetensors) {
  TempDir dir;
  testing::writeTinySafetensors(dir.path, 9, 4);
  auto d = loadDataSet(dir.path, kInputs, kLabels);
  ASSERT_TRUE(bool(d)) << errorOf(d);
  EXPECT_EQ(d->format, "safetensors");
  EXPECT_EQ(d->train.tensors.at("image").type, ir::f32({9, 1, 4, 4}));
}

/// Replaces one file of a good IDX set by `bytes`; returns the error.
std::string idxError(const std::string &file, const std::string &bytes) {
  TempDir dir;
  testing::writeTinyIdx(dir.path, 10, 4, false);
  testing::writeBytes(dir.path + "/" + file, bytes, false);
  return errorOf(loadDataSet(dir.path, kInputs, kLabels));
}

TEST(DataSetTest, TruncatedIdx) {
  testing::TinySamples s = testing::tinySamples(10, 1);
  std::string bytes = testing::idxBytes({10, 4, 4}, s.pixels);
  std::string e = idxError("train-images-idx3-ubyte", bytes.substr(0, bytes.size() - 5));
  EXPECT_NE(e.find("train-images-idx3-ubyte: truncated"), std::string::npos) << e;
  EXPECT_NE(e.find("need 160 bytes of data, the file has 155"), std::string::npos) << e;
}

TEST(DataSetTest, TruncatedGzip) {
  TempDir dir;
  testing::writeTinyIdx(dir.path, 10, 4, true);
  std::string p = dir.path + "/train-images-idx3-ubyte.gz";
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  testing::writeBytes(p, bytes.substr(0, bytes.size() / 2), false);
  std::string e = errorOf(loadDataSet(dir.path, kInputs, kLabels));
  EXPECT_NE(e.find("train-images-idx3-ubyte.gz: "), std::string::npos) << e;
}

TEST(DataSetTest, MislabelledIdx) {
  std::vector<uint8_t> labels(10, 1);
  labels[6] = 7;
  std::string e = idxError("train-labels-idx1-ubyte", testing::idxBytes({10}, labels));
  EXPECT_NE(e.find("train-labels-idx1-ubyte: labels of sample 6 is 7, expected a class index "
                   "in [0, 3) for model input 'label'"),
            std::string::npos)
      << e;
}

TEST(DataSetTest, WrongMagic) {
  testing::TinySamples s = testing::tinySamples(10, 1);
  std::string bytes = testing::idxBytes({10, 4, 4}, s.pixels);
  bytes[0] = 0x1f;
  std::string e = idxError("train-images-idx3-ubyte", bytes);
  EXPECT_NE(e.find("train-images-idx3-ubyte: wrong magic number 0x1f000803"), std::string::npos)
      << e;
}

TEST(DataSetTest, LabelCountDiffers) {
  std::string e =
      idxError("train-labels-idx1-ubyte", testing::idxBytes({9}, std::vector<uint8_t>(9)));
  EXPECT_NE(e.find("holds 9 labels"), std::string::npos) << e;
  EXPECT_NE(e.find("holds 10 images"), std::string::npos) << e;
}

TEST(DataSetTest, WrongShapeNamesBoth) {
  TempDir dir;
  testing::writeTinyIdx(dir.path, 10, 4, false);
  std::vector<InputSpec> mnist = {{"image", ir::f32({8, 1, 28, 28})}, {"label", ir::i32({8})}};
  std::string e = errorOf(loadDataSet(dir.path, mnist, kLabels));
  EXPECT_NE(e.find("no data for model input 'image' (f32[1, 28, 28] per sample)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("images (f32[4, 4] per sample)"), std::string::npos) << e;
}

TEST(DataSetTest, CsvErrorsNameLineAndColumn) {
  TempDir dir;
  testing::writeTinyCsv(dir.path, 4, 2, true);
  std::ofstream(dir.path + "/train.csv", std::ios::app) << "1,2,x\n";
  std::string e = errorOf(loadDataSet(dir.path, kInputs, kLabels));
  EXPECT_NE(e.find("train.csv: line 6: expected 17 fields"), std::string::npos) << e;
}

TEST(DataSetTest, NoDataSet) {
  TempDir dir;
  std::string e = errorOf(loadDataSet(dir.path, kInputs, kLabels));
  EXPECT_NE(e.find("no data set found"), std::string::npos) << e;
}

} // namespace
} // namespace gradc::runtime
