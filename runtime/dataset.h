// Data sets for training and evaluation: MNIST-style IDX files (gzipped or
// not), CSV (a label column and feature columns) and safetensors (one tensor
// per model input, samples first), read from a directory and matched to a
// model's inputs by name, shape and dtype.
#pragma once

#include "runtime/tensor.h"
#include "support/error.h"

#include <string>
#include <vector>

namespace gradc::runtime {

/// One model input as a data set must feed it: its name and its type for one
/// batch (the leading dimension is the batch).
struct InputSpec {
  std::string name;
  ir::TensorType type;
};

/// One split of a data set: a tensor per model input, each holding every
/// sample (shape [size, per-sample shape...]).
struct DataSplit {
  std::string source; ///< the file(s) it came from, for messages
  TensorMap tensors;
  int64_t size = 0;
};

struct DataSet {
  std::string format; ///< "idx", "csv" or "safetensors"
  DataSplit train, test;
};

/// Class-index checking: the input holding class indices and the count.
struct ClassLabels {
  std::string input; ///< empty: no class input
  int64_t classes = 0;
};

/// Reads the data set in `dir` for a model with `inputs`:
///  - IDX: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
///    t10k-labels-idx1-ubyte, each optionally with .gz; pixels scaled to [0, 1];
///  - CSV: train.csv and test.csv, a class label then the features on each line,
///    an optional header line; features that are all whole numbers in [0, 255]
///    (pixels) are scaled to [0, 1];
///  - safetensors: train.safetensors and test.safetensors, tensors used as they are.
/// Each part of the data is matched to a model input by name, else by dtype and
/// per-sample element count (reshaped to the input's shape). Any mismatch,
/// malformed file or class label outside [0, classes) is an Error naming the
/// file, the place and what was expected.
Expected<DataSet> loadDataSet(const std::string &dir, const std::vector<InputSpec> &inputs,
                              const ClassLabels &labels);

/// Reads one IDX file (gzipped or not) of unsigned bytes: its dims and data.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};
Expected<IdxArray> readIdx(const std::string &path);

/// Rows `rows` of each tensor of `split`, in that order, as one batch.
void gatherBatch(const DataSplit &split, const std::vector<int64_t> &rows, TensorMap &batch);

} // namespace gradc::runtime
