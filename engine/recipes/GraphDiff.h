#pragma once
// What changed between two graphs, as sentences ("p0.out: 64 → 96", "p2 removed"): the Train
// tab's run history shows it against the current graph.

#include "graph/Graph.h"

#include <string>
#include <vector>

namespace particle {

std::vector<std::string> diffGraphs(const Graph &then, const Graph &now);

} // namespace particle
