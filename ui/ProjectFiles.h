#pragma once
// The window's file handling: new, open (a bundled example opens as an untitled copy), save and
// Save As (atomic), the recent files, the unsaved-changes question, the window title's file name,
// and the autosave with its crash recovery. The window makes the menus and wires them here.

#include <QObject>

class QMainWindow;
class QMenu;
class QMessageBox;
class QTimer;
class QUndoStack;

namespace particle::ui {

class GraphDocument;
class GraphView;

class ProjectFiles : public QObject {
  Q_OBJECT

public:
  ProjectFiles(QMainWindow *window, GraphDocument *doc, QUndoStack *undo, GraphView *view);

  void newProject();
  // Opens a project; a bundled example opens as an untitled copy (Save asks where). On failure,
  // a message box — or, with `quiet`, only the returned error.
  bool open(const QString &path, QString *error = nullptr, bool quiet = false);
  // Opens a project file as a new, untitled document (a search's variant): Save asks where.
  bool openAsNewDocument(const QString &path);
  bool save();
  bool saveAs(const QString &path);
  // The Save As dialog; the file gets ".particle.json" unless it already ends in ".json".
  bool saveAsWithDialog();
  // Asks about unsaved changes before they would be lost: false when the user cancels.
  bool maybeSave();
  // File → Open Recent: rebuilt whenever a file is opened or saved.
  void setRecentMenu(QMenu *menu);

  // Crash recovery: the autosave file, and the prompt offered at start-up when it exists.
  static QString recoveryPath();
  void writeRecovery();
  QMessageBox *offerRecovery(); // nullptr when there is nothing to recover

  // Where file dialogs start: the folder of the last file opened or saved.
  static QString lastFolder();
  static void rememberFolder(const QString &file);

Q_SIGNALS:
  // The project was written to its file (the document's path is that file now).
  void saved();

private:
  void updateTitle();
  void addRecent(const QString &path);
  void rebuildRecentMenu();

  QMainWindow *window_;
  GraphDocument *doc_;
  QUndoStack *undo_;
  GraphView *view_;
  QMenu *recentMenu_ = nullptr;
  QTimer *autosave_;
};

} // namespace particle::ui
