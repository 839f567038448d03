#pragma once
// The project's "dataset" section: which data, where, and how it is split. Torch-free, so the
// editor and `particle check` can learn the sample shape without loading the data.

#include "graph/Catalogue.h"
#include "graph/Json.h"

#include <string>
#include <vector>

namespace particle {

struct DatasetSpec {
  std::string kind; // fashion-mnist | idx | csv | synthetic
  double validationFraction = 0.1;
  double testFraction = 0.2; // only where the data has no test split of its own
  uint64_t seed = 0;
  int64_t limit = 0; // use at most this many training samples (0: all)

  // fashion-mnist / idx (paths already resolved against the project folder)
  std::string path;
  std::string images, labels, testImages, testLabels;
  // csv
  std::string labelColumn;
  std::vector<std::string> featureColumns;
  int64_t classes = 0; // csv: optional; synthetic: required
  // synthetic
  int64_t parts = 4, partDim = 8, samples = 4000;
  std::vector<int64_t> informative;
  double noise = 0.0;
};

// Parses and checks the section. Unknown keys and bad values throw Error(Invalid) naming the
// key as "dataset.<key>". Relative paths resolve against `baseDir`.
DatasetSpec parseDatasetSpec(const Json &section, const std::string &baseDir);

// Sample shape and class count. Reads only file headers (IDX) or the header and label column
// (CSV). Missing or unreadable files throw Error(File) naming the file.
DataInfo probeDataset(const DatasetSpec &spec);

// The folder used for kind fashion-mnist: "path", else $PARTICLE_DATA, else Debian's.
std::string fashionMnistFolder(const DatasetSpec &spec);

// CSV helpers shared by the probe and the loader.
std::vector<std::string> splitCsvLine(const std::string &line);

} // namespace particle
