#pragma once
// GraphDocument: the editor's model. A QObject over particle::Project that emits change
// signals by node id and re-validates after every change. It holds no QGraphicsItem or widget;
// the scene observes it, undo commands act on it by id and JSON snapshot.

#include "graph/Project.h"
#include "graph/Validator.h"

#include <QObject>
#include <QString>

#include <functional>

namespace particle::ui {

// Nodes and edges of a graph as compact JSON text: what undo commands store.
std::string graphSnapshot(const Graph &graph);

class GraphDocument : public QObject {
  Q_OBJECT

public:
  explicit GraphDocument(QObject *parent = nullptr);

  const Project &project() const { return project_; }
  const Graph &graph() const { return project_.graph; }
  const Validation &validation() const { return validation_; }
  QString filePath() const { return QString::fromStdString(project_.path); }

  // Replaces everything (open/new); emits modelReset.
  void reset(Project project);
  void setFilePath(const QString &path);

  // Snapshot of what undo restores: nodes and edges as JSON text (positions included).
  std::string graphSnapshot() const { return particle::ui::graphSnapshot(project_.graph); }
  // Applies a snapshot, emitting fine-grained signals for what differs.
  void applyGraphSnapshot(const std::string &snapshot);
  // Applies an edited copy of the graph (same diffing as applyGraphSnapshot).
  void applyGraph(const Graph &graph);
  // Whole project as it would be saved.
  std::string text() const { return projectToText(project_); }

  // What validation would say if `edit` were applied (nothing changes).
  Validation trial(const std::function<void(Graph &)> &edit) const;

  // The dataset's shape, probed once per dataset section (re-probed when it changes).
  const DataInfo *dataInfo() const { return dataKnown_ ? &data_ : nullptr; }

Q_SIGNALS:
  void modelReset();
  void nodeAdded(const QString &id);
  void nodeRemoved(const QString &id);
  void nodeChanged(const QString &id); // type, params or share
  void nodeMoved(const QString &id);
  void edgesChanged();
  void validated(); // after every change: validation() is current

private:
  void revalidate();
  void probeData();

  Project project_;
  Validation validation_;
  DataInfo data_;
  bool dataKnown_ = false;
  std::string probedDataset_;
};

} // namespace particle::ui
