#include "graph/Sharing.h"

namespace particle {

int64_t SharePlan::ownParameters(const std::string &id, int64_t parameters, int64_t trunkParameters) const {
  const NodeSharing &s = of(id);
  if (s.module != id)
    return 0;
  return s.trunk.empty() ? parameters : parameters - trunkParameters;
}

SharePlan planSharing(const Graph &graph, const std::vector<std::string> &order) {
  SharePlan plan;
  std::map<std::string, const Node *> byId;
  for (const auto &n : graph.nodes) {
    byId.emplace(n.id, &n);
    if (!n.share.empty())
      plan.groups[n.share].push_back(n.id);
  }
  std::map<std::string, std::string> first; // share group → its first member in `order`
  for (const auto &id : order) {
    NodeSharing &s = plan.nodes[id];
    s.module = id;
    const auto found = byId.find(id);
    const Node *n = found == byId.end() ? nullptr : found->second;
    if (!n || n->share.empty())
      continue;
    auto [it, isFirst] = first.emplace(n->share, id);
    if (isFirst)
      continue;
    if (n->shareScope == "trunk")
      s.trunk = it->second;
    else
      s.module = it->second;
  }
  return plan;
}

} // namespace particle
