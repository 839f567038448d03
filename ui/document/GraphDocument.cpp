#include "document/GraphDocument.h"

#include "data/DatasetSpec.h"

#include <map>

namespace particle::ui {

namespace {
// Node as JSON without its position (to tell a move from a change).
Json nodeCore(const Node &n) {
  return Json{{"type", n.type}, {"params", n.params}, {"share", n.share}, {"scope", n.shareScope}};
}
} // namespace

GraphDocument::GraphDocument(QObject *parent) : QObject(parent) {
  revalidate();
}

void GraphDocument::reset(Project project) {
  project_ = std::move(project);
  revalidate();
  Q_EMIT modelReset();
  Q_EMIT validated();
}

void GraphDocument::setFilePath(const QString &path) {
  project_.path = path.toStdString();
}

std::string graphSnapshot(const Graph &graph) {
  Project bare;
  bare.graph = graph;
  const Json doc = projectToJson(bare);
  return Json{{"nodes", doc["nodes"]}, {"edges", doc["edges"]}}.dump();
}

void GraphDocument::applyGraphSnapshot(const std::string &snapshot) {
  Json doc = Json::parse(snapshot);
  doc["format"] = "particle-studio";
  doc["version"] = kFormatVersion;
  applyGraph(projectFromJson(doc, "snapshot").graph);
}

void GraphDocument::applyGraph(const Graph &next) {
  const Graph before = project_.graph;
  project_.graph = next;
  std::map<std::string, const Node *> old;
  for (const auto &n : before.nodes)
    old[n.id] = &n;
  std::vector<QString> added, changed, moved, removed;
  for (const auto &n : next.nodes) {
    auto it = old.find(n.id);
    if (it == old.end()) {
      added.push_back(QString::fromStdString(n.id));
      continue;
    }
    if (nodeCore(*it->second) != nodeCore(n))
      changed.push_back(QString::fromStdString(n.id));
    if (it->second->pos != n.pos)
      moved.push_back(QString::fromStdString(n.id));
    old.erase(it);
  }
  for (const auto &[id, node] : old)
    removed.push_back(QString::fromStdString(id));
  bool edges = before.edges.size() != next.edges.size();
  for (std::size_t i = 0; !edges && i < next.edges.size(); ++i)
    edges = !(before.edges[i].from == next.edges[i].from && before.edges[i].to == next.edges[i].to);

  revalidate();
  for (const auto &id : removed)
    Q_EMIT nodeRemoved(id);
  for (const auto &id : added)
    Q_EMIT nodeAdded(id);
  for (const auto &id : changed)
    Q_EMIT nodeChanged(id);
  for (const auto &id : moved)
    Q_EMIT nodeMoved(id);
  if (edges || !removed.empty())
    Q_EMIT edgesChanged();
  Q_EMIT validated();
}

Validation GraphDocument::trial(const std::function<void(Graph &)> &edit) const {
  Project copy = project_;
  edit(copy.graph);
  return validate(copy, dataInfo());
}

void GraphDocument::probeData() {
  const std::string section = project_.dataset.dump() + "@" + project_.baseDir();
  if (section == probedDataset_)
    return;
  probedDataset_ = section;
  dataKnown_ = false;
  try {
    data_ = probeDataset(parseDatasetSpec(project_.dataset, project_.baseDir()));
    dataKnown_ = true;
  } catch (const Error &) {
    // validate() without cached data reports the problem with its message.
  }
}

void GraphDocument::revalidate() {
  probeData();
  validation_ = validate(project_, dataInfo());
}

} // namespace particle::ui
