#pragma once
// A layered left-to-right layout of a graph: layer = longest path from a source, order within a
// layer by the mean order of the predecessors (which keeps branch order from a Split's ports).

#include "graph/Graph.h"

#include <map>
#include <string>
#include <vector>

namespace particle::ui {

inline constexpr double kLayoutColumn = 250, kLayoutRow = 120;

// Positions for every node. `order` is a topological order (nodes in cycles may be missing).
std::map<std::string, std::array<double, 2>> layeredLayout(const Graph &graph, const std::vector<std::string> &order);

// Gives every node without a position one: a layered layout of the whole graph, put below the
// nodes that have positions. Returns whether it placed any.
bool placeUnpositioned(Graph &graph, const std::vector<std::string> &order);

} // namespace particle::ui
