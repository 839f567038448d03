#include "data/Cache.h"

#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>

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

} // namespace particle
