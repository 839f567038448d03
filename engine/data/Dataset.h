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
  std::string description;    // e.g. "fashion-mnist: 54000 train, 6000 validation, 10000 test"
  std::string notes;          // set by a loader: what a person should know (images skipped…)
  std::string tokenizerModel; // text tokenized by SentencePiece: the model, which a run keeps as tokenizer.model

  void to(const torch::Device &device);
};

// Throws Error(File) naming the file (and line, for text formats) on missing, truncated or bad data.
Dataset loadDataset(const DatasetSpec &spec);

// For the kinds' loaders: carves (x, y) into test (when `testFraction` > 0 … the data has no test
// split of its own), validation and training parts, deterministically from the spec's seed, and
// applies `limit` to the training part. The same arithmetic as setSplitCounts().
void assignSplits(Dataset &d, const torch::Tensor &x, const torch::Tensor &y, const DatasetSpec &spec, bool needsTest,
                  double testFraction);

} // namespace particle
