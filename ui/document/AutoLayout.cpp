#include "document/AutoLayout.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace particle::ui {

std::map<std::string, std::array<double, 2>> layeredLayout(const Graph &g, const std::vector<std::string> &order) {
  std::map<std::string, int> layer;
  std::map<std::string, std::vector<std::pair<std::string, double>>> preds;
  for (const auto &e : g.edges) {
    const double port = e.from.isNumbered() ? e.from.index() : 0;
    preds[e.to.node].push_back({e.from.node, port});
  }
  std::vector<std::string> ordered(order.begin(), order.end());
  std::set<std::string> seen(order.begin(), order.end());
  for (const auto &n : g.nodes) // nodes in cycles come last
    if (!seen.count(n.id))
      ordered.push_back(n.id);
  for (const auto &id : ordered) {
    int l = 0;
    for (const auto &[p, port] : preds[id])
      if (layer.count(p))
        l = std::max(l, layer[p] + 1);
    layer[id] = l;
  }
  std::map<int, std::vector<std::string>> layers;
  for (const auto &id : ordered)
    layers[layer[id]].push_back(id);
  std::map<std::string, double> rank;
  std::map<std::string, std::array<double, 2>> out;
  for (auto &[l, ids] : layers) {
    std::vector<std::pair<double, std::string>> keyed;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      double sum = 0;
      int count = 0;
      for (const auto &[p, port] : preds[ids[i]])
        if (rank.count(p)) {
          sum += rank[p] + port * 1e-3;
          ++count;
        }
      keyed.emplace_back(count ? sum / count : static_cast<double>(i), ids[i]);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    const double top = -0.5 * (static_cast<double>(keyed.size()) - 1) * kLayoutRow;
    for (std::size_t i = 0; i < keyed.size(); ++i) {
      rank[keyed[i].second] = static_cast<double>(i);
      out[keyed[i].second] = {l * kLayoutColumn, std::round(top + static_cast<double>(i) * kLayoutRow)};
    }
  }
  return out;
}

bool placeUnpositioned(Graph &graph, const std::vector<std::string> &order) {
  double bottom = -std::numeric_limits<double>::infinity();
  bool missing = false;
  for (const auto &n : graph.nodes) {
    if (n.pos)
      bottom = std::max(bottom, (*n.pos)[1]);
    else
      missing = true;
  }
  if (!missing)
    return false;
  const auto layout = layeredLayout(graph, order);
  double top = std::numeric_limits<double>::infinity();
  for (const auto &n : graph.nodes)
    if (!n.pos)
      top = std::min(top, layout.at(n.id)[1]);
  // Below the positioned nodes, with a row to spare; where none has a position, as laid out.
  const double shift = std::isfinite(bottom) ? bottom + kLayoutRow - top : 0;
  for (auto &n : graph.nodes)
    if (!n.pos)
      n.pos = std::array<double, 2>{layout.at(n.id)[0], layout.at(n.id)[1] + shift};
  return true;
}

} // namespace particle::ui
