#pragma once
// Shared by the idx and fashion-mnist kinds: IDX image + label files to a split Dataset.

#include "data/Dataset.h"

#include <string>

namespace particle::kinds {

struct IdxFiles {
  std::string images, labels, testImages, testLabels; // test files may be empty
};

// Sample shape and class count from the headers (and the data set's class names, when given).
DataInfo probeIdx(const DatasetSpec &spec, const IdxFiles &files, double testFraction);
void loadIdx(const DatasetSpec &spec, const IdxFiles &files, double testFraction, Dataset &d);

} // namespace particle::kinds
