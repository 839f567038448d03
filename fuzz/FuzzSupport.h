#pragma once
// What the fuzz targets share: the input as a file (for readers that take a path) on a RAM disk.

#include "data/Dataset.h"
#include "data/DatasetSpec.h"
#include "base/Json.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace particle::fuzz {

// Writes the input to a file of this process's own (same name every time) and returns its path.
inline std::string asFile(const uint8_t *data, std::size_t size, const std::string &suffix) {
  const char *dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = std::string(dir) + "/particle-fuzz-" + std::to_string(::getpid()) + suffix;
  if (FILE *f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  return path;
}

// Probes and loads a data set as `check` and `train` would; the project's own errors are the
// expected way to refuse an input.
inline void probeAndLoad(const Json &section) {
  try {
    const DatasetSpec spec = parseDatasetSpec(section, "/");
    probeDataset(spec);
    loadDataset(spec);
  } catch (const Error &) {
  }
}

} // namespace particle::fuzz
