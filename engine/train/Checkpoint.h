#pragma once
// Checkpoint files: a small header (format, graph hash, payload size and CRC-32) followed by the
// LibTorch archive. The header is verified before LibTorch parses anything, so a truncated or
// damaged file is refused with a clear message; writes go to memory first, then through an
// fsync'd temporary file renamed into place, so a full disk leaves the previous checkpoint.
// Beyond that check a checkpoint is trusted input: LibTorch's parser reads the payload.

#include "graph/Json.h"

#include <string>

namespace particle {

struct CheckpointFile {
  Json meta;           // what the header carries: format, version, graph_hash, …
  std::string payload; // the LibTorch archive bytes
};

// Throws Error(File) naming the path (the previous file is untouched on failure).
void writeCheckpointFile(const std::string &path, const Json &meta, const std::string &payload);
// Throws Error(File) naming the path when the file is missing, not a checkpoint, truncated or
// damaged (size or checksum mismatch).
CheckpointFile readCheckpointFile(const std::string &path);

} // namespace particle
