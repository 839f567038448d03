// The NumPy reader: a .npy array, or an .npz archive (zip, stored or deflated) when the input
// starts like one.
#include "data/Npy.h"
#include "base/Json.h"

using namespace particle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
      parseNpz(bytes, "fuzz.npz", "x");
    } else {
      parseNpy(bytes, "fuzz.npy");
    }
  } catch (const Error &) {
  }
  return 0;
}
