#pragma once
// A project file (*.particle.json, format version 1): the graph, the dataset and the training
// settings, plus free-form "ui" view state that is kept verbatim.

#include "graph/Graph.h"
#include "base/Json.h"

#include <string>

namespace particle {

constexpr int kFormatVersion = 1;

struct Project {
  std::string name = "untitled";
  Json dataset = Json::object();
  Json training = Json::object();
  Json ui; // null when the file has none
  Graph graph;
  std::string path; // where it was loaded from / saved to; empty for a new project

  // Folder that relative dataset paths resolve against.
  std::string baseDir() const;
};

// Throws Error: File for unreadable files and malformed JSON (with line and column), Invalid for
// a structurally wrong document (unknown key, wrong type, newer version), naming the JSON path.
// Graph-level problems (unknown node type, bad params, cycles…) are left to validate().
Project loadProject(const std::string &path);
Project projectFromJson(const Json &doc, const std::string &fileName);
Project projectFromText(const std::string &text, const std::string &fileName);

// Canonical text: top-level keys one per line, one node and one edge per line.
std::string projectToText(const Project &project);
Json projectToJson(const Project &project);
// Atomic (temp file + rename).
void saveProject(const Project &project, const std::string &path);

// Stable hash of what determines the model (node types, params, shares, edges), not positions
// or names: checkpoints refuse to load into a different graph.
std::string graphHash(const Graph &graph);

} // namespace particle
