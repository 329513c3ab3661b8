// gradc train, eval and predict as a user runs them, on tiny data sets the test
// writes: metrics and SVG written, checkpoints loading in run --weights and eval,
// resume equal bit for bit to an uninterrupted run, and SIGINT mid-epoch leaving
// a complete checkpoint.
#include "runtime/safetensors.h"

#include "tests/unit/temp_dir.h"
#include "tests/unit/tiny_data_set.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gradc::runtime {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string readText(const std::string &path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class TrainCliTest : public ::testing::Test {
protected:
  void SetUp() override {
    model_ = dir_.path + "/tiny.json";
    std::ofstream(model_) << testing::kTinyModel;
    data_ = dir_.path + "/data";
    fs::create_directories(data_);
    testing::writeTinyIdx(data_, 20, 7, true);
  }

  /// Runs gradc with `args`; returns the exit status, output in out_.
  int gradc(const std::string &args) {
    std::string log = dir_.path + "/log.txt";
    std::string cmd = std::string(GRADC_BIN) + " " + args + " >" + log + " 2>&1";
    int rc = std::system(cmd.c_str());
    out_ = readText(log);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  std::string train(const std::string &extra) {
    return "train " + model_ + " --data " + data_ + " --threads 1 --seed 3 " + extra;
  }

  std::string p(const std::string &name) { return dir_.path + "/" + name; }

  TempDir dir_;
  std::string model_, data_, out_;
};

/// The metrics lines without their wall-clock "seconds".
std::string withoutSeconds(const std::string &jsonl) {
  std::string out;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);)
    out += line.substr(0, line.find(", \"seconds\"")) + "\n";
  return out;
}

/// Checks the tags of an XML document nest properly (what a parser checks first).
bool wellFormed(const std::string &xml) {
  std::vector<std::string> open;
  for (size_t i = xml.find('<'); i != std::string::npos; i = xml.find('<', i + 1)) {
    size_t end = xml.find('>', i);
    if (end == std::string::npos)
      return false;
    std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag.empty() || tag[0] == '?' || tag[0] == '!')
      continue;
    std::string name = tag.substr(tag[0] == '/', tag.find_first_of(" />", 1) - (tag[0] == '/'));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name)
        return false;
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(name);
    }
  }
  return open.empty();
}

TEST_F(TrainCliTest, WritesMetricsPlotAndCheckpoint) {
  ASSERT_EQ(gradc(train("--epochs 3 --metrics " + p("m.jsonl") + " --plot " + p("c.svg") +
                        " --save " + p("ck.safetensors"))),
            0)
      << out_;
  EXPECT_NE(out_.find("epoch 3/3: train loss"), std::string::npos) << out_;
  std::string metrics = readText(p("m.jsonl"));
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 3) << metrics;
  for (const char *key : {"\"epoch\": 3", "\"train_loss\": ", "\"test_loss\": ",
                          "\"test_accuracy\": 0.", "\"lr\": 0.025", "\"seconds\": "})
    EXPECT_NE(metrics.find(key), std::string::npos) << key << " in " << metrics;
  std::string svg = readText(p("c.svg"));
  EXPECT_TRUE(wellFormed(svg)) << svg;
  for (const char *curve :
       {"data-series=\"train loss\"", "data-series=\"test loss\"", "data-series=\"test accuracy\""})
    EXPECT_NE(svg.find(curve), std::string::npos) << curve;

  Metadata meta;
  auto ck = readSafetensors(p("ck.safetensors"), &meta);
  ASSERT_TRUE(bool(ck)) << ck.error().message();
  EXPECT_EQ(meta["format"], "gradc.checkpoint/1");
  EXPECT_EQ(meta["epoch"], "3");
  EXPECT_NE(meta["model"].find("\"tiny\""), std::string::npos);
  EXPECT_TRUE(ck->count("fc1.weight") && ck->count("optimizer.fc1.weight.momentum_buffer"));

  // The checkpoint is a weights file for run and eval.
  TensorMap feed{{"image", Tensor::zeros(ir::f32({8, 1, 4, 4}))},
                 {"label", Tensor::zeros(ir::i32({8}))}};
  ASSERT_TRUE(bool(writeSafetensors(p("feed.safetensors"), feed)));
  EXPECT_EQ(gradc("run " + model_ + " --weights " + p("ck.safetensors") + " --feed " +
                  p("feed.safetensors") + " --out " + p("out.safetensors")),
            0)
      << out_;
  ASSERT_EQ(gradc("eval " + model_ + " --weights " + p("ck.safetensors") + " --data " + data_), 0)
      << out_;
  EXPECT_NE(out_.find("7 samples: loss "), std::string::npos) << out_;
  EXPECT_NE(out_.find("confusion matrix"), std::string::npos) << out_;
}

TEST_F(TrainCliTest, PredictGivesOutputsAndClasses) {
  ASSERT_EQ(gradc(train("--epochs 2 --save " + p("ck.safetensors"))), 0) << out_;
  TensorMap feed{{"image", Tensor::zeros(ir::f32({11, 1, 4, 4}))}};
  ASSERT_TRUE(bool(writeSafetensors(p("feed.safetensors"), feed)));
  ASSERT_EQ(gradc("predict " + model_ + " --weights " + p("ck.safetensors") + " --feed " +
                  p("feed.safetensors") + " --out " + p("pred.safetensors")),
            0)
      << out_;
  auto pred = readSafetensors(p("pred.safetensors"));
  ASSERT_TRUE(bool(pred)) << pred.error().message();
  EXPECT_EQ(pred->at("out.fc2").type, ir::f32({11, 3}));
  EXPECT_EQ(pred->at("class.fc2").type, ir::i32({11}));
}

TEST_F(TrainCliTest, CsvAndSafetensorsDataSetsTrain) {
  fs::remove_all(data_);
  fs::create_directories(data_);
  testing::writeTinyCsv(data_, 20, 7, true);
  EXPECT_EQ(gradc(train("--epochs 1")), 0) << out_;
  EXPECT_NE(out_.find("csv data: 20 training and 7 test samples"), std::string::npos) << out_;
  fs::remove_all(data_);
  fs::create_directories(data_);
  testing::writeTinySafetensors(data_, 20, 7);
  EXPECT_EQ(gradc(train("--epochs 1 --batch 5")), 0) << out_;
  EXPECT_NE(out_.find("safetensors data: 20 training and 7 test samples in batches of 5"),
            std::string::npos)
      << out_;
}

TEST_F(TrainCliTest, ResumeEqualsUninterrupted) {
  ASSERT_EQ(gradc(train("--epochs 3 --save " + p("a.safetensors") + " --metrics " + p("a.jsonl"))),
            0)
      << out_;
  ASSERT_EQ(gradc(train("--epochs 1 --save " + p("b.safetensors"))), 0) << out_;
  ASSERT_EQ(gradc(train("--epochs 3 --resume " + p("b.safetensors") + " --save " +
                        p("b.safetensors") + " --metrics " + p("b.jsonl"))),
            0)
      << out_;
  auto a = readSafetensors(p("a.safetensors")), b = readSafetensors(p("b.safetensors"));
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->size(), b->size());
  for (const auto &[name, t] : *a)
    EXPECT_EQ(t.f32, b->at(name).f32) << name;
  EXPECT_EQ(withoutSeconds(readText(p("a.jsonl"))), withoutSeconds(readText(p("b.jsonl"))));
}

TEST_F(TrainCliTest, SigintMidEpochLeavesCompleteCheckpoint) {
  fs::remove_all(data_);
  fs::create_directories(data_);
  testing::writeTinyIdx(data_, 20000, 7, false);
  std::string ck = p("ck.safetensors"), metrics = p("m.jsonl");
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl(GRADC_BIN, GRADC_BIN, "train", model_.c_str(), "--data", data_.c_str(), "--threads", "1",
          "--seed", "3", "--batch", "1", "--epochs", "100000", "--save", ck.c_str(), "--metrics",
          metrics.c_str(), (char *)nullptr);
    _exit(127);
  }
  // Interrupt once training is under way: after the first epoch's metrics.
  for (int i = 0; i < 600 && !fs::exists(metrics); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(37));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);

  Metadata meta;
  auto saved = readSafetensors(ck, &meta);
  ASSERT_TRUE(bool(saved)) << saved.error().message();
  EXPECT_EQ(meta["format"], "gradc.checkpoint/1");
  int64_t epoch = std::stoll(meta["epoch"]), step = std::stoll(meta["step"]);
  std::printf("interrupted at epoch %lld, step %lld\n", (long long)epoch, (long long)step);
  ASSERT_EQ(gradc("eval " + model_ + " --weights " + ck + " --data " + data_), 0) << out_;

  // Resuming that checkpoint ends where an uninterrupted run does.
  std::string epochs = " --batch 1 --epochs " + std::to_string(epoch + 1);
  ASSERT_EQ(gradc(train("--resume " + ck + " --save " + ck + epochs)), 0) << out_;
  ASSERT_EQ(gradc(train("--save " + p("u.safetensors") + epochs)), 0) << out_;
  auto a = readSafetensors(ck), b = readSafetensors(p("u.safetensors"));
  ASSERT_TRUE(a && b);
  for (const auto &[name, t] : *b)
    EXPECT_EQ(t.f32, a->at(name).f32) << name;
}

TEST_F(TrainCliTest, WrongShapeIsOneClearError) {
  std::string model = readText(model_);
  model.replace(model.find("1, 4, 4"), 7, "1, 5, 5");
  std::ofstream(p("five.json")) << model;
  EXPECT_EQ(gradc("train " + p("five.json") + " --data " + data_), 1) << out_;
  EXPECT_NE(out_.find("gradc: error: " + data_ +
                      "/train-images-idx3-ubyte.gz: no data for model input 'image' (f32[1, 5, 5] "
                      "per sample); the data set has images (f32[4, 4] per sample)"),
            std::string::npos)
      << out_;
}

} // namespace
} // namespace gradc::runtime
