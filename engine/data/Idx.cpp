#include "data/Idx.h"

#include "base/Json.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <zlib.h>

namespace particle {

namespace {
// Owns a gzFile (gz or raw: zlib reads both).
class GzReader {
public:
  explicit GzReader(const std::string &path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      throw Error(ErrorKind::File, path + ": file not found");
    file_ = gzopen(path.c_str(), "rb");
    if (!file_)
      throw Error(ErrorKind::File, path + ": cannot open");
  }
  ~GzReader() {
    if (file_)
      gzclose(file_);
  }
  GzReader(const GzReader &) = delete;
  GzReader &operator=(const GzReader &) = delete;
  // Bytes read (fewer at the end of the file); throws on a read error.
  int64_t read(void *into, int64_t count) {
    const int got = gzread(file_, into, static_cast<unsigned>(count));
    if (got < 0)
      throw Error(ErrorKind::File, path_ + ": read error (corrupt compressed data?)");
    return got;
  }

private:
  std::string path_;
  gzFile file_ = nullptr;
};

std::vector<int64_t> header(GzReader &in, const std::string &path) {
  unsigned char magic[4];
  if (in.read(magic, 4) != 4 || magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4)
    throw Error(ErrorKind::File, path + ": not an unsigned-byte IDX file (bad or truncated header)");
  std::vector<int64_t> dims;
  for (int i = 0; i < magic[3]; ++i) {
    unsigned char b[4];
    if (in.read(b, 4) != 4)
      throw Error(ErrorKind::File, path + ": not an unsigned-byte IDX file (truncated header)");
    dims.push_back((int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | int64_t(b[3]));
  }
  return dims;
}

// The payload's size from the file alone: a raw file's size less the header, or a gzip file's
// uncompressed size (its trailer holds it modulo 2^32) less the header. -1 when unknown.
int64_t payloadSize(const std::string &path, std::size_t headerBytes, uint64_t &modulo) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return -1;
  const auto size = static_cast<int64_t>(in.tellg());
  unsigned char start[2] = {0, 0};
  in.seekg(0);
  in.read(reinterpret_cast<char *>(start), 2);
  if (start[0] == 0x1f && start[1] == 0x8b && size >= 18) {
    unsigned char trailer[4];
    in.seekg(size - 4);
    in.read(reinterpret_cast<char *>(trailer), 4);
    modulo = uint64_t{1} << 32;
    const uint64_t isize =
        trailer[0] | (uint32_t(trailer[1]) << 8) | (uint32_t(trailer[2]) << 16) | (uint32_t(trailer[3]) << 24);
    return static_cast<int64_t>((isize + modulo - headerBytes % modulo) % modulo);
  }
  modulo = 0;
  return size - static_cast<int64_t>(headerBytes);
}
} // namespace

std::vector<int64_t> readIdxDims(const std::string &path) {
  GzReader in(path);
  auto dims = header(in, path);
  // The header against the file, before anyone believes it (or allocates what it promises).
  int64_t total = 1;
  for (int64_t dim : dims) {
    if (dim != 0 && total > std::numeric_limits<int64_t>::max() / dim)
      throw Error(ErrorKind::File, path + ": the header's dimensions overflow (" + std::to_string(dim) + ")");
    total *= dim;
  }
  uint64_t modulo = 0;
  const int64_t payload = payloadSize(path, 4 + 4 * dims.size(), modulo);
  const bool fits = payload < 0 || (modulo ? static_cast<uint64_t>(total) % modulo == static_cast<uint64_t>(payload)
                                           : total == payload);
  if (!fits)
    throw Error(ErrorKind::File, path + ": the header promises " + std::to_string(total) +
                                     " bytes of data, the file holds " + std::to_string(payload) +
                                     (modulo ? " (uncompressed, modulo 2^32)" : "") + "; truncated or not IDX");
  return dims;
}

IdxData readIdx(const std::string &path, const std::atomic<bool> *stop) {
  GzReader in(path);
  IdxData d;
  d.dims = header(in, path);
  int64_t total = 1;
  for (int64_t dim : d.dims) {
    if (dim != 0 && total > std::numeric_limits<int64_t>::max() / dim)
      throw Error(ErrorKind::File, path + ": the header's dimensions overflow (" + std::to_string(dim) + ")");
    total *= dim;
  }
  constexpr int64_t kPiece = int64_t{1} << 22;
  int64_t done = 0;
  while (done < total) {
    if (stop && stop->load())
      return IdxData{d.dims, {}};
    const int64_t want = std::min(total - done, kPiece);
    d.bytes.resize(static_cast<std::size_t>(done + want));
    const int64_t got = in.read(d.bytes.data() + done, want);
    done += got;
    if (got < want)
      break;
  }
  if (done != total)
    throw Error(ErrorKind::File, path + ": truncated: the header promises " + std::to_string(total) +
                                     " bytes of data, the file has " + std::to_string(done));
  return d;
}

} // namespace particle
