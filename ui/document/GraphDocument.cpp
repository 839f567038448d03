#include "document/GraphDocument.h"

#include "data/DatasetSpec.h"
#include "document/AutoLayout.h"
#include "graph/Catalogue.h"
#include "project/ProjectPaths.h"

#include <QDir>

#include <map>

namespace particle::ui {

namespace {
// Node without its position (to tell a move from a change).
bool sameCore(const Node &a, const Node &b) {
  return a.type == b.type && a.params == b.params && a.share == b.share && a.shareScope == b.shareScope;
}
} // namespace

std::string graphSnapshot(const Graph &graph) {
  Project bare;
  bare.graph = graph;
  const Json doc = projectToJson(bare);
  return Json{{"nodes", doc["nodes"]}, {"edges", doc["edges"]}}.dump();
}

Graph graphFromSnapshot(const std::string &snapshot) {
  Json doc = Json::parse(snapshot);
  doc["format"] = "particle-studio";
  doc["version"] = kFormatVersion;
  return projectFromJson(doc, "snapshot").graph;
}

GraphDocument::GraphDocument(QObject *parent) : QObject(parent) {
  revalidate();
}

void GraphDocument::saveCopyTo(const QString &file) const {
  saveProject(projectWithAbsolutePaths(project_), file.toStdString());
}

void GraphDocument::reset(Project project, bool asTemplate) {
  project_ = std::move(project);
  template_ = asTemplate;
  startCheckpoint_.clear();
  revalidate();
  placeUnpositioned(project_.graph, validation_.order);
  Q_EMIT modelReset();
  Q_EMIT validated();
}

Project GraphDocument::projectAt(const QString &path) const {
  Project p = project_;
  const QString oldBase = QString::fromStdString(project_.baseDir());
  p.path = path.toStdString();
  const QString newBase = QString::fromStdString(p.baseDir());
  if (oldBase == newBase)
    return p;
  // A relative path names the same file from the new folder; one that would climb out of it
  // becomes absolute.
  auto rebase = [&](const std::string &written) {
    const QString value = QString::fromStdString(written);
    if (QDir::isAbsolutePath(value))
      return written;
    const QString file = QDir::cleanPath(QDir(oldBase).absoluteFilePath(value));
    QString rebased = QDir(newBase).relativeFilePath(file);
    if (rebased.startsWith("../.."))
      rebased = file;
    return rebased.toStdString();
  };
  for (auto &node : p.graph.nodes)
    if (node.init)
      node.init->from = rebase(node.init->from);
  // So do the files a node's params name (a TorchScript module).
  for (auto &node : p.graph.nodes)
    if (const NodeType *type = Catalogue::instance().find(node.type))
      for (const auto &f : type->params.fields())
        if (f.kind == FieldKind::Path && node.params.contains(f.name) && node.params[f.name].is_string())
          node.params[f.name] = rebase(node.params[f.name].get<std::string>());
  if (!p.dataset.is_object() || !p.dataset.contains("kind") || !p.dataset["kind"].is_string())
    return p;
  const DataKind *kind = DataKinds::instance().find(p.dataset["kind"].get<std::string>());
  if (!kind)
    return p;
  for (const auto &f : kind->keys.fields())
    if (f.kind == FieldKind::Path && p.dataset.contains(f.name) && p.dataset[f.name].is_string())
      p.dataset[f.name] = rebase(p.dataset[f.name].get<std::string>());
  return p;
}

void GraphDocument::setFilePath(const QString &path) {
  Project next = projectAt(path);
  const bool datasetChanged = next.dataset != project_.dataset;
  const bool graphChanged = next.graph != project_.graph; // init paths rebased
  project_.path = next.path;
  project_.dataset = next.dataset;
  project_.graph = next.graph;
  template_ = false;
  if (datasetChanged || graphChanged) {
    revalidate();
    if (datasetChanged)
      Q_EMIT this->datasetChanged();
    Q_EMIT validated();
  }
}

void GraphDocument::setName(const QString &name) {
  project_.name = name.toStdString();
}

DocumentState GraphDocument::state() const {
  return DocumentState{project_.graph, project_.dataset, project_.training};
}

void GraphDocument::applyState(const DocumentState &next) {
  const Graph before = project_.graph;
  const bool datasetDiffers = project_.dataset != next.dataset;
  const bool trainingDiffers = project_.training != next.training;
  project_.graph = next.graph;
  project_.dataset = next.dataset;
  project_.training = next.training;
  std::map<std::string, const Node *> old;
  for (const auto &n : before.nodes)
    old[n.id] = &n;
  std::vector<QString> added, changed, moved, removed;
  for (const auto &n : next.graph.nodes) {
    auto it = old.find(n.id);
    if (it == old.end()) {
      added.push_back(QString::fromStdString(n.id));
      continue;
    }
    if (!sameCore(*it->second, n))
      changed.push_back(QString::fromStdString(n.id));
    if (it->second->pos != n.pos)
      moved.push_back(QString::fromStdString(n.id));
    old.erase(it);
  }
  for (const auto &[id, node] : old)
    removed.push_back(QString::fromStdString(id));
  const bool edges = before.edges != next.graph.edges;

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
  if (datasetDiffers)
    Q_EMIT datasetChanged();
  if (trainingDiffers)
    Q_EMIT trainingChanged();
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
  dataError_.clear();
  dataErrorKey_.clear();
  dataErrorDetail_.clear();
  try {
    data_ = probeDataset(parseDatasetSpec(project_.dataset, project_.baseDir()));
    dataKnown_ = true;
  } catch (const std::exception &e) {
    // validate() without probed data reports the problem on the Input node.
    dataError_ = QString::fromUtf8(e.what());
    if (const auto *key = dynamic_cast<const KeyError *>(&e)) {
      dataErrorKey_ = QString::fromStdString(key->field());
      dataErrorDetail_ = QString::fromStdString(key->detail());
    }
  }
}

void GraphDocument::revalidate() {
  probeData();
  validation_ = validate(project_, dataInfo());
}

} // namespace particle::ui
