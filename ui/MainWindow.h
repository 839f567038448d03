#pragma once
// The main window: palette, canvas (Design tab), Train and Explain tabs, inspector, data and
// problems docks, status bar, file handling (atomic saves, recent files, examples opened as
// templates, autosave + crash recovery) and the edit actions.

#include <QMainWindow>

#include <map>

class QDockWidget;
class QLabel;
class QListWidget;
class QMenu;
class QTabWidget;
class QTimer;
class QUndoStack;
class QMessageBox;

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

class MainWindow : public QMainWindow {
  Q_OBJECT

public:
  explicit MainWindow(QWidget *parent = nullptr);
  ~MainWindow() override;

  // Opens a project; a bundled example opens as an untitled copy (Save asks where). On failure,
  // a message box — or, with `quiet`, only the returned error.
  bool openProject(const QString &path, QString *error = nullptr, bool quiet = false);
  // Opens a project file as a new, untitled document (a search's variant): Save asks where.
  bool openAsNewDocument(const QString &path);
  void newProject();
  bool save();
  bool saveAs(const QString &path);
  // The Save As dialog; the file gets ".particle.json" unless it already ends in ".json".
  bool saveAsWithDialog();
  void setCurrentTab(const QString &name); // design, train, explain, experiments

  GraphDocument *document() const { return doc_; }
  GraphScene *scene() const { return scene_; }
  GraphView *view() const { return view_; }
  QUndoStack *undoStack() const { return undo_; }
  PaletteWidget *palette() const { return palette_; }
  InspectorWidget *inspector() const { return inspector_; }
  DataPanel *dataPanel() const { return data_; }
  QListWidget *problemsList() const { return problems_; }
  QLabel *paramsLabel() const { return paramsLabel_; }
  QLabel *validityLabel() const { return validityLabel_; }
  TrainPanel *trainPanel() const { return train_; }
  ExplainPanel *explainPanel() const { return explain_; }
  ExperimentsPanel *experimentsPanel() const { return experiments_; }
  QTabWidget *tabs() const { return tabs_; }
  QDockWidget *dock(const QString &name) const; // palette, inspector, data, problems

  // Crash recovery: the autosave file, and the prompt offered at start-up when it exists.
  static QString recoveryPath();
  void writeRecovery();
  QMessageBox *offerRecovery(); // nullptr when there is nothing to recover
  void autoLayout();
  // File → Export to PyTorch / ONNX: the project and its newest checkpoint, in a worker thread.
  void exportModel(bool onnx);
  void shareSelection();
  // Adds a node at `scenePos` (a drop: there, on the grid), or at a free spot near it.
  void addNode(const QString &type, QPointF scenePos, bool findFreeSpot = false);

  // Where file dialogs start: the folder of the last file opened or saved.
  static QString lastFolder();

protected:
  void closeEvent(QCloseEvent *event) override;

private:
  void createActions();
  void updateStatus();
  void updateProblems();
  void updateTitle();
  void addRecent(const QString &path);
  void rebuildRecentMenu();
  bool maybeSave();
  void copySelection();
  void pasteClipboard(QPointF offset);
  void onTabChanged(int index);
  void showDataPanel();
  static void rememberFolder(const QString &file);
  // A refused action's message in the status bar, until the next edit that goes through.
  void showRefusal(const QString &message);
  // Where a node added from the palette goes: right of `last`, past the nodes already there.
  QPointF besideSpot(const QRectF &last) const;

  GraphDocument *doc_;
  QUndoStack *undo_;
  GraphScene *scene_;
  GraphView *view_;
  QTabWidget *tabs_;
  PaletteWidget *palette_;
  InspectorWidget *inspector_;
  DataPanel *data_;
  QListWidget *problems_;
  TrainPanel *train_;
  ExportController *exporter_;
  ExplainPanel *explain_;
  ExperimentsPanel *experiments_;
  QLabel *paramsLabel_, *validityLabel_;
  QMenu *recentMenu_ = nullptr;
  QTimer *autosave_;
  std::map<QString, QDockWidget *> docks_;
  std::map<int, std::map<QString, bool>> dockVisibility_; // per tab: which docks the user had open
  int currentTab_ = 0;
  int pasteCount_ = 0;
  QString lastPaletteNode_; // the node added last from the palette
  QString refusal_;         // the refusal the status bar shows
};

} // namespace particle::ui
