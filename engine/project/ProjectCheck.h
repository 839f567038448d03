#pragma once
// Checking a whole project: its "dataset" and "training" sections, the data set's probe, the
// graph's checks (graph/Validator.h) against the data found, and what the data and the training
// settings say about that graph — the Classifier's classes, rare classes, parts of a text that are
// only padding, the memory training needs on this machine.

#include "graph/Validator.h"
#include "project/Project.h"

#include <cstdint>
#include <string>

namespace particle {

// `data` skips probing the data set (the editor passes what it probed once).
Validation validate(const Project &project, const DataInfo *data = nullptr);

// The file and the node a node's init names: the file resolved against the project's folder, and
// the node in it (in a run, the node of the same id when init.node is empty; empty for a particle
// file of one node).
struct InitSource {
  std::string path, node;
};
InitSource initSource(const NodeInit &init, const std::string &nodeId, const std::string &baseDir);

// The memory training may use on this machine, in bytes: $PARTICLE_MEMORY_BYTES when set, else
// the physical memory. `available` (MemAvailable) is what is free now (the physical memory when
// unknown).
int64_t machineMemoryBytes();
int64_t availableMemoryBytes();
// "3.6 TiB", "512 MiB".
std::string memoryText(int64_t bytes);
// FLOPs with an SI prefix and three digits: "1.24 M", "380 k", "912".
std::string flopsText(double flops);
// The forward FLOPs of one sample as `particle check` and the canvas show them: "1.24 M", or why
// they are unknown ("not counted: node \"enc\" is a TorchScript module"); empty with errors.
std::string flopsSummary(const Graph &graph, const Validation &validation);
// What the estimate is made of: "weights 4 GiB, gradients 4 GiB, optimizer state 8 GiB, …".
std::string memoryBreakdown(const Validation::Memory &memory);

} // namespace particle
