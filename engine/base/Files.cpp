#include "base/Files.h"

#include "base/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <zlib.h>

namespace particle {

std::string readTextFile(const std::string &path) {
  // A device or a pipe (/dev/zero, a FIFO) has no end to read to: only regular files are read.
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw Error(ErrorKind::File, path + ": not a regular file (a folder, a device or a pipe)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorKind::File, path + ": cannot open file for reading");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad())
    throw Error(ErrorKind::File, path + ": read error");
  return out.str();
}

namespace {
// Writes everything or fails with errno set.
bool writeAll(int fd, const char *data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}
} // namespace

void writeFileAtomically(const std::string &path, const std::string &contents) {
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(ErrorKind::File, path + ": cannot write (" + std::strerror(errno) + ")");
  // Data reaches the disk before the rename makes it the file: a crash leaves old or new, never half.
  const bool ok = writeAll(fd, contents.data(), contents.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    std::remove(temp.c_str());
    throw Error(ErrorKind::File, path + ": write failed (" + std::strerror(saved) + "); the previous file is kept");
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(temp.c_str());
    throw Error(ErrorKind::File, path + ": cannot replace the file (" + std::strerror(err) + ")");
  }
  // The rename itself is durable once the folder is synced.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty())
    dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

uint32_t crc32Of(const std::string &bytes, std::size_t from) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes a 32-bit length: larger inputs go in pieces.
  for (std::size_t done = from; done < bytes.size();) {
    const auto piece = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef *>(bytes.data() + done), piece);
    done += piece;
  }
  return static_cast<uint32_t>(crc);
}

std::string crc32Hex(const std::string &bytes, std::size_t from) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", crc32Of(bytes, from));
  return text;
}

} // namespace particle
