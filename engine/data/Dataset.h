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
  // Where each test sample came from, for the kinds that read one file per sample (image and
  // audio folders: the file relative to the data folder); empty for the others.
  std::vector<std::string> testNames;

  void to(const torch::Device &device);
};

// Throws Error(File) naming the file (and line, for text formats) on missing, truncated or bad data.
Dataset loadDataset(const DatasetSpec &spec);

// For the kinds' loaders: carves (x, y) into test (when `testFraction` > 0 … the data has no test
// split of its own), validation and training parts, deterministically from the spec's seed, and
// applies `limit` to the training part. The same arithmetic as setSplitCounts().
// `names` (one per sample of x, optional): the test part's become d.testNames.
void assignSplits(Dataset &d, const torch::Tensor &x, const torch::Tensor &y, const DatasetSpec &spec, bool needsTest,
                  double testFraction, const std::vector<std::string> *names = nullptr);

} // namespace particle
