#pragma once
// The Train tab's live charts: step loss (raw and smoothed), validation loss and accuracy per
// epoch, learning rate and throughput, the contribution share per sub-model and the confusion
// matrix; earlier runs overlaid; marks where a change was applied mid-run. Points are appended as
// they arrive and drawn at most twice a second, only while the tab is on screen.

#include "training/TrainingTypes.h"

#include <QElapsedTimer>
#include <QWidget>

#include <deque>
#include <functional>
#include <map>
#include <vector>

class QCustomPlot;
class QCPGraph;
class QCPTextElement;
class QTimer;

namespace particle::ui {

struct RunRecord;

class TrainCharts : public QWidget {
  Q_OBJECT

public:
  // `running` says whether a run goes (the slow charts redraw less often meanwhile).
  TrainCharts(std::function<bool()> running, QWidget *parent = nullptr);

  QCustomPlot *lossPlot() const { return lossPlot_; }
  QCustomPlot *epochPlot() const { return epochPlot_; }
  QCustomPlot *ratePlot() const { return ratePlot_; }
  QCustomPlot *sharePlot() const { return sharePlot_; }
  QCustomPlot *confusionPlot() const { return confusionPlot_; }
  // Samples per second over the last seconds of training (samples over seconds), as the rate
  // chart shows it.
  double throughput() const { return windowSeconds_ > 0 ? static_cast<double>(windowSamples_) / windowSeconds_ : 0; }

  // Forgets the live curves and marks; the epoch axes span `epochs`.
  void clear(int epochs);
  // Appends steps; the smoothed loss also goes to `run`'s curve (for its overlay later).
  void addSteps(const std::vector<StepEvent> &points, RunRecord &run);
  void addEpoch(const EpochEvent &p);
  // Marks `step` on the loss curve with what was applied there.
  void markChange(qint64 step, const QString &text);
  // The finished run's confusion matrix on the test split, in place of the last epoch's on
  // validation (the title says which); the next run's first epoch brings validation back.
  void showTestConfusion(const std::vector<int64_t> &counts, const QStringList &classNames);
  // Earlier runs drawn over the live curves, dotted in their colours.
  void showOverlays(const std::vector<const RunRecord *> &runs);
  // Redraws every chart shortly (a run ended, the list of curves changed), once on screen.
  void redraw();
  void redrawNow();
  // Writes the charts as .png, .pdf or .csv; false (and `error` says why) on failure.
  bool exportTo(const QString &path, QString *error = nullptr);

protected:
  void showEvent(QShowEvent *event) override;

private:
  void drawConfusion(const EpochEvent &p);
  void setConfusionTitle(const QString &title);
  QCPTextElement *confusionTitle_ = nullptr; // makePlot's heading: "(validation)" or "(test)"
  // Draws the charts that changed (the rate chart with every fourth change of the steps).
  void draw();
  // Starts the draw timer, or brings it forward, to fire within `ms`.
  void drawWithin(int ms);
  // The matrix's percentages and class names sized to its cells, once the layout gives them.
  void fitConfusion();
  // The loss and epoch charts' axes spanning the live run and the overlaid runs; their
  // placeholders shown only while they draw nothing.
  void fitAxes();

  std::function<bool()> running_;
  QWidget *area_;
  QCustomPlot *lossPlot_, *epochPlot_, *ratePlot_, *sharePlot_, *confusionPlot_;
  QCPGraph *rawLoss_, *smoothLoss_, *valLoss_, *trainLossEpoch_, *valAcc_, *lrGraph_, *throughput_;
  std::map<QString, QCPGraph *> shareGraphs_;
  QTimer *replot_;
  QElapsedTimer drawn_;      // since the charts were last drawn
  int confusionClasses_ = 0; // of the matrix drawn (0: none yet)
  // The matrix drawn, for the CSV: counts (true class × predicted), class names, and its split.
  std::vector<int64_t> confusionCounts_;
  QStringList confusionNames_;
  QString confusionSplit_;
  bool dirty_ = false, stepsDirty_ = false;
  int ticks_ = 0; // draws of the steps (the rate chart is drawn every fourth)
  double smoothed_ = 0;
  std::deque<std::pair<int64_t, double>> window_; // (samples, seconds) of the steps averaged
  int64_t windowSamples_ = 0;
  double windowSeconds_ = 0;
  bool haveSmoothed_ = false;
  double maxLr_ = 0, maxThroughput_ = 0;
  double liveTotalSteps_ = 0;                   // the live run's planned steps (0: none yet)
  int liveEpochs_ = 0;                          // its planned epochs
  double overlaySteps_ = 0, overlayEpochs_ = 0; // the last step and epoch of the overlaid runs
};

} // namespace particle::ui
