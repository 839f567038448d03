#include "project/Checkpoint.h"

#include "base/JsonFields.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace particle {

namespace {
// Format 2: "PARTICLE-CHECKPOINT 2 <crc32 of the header line and the payload, 8 hex digits>\n".
// Format 1 (read only): "PARTICLE-CHECKPOINT 1\n", the CRC over the payload alone.
constexpr const char *kMagicPrefix = "PARTICLE-CHECKPOINT ";
constexpr int kFileFormat = 2;
// A header line longer than this is not ours.
constexpr std::size_t kMaxHeader = 1 << 20;
} // namespace

void writeCheckpointFile(const std::string &path, const Json &meta, const std::string &payload) {
  Json header = meta;
  header["payload_bytes"] = payload.size();
  const std::string rest = header.dump() + "\n" + payload;
  writeFileAtomically(path, kMagicPrefix + std::to_string(kFileFormat) + " " + crc32Hex(rest) + "\n" + rest);
}

CheckpointFile readCheckpointFile(const std::string &path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(ErrorKind::File, path + ": checkpoint not found");
  const std::string bytes = readTextFile(path);
  const std::string prefix = kMagicPrefix;
  const std::size_t magicEnd = bytes.find('\n');
  if (bytes.compare(0, prefix.size(), prefix) != 0 || magicEnd == std::string::npos || magicEnd > 64)
    throw Error(ErrorKind::File, path + ": not a Particle Studio checkpoint (no checkpoint header)");
  const std::string magic = bytes.substr(prefix.size(), magicEnd - prefix.size()); // "1" or "2 <crc>"
  int fileFormat = 0;
  std::string crcText;
  if (magic == "1") {
    fileFormat = 1;
  } else if (magic.size() == 10 && magic.compare(0, 2, "2 ") == 0 &&
             magic.find_first_not_of("0123456789abcdef", 2) == std::string::npos) {
    fileFormat = 2;
    crcText = magic.substr(2);
  } else if (!magic.empty() && std::isdigit(static_cast<unsigned char>(magic[0])) &&
             std::atoi(magic.c_str()) > kFileFormat) {
    throw Error(ErrorKind::File, path + ": written by a newer Particle Studio (checkpoint file format " +
                                     magic.substr(0, magic.find(' ')) + "; this version reads formats 1 and 2)");
  } else {
    throw Error(ErrorKind::File, path + ": damaged checkpoint (unreadable first line)");
  }
  const std::size_t headerStart = magicEnd + 1;
  const std::size_t end = bytes.find('\n', headerStart);
  if (end == std::string::npos || end - headerStart > kMaxHeader)
    throw Error(ErrorKind::File, path + ": damaged checkpoint (the header is cut off)");
  CheckpointFile f;
  try {
    f.meta = Json::parse(bytes.substr(headerStart, end - headerStart));
  } catch (const std::exception &) {
    throw Error(ErrorKind::File, path + ": damaged checkpoint (unreadable header)");
  }
  const JsonFields h(f.meta, path, "header");
  const auto size = static_cast<uint64_t>(h.integer("payload_bytes", std::nullopt, 0));
  if (bytes.size() - end - 1 != size)
    throw Error(ErrorKind::File, path + ": damaged checkpoint: the file is " + std::to_string(bytes.size()) +
                                     " bytes, its header says " + std::to_string(end + 1 + size) +
                                     " (truncated or extended)");
  f.payload = bytes.substr(end + 1);
  if (fileFormat == 2 && crc32Hex(bytes, headerStart) != crcText)
    throw Error(ErrorKind::File, path + ": damaged checkpoint (checksum mismatch): the header or the weights changed "
                                        "since it was written");
  if (fileFormat == 1 &&
      crc32Of(f.payload) != static_cast<uint32_t>(h.integer("payload_crc32", std::nullopt, 0, UINT32_MAX)))
    throw Error(ErrorKind::File, path + ": damaged checkpoint (checksum mismatch)");
  if (h.string("format") != "particle-studio-checkpoint")
    throw Error(ErrorKind::File,
                path + ": not a Particle Studio checkpoint (header.format is \"" + h.string("format") + "\")");
  f.version = static_cast<int>(h.integer("version", std::nullopt, 1, 1 << 20));
  if (f.version > kCheckpointVersion)
    throw Error(ErrorKind::File, path + ": written by a newer Particle Studio (checkpoint version " +
                                     std::to_string(f.version) + "; this version reads " +
                                     std::to_string(kCheckpointVersion) + ")");
  f.graphHash = h.string("graph_hash");
  f.epoch = static_cast<int>(h.integer("epoch", std::nullopt, 0, 1 << 30));
  f.step = h.integer("step", std::nullopt, 0);
  f.targetEpochs = static_cast<int>(h.integer("target_epochs", 0, 0, 1 << 30));
  f.earlyStopped = h.boolean("early_stopped", false);
  if (h.has("lr") && !(h.number("lr") >= 0 && h.number("lr") <= 1e9))
    h.fail("lr", "is out of range");
  return f;
}

} // namespace particle
