#pragma once
// File → Export report…: one self-contained HTML report (recipes/Report.h) of the latest result of
// this session (a run, search, claims, learning curve or transfer, whichever finished last) or of a
// folder the user picks (a run, search, claims, transfer or learning-curve folder), written
// by `particle report` as a process so that the app stays responsive while the checkpoint is
// evaluated and explained. The status bar shows its stages with a Cancel button; the end is a
// message with the file (and a button that opens it), or the program's error.

#include <QDialog>
#include <QObject>
#include <QPointer>
#include <QString>

class QLabel;
class QLineEdit;
class QMainWindow;
class QProcess;
class QPushButton;

namespace particle::ui {

// The folder to report on and the file to write, with what the folder is said as it is typed.
class ReportDialog : public QDialog {
  Q_OBJECT
public:
  ReportDialog(QWidget *parent, const QString &start);
  QString folder() const;
  QString file() const;

private:
  void folderChanged();
  QLineEdit *folder_ = nullptr, *file_ = nullptr;
  QLabel *kind_ = nullptr;
  QPushButton *ok_ = nullptr;
  bool fileEdited_ = false; // the user typed a file: a new folder no longer renames it
};

class ReportExport : public QObject {
  Q_OBJECT
public:
  explicit ReportExport(QMainWindow *window);
  bool running() const;
  // A result that finished in this session; the dialog offers the latest (a folder that holds no
  // report's file, e.g. a run stopped before it wrote one, is passed over).
  void noteResult(const QString &folder);
  QString latestResult() const { return latest_; }
  // Asks for the folder (starting from the latest result, empty when this session has none: a
  // run of an earlier session is not what was just done) and the file, then writes the report.
  void exec();

private:
  void start(const QString &folder, const QString &file);
  QMainWindow *window_;
  QPointer<QProcess> process_;
  QString latest_;
};

} // namespace particle::ui
