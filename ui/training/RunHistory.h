#pragma once
// The Train tab's run history: the project's earlier runs, read from their run folders, and the
// runs started here; ticking a run overlays its curves, selecting it shows what changed in the
// graph since, double-clicking it explains its checkpoint.

#include "training/TrainingTypes.h"

#include <QColor>
#include <QVector>
#include <QWidget>

#include <vector>

class QLabel;
class QListWidget;
class QListWidgetItem;

namespace particle::ui {

class GraphDocument;

// One run of the history: its curves (for the overlays) and the graph it trained.
struct RunRecord {
  QString name, graphSnapshot, folder;
  QVector<double> steps, losses, epochs, valLoss, valAccuracy;
  QColor color;
};

class RunHistory : public QWidget {
  Q_OBJECT

public:
  RunHistory(GraphDocument *doc, QWidget *parent = nullptr);

  QListWidget *list() const { return list_; }
  QLabel *diffLabel() const { return diffLabel_; }
  bool empty() const { return runs_.empty(); }
  // The run started last (the one in progress while a run goes).
  RunRecord &latest() { return runs_.back(); }
  // The runs ticked to overlay, in the list's order.
  std::vector<const RunRecord *> ticked() const;
  // Lists the project's earlier runs in `runsFolder` (those not listed yet) and returns the newest
  // checkpoint of this very graph among them, or an empty string.
  QString load(const QString &runsFolder);
  // A run started here, writing to `folder`.
  RunRecord &start(const QString &folder);
  // The state of the run in progress: running or paused.
  void showState(bool paused);
  void finish(const RunFinished &r);
  // The line comparing the finished run in `folder` with the latest other run listed of the same
  // graph, device and threads in another precision ("0.82× the samples/s of #2, 6 Dec 19:28: fp32,
  // 88,000 samples/s, same graph"), or an empty string when there is none. Read from the runs'
  // summary.json, so that an fp32 run of an earlier session counts too.
  QString precisionComparison(const QString &folder) const;
  // A listed run's folder moved to `to` (the project was saved elsewhere).
  void relocate(const QString &from, const QString &to);
  void clear();

Q_SIGNALS:
  void tickedChanged();
  void explainRequested(const QString &checkpoint);

private:
  QListWidgetItem *addItem(const RunRecord &run, const QString &text);
  void showDiff(int index);

  GraphDocument *doc_;
  QListWidget *list_;
  QLabel *diffLabel_;
  std::vector<RunRecord> runs_;
};

} // namespace particle::ui
