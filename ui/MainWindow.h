#pragma once
// The main window: palette, canvas (Design tab), inspector and problems docks, status bar,
// file handling (atomic saves, recent files, autosave + crash recovery) and the edit actions.

#include <QMainWindow>

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
class PaletteWidget;
class TrainPanel;
class ExplainPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT

public:
  explicit MainWindow(QWidget *parent = nullptr);
  ~MainWindow() override;

  bool openProject(const QString &path); // shows a message on failure
  void newProject();
  bool save();
  bool saveAs(const QString &path);
  void setCurrentTab(const QString &name); // design, train, explain

  GraphDocument *document() const { return doc_; }
  GraphScene *scene() const { return scene_; }
  GraphView *view() const { return view_; }
  QUndoStack *undoStack() const { return undo_; }
  PaletteWidget *palette() const { return palette_; }
  InspectorWidget *inspector() const { return inspector_; }
  QListWidget *problemsList() const { return problems_; }
  QLabel *paramsLabel() const { return paramsLabel_; }
  QLabel *validityLabel() const { return validityLabel_; }
  TrainPanel *trainPanel() const { return train_; }
  ExplainPanel *explainPanel() const { return explain_; }

  // Crash recovery: the autosave file, and the prompt offered at start-up when it exists.
  static QString recoveryPath();
  void writeRecovery();
  QMessageBox *offerRecovery(); // nullptr when there is nothing to recover
  void autoLayout();
  void shareSelection();
  void addNode(const QString &type, QPointF scenePos);

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

  GraphDocument *doc_;
  QUndoStack *undo_;
  GraphScene *scene_;
  GraphView *view_;
  QTabWidget *tabs_;
  PaletteWidget *palette_;
  InspectorWidget *inspector_;
  QListWidget *problems_;
  TrainPanel *train_;
  ExplainPanel *explain_;
  QLabel *paramsLabel_, *validityLabel_;
  QMenu *recentMenu_ = nullptr;
  QTimer *autosave_;
  int pasteCount_ = 0;
};

} // namespace particle::ui
