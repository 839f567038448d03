// Kind "fashion-mnist": Zalando's Fashion-MNIST from Debian's dataset-fashion-mnist (IDX files),
// with its own test split and its ten class names.

#include "data/kinds/Idx.h"

namespace particle {

DataKind fashionMnistDataKind() {
  DataKind k;
  k.name = "fashion-mnist";
  k.doc = "Fashion-MNIST: 70,000 28×28 greyscale clothing images in 10 classes (Debian's dataset-fashion-mnist).";
  k.keys = {pathField("path", "Folder with the four IDX files (default: $PARTICLE_DATA, else Debian's)", true)};
  auto files = [](const DatasetSpec &s) {
    const std::string dir = fashionMnistFolder(s);
    return kinds::IdxFiles{dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz",
                           dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz"};
  };
  static const std::vector<std::string> kNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  k.probe = [files](const DatasetSpec &s) {
    DataInfo info = kinds::probeIdx(s, files(s), 0.0);
    info.classNames = kNames;
    info.classes = 10;
    return info;
  };
  k.load = [files](const DatasetSpec &s, Dataset &d) { kinds::loadIdx(s, files(s), 0.0, d); };
  return k;
}

} // namespace particle
