// Sound files as the audio_folder kind reads them: libsndfile's header parsing and decoding, the
// mono mix, the windowed-sinc resampler, cutting and padding and the log-mel spectrogram, through
// the kind's probe and load (the input is both classes' one clip). The first byte picks the file
// name's extension, the features and the sample rate.
#include "FuzzSupport.h"

#include <filesystem>

using namespace particle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  if (size < 1)
    return 0;
  namespace fs = std::filesystem;
  // A folder of this process's own beside asFile's files.
  static const std::string root = fuzz::asFile(data, 0, "-audio");
  static const char *const extensions[] = {".wav", ".flac", ".ogg"};
  std::error_code ec;
  fs::remove_all(root, ec);
  for (const char *cls : {"/a", "/b"}) {
    fs::create_directories(root + cls, ec);
    if (FILE *f = std::fopen((root + cls + "/clip" + extensions[data[0] % 3]).c_str(), "wb")) {
      std::fwrite(data + 1, 1, size - 1, f);
      std::fclose(f);
    }
  }
  static const int rates[] = {8000, 16000, 22050, 44100};
  Json section = {{"kind", "audio_folder"},
                  {"path", root},
                  {"sample_rate", rates[(data[0] >> 2) & 3]},
                  {"seconds", 0.1 + 0.05 * ((data[0] >> 5) & 3)},
                  {"features", data[0] & 0x80 ? "waveform" : "logmel"},
                  {"mels", 32}};
  fuzz::probeAndLoad(section);
  return 0;
}
