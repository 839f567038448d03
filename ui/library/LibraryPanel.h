#pragma once
// The Library panel: the trained particles (.particle-part files) of the user's library folder and
// of the project's particles/ folder, each with where it came from (project, data set, classes,
// test accuracy, date, nodes, parameters, shapes) in its tooltip and below the list. A file that
// cannot be read is listed with its error, never hidden. The list follows the folders (a file
// saved, copied or removed) and the Refresh button. A particle dragged onto the canvas carries its
// file's path (MIME type kPartMimeType, editor/GraphView.h); the window adds its nodes there.

#include "project/PartFile.h"

#include <QWidget>

#include <set>
#include <string>

class QFileSystemWatcher;
class QLabel;
class QPushButton;
class QTimer;
class QTreeWidget;
class QTreeWidgetItem;

namespace particle::ui {

class GraphDocument;

// The nodes of a particle that hold weights (those that start from it when it is added): its
// sub-graph checked on its own, fed samples of its input shape (`data` as the project's otherwise).
std::set<std::string> partNodesWithWeights(const PartInfo &part, const DataInfo &data);

class LibraryPanel : public QWidget {
  Q_OBJECT

public:
  LibraryPanel(GraphDocument *doc, QWidget *parent = nullptr);

  // Lists both folders again (what the watcher and the Refresh button do).
  void refresh();
  QTreeWidget *tree() const { return tree_; }
  QLabel *detail() const { return detail_; }
  // The item listing this file (for tests: where to press), or nullptr.
  QTreeWidgetItem *itemFor(const QString &path) const;

Q_SIGNALS:
  // A particle double-clicked (or Enter pressed on it): the window adds it in the view's middle.
  void partActivated(const QString &path);

private:
  void watchFolders();
  void showDetail();
  // Right-click on a particle: Copy to My Library, Show in Folder, Delete… (asked first).
  void showMenu(const QPoint &at);

  GraphDocument *doc_;
  QTreeWidget *tree_;
  QLabel *detail_;
  QPushButton *openLibrary_, *refresh_;
  QFileSystemWatcher *watcher_;
  QTimer *pending_; // folder changes arrive in bursts (a file written in steps): one listing each
  QString projectFolder_;
};

} // namespace particle::ui
