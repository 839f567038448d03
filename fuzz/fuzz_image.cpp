// Image files as the image_folder kind reads them: the header probe, then decoding and resizing
// (stb_image, stb_image_resize) of a one-image list.
#include "FuzzSupport.h"
#include "data/Images.h"

using namespace particle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::string path = fuzz::asFile(data + 1, size - 1, ".png");
  try {
    readImageHeader(path);
    ImageList list;
    list.files = {path};
    list.labels = {0};
    DecodeOptions options;
    options.height = 1 + data[0] % 32;
    options.width = 1 + data[0] / 8;
    options.channels = data[0] & 1 ? 3 : 1;
    options.useCache = false;
    options.threads = 1;
    decodeImages("/nonexistent-root", list, options);
  } catch (const Error &) {
  }
  return 0;
}
