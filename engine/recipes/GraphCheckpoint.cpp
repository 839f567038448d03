#include "recipes/GraphCheckpoint.h"

#include "project/Project.h"
#include "project/Checkpoint.h"

#include <filesystem>

namespace particle {

CheckpointFit checkpointFit(const std::string &checkpoint, const Graph &graph) {
  CheckpointFit fit;
  try {
    fit.meta = readCheckpointFile(checkpoint).meta;
    fit.status = checkpointFitsGraph(fit.meta.value("graph_hash", ""), graph) ? CheckpointFit::Status::Fits
                                                                              : CheckpointFit::Status::OtherGraph;
  } catch (const std::exception &e) {
    fit.problem = e.what();
  }
  return fit;
}

std::optional<std::string> newestCheckpointOf(const Graph &graph, const std::vector<std::string> &runs) {
  for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
    const std::string checkpoint = *run + "/checkpoint.pt";
    std::error_code ec;
    if (std::filesystem::exists(checkpoint, ec) && checkpointFit(checkpoint, graph).fits())
      return checkpoint;
  }
  return std::nullopt;
}

} // namespace particle
