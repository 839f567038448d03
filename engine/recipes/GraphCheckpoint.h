#pragma once
// Which checkpoint goes with a graph, one rule for the Train tab (the run history, continuing a
// search variant's trial), the export and the Explain tab: a checkpoint fits only the graph it
// was trained on (the graph hash in its header). Torch-free.

#include "graph/Graph.h"

#include <optional>
#include <string>
#include <vector>

namespace particle {

struct CheckpointFit {
  enum class Status { Fits, OtherGraph, Unreadable };
  Status status = Status::Unreadable;
  std::string problem; // why it cannot be read (the file's error), empty otherwise
  Json meta;           // the checkpoint's header, when it could be read
  bool fits() const { return status == Status::Fits; }
};

// Whether `checkpoint` was trained on `graph`.
CheckpointFit checkpointFit(const std::string &checkpoint, const Graph &graph);

// The checkpoint of the newest of `runs` (run folders, oldest first) that trained `graph` and kept
// one; nothing when none did.
std::optional<std::string> newestCheckpointOf(const Graph &graph, const std::vector<std::string> &runs);

} // namespace particle
