#pragma once
// What the data caches share (decoded images, SentencePiece models and token ids): where a cache
// file may live and the hash that names it. Torch-free.

#include <cstdint>
#include <filesystem>
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

} // namespace particle
