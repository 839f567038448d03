#pragma once
// GraphDocument: the editor's model. A QObject over particle::Project that emits change signals by
// node id (and for the dataset and training sections) and re-validates after every change. It
// holds no QGraphicsItem or widget; the scene and the forms observe it, and undo commands act on
// it by id with snapshots of its editable state.

#include "project/Project.h"
#include "project/ProjectCheck.h"

#include <QObject>
#include <QString>

#include <functional>

namespace particle::ui {

// What undo restores: the graph and the two sections the app edits.
struct DocumentState {
  Graph graph;
  Json dataset = Json::object();
  Json training = Json::object();
  bool operator==(const DocumentState &o) const {
    return graph == o.graph && dataset == o.dataset && training == o.training;
  }
  bool operator!=(const DocumentState &o) const { return !(*this == o); }
};

// Nodes and edges of a graph as compact JSON text (run history keeps it to diff later).
std::string graphSnapshot(const Graph &graph);
Graph graphFromSnapshot(const std::string &snapshot);

class GraphDocument : public QObject {
  Q_OBJECT

public:
  explicit GraphDocument(QObject *parent = nullptr);

  const Project &project() const { return project_; }
  const Graph &graph() const { return project_.graph; }
  const Validation &validation() const { return validation_; }
  // The file the project is saved to; empty for a new project or an example opened as a template.
  QString filePath() const { return template_ ? QString() : QString::fromStdString(project_.path); }
  // The file the project came from (an example's too): relative data paths resolve against it.
  QString sourcePath() const { return QString::fromStdString(project_.path); }
  // The project as edited, its paths made absolute, written to `file` (the copy a search or a
  // transfer runs on, in its own folder). Throws Error(File) naming the file.
  void saveCopyTo(const QString &file) const;
  bool isTemplate() const { return template_; }

  // Replaces everything (open/new); emits modelReset. Nodes without a position are laid out
  // (not an undo step: the document stays unmodified).
  void reset(Project project, bool asTemplate = false);
  // The project as it would be saved at `path`: relative data paths rewritten so that they still
  // name the same files from the new folder.
  Project projectAt(const QString &path) const;
  // The document now lives at `path` (after a successful Save As): paths rebased as projectAt().
  void setFilePath(const QString &path);
  void setName(const QString &name);

  DocumentState state() const;
  // Applies a state, emitting fine-grained signals for what differs, then validated().
  void applyState(const DocumentState &state);
  // Whole project as it would be saved.
  std::string text() const { return projectToText(project_); }
  std::string graphSnapshot() const { return particle::ui::graphSnapshot(project_.graph); }

  // What validation would say if `edit` were applied (nothing changes).
  Validation trial(const std::function<void(Graph &)> &edit) const;

  // The data set's shape and classes, probed once per dataset section; null when it cannot be read.
  const DataInfo *dataInfo() const { return dataKnown_ ? &data_ : nullptr; }
  // Why the data set cannot be read (empty when it can).
  QString dataError() const { return dataError_; }
  // The "dataset" key the error is about ("path"), when it is about one; its words without the key.
  QString dataErrorKey() const { return dataErrorKey_; }
  QString dataErrorDetail() const { return dataErrorDetail_; }

  // The checkpoint this document's weights start from when it has no run of its own (a search
  // variant opened with its trial's checkpoint): Train continues from it, Explain and Export use it.
  // Empty for most documents; reset() clears it.
  QString startCheckpoint() const { return startCheckpoint_; }
  void setStartCheckpoint(const QString &path) { startCheckpoint_ = path; }

Q_SIGNALS:
  void modelReset();
  void nodeAdded(const QString &id);
  void nodeRemoved(const QString &id);
  void nodeChanged(const QString &id); // type, params or share
  void nodeMoved(const QString &id);
  void edgesChanged();
  void datasetChanged();
  void trainingChanged();
  void validated(); // after every change: validation() is current

private:
  void revalidate();
  void probeData();

  Project project_;
  Validation validation_;
  DataInfo data_;
  bool dataKnown_ = false;
  QString dataError_, dataErrorKey_, dataErrorDetail_;
  QString startCheckpoint_;
  std::string probedDataset_;
  bool template_ = false;
};

} // namespace particle::ui
