// The built-in data kinds, one line each. A new kind is one file in this folder defining
// `DataKind <name>DataKind()` (its keys, probe and loader), plus one line in this list.

#include "data/DatasetSpec.h"

#define PARTICLE_BUILTIN_DATA_KINDS(X)                                                                                 \
  X(fashionMnistDataKind)                                                                                              \
  X(idxDataKind)                                                                                                       \
  X(csvDataKind)                                                                                                       \
  X(imageFolderDataKind)                                                                                               \
  X(audioFolderDataKind)                                                                                               \
  X(npyDataKind)                                                                                                       \
  X(textDataKind)                                                                                                      \
  X(syntheticDataKind)

namespace particle {

#define PARTICLE_DECLARE(make) DataKind make();
PARTICLE_BUILTIN_DATA_KINDS(PARTICLE_DECLARE)
#undef PARTICLE_DECLARE

std::vector<DataKind> builtinDataKinds() {
  std::vector<DataKind> kinds;
#define PARTICLE_MAKE(make) kinds.push_back(make());
  PARTICLE_BUILTIN_DATA_KINDS(PARTICLE_MAKE)
#undef PARTICLE_MAKE
  return kinds;
}

} // namespace particle
