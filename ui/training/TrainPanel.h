#pragma once
// The Train tab: settings, Start/Pause/Resume/Stop, progress with ETA, live QCustomPlot charts
// (step loss raw + smoothed, validation loss/accuracy, learning rate, throughput, contribution
// share per branch), confusion matrix, pause → edit → resume, run history with overlays.

#include "training/TrainingTypes.h"

#include <QWidget>

#include <map>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QCPGraph;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;

namespace particle::ui {

class GraphDocument;
class TrainingController;

class TrainPanel : public QWidget {
  Q_OBJECT

public:
  TrainPanel(GraphDocument *doc, QWidget *parent = nullptr);
  ~TrainPanel() override;

  TrainingController *controller() const { return controller_; }
  QPushButton *startButton() const { return start_; }
  QPushButton *pauseButton() const { return pause_; }
  QPushButton *stopButton() const { return stop_; }
  QPushButton *applyButton() const { return apply_; }
  QDoubleSpinBox *lrBox() const { return lr_; }
  QSpinBox *epochsBox() const { return epochs_; }
  QListWidget *frozenList() const { return frozen_; }
  QListWidget *historyList() const { return history_; }
  QCustomPlot *lossPlot() const { return lossPlot_; }
  QCustomPlot *epochPlot() const { return epochPlot_; }
  QCustomPlot *sharePlot() const { return sharePlot_; }
  QCustomPlot *confusionPlot() const { return confusionPlot_; }
  QLabel *progressLabel() const { return progressLabel_; }
  qint64 lastStep() const { return lastStep_; }
  double lastLr() const { return lastLr_; }
  QString lastCheckpoint() const { return lastCheckpoint_; }
  // Where runs are written (checkpoint, metrics).
  QString runsFolder() const;
  void setRunsFolder(const QString &folder) { runsFolder_ = folder; }
  bool exportTo(const QString &path); // .png, .pdf or .csv
  // Stops a run and waits for it (window closing).
  void shutdown();

Q_SIGNALS:
  void epochReceived(const particle::ui::EpochPoint &point);
  void runFinished(const particle::ui::RunFinished &result);

private:
  struct Run {
    QString name, settings, graphSnapshot;
    QVector<double> steps, losses, epochs, valLoss, valAccuracy;
    QColor color;
  };
  void startRun();
  void onSteps(const QVector<StepPoint> &points);
  void onEpoch(const EpochPoint &p);
  void onFinished(const RunFinished &r);
  void onSettingsApplied(const LiveSettings &s, qint64 step);
  void updateButtons();
  void refreshFrozenList();
  void refreshOverlays();
  void showRunDiff(int index);
  void drawConfusion(const EpochPoint &p);
  QString settingsJson() const;

  GraphDocument *doc_;
  TrainingController *controller_;
  QComboBox *device_, *optimizer_, *schedule_;
  QDoubleSpinBox *lr_;
  QSpinBox *batch_, *epochs_, *seed_;
  QPushButton *start_, *pause_, *stop_, *apply_, *export_;
  QProgressBar *progress_;
  QLabel *progressLabel_, *diffLabel_;
  QListWidget *frozen_, *history_;
  QCustomPlot *lossPlot_, *epochPlot_, *ratePlot_, *sharePlot_, *confusionPlot_;
  QCPGraph *rawLoss_, *smoothLoss_, *valLoss_, *trainLossEpoch_, *valAcc_, *lrGraph_, *throughput_;
  std::map<QString, QCPGraph *> shareGraphs_;
  std::vector<Run> runs_;
  QTimer *replot_;
  bool dirty_ = false;
  double smoothed_ = 0;
  bool haveSmoothed_ = false;
  qint64 lastStep_ = 0;
  double lastLr_ = 0;
  QString lastCheckpoint_, runsFolder_;
};

} // namespace particle::ui
