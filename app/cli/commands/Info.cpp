// `particle info`: versions, devices, threads.

#include "Commands.h"
#include "Common.h"

#include "data/DatasetSpec.h"
#include "train/Runtime.h"

#include <filesystem>
#include <iomanip>
#include <iostream>

namespace fs = std::filesystem;

namespace particle::cli {

int runInfo(int, char **) {
  const Json info = runtimeInfo();
  for (auto it = info.begin(); it != info.end(); ++it)
    std::cout << std::left << std::setw(24) << it.key() << compactJson(it.value()) << "\n";
  const DatasetSpec fashion = parseDatasetSpec(Json{{"kind", "fashion-mnist"}}, "");
  std::cout << std::setw(24) << "fashion_mnist" << fashionMnistFolder(fashion)
            << (fs::exists(fashionMnistFolder(fashion) + "/train-images-idx3-ubyte.gz") ? "" : " (missing)") << "\n";
  return kExitOk;
}

} // namespace particle::cli
