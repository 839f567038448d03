#pragma once
// Who shares what with whom. A share group's module is built once, by the group's first member in
// the order the nodes run; with share_scope "trunk" every later member builds its own last layer
// over that member's trunk. The model builder, the PyTorch export and validation's parameter
// counts read this one plan, so what is counted is what is built and what is exported.

#include "graph/Graph.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace particle {

// How one node comes by its module.
struct NodeSharing {
  std::string module; // the node whose module it runs: itself, or its group's first member (scope "all")
  std::string trunk;  // scope "trunk", a later member: the node whose trunk its own module uses
};

struct SharePlan {
  // Every share group of the graph by name, with all its members in file order (built or not).
  std::map<std::string, std::vector<std::string>> groups;
  // Every node of the order the plan was made for.
  std::map<std::string, NodeSharing> nodes;

  const NodeSharing &of(const std::string &id) const { return nodes.at(id); }
  // What node `id` adds to the parameters that are trained: all of its `parameters` when it builds
  // a module of its own, all but the trunk's when it uses another member's trunk, none when it
  // runs another member's module.
  int64_t ownParameters(const std::string &id, int64_t parameters, int64_t trunkParameters) const;
};

// The plan for the nodes of `order` (the order they are built and run in; nodes left out are
// neither built nor shared with).
SharePlan planSharing(const Graph &graph, const std::vector<std::string> &order);

} // namespace particle
