#pragma once
// Save as particle…: a trained sub-model (one node, or a selected sub-graph with one input and one
// output) written with its run's weights and provenance as a .particle-part file. The window asks
// partSources for the runs whose checkpoint fits the graph (the menu item is disabled with the
// reason when there is none), SavePartDialog for the run and the file, and PartSaver saves off the
// GUI thread and says where.

#include "project/Project.h"

#include <QDialog>
#include <QObject>
#include <QStringList>

#include <memory>
#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QThread;

namespace particle::ui {

class GraphDocument;

// A run whose checkpoint fits the document's graph: its checkpoint and how the dialog names it.
struct PartSource {
  QString checkpoint, label;
};

// The checkpoints of the project's runs in `runsFolder` that fit its graph, newest first, and
// `extra` (a checkpoint the document starts from) when it fits and is not among them; at most
// `limit` of them when limit > 0 (reading a checkpoint's header reads the whole file).
std::vector<PartSource> partSources(const GraphDocument &doc, const QString &runsFolder, const QString &extra,
                                    int limit = 0);
// Why the nodes `ids` cannot be saved as one particle (empty when they can): none selected, the data
// source or the classifier among them, or not one input and one output.
QString partRefusal(const GraphDocument &doc, const QStringList &ids);

// Which run (the newest first) and which file.
class SavePartDialog : public QDialog {
  Q_OBJECT

public:
  SavePartDialog(const std::vector<PartSource> &sources, const QString &defaultFile, QWidget *parent = nullptr);
  QString checkpoint() const;
  QString file() const;
  QComboBox *runs() const { return runs_; }
  QLineEdit *fileEdit() const { return file_; }

  void accept() override;

private:
  std::vector<PartSource> sources_;
  QComboBox *runs_;
  QLineEdit *file_;
  QLabel *error_;
};

// Saves one particle at a time on a thread of its own; finished() comes on the GUI thread.
class PartSaver : public QObject {
  Q_OBJECT

public:
  explicit PartSaver(QObject *parent = nullptr);
  ~PartSaver() override; // waits for a save in progress: it writes its file to the end
  bool running() const { return thread_ != nullptr; }
  // `project`: as the document holds it (its path resolves relative paths); a copy goes to the thread.
  void start(const Project &project, const QString &checkpoint, const QStringList &ids, const QString &file);

Q_SIGNALS:
  void finished(const QString &file, const QString &error);

private:
  QThread *thread_ = nullptr;
};

} // namespace particle::ui
