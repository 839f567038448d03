#pragma once
// Folders of images for the kind "image_folder": the class-per-folder tree, decoding (PNG, JPEG,
// BMP through stb_image, resized by stb_image_resize) on every core, and a cache file of the
// decoded pixels beside the data so that the second load only reads one file. Torch-free.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace particle {

// One split's images: the files (absolute paths) and their class indices.
struct ImageList {
  std::vector<std::string> files;
  std::vector<int64_t> labels;
};

// root/<class>/… or root/train/<class>/… and root/test/<class>/…; class names are the folder
// names, sorted (the test tree's must be among the training tree's). Hidden folders are skipped;
// files whose extension is not among `extensions` (lower case, with the dot) are ignored. Throws
// Error(File) for a missing or empty root and for a class folder holding none of `what`, naming
// the folder. The defaults are the images'; audio_folder scans its sound files with the same tree.
struct ImageTree {
  std::string root;
  std::vector<std::string> classes;
  ImageList train, test; // test is empty when the root has no train/ and test/ folders
  bool ownTest = false;
};
ImageTree scanImageTree(const std::string &root,
                        const std::vector<std::string> &extensions = {".png", ".jpg", ".jpeg", ".bmp"},
                        const std::string &what = "PNG, JPEG or BMP images");

// The files of `list` that were loaded (those not among `skipped`), as paths relative to `root`
// ("test/eight/en-029-m3.wav"): where each loaded sample came from, in order.
std::vector<std::string> loadedNames(const ImageList &list, const std::vector<std::string> &skipped,
                                     const std::string &root);

// Width, height and channel count of an image from its header. Throws Error(File) naming it.
struct ImageHeader {
  int width = 0, height = 0, channels = 0;
};
ImageHeader readImageHeader(const std::string &path);

// Decoded pixels, uint8, [count, channels, height, width].
struct DecodedImages {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  std::vector<std::string> skipped; // files that could not be decoded (with skipBad)
  bool fromCache = false;
  std::string cacheFile; // where the cache is (or would have been) written
};

struct DecodeOptions {
  int height = 0, width = 0, channels = 0; // the size every image is resized to
  bool skipBad = false;
  int threads = 0; // 0: every core
  const std::atomic<bool> *cancel = nullptr;
  bool useCache = true;
};

// Calls decode(i) for every i in [0, count) on `threads` threads (0: every core; at most 64, at
// most count) and returns what each call found wrong, empty where it decoded (an exception's
// message counts as found). A set `cancel` throws LoadCancelled once the calls under way return.
// Image and audio folders decode their files with it.
std::vector<std::string> decodeEach(std::size_t count, int threads, const std::atomic<bool> *cancel,
                                    const std::function<std::string(std::size_t)> &decode);

// Decodes `list` (or reads the cache file keyed by the files' paths, sizes and modification times
// and the options). A file that cannot be decoded throws Error(File) naming it and why, unless
// `skipBad`. A set `cancel` throws LoadCancelled. The cache lives in <root>/.particle-cache/, or in
// the user's cache folder when the root cannot be written; a cache that cannot be written is not
// an error.
DecodedImages decodeImages(const std::string &root, const ImageList &list, const DecodeOptions &options);

} // namespace particle
