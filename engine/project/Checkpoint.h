#pragma once
// Checkpoint files: a magic line with a CRC-32, a one-line JSON header (format, version, graph
// hash, epoch, …, payload size), then the LibTorch archive. The CRC covers the header and the
// payload, and every header field is type-checked, so a truncated, damaged or edited file is
// refused with a message naming it before LibTorch parses anything; a checkpoint written by a
// newer version is refused. Writes go to memory first, then through an fsync'd temporary file
// renamed into place, so a full disk leaves the previous checkpoint. Beyond these checks a
// checkpoint is trusted input: LibTorch's parser reads the payload.

#include "base/Json.h"
#include "graph/Graph.h"

#include <cstdint>
#include <string>

namespace particle {

// The newest checkpoint content version this program reads and writes.
constexpr int kCheckpointVersion = 1;

struct CheckpointFile {
  Json meta;           // the header as written: format, version, graph_hash, epoch, …
  std::string payload; // the LibTorch archive bytes
  // The header's fields, checked.
  std::string graphHash;
  int version = 0;
  int epoch = 0;             // epochs done
  int64_t step = 0;          // optimizer steps done
  int targetEpochs = 0;      // the epochs the run was set to train (0: not recorded)
  bool earlyStopped = false; // the run ended by early stopping after `epoch`
};

// Throws Error(File) naming the path (the previous file is untouched on failure).
void writeCheckpointFile(const std::string &path, const Json &meta, const std::string &payload);
// Throws Error(File) naming the path when the file is missing, not a checkpoint, truncated or
// damaged (size or checksum mismatch), a header field is missing or of the wrong type, or it was
// written by a newer version.
CheckpointFile readCheckpointFile(const std::string &path);

// Whether a checkpoint whose header holds `hash` was trained on `graph`: its graphHash, or the hash
// as computed before params written with their default value were left out of it (2026-12-05), so
// the older checkpoints of a graph that spells a default out still fit it.
bool checkpointFitsGraph(const std::string &hash, const Graph &graph);

} // namespace particle
