// The particle file reader: the first line and its CRC, the header's every field (nodes and edges
// through the project reader), the blob table against the file's size, and each blob's CRC. The
// weights themselves are LibTorch's pickle, trusted input like a checkpoint's, and not fed here.
#include "FuzzSupport.h"
#include "project/PartFile.h"

using namespace particle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string path = fuzz::asFile(data, size, ".particle-part");
  try {
    const PartInfo part = readPartInfo(path);
    for (const PartBlob &blob : part.blobs)
      (void)readPartBlob(path, blob.name);
  } catch (const Error &) {
  }
  return 0;
}
