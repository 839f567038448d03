#include "train/Checkpoint.h"

#include <filesystem>
#include <zlib.h>

namespace particle {

namespace {
constexpr const char *kMagic = "PARTICLE-CHECKPOINT 1\n";
// A header line longer than this is not ours.
constexpr std::size_t kMaxHeader = 1 << 20;

uint32_t crcOf(const std::string &bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto piece = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef *>(bytes.data() + done), piece);
    done += piece;
  }
  return static_cast<uint32_t>(crc);
}
} // namespace

void writeCheckpointFile(const std::string &path, const Json &meta, const std::string &payload) {
  Json header = meta;
  header["payload_bytes"] = payload.size();
  header["payload_crc32"] = crcOf(payload);
  writeFileAtomically(path, std::string(kMagic) + header.dump() + "\n" + payload);
}

CheckpointFile readCheckpointFile(const std::string &path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(ErrorKind::File, path + ": checkpoint not found");
  const std::string bytes = readTextFile(path);
  const std::string magic = kMagic;
  if (bytes.compare(0, magic.size(), magic) != 0)
    throw Error(ErrorKind::File, path + ": not a Particle Studio checkpoint (no checkpoint header)");
  const std::size_t end = bytes.find('\n', magic.size());
  if (end == std::string::npos || end - magic.size() > kMaxHeader)
    throw Error(ErrorKind::File, path + ": damaged checkpoint (the header is cut off)");
  CheckpointFile f;
  try {
    f.meta = Json::parse(bytes.substr(magic.size(), end - magic.size()));
  } catch (const std::exception &) {
    throw Error(ErrorKind::File, path + ": damaged checkpoint (unreadable header)");
  }
  if (!f.meta.is_object() || !f.meta.contains("payload_bytes") || !f.meta["payload_bytes"].is_number_unsigned() ||
      !f.meta.contains("payload_crc32") || !f.meta["payload_crc32"].is_number_unsigned())
    throw Error(ErrorKind::File, path + ": damaged checkpoint (incomplete header)");
  const auto size = f.meta["payload_bytes"].get<uint64_t>();
  if (bytes.size() - end - 1 != size)
    throw Error(ErrorKind::File, path + ": damaged checkpoint: the file is " + std::to_string(bytes.size()) +
                                     " bytes, its header says " + std::to_string(end + 1 + size) +
                                     " (truncated or extended)");
  f.payload = bytes.substr(end + 1);
  if (crcOf(f.payload) != f.meta["payload_crc32"].get<uint32_t>())
    throw Error(ErrorKind::File, path + ": damaged checkpoint (checksum mismatch)");
  return f;
}

} // namespace particle
