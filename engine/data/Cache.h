#pragma once
// What the data caches share (decoded images and audio, SentencePiece models and token ids): where
// a cache file may live, the hash that names it, and the file of decoded samples. Torch-free.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace particle {

// FNV-1a over `size` bytes, continuing from `h` (start with kFnvStart).
constexpr uint64_t kFnvStart = 1469598103934665603ULL;
uint64_t fnv(uint64_t h, const void *data, std::size_t size);
inline uint64_t fnv(uint64_t h, const std::string &s) {
  return fnv(h, s.data(), s.size() + 1);
}
std::string hex16(uint64_t h);

// The folders a cache file may live in, in order: <root>/.particle-cache, beside the data, then
// the user's cache folder ($XDG_CACHE_HOME or ~/.cache)/particle-studio/<sub> when the data's
// folder cannot be written.
std::vector<std::filesystem::path> cacheFolders(const std::string &root, const std::string &sub);

// A file's path, size and modification time, for cache keys.
std::string fileStamp(const std::string &path);

// A cache file of decoded samples (image and audio folders): an 8-byte magic naming the kind and
// the format version; int64 fields: the sample count, one sample's shape, the count of files
// skipped; the labels (int64, one a sample); each skipped file's name (uint32 length, bytes); then
// the samples, count × the shape's product elements of `elementSize` bytes each.
struct SampleCacheFormat {
  char magic[8];
  std::vector<int64_t> shape;
  std::size_t elementSize = 1;
};

// Written atomically (a temporary file renamed over the name); false when it cannot be.
bool writeSampleCache(const std::filesystem::path &file, const SampleCacheFormat &format,
                      const std::vector<int64_t> &labels, const std::vector<std::string> &skipped, const void *samples);

// Reads the cache of a list of `files` files (the samples and the skipped ones together) into
// `labels`, `skipped` and where `samples(bytes)` points (the caller sizes its buffer); false, with
// `labels` and `skipped` emptied, when the file is missing, cut short, of another magic or shape,
// or of another count.
bool readSampleCache(const std::filesystem::path &file, const SampleCacheFormat &format, std::size_t files,
                     std::vector<int64_t> &labels, std::vector<std::string> &skipped,
                     const std::function<void *(std::size_t bytes)> &samples);

} // namespace particle
