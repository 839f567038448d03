#pragma once
// Saving a trained particle: one node of a run, or a selected sub-graph with one way in and one
// way out, with its weights, its shapes and where it came from, as a particle file
// (project/PartFile.h) that `particle part save`, the editor's "Save as particle…" and the Library
// panel share.

#include "graph/Validator.h"
#include "project/PartFile.h"
#include "project/Project.h"

#include <string>
#include <vector>

namespace particle {

// Saves nodes `nodeIds` of `project` with the weights of `checkpoint` (a run folder or its
// checkpoint.pt, trained on this graph) as the particle file `out`, and returns its header. The
// nodes must form one sub-graph entered by exactly one edge (into a numbered port) and left from
// exactly one output; init and freeze are left behind (the part carries its weights), a share
// group is kept only when two of its members come along. Provenance: the project, the data set
// and its classes, the run folder, its test accuracy (summary.json), the date and this version.
// `validated`: the project's validation when the caller has one. Throws Error naming the node or
// the edge that is in the way, or the file that could not be read or written.
PartInfo savePart(const Project &project, const std::string &checkpoint, const std::vector<std::string> &nodeIds,
                  const std::string &out, const Validation *validated = nullptr);
PartInfo savePart(const std::string &projectFile, const std::string &checkpoint,
                  const std::vector<std::string> &nodeIds, const std::string &out);

} // namespace particle
