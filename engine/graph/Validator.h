#pragma once
// Validation and shape inference: every problem at once, each naming the node (and param or
// edge) with a sentence the user can act on; per-node shapes and parameter counts.

#include "graph/Catalogue.h"
#include "graph/Project.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace particle {

struct Problem {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  ErrorKind kind = ErrorKind::Invalid; // File when data files are missing or unreadable
  std::string node;                    // empty for project-level problems
  std::string param;                   // the param (or "dataset.x", "training.x") when relevant
  int edge = -1;                       // index into graph.edges when relevant
  std::string message;

  // "FILE: node 'ID': message" (DESIGN.md §6); without a file, "node 'ID': message".
  std::string format(const std::string &file) const;
};

struct NodeInfo {
  Json params;                // effective params (defaults filled in)
  std::vector<Shape> inputs;  // numbered inputs in port order
  std::optional<Shape> gate;  // Combine's gate input
  std::vector<Shape> outputs; // empty when unknown
  int64_t parameters = 0;
  int64_t trunkParameters = 0;
  int64_t trunkWidth = 0; // sub-models: input width of their last layer
  bool shapesKnown = false;
  bool ok = true; // no error names this node
};

struct Validation {
  std::vector<Problem> problems;
  std::map<std::string, NodeInfo> nodes;
  std::vector<std::string> order; // topological order of the acyclic part
  DataInfo data;
  bool dataKnown = false;
  int64_t totalParameters = 0;  // as if nothing were shared
  int64_t uniqueParameters = 0; // what is trained

  bool ok() const; // no errors (warnings allowed)
  int errorCount() const;
  // 3 when any error is about files/data, else 1; 0 when ok.
  int exitCode() const;
  const NodeInfo *info(const std::string &id) const;
};

// `data` skips probing the dataset (the editor passes what it probed once).
Validation validate(const Project &project, const DataInfo *data = nullptr);

// Which node owns the module of `nodeId` under sharing (itself unless it is a later member of
// a share group, then the group's first member in file order).
std::string shareOwner(const Graph &graph, const std::string &nodeId);

} // namespace particle
