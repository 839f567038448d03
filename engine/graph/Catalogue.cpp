#include "graph/Catalogue.h"

#include <algorithm>
#include <limits>

namespace particle {

int NodeType::outputs(const Json &effectiveParams) const {
  if (!hasOutput)
    return 0;
  return outputCount ? outputCount(effectiveParams) : 1;
}

Json paramsBeyondDefaults(const Node &node) {
  const NodeType *type = Catalogue::instance().find(node.type);
  Json out = Json::object();
  for (auto p = node.params.begin(); p != node.params.end(); ++p) {
    const Field *field = type ? type->param(p.key()) : nullptr;
    if (!p.value().is_null() && !(field && p.value() == field->defaultValue))
      out[p.key()] = p.value();
  }
  return out;
}

PortRef branchOrigin(const Graph &graph, PortRef source, const std::function<bool(const PortRef &up)> &mayStep) {
  for (int guard = 0; guard < 64; ++guard) {
    const Node *node = graph.find(source.node);
    const NodeType *type = node ? Catalogue::instance().find(node->type) : nullptr;
    if (!type || type->role == NodeRole::Decomposer || type->role == NodeRole::DataSource)
      break;
    const auto in = graph.incoming(source.node);
    if (in.size() != 1 || (mayStep && !mayStep(in.front()->from)))
      break;
    source = in.front()->from;
  }
  return source;
}

std::vector<std::string> Catalogue::categories() const {
  std::vector<std::string> out;
  for (const auto &t : entries())
    if (std::find(out.begin(), out.end(), t.category) == out.end())
      out.push_back(t.category);
  return out;
}

} // namespace particle
