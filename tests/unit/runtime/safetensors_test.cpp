// safetensors reader and writer: round trips, files written by PyTorch-side
// tools, and malformed files built at run time in a temporary directory.
#include "runtime/safetensors.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <unistd.h>

namespace gradc::runtime {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gradc_st_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string &name) const { return (dir_ / name).string(); }

  /// Writes raw bytes to a file in the test directory and returns its path.
  std::string writeRaw(const std::string &bytes) {
    std::string p = path("t.safetensors");
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  /// A file with the given header text (length field = `len`, or the real
  /// length) followed by `data`.
  std::string writeFile(const std::string &header, const std::string &data,
                        std::optional<uint64_t> len = std::nullopt) {
    uint64_t n = len.value_or(header.size());
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i)
      bytes[size_t(i)] = char((n >> (8 * i)) & 0xff);
    return writeRaw(bytes + header + data);
  }

  /// The error message of reading `p`; fails the test if reading succeeds.
  std::string readError(const std::string &p) {
    auto r = readSafetensors(p);
    EXPECT_FALSE(bool(r)) << "reading " << p << " should have failed";
    return r ? "" : r.error().message();
  }

  fs::path dir_;
};

std::string dataDir() { return GRADC_RUNTIME_TEST_DATA; }

std::string f32Bytes(std::initializer_list<float> vs) {
  std::string s;
  for (float v : vs) {
    uint32_t b = std::bit_cast<uint32_t>(v);
    for (int i = 0; i < 4; ++i)
      s += char((b >> (8 * i)) & 0xff);
  }
  return s;
}

std::string i64Bytes(std::initializer_list<int64_t> vs) {
  std::string s;
  for (int64_t v : vs)
    for (int i = 0; i < 8; ++i)
      s += char((uint64_t(v) >> (8 * i)) & 0xff);
  return s;
}

Tensor f32Tensor(ir::Shape shape, std::vector<float> v) {
  Tensor t = Tensor::zeros(ir::f32(std::move(shape)));
  t.f32 = std::move(v);
  return t;
}

Tensor i32Tensor(ir::Shape shape, std::vector<int32_t> v) {
  Tensor t = Tensor::zeros(ir::i32(std::move(shape)));
  t.i32 = std::move(v);
  return t;
}

TEST_F(SafetensorsTest, RoundTripKeepsEveryBit) {
  float inf = std::numeric_limits<float>::infinity();
  TensorMap in;
  in["b.weight"] = f32Tensor({2, 3}, {1.5f, -0.0f, inf, -inf, 1e-45f, 3.4e38f});
  in["a"] = i32Tensor({4}, {0, -1, 2147483647, -2147483647 - 1});
  in["loss"] = Tensor::scalar(0.25f);
  in["empty"] = f32Tensor({0, 5}, {});
  in["nan"] = f32Tensor({1}, {std::numeric_limits<float>::quiet_NaN()});
  std::string p = path("rt.safetensors");
  ASSERT_TRUE(bool(writeSafetensors(p, in)));
  EXPECT_EQ(fs::file_size(p) % 4, 0u);
  auto out = readSafetensors(p);
  ASSERT_TRUE(bool(out)) << out.error().message();
  ASSERT_EQ(out->size(), in.size());
  for (const auto &[name, t] : in) {
    const Tensor &u = out->at(name);
    EXPECT_EQ(u.type, t.type) << name;
    EXPECT_EQ(u.i32, t.i32) << name;
    ASSERT_EQ(u.f32.size(), t.f32.size()) << name;
    for (size_t i = 0; i < t.f32.size(); ++i)
      EXPECT_EQ(std::bit_cast<uint32_t>(u.f32[i]), std::bit_cast<uint32_t>(t.f32[i])) << name;
  }
  // Only the file itself: the temporary is gone.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(SafetensorsTest, HeaderIsSortedAndPaddedToEightBytes) {
  TensorMap in;
  in["zz"] = Tensor::scalar(1);
  in["a"] = i32Tensor({3}, {1, 2, 3});
  std::string p = path("h.safetensors");
  ASSERT_TRUE(bool(writeSafetensors(p, in)));
  std::ifstream f(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | uint8_t(bytes[size_t(i)]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 12 + 4);
  std::string header = bytes.substr(8, n);
  EXPECT_LT(header.find("\"a\""), header.find("\"zz\""));
  EXPECT_NE(header.find("\"I32\""), std::string::npos);
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
}

TEST_F(SafetensorsTest, ReadsTorchrefFile) {
  auto r = readSafetensors(dataDir() + "/torchref_f32_i32.safetensors");
  ASSERT_TRUE(bool(r)) << r.error().message();
  EXPECT_EQ(r->at("w").type, ir::f32({2, 3}));
  EXPECT_EQ(r->at("w").f32, (std::vector<float>{1.5f, -2.25f, 0.0f, 3.0f, 1e-3f, -7.5f}));
  EXPECT_EQ(r->at("labels").type, ir::i32({4}));
  EXPECT_EQ(r->at("labels").i32, (std::vector<int32_t>{3, 0, 9, -1}));
  EXPECT_EQ(r->at("s").type, ir::f32({}));
  EXPECT_EQ(r->at("s").f32, std::vector<float>{0.5f});
}

TEST_F(SafetensorsTest, ReadsI64AsI32AndIgnoresMetadata) {
  auto r = readSafetensors(dataDir() + "/torch_f32_i64.safetensors");
  ASSERT_TRUE(bool(r)) << r.error().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(r->at("x").f32, (std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1, 1.25f}));
  EXPECT_EQ(r->at("y").type, ir::i32({2, 2}));
  EXPECT_EQ(r->at("y").i32, (std::vector<int32_t>{7, -3, 2147483647, -2147483647 - 1}));
}

TEST_F(SafetensorsTest, MissingFile) {
  EXPECT_NE(readError(path("nope.safetensors")).find("nope.safetensors: cannot read the "
                                                    "safetensors file: No such file"),
            std::string::npos);
  EXPECT_NE(readError(dir_.string()).find("it is a directory"), std::string::npos);
  EXPECT_NE(readError("/dev/null").find("not a regular file"), std::string::npos);
}

TEST_F(SafetensorsTest, TruncatedHeaderLength) {
  EXPECT_NE(readError(writeRaw("")).find("too short"), std::string::npos);
  std::string msg = readError(writeRaw(std::string("\x10\0\0\0\0", 5)));
  EXPECT_NE(msg.find("too short"), std::string::npos);
  EXPECT_NE(msg.find("t.safetensors"), std::string::npos);
}

TEST_F(SafetensorsTest, DeeplyNestedHeaderIsRefusedNotRecursedInto) {
  // 100,000 levels used to overflow the stack when the message printed the value.
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  std::string shape = R"({"x":{"dtype":"F32","shape":)" + deep + R"(,"data_offsets":[0,4]}})";
  EXPECT_NE(readError(writeFile(shape, f32Bytes({1}))).find("deeper than 32 levels"),
            std::string::npos);
  EXPECT_NE(readError(writeFile(deep, "")).find("deeper than 32 levels"), std::string::npos);
}

TEST_F(SafetensorsTest, TruncatedHeader) {
  std::string h = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string msg = readError(writeFile(h.substr(0, 20), "", h.size()));
  EXPECT_NE(msg.find("runs past the end"), std::string::npos) << msg;
}

TEST_F(SafetensorsTest, TruncatedData) {
  std::string h = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string msg = readError(writeFile(h, f32Bytes({1}) + "ab"));
  EXPECT_NE(msg.find("tensor 'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("outside the data section"), std::string::npos) << msg;
}

TEST_F(SafetensorsTest, OffsetsPastTheEnd) {
  std::string h = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  std::string msg = readError(writeFile(h, f32Bytes({1})));
  EXPECT_NE(msg.find("tensor 'x'"), std::string::npos) << msg;
  h = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,0]}})";
  EXPECT_NE(readError(writeFile(h, f32Bytes({1}))).find("outside"), std::string::npos);
}

TEST_F(SafetensorsTest, HugeHeaderLength) {
  std::string msg = readError(writeFile("{}", "", uint64_t(1) << 62));
  EXPECT_NE(msg.find("exceeds the limit"), std::string::npos) << msg;
  msg = readError(writeFile("{}", "", ~uint64_t(0)));
  EXPECT_NE(msg.find("exceeds the limit"), std::string::npos) << msg;
}

TEST_F(SafetensorsTest, HeaderLengthLargerThanFile) {
  std::string msg = readError(writeFile("{}", "", 1000));
  EXPECT_NE(msg.find("runs past the end"), std::string::npos) << msg;
}

TEST_F(SafetensorsTest, UnsupportedDtypesNameTensorAndDtype) {
  for (const char *dt : {"F16", "BF16", "F64", "U8", "BOOL", "I8"}) {
    std::string h =
        std::string(R"({"w":{"dtype":")") + dt + R"(","shape":[1],"data_offsets":[0,8]}})";
    std::string msg = readError(writeFile(h, i64Bytes({0})));
    EXPECT_NE(msg.find("tensor 'w'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("'") + dt + "'"), std::string::npos) << msg;
  }
}

TEST_F(SafetensorsTest, InvalidJsonHeader) {
  EXPECT_NE(readError(writeFile("{\"x\": ", "")).find("header: line 1, column 7: invalid JSON"),
            std::string::npos);
  EXPECT_NE(readError(writeFile("", "")).find("invalid JSON"), std::string::npos);
  EXPECT_NE(readError(writeFile("\"\xff\xfe\"", "")).find("invalid JSON"), std::string::npos);
  EXPECT_NE(readError(writeFile("[1, 2]", "")).find("must be a JSON object"), std::string::npos);
}

TEST_F(SafetensorsTest, MalformedEntries) {
  auto expectMsg = [&](const std::string &h, const std::string &want) {
    std::string msg = readError(writeFile(h, f32Bytes({1})));
    EXPECT_NE(msg.find(want), std::string::npos) << h << " -> " << msg;
    EXPECT_NE(msg.find("tensor 'x'"), std::string::npos) << h << " -> " << msg;
  };
  expectMsg(R"({"x":3})", "must be an object");
  expectMsg(R"({"x":{"shape":[1],"data_offsets":[0,4]}})", "no 'dtype'");
  expectMsg(R"({"x":{"dtype":"F32","data_offsets":[0,4]}})", "no 'shape'");
  expectMsg(R"({"x":{"dtype":"F32","shape":[1]}})", "no 'data_offsets'");
  expectMsg(R"({"x":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", "'dtype' must be");
  expectMsg(R"({"x":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", "'shape' must be");
  expectMsg(R"({"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "'shape' must be");
  expectMsg(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "negative");
  expectMsg(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "'data_offsets'");
  expectMsg(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "'data_offsets'");
  expectMsg(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":"0,4"}})", "'data_offsets'");
}

TEST_F(SafetensorsTest, OverflowingShapes) {
  std::string h = R"({"x":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})";
  EXPECT_NE(readError(writeFile(h, f32Bytes({1}))).find("too large"), std::string::npos);
  h = R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})";
  EXPECT_NE(readError(writeFile(h, f32Bytes({1}))).find("too large"), std::string::npos);
  h = R"({"x":{"dtype":"F32","shape":[65536,65536],"data_offsets":[0,4]}})";
  EXPECT_NE(readError(writeFile(h, f32Bytes({1}))).find("elements"), std::string::npos);
}

TEST_F(SafetensorsTest, ShapeOffsetMismatch) {
  std::string h = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})";
  std::string msg = readError(writeFile(h, f32Bytes({1})));
  EXPECT_NE(msg.find("tensor 'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 8"), std::string::npos) << msg;
}

TEST_F(SafetensorsTest, OverlappingAndGappedData) {
  std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  EXPECT_NE(readError(writeFile(h, f32Bytes({1, 2}))).find("overlaps"), std::string::npos);
  h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  EXPECT_NE(readError(writeFile(h, f32Bytes({1, 2}))).find("gap"), std::string::npos);
  h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_NE(readError(writeFile(h, f32Bytes({1, 2}))).find("unused bytes after"),
            std::string::npos);
}

TEST_F(SafetensorsTest, I64OutOfRange) {
  std::string h = R"({"lab":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})";
  std::string msg = readError(writeFile(h, i64Bytes({1, int64_t(1) << 31})));
  EXPECT_NE(msg.find("tensor 'lab'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2147483648"), std::string::npos) << msg;
  msg = readError(writeFile(h, i64Bytes({-(int64_t(1) << 31) - 1, 0})));
  EXPECT_NE(msg.find("does not fit"), std::string::npos) << msg;
}

TEST_F(SafetensorsTest, UnwritablePathLeavesNothingBehind) {
  TensorMap in;
  in["x"] = Tensor::scalar(1);
  Status s = writeSafetensors(path("no/such/dir/out.safetensors"), in);
  ASSERT_FALSE(bool(s));
  EXPECT_NE(s.error().message().find("out.safetensors"), std::string::npos);
  // A directory in the way: the rename fails after the temporary is written.
  fs::create_directory(path("taken"));
  fs::create_directory(path("taken/sub"));
  ASSERT_FALSE(bool(writeSafetensors(path("taken"), in)));
  EXPECT_TRUE(fs::is_directory(path("taken")));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

/// Truncations and byte flips of a valid file: each read either succeeds or
/// returns an Error, never crashes (run under ASan to check bounds too).
TEST_F(SafetensorsTest, CorruptedFilesNeverCrash) {
  std::ifstream f(dataDir() + "/torch_f32_i64.safetensors", std::ios::binary);
  std::string good((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(good.size(), 16u);
  std::mt19937_64 gen(11);
  for (size_t len = 0; len < good.size(); ++len)
    EXPECT_FALSE(bool(readSafetensors(writeRaw(good.substr(0, len))))) << len;
  for (int trial = 0; trial < 500; ++trial) {
    std::string bad = good;
    for (int flips = 0; flips < 3; ++flips)
      bad[gen() % bad.size()] = char(gen());
    auto r = readSafetensors(writeRaw(bad));
    if (!r)
      continue;
    for (const auto &[name, t] : *r)
      EXPECT_EQ(int64_t(t.f32.size() + t.i32.size()), t.numElements()) << name;
  }
}

TEST_F(SafetensorsTest, ReservedNameIsRejected) {
  TensorMap in;
  in["__metadata__"] = Tensor::scalar(1);
  EXPECT_FALSE(bool(writeSafetensors(path("m.safetensors"), in)));
  EXPECT_FALSE(fs::exists(path("m.safetensors")));
}

} // namespace
} // namespace gradc::runtime
