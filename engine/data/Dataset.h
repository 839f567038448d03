#pragma once
// Loaded data: whole tensors for train/validation/test, kept on the device; batches are
// index_select, never per-sample copies.

#include "data/DatasetSpec.h"

#include <torch/torch.h>

#include <string>

namespace particle {

struct Dataset {
  torch::Tensor trainX, trainY, valX, valY, testX, testY; // X float [N, ...], Y int64 [N]
  DataInfo info;
  std::string description; // e.g. "fashion-mnist: 54000 train, 6000 validation, 10000 test"

  void to(const torch::Device &device);
};

// Throws Error(File) naming the file (and line, for CSV) on missing, truncated or bad data.
Dataset loadDataset(const DatasetSpec &spec);

} // namespace particle
