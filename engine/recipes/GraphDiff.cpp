#include "recipes/GraphDiff.h"

#include "graph/Catalogue.h"

#include <map>
#include <set>

namespace particle {

std::vector<std::string> diffGraphs(const Graph &then, const Graph &now) {
  std::vector<std::string> diffs;
  std::map<std::string, const Node *> current;
  for (const auto &m : now.nodes)
    current[m.id] = &m;
  std::set<std::string> before;
  for (const auto &n : then.nodes) {
    before.insert(n.id);
    auto it = current.find(n.id);
    if (it == current.end()) {
      diffs.push_back(n.id + " removed");
      continue;
    }
    const Node &m = *it->second;
    if (m.type != n.type)
      diffs.push_back(n.id + ": type " + n.type + " → " + m.type);
    // A param written with its default value is no change from one left out.
    const Json paramsThen = paramsBeyondDefaults(n), paramsNow = paramsBeyondDefaults(m);
    for (auto p = paramsNow.begin(); p != paramsNow.end(); ++p)
      if (!paramsThen.contains(p.key()) || paramsThen[p.key()] != p.value())
        diffs.push_back(n.id + "." + p.key() + ": " +
                        (paramsThen.contains(p.key()) ? paramsThen[p.key()].dump() : "default") + " → " +
                        p.value().dump());
    for (auto p = paramsThen.begin(); p != paramsThen.end(); ++p)
      if (!paramsNow.contains(p.key()))
        diffs.push_back(n.id + "." + p.key() + ": " + p.value().dump() + " → default");
    if (m.share != n.share)
      diffs.push_back(n.id + ": share group \"" + n.share + "\" → \"" + m.share + "\"");
    if (m.shareScope != n.shareScope)
      diffs.push_back(n.id + ": share scope \"" + n.shareScope + "\" → \"" + m.shareScope + "\"");
    // (init is left out: a run's project copy names its source by an absolute path.)
    if (m.freeze != n.freeze)
      diffs.push_back(n.id + (m.freeze ? ": frozen" : ": no longer frozen"));
    auto adapterText = [](const Node &x) {
      return x.adapter ? x.adapter->kind + " rank " + std::to_string(x.adapter->rank) : std::string("no adapter");
    };
    if (m.adapter != n.adapter)
      diffs.push_back(n.id + ": " + adapterText(n) + " → " + adapterText(m));
  }
  for (const auto &m : now.nodes)
    if (!before.count(m.id))
      diffs.push_back(m.id + " added");
  std::multiset<std::string> edgesThen, edgesNow;
  for (const auto &e : then.edges)
    edgesThen.insert(e.from.toString() + " → " + e.to.toString());
  for (const auto &e : now.edges)
    edgesNow.insert(e.from.toString() + " → " + e.to.toString());
  for (const auto &e : edgesThen)
    if (!edgesNow.count(e))
      diffs.push_back("edge " + e + " removed");
  for (const auto &e : edgesNow)
    if (!edgesThen.count(e))
      diffs.push_back("edge " + e + " added");
  return diffs;
}

} // namespace particle
