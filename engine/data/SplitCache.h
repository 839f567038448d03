#pragma once
// The split data set kept decoded in one file, so that the many `particle train` processes of a
// search (or a learning curve, a claims run, a transfer) load and split the data once: the first
// trial writes <folder>/<key>.split, every later one maps its pages read-only instead of reading
// and decoding the data again. Trials stay processes of their own; only the data is shared.

#include "data/Dataset.h"

#include <optional>
#include <string>

namespace particle {

// What `spec` loads, as text: the kind, its keys (paths resolved), the split's fraction and seed,
// the limit, its seed and the class selection, with the size and time of every file or folder a
// key names. A changed section or data file gives another key, so another cache file.
std::string splitCacheKey(const DatasetSpec &spec);

// Writes the split data set (its tensors, info, description, notes) to `file` under `key`; a
// temporary file renamed into place, so a reader never sees half of it. Throws Error(File).
void writeSplitCache(const std::string &file, const Dataset &data, const std::string &key);

// The data set in `file` when it holds `key`'s, its tensors mapped read-only from the file; else
// nothing, with why in `why` ("is damaged (…)", "holds another data set or split"; empty when
// there is no such file).
std::optional<Dataset> readSplitCache(const std::string &file, const std::string &key, std::string *why = nullptr);

struct CachedLoad {
  Dataset data;
  std::string how; // for the run's log: "read from the data cache F", "loaded; wrote the data cache F"…
};

// The data set of `spec` from its cache file in `folder` when that holds it; else loaded
// (loadDataset) and written there for the next process. A damaged or stale file is replaced; one
// that cannot be written leaves the run on the data it loaded, and `how` says why.
CachedLoad loadDatasetCached(const DatasetSpec &spec, const std::string &folder);

} // namespace particle
