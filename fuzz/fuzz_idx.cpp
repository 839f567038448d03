// The IDX reader (raw and gzip): header, dimensions and payload.
#include "FuzzSupport.h"
#include "data/Idx.h"

using namespace particle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string path = fuzz::asFile(data, size, size > 1 && data[0] == 0x1f ? ".idx.gz" : ".idx");
  try {
    readIdxDims(path);
    readIdx(path);
  } catch (const Error &) {
  }
  return 0;
}
