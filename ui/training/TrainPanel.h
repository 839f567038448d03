#pragma once
// The Train tab: the training settings (a form generated from the training schema; every change
// is an undoable edit of the project), Start/Pause/Resume/Stop, progress with ETA, live
// QCustomPlot charts (step loss raw + smoothed, validation loss/accuracy, learning rate,
// throughput, contribution share per branch), the confusion matrix with the class names,
// pause → edit → resume, and the run history with overlays and graph diffs.

#include "KeptFolders.h"
#include "training/TrainingTypes.h"
#include "train/Pace.h"

#include <QElapsedTimer>
#include <QWidget>

class QCustomPlot;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QUndoStack;

namespace particle::ui {

class GraphDocument;
class RunHistory;
class SchemaForm;
class TrainCharts;
class TrainingController;

class TrainPanel : public QWidget {
  Q_OBJECT

public:
  TrainPanel(GraphDocument *doc, QUndoStack *undo, QWidget *parent = nullptr);
  ~TrainPanel() override;

  TrainingController *controller() const { return controller_; }
  QPushButton *startButton() const { return start_; }
  QPushButton *pauseButton() const { return pause_; }
  QPushButton *stopButton() const { return stop_; }
  QPushButton *applyButton() const { return apply_; }
  QPushButton *exportButton() const { return export_; }
  SchemaForm *settingsForm() const { return form_; }
  QListWidget *frozenList() const { return frozen_; }
  QListWidget *historyList() const;
  QCustomPlot *lossPlot() const;
  QCustomPlot *epochPlot() const;
  QCustomPlot *ratePlot() const;
  QCustomPlot *sharePlot() const;
  QCustomPlot *confusionPlot() const;
  QLabel *progressLabel() const { return progressLabel_; }
  QLabel *diffLabel() const;
  qint64 lastStep() const { return lastStep_; }
  double lastLr() const { return lastLr_; }
  // The newest checkpoint of this document: its own last run's, else the one it starts from (a
  // search variant's trial).
  QString lastCheckpoint() const;
  QString lastRunFolder() const { return lastRunFolder_; }
  // Where runs are written (checkpoint, metrics): next to the project, or in the user's data
  // folder for examples and projects in read-only folders.
  QString runsFolder() const;
  void setRunsFolder(const QString &folder) { runsFolder_ = folder; }
  // Writes the charts as .png, .pdf or .csv; false (and `error` says why) on failure.
  bool exportTo(const QString &path, QString *error = nullptr);
  // Forgets the curves, history and results (another project was opened).
  void clearRuns();
  // The project was saved (to another file, perhaps): the runs this document made that are not in
  // its runs folder under its name go there, so that the saved project finds them when it is
  // opened again (KeptFolders.h: moved out of the user's runs folder, copied from beside another
  // saved project, whole or not at all, their summary and project copy then naming this project).
  // The run in progress waits (keepWaiting) until it ends. Returns what was done, for the status
  // bar and the warning (empty: nothing to do).
  KeepReport keepRuns();
  // A run was in progress at the last keepRuns: keep it once it has ended.
  bool keepWaiting() const { return madeRuns_.waiting(); }
  // Stops a run and waits for it (window closing).
  void shutdown();

Q_SIGNALS:
  void epochReceived(const particle::EpochEvent &point);
  void runFinished(const particle::ui::RunFinished &result);
  void dataPanelRequested();
  void problemsRequested();
  // A run of the history was double-clicked: explain its checkpoint.
  void explainRequested(const QString &checkpoint);
  // The newest earlier run of this very graph (its checkpoint), found when a project is opened.
  void checkpointFound(const QString &checkpoint);
  // A run folder moved to `to` (keepRuns): whoever holds a path inside it follows.
  void runMoved(const QString &from, const QString &to);

private:
  void startRun();
  // Says in the Run box why a run cannot start now (the graph's problems, the data set, a setting,
  // the memory) and offers the fix; false when it can start.
  bool refuseStart();
  void togglePause();
  void applyLive();
  void onSteps(const std::vector<StepEvent> &points);
  void onEpoch(const EpochEvent &p);
  void onFinished(const RunFinished &r);
  void onPeakMeasured(const QString &outDir, double gflops);
  // "X GFLOP/s, Y% of the fp32 peak": the FLOPs training achieves (3 × forward per sample) and,
  // when known, their fraction of the machine's matmul peak, never above 100% ("above the cached
  // fp32 peak"); `measuring` when the peak is being measured (again) after the run. Empty when
  // FLOPs are not counted.
  QString flopsText(double gflops, double peak, const QString &precision, bool measuring = false) const;
  QString finishedText(const RunFinished &r) const;
  void onSettingsApplied(const LiveSettings &s, qint64 step);
  void updateButtons();
  void refreshForm();
  void refreshFrozenList();
  void refreshHiddenSettings(); // the settings that do not apply to this data set (augmentation for vectors)
  void loadHistory();           // the project's earlier runs, from its runs folder
  void clearCharts();
  // `whole`: the label grows to every line of `text` (an error always does).
  void setStatus(const QString &text, bool error = false, bool whole = false);
  LiveSettings liveSettings() const;

  GraphDocument *doc_;
  QUndoStack *undo_;
  TrainingController *controller_;
  SchemaForm *form_;
  QPushButton *start_, *pause_, *stop_, *apply_, *export_, *fixData_, *showProblems_;
  QProgressBar *progress_;
  QLabel *progressLabel_;
  QListWidget *frozen_;
  RunHistory *history_;
  TrainCharts *charts_;
  QElapsedTimer statusClock_;
  qint64 lastStep_ = 0;
  RunPace pace_; // the run's time left: its mean pace and validation time per epoch
  double lastLr_ = 0;
  QString lastCheckpoint_, lastRunFolder_, runsFolder_;
  MadeFolders madeRuns_; // the runs this document made, for keepRuns
  int runWorkers_ = 1;   // processes of the run in progress (training.workers)
  // The run in progress: forward FLOPs per sample (0: not counted), the cached peak (0: unknown)
  // and the precision it trains in; then the last finished run, whose text a measured peak completes.
  double runFlops_ = 0, runPeak_ = 0;
  QString runPrecision_;
  RunFinished lastFinished_;
  bool peakPending_ = false; // the engine thread measures the peak after lastFinished_
  // lastFinished_'s comparison with a listed run of its graph in another precision (or empty).
  QString comparison_;
  bool stopping_ = false;     // Stop was pressed: the run finishes its step, checkpoint and test set
  bool startRefused_ = false; // the Run box says why Start was refused (until the cause is gone)
  LiveSettings appliedLive_;  // what the engine runs with now (to apply edits made while paused)
};

} // namespace particle::ui
