#pragma once
// The main window: palette, canvas (Design tab), Train and Explain tabs, inspector, data, library
// and problems docks, status bar, the menus and the edit actions. What File does (new, open, save,
// recent files, recovery) is ProjectFiles'.

#include <QMainWindow>

#include <map>

class QDockWidget;
class QLabel;
class QListWidget;
class QTabWidget;
class QUndoStack;

namespace particle::ui {

class GraphDocument;
class GraphScene;
class GraphView;
class InspectorWidget;
class DataPanel;
class PaletteWidget;
class TrainPanel;
class ExplainPanel;
class ExperimentsPanel;
class ExportController;
class ProjectFiles;
class LibraryPanel;
class PartSaver;

class MainWindow : public QMainWindow {
  Q_OBJECT

public:
  explicit MainWindow(QWidget *parent = nullptr);
  ~MainWindow() override;

  void setCurrentTab(const QString &name); // design, train, explain, experiments

  ProjectFiles *files() const { return files_; } // new, open, save, recent files, recovery
  GraphDocument *document() const { return doc_; }
  GraphScene *scene() const { return scene_; }
  GraphView *view() const { return view_; }
  QUndoStack *undoStack() const { return undo_; }
  PaletteWidget *palette() const { return palette_; }
  InspectorWidget *inspector() const { return inspector_; }
  DataPanel *dataPanel() const { return data_; }
  LibraryPanel *library() const { return library_; }
  QListWidget *problemsList() const { return problems_; }
  QLabel *paramsLabel() const { return paramsLabel_; }
  QLabel *validityLabel() const { return validityLabel_; }
  TrainPanel *trainPanel() const { return train_; }
  ExplainPanel *explainPanel() const { return explain_; }
  ExperimentsPanel *experimentsPanel() const { return experiments_; }
  QTabWidget *tabs() const { return tabs_; }
  QDockWidget *dock(const QString &name) const; // palette, inspector, data, library, problems

  void autoLayout();
  // File → Export to PyTorch / ONNX: the project and its newest checkpoint, in a worker thread.
  void exportModel(bool onnx);
  void shareSelection();
  // Adds a node at `scenePos` (a drop: there, on the grid), or at a free spot near it.
  void addNode(const QString &type, QPointF scenePos, bool findFreeSpot = false);
  // Adds a particle file's nodes at `scenePos`, each starting from its trained weights.
  void addPart(const QString &path, QPointF scenePos);
  // Save as particle… for the selected nodes: asks for the run and the file, saves off this thread.
  void savePartOfSelection();

protected:
  void closeEvent(QCloseEvent *event) override;
  // A dialog the user was in hands the keyboard back to the window it belongs to when it closes.
  bool eventFilter(QObject *watched, QEvent *event) override;

private:
  // What this document made before its project had a file, or beside another file, goes to the
  // project's runs folder (the Train tab's runs, the Experiments tab's folders): on a save
  // (`onSave`), and when one that was in use then has ended. The status bar says what was done; a
  // warning says what could not be kept and where it still is.
  void keepWork(bool onSave);
  void createActions();
  void updateStatus();
  void updateProblems();
  void copySelection();
  void pasteClipboard(QPointF offset);
  void onTabChanged(int index);
  void showDataPanel();
  // A refused action's message in the status bar, until the next edit that goes through.
  void showRefusal(const QString &message);
  // Why the selection cannot be saved as a particle now (empty: it can).
  QString savePartRefusal(const QStringList &ids) const;
  // Where a node added from the palette goes: right of `last`, past the nodes already there.
  QPointF besideSpot(const QRectF &last) const;

  GraphDocument *doc_;
  ProjectFiles *files_;
  QUndoStack *undo_;
  GraphScene *scene_;
  GraphView *view_;
  QTabWidget *tabs_;
  PaletteWidget *palette_;
  InspectorWidget *inspector_;
  DataPanel *data_;
  LibraryPanel *library_;
  PartSaver *partSaver_;
  QListWidget *problems_;
  TrainPanel *train_;
  ExportController *exporter_;
  ExplainPanel *explain_;
  ExperimentsPanel *experiments_;
  QLabel *paramsLabel_, *validityLabel_;
  std::map<QString, QDockWidget *> docks_;
  std::map<int, std::map<QString, bool>> dockVisibility_; // per tab: which docks the user had open
  int currentTab_ = 0;
  int pasteCount_ = 0;
  QString lastPaletteNode_; // the node added last from the palette
  QString refusal_;         // the refusal the status bar shows
};

} // namespace particle::ui
