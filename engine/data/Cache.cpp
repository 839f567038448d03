#include "data/Cache.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace particle {

uint64_t fnv(uint64_t h, const void *data, std::size_t size) {
  const auto *p = static_cast<const unsigned char *>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

std::string hex16(uint64_t h) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::vector<std::filesystem::path> cacheFolders(const std::string &root, const std::string &sub) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out{fs::path(root) / ".particle-cache"};
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    out.push_back(fs::path(xdg) / "particle-studio" / sub);
  else if (const char *home = std::getenv("HOME"); home && *home)
    out.push_back(fs::path(home) / ".cache" / "particle-studio" / sub);
  return out;
}

std::string fileStamp(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return path + ":missing";
  return path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

namespace {

template <typename T> void put(std::ofstream &out, const T &v) {
  out.write(reinterpret_cast<const char *>(&v), sizeof v);
}
template <typename T> bool get(std::ifstream &in, T &v) {
  return static_cast<bool>(in.read(reinterpret_cast<char *>(&v), sizeof v));
}

std::size_t sampleBytes(const SampleCacheFormat &format) {
  std::size_t bytes = format.elementSize;
  for (int64_t d : format.shape)
    bytes *= static_cast<std::size_t>(d);
  return bytes;
}

bool readSamples(std::ifstream &in, const SampleCacheFormat &format, std::size_t files, std::vector<int64_t> &labels,
                 std::vector<std::string> &skipped, const std::function<void *(std::size_t bytes)> &samples) {
  char magic[8];
  if (!in || !in.read(magic, sizeof magic) || std::memcmp(magic, format.magic, sizeof magic) != 0)
    return false;
  int64_t count = 0, skippedCount = 0;
  if (!get(in, count))
    return false;
  for (int64_t expected : format.shape) {
    int64_t d = 0;
    if (!get(in, d) || d != expected)
      return false;
  }
  if (!get(in, skippedCount) || count < 0 || skippedCount < 0 ||
      static_cast<std::size_t>(count + skippedCount) != files)
    return false;
  labels.resize(static_cast<std::size_t>(count));
  if (!in.read(reinterpret_cast<char *>(labels.data()), static_cast<std::streamsize>(count * 8)))
    return false;
  for (int64_t i = 0; i < skippedCount; ++i) {
    uint32_t len = 0;
    if (!get(in, len) || len > 65536)
      return false;
    std::string name(len, '\0');
    if (!in.read(name.data(), len))
      return false;
    skipped.push_back(std::move(name));
  }
  const std::size_t bytes = static_cast<std::size_t>(count) * sampleBytes(format);
  return static_cast<bool>(in.read(static_cast<char *>(samples(bytes)), static_cast<std::streamsize>(bytes)));
}

} // namespace

bool writeSampleCache(const std::filesystem::path &file, const SampleCacheFormat &format,
                      const std::vector<int64_t> &labels, const std::vector<std::string> &skipped,
                      const void *samples) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = file.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return false;
    out.write(format.magic, sizeof format.magic);
    const auto count = static_cast<int64_t>(labels.size());
    put(out, count);
    for (int64_t d : format.shape)
      put(out, d);
    put(out, static_cast<int64_t>(skipped.size()));
    out.write(reinterpret_cast<const char *>(labels.data()), static_cast<std::streamsize>(count * 8));
    for (const auto &s : skipped) {
      put(out, static_cast<uint32_t>(s.size()));
      out.write(s.data(), static_cast<std::streamsize>(s.size()));
    }
    out.write(static_cast<const char *>(samples),
              static_cast<std::streamsize>(static_cast<std::size_t>(count) * sampleBytes(format)));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return false;
  }
  return true;
}

bool readSampleCache(const std::filesystem::path &file, const SampleCacheFormat &format, std::size_t files,
                     std::vector<int64_t> &labels, std::vector<std::string> &skipped,
                     const std::function<void *(std::size_t bytes)> &samples) {
  labels.clear();
  skipped.clear();
  std::ifstream in(file, std::ios::binary);
  if (readSamples(in, format, files, labels, skipped, samples))
    return true;
  // Nothing half-read stays behind for the decoding that follows.
  labels.clear();
  skipped.clear();
  return false;
}

} // namespace particle
