#include "training/TrainCharts.h"

#include "charts/Charts.h"
#include "charts/CustomPlot.h"
#include "training/RunHistory.h"

#include <QFile>
#include <QSaveFile>
#include <QGridLayout>
#include <QPainter>
#include <QPdfWriter>
#include <QScrollArea>
#include <QRegularExpression>
#include <QTextStream>
#include <QTimer>
#include <QtMath>
#include <QVBoxLayout>

#include <algorithm>

namespace particle::ui {

namespace {
constexpr int kReplotMs = 500; // the loss curve is drawn at most twice a second while training (bench_gui)
// A batch of steps that comes this much early still draws (batches come every 250 ms or more:
// EngineWorker::kStepIntervalMs), so that every second batch draws, not every third.
constexpr int kLateMs = 100;
// The timer draws what no batch drew this long after the curve was due: later than the next batch
// would come, so that it does not wake the GUI thread while batches come.
constexpr int kFallbackMs = 350;
constexpr int kMaxStepPoints = 200000; // history cap per run
constexpr double kSmoothing = 0.95;    // EMA of the step loss
// Samples per second over the last seconds of training: a tiny batch takes well under a
// millisecond, so one step's rate swings by orders of magnitude; an average of rates would follow
// the fastest steps, samples over seconds does not.
constexpr double kThroughputWindowSeconds = 2;
} // namespace

TrainCharts::TrainCharts(std::function<bool()> running, QWidget *parent)
    : QWidget(parent), running_(std::move(running)) {
  auto *chartArea = new QWidget(this);
  chartArea->setObjectName("charts");
  area_ = chartArea;
  auto *grid = new QGridLayout(chartArea);
  grid->setContentsMargins(0, 0, 0, 0);
  lossPlot_ = charts::makePlot(chartArea, "lossPlot", tr("Training loss per step"), charts::Series::Long);
  QColor rawColor = charts::seriesColor(0);
  rawColor.setAlpha(70); // the raw steps behind their smoothed curve
  rawLoss_ = lossPlot_->addGraph();
  rawLoss_->setName(tr("loss"));
  rawLoss_->setPen(QPen(rawColor));
  smoothLoss_ = lossPlot_->addGraph();
  smoothLoss_->setName(tr("smoothed"));
  smoothLoss_->setPen(QPen(charts::seriesColor(0), 2));
  lossPlot_->xAxis->setLabel(tr("step"));
  epochPlot_ = charts::makePlot(chartArea, "epochPlot", tr("Validation per epoch"));
  valLoss_ = epochPlot_->addGraph();
  valLoss_->setName(tr("val loss"));
  valLoss_->setPen(QPen(charts::negativeColor(), 2));
  valLoss_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
  trainLossEpoch_ = epochPlot_->addGraph();
  trainLossEpoch_->setName(tr("train loss"));
  trainLossEpoch_->setPen(QPen(charts::seriesColor(0), 1, Qt::DashLine));
  trainLossEpoch_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
  valAcc_ = epochPlot_->addGraph(epochPlot_->xAxis, epochPlot_->yAxis2);
  valAcc_->setName(tr("val accuracy"));
  valAcc_->setPen(QPen(charts::positiveColor(), 2));
  valAcc_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
  epochPlot_->yAxis2->setVisible(true);
  epochPlot_->yAxis2->setRange(0, 1);
  epochPlot_->yAxis->setLabel(tr("loss"));
  epochPlot_->yAxis2->setLabel(tr("accuracy"));
  epochPlot_->xAxis->setLabel(tr("epoch"));
  QSharedPointer<QCPAxisTickerFixed> epochTicks(new QCPAxisTickerFixed);
  epochTicks->setTickStep(1);
  epochTicks->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  epochPlot_->xAxis->setTicker(epochTicks);
  // With runs overlaid and no live run, the live run's three empty curves leave the legend (seven
  // entries took half the chart at 1024×700); they come back with its first epoch. Connected before
  // legendBelow's hook (slots run in connection order), which then fits the columns to what is listed.
  QObject::connect(epochPlot_, &QCustomPlot::beforeReplot, epochPlot_, [this] {
    bool anyDrawn = false;
    for (int i = 0; i < epochPlot_->graphCount(); ++i)
      anyDrawn |= !epochPlot_->graph(i)->data()->isEmpty();
    for (int i = 0; i < std::min(3, epochPlot_->graphCount()); ++i) {
      QCPGraph *g = epochPlot_->graph(i);
      const bool listed = epochPlot_->legend->hasItemWithPlottable(g);
      const bool wanted = !anyDrawn || !g->data()->isEmpty();
      if (listed && !wanted)
        g->removeFromLegend();
      else if (!listed && wanted)
        g->addToLegend();
    }
  });
  charts::legendBelow(epochPlot_);
  ratePlot_ = charts::makePlot(chartArea, "ratePlot", tr("Learning rate and throughput"), charts::Series::Long);
  lrGraph_ = ratePlot_->addGraph();
  lrGraph_->setName(tr("learning rate"));
  lrGraph_->setPen(QPen(charts::seriesColor(4), 2));
  throughput_ = ratePlot_->addGraph(ratePlot_->xAxis, ratePlot_->yAxis2);
  throughput_->setName(tr("samples/s (%1 s mean)").arg(kThroughputWindowSeconds));
  throughput_->setPen(QPen(charts::neutralColor()));
  ratePlot_->setToolTip(tr("samples/s: the samples trained in the last %1 seconds of training divided by "
                           "those seconds (validation and pauses left out), as the status line says.")
                            .arg(kThroughputWindowSeconds));
  ratePlot_->yAxis2->setVisible(true);
  ratePlot_->yAxis->setLabel("lr");
  ratePlot_->yAxis2->setLabel(tr("samples/s"));
  ratePlot_->xAxis->setLabel(tr("step"));
  charts::legendBelow(ratePlot_);
  sharePlot_ = charts::makePlot(chartArea, "sharePlot", tr("Contribution share per sub-model"));
  sharePlot_->yAxis->setRange(0, 1);
  sharePlot_->yAxis->setLabel(tr("share of |φ|"));
  sharePlot_->xAxis->setLabel(tr("epoch"));
  sharePlot_->xAxis->setTicker(epochTicks);
  confusionPlot_ = charts::makePlot(chartArea, "confusionPlot", tr("Confusion matrix (validation)"));
  confusionTitle_ = qobject_cast<QCPTextElement *>(confusionPlot_->plotLayout()->element(0, 0));
  confusionPlot_->setToolTip(tr("Each row is a true class; its cells say what share of that class was predicted as "
                                "each column (rows add up to 100%)."));
  confusionPlot_->xAxis->setLabel(tr("predicted"));
  confusionPlot_->yAxis->setLabel(tr("true class (row = 100%)"));
  connect(confusionPlot_, &QCustomPlot::afterLayout, this, &TrainCharts::fitConfusion);
  for (auto *p : {lossPlot_, epochPlot_, ratePlot_, sharePlot_, confusionPlot_})
    charts::showValuesOnHover(p);
  grid->addWidget(lossPlot_, 0, 0);
  grid->addWidget(epochPlot_, 0, 1);
  grid->addWidget(ratePlot_, 1, 0);
  grid->addWidget(sharePlot_, 1, 1);
  grid->addWidget(confusionPlot_, 0, 2, 2, 1);
  grid->setColumnStretch(0, 3);
  grid->setColumnStretch(1, 3);
  grid->setColumnStretch(2, 3);
  auto *chartScroll = new QScrollArea(this);
  chartScroll->setWidget(chartArea);
  chartScroll->setWidgetResizable(true);
  chartScroll->setFrameShape(QFrame::NoFrame);
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(chartScroll);

  // The GUI thread shares the cores with training: each of its wake-ups stalls a step, and each
  // chart drawn takes milliseconds. While a run goes the charts are drawn at most twice a second,
  // only while the tab is on screen: with the batch of steps that arrives when a draw is due (no
  // wake-up of their own), else by this timer (an epoch's charts, the last steps before a pause,
  // validation or the end; what arrived while the tab was off screen, once it is shown).
  replot_ = new QTimer(this);
  replot_->setSingleShot(true);
  connect(replot_, &QTimer::timeout, this, &TrainCharts::draw);

  clear(5);
}

void TrainCharts::showEvent(QShowEvent *event) {
  QWidget::showEvent(event);
  // Back on screen: draw what arrived meanwhile.
  stepsDirty_ = dirty_ = true;
  drawWithin(0);
}

void TrainCharts::redraw() {
  dirty_ = true;
  if (!isVisible())
    return; // drawn once shown (showEvent)
  // No run goes (it ended, an overlay was ticked): at once. During a run: with the next draw due.
  const qint64 since = drawn_.isValid() ? drawn_.elapsed() : kReplotMs;
  drawWithin(running_() ? static_cast<int>(std::max<qint64>(0, kReplotMs - since)) : 0);
}

void TrainCharts::drawWithin(int ms) {
  if (!replot_->isActive() || replot_->remainingTime() > ms)
    replot_->start(ms);
}

void TrainCharts::draw() {
  replot_->stop();
  if (!isVisible())
    return; // showEvent draws it
  drawn_.start();
  std::vector<QCustomPlot *> plots;
  if (stepsDirty_ || dirty_) {
    lossPlot_->yAxis->rescale();
    plots.push_back(lossPlot_);
    // The learning rate and throughput change slowly: every fourth time is enough, and at the end.
    if (dirty_ || ++ticks_ % 4 == 0 || !running_())
      plots.push_back(ratePlot_);
  }
  if (dirty_) {
    plots.push_back(epochPlot_);
    plots.push_back(sharePlot_);
    plots.push_back(confusionPlot_);
  }
  stepsDirty_ = dirty_ = false;
  for (auto *p : plots)
    p->replot(QCustomPlot::rpQueuedReplot);
}

void TrainCharts::redrawNow() {
  for (auto *p : {lossPlot_, epochPlot_, ratePlot_, sharePlot_})
    p->replot();
}

void TrainCharts::clear(int epochs) {
  for (auto *g : {rawLoss_, smoothLoss_, valLoss_, trainLossEpoch_, valAcc_, lrGraph_, throughput_})
    g->data()->clear();
  for (auto &[name, g] : shareGraphs_)
    sharePlot_->removeGraph(g);
  shareGraphs_.clear();
  charts::legendHidden(sharePlot_);
  for (auto *p : {lossPlot_, ratePlot_, epochPlot_, sharePlot_, confusionPlot_})
    p->clearItems();
  charts::placeholder(lossPlot_, tr("once a run starts"));
  charts::placeholder(ratePlot_, tr("once a run starts"));
  charts::placeholder(epochPlot_, tr("after the first epoch"));
  charts::placeholder(sharePlot_, tr("after the first epoch"));
  charts::placeholder(confusionPlot_, tr("after the first epoch"));
  setConfusionTitle(tr("Confusion matrix (validation)"));
  confusionPlot_->clearPlottables();
  // Nothing of the previous run or project stays: class names, epoch counts, ranges.
  confusionPlot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  confusionPlot_->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  confusionPlot_->xAxis->setTickLabelRotation(0);
  confusionPlot_->xAxis->setTickLabelFont(confusionPlot_->yAxis->tickLabelFont());
  confusionPlot_->yAxis->setRangeReversed(false);
  confusionClasses_ = 0;
  confusionCounts_.clear();
  confusionNames_.clear();
  confusionSplit_.clear();
  for (auto *p : {epochPlot_, sharePlot_})
    p->xAxis->setRange(0.5, std::max(2, epochs) + 0.5);
  epochPlot_->yAxis->setRange(0, 1);
  lossPlot_->xAxis->setRange(0, 10);
  lossPlot_->yAxis->setRange(0, 1);
  ratePlot_->xAxis->setRange(0, 10);
  ratePlot_->yAxis->setRange(0, 1);
  ratePlot_->yAxis2->setRange(0, 1);
  confusionPlot_->xAxis->setRange(0, 1);
  confusionPlot_->yAxis->setRange(0, 1);
  while (lossPlot_->graphCount() > 2)
    lossPlot_->removeGraph(lossPlot_->graphCount() - 1);
  while (epochPlot_->graphCount() > 3)
    epochPlot_->removeGraph(epochPlot_->graphCount() - 1);
  overlaySteps_ = overlayEpochs_ = liveTotalSteps_ = 0;
  liveEpochs_ = epochs;
  haveSmoothed_ = false;
  window_.clear();
  windowSamples_ = 0;
  windowSeconds_ = 0;
  maxLr_ = maxThroughput_ = 0;
  redraw();
  confusionPlot_->replot();
}

void TrainCharts::addSteps(const std::vector<StepEvent> &points, RunRecord &run) {
  if (points.empty())
    return;
  for (const auto &p : points) {
    smoothed_ = haveSmoothed_ ? kSmoothing * smoothed_ + (1 - kSmoothing) * p.loss : p.loss;
    haveSmoothed_ = true;
    const auto x = static_cast<double>(p.step);
    window_.emplace_back(p.samples, p.seconds);
    windowSamples_ += p.samples;
    windowSeconds_ += p.seconds;
    while (window_.size() > 1 && windowSeconds_ - window_.front().second >= kThroughputWindowSeconds) {
      windowSamples_ -= window_.front().first;
      windowSeconds_ -= window_.front().second;
      window_.pop_front();
    }
    rawLoss_->addData(x, p.loss);
    smoothLoss_->addData(x, smoothed_);
    lrGraph_->addData(x, p.lr);
    throughput_->addData(x, throughput());
    maxLr_ = std::max(maxLr_, p.lr);
    maxThroughput_ = std::max(maxThroughput_, throughput());
    if (run.steps.size() < kMaxStepPoints) {
      run.steps << x;
      run.losses << smoothed_;
    }
  }
  charts::clearPlaceholder(lossPlot_);
  charts::clearPlaceholder(ratePlot_);
  liveTotalSteps_ = static_cast<double>(points.back().totalSteps);
  const double steps = std::max({10.0, liveTotalSteps_, overlaySteps_});
  lossPlot_->xAxis->setRange(0, steps);
  ratePlot_->xAxis->setRange(0, steps);
  // A constant learning rate is a flat line at its value, not an axis from −2 to 2.
  ratePlot_->yAxis->setRange(0, maxLr_ > 0 ? maxLr_ * 1.15 : 1);
  ratePlot_->yAxis2->setRange(0, maxThroughput_ > 0 ? maxThroughput_ * 1.15 : 1);
  stepsDirty_ = true;
  if (!isVisible())
    return; // drawn once shown (showEvent)
  // Drawn now when due, in the same pass as the Train tab's progress and status (one paint of the
  // window). Else by the next batch that finds it due, or by the timer a batch later than that
  // (the steps stopped coming: a pause, validation, the end).
  const qint64 since = drawn_.isValid() ? drawn_.elapsed() : kReplotMs;
  if (since >= kReplotMs - kLateMs)
    draw();
  else
    drawWithin(static_cast<int>(std::max<qint64>(0, kReplotMs - since)) + kFallbackMs);
}

void TrainCharts::addEpoch(const EpochEvent &p) {
  charts::clearPlaceholder(epochPlot_);
  charts::clearPlaceholder(sharePlot_);
  valLoss_->addData(p.epoch, p.valLoss);
  trainLossEpoch_->addData(p.epoch, p.trainLoss);
  valAcc_->addData(p.epoch, p.valAccuracy);
  liveEpochs_ = p.epochs;
  const double epochs = std::max({2.0, static_cast<double>(p.epochs), overlayEpochs_});
  epochPlot_->xAxis->setRange(0.5, epochs + 0.5);
  epochPlot_->yAxis->rescale();
  epochPlot_->yAxis->setRangeLower(0);
  epochPlot_->yAxis->setRangeUpper(epochPlot_->yAxis->range().upper * 1.1);
  for (const BranchShare &s : p.shares) {
    QCPGraph *&g = shareGraphs_[QString::fromStdString(s.combine + "/" + s.branch)];
    if (!g) {
      g = sharePlot_->addGraph();
      g->setName(QString::fromStdString(s.branch));
      g->setPen(QPen(charts::seriesColor(static_cast<int>(shareGraphs_.size()) - 1), 2));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    }
    g->addData(p.epoch, s.share);
  }
  sharePlot_->xAxis->setRange(0.5, epochs + 0.5);
  if (sharePlot_->graphCount() > 0 && sharePlot_->plotLayout()->rowCount() <= 2)
    charts::legendBelow(sharePlot_); // the legend appears with the first shares, below the axes
  drawConfusion(p);
  redraw();
}

void TrainCharts::setConfusionTitle(const QString &title) {
  if (confusionTitle_)
    confusionTitle_->setText(title);
}

void TrainCharts::showTestConfusion(const std::vector<int64_t> &counts, const QStringList &classNames) {
  EpochEvent e;
  e.classes = classNames.size();
  e.confusion = counts;
  for (const QString &name : classNames)
    e.classNames.push_back(name.toStdString());
  if (e.classes <= 0 || counts.size() != static_cast<std::size_t>(e.classes * e.classes))
    return;
  drawConfusion(e);
  setConfusionTitle(tr("Confusion matrix (test)"));
  confusionSplit_ = QStringLiteral("test");
  redraw();
}

void TrainCharts::drawConfusion(const EpochEvent &e) {
  const int classes = static_cast<int>(e.classes);
  if (classes <= 0 || e.confusion.size() != static_cast<std::size_t>(classes) * static_cast<std::size_t>(classes))
    return;
  confusionPlot_->clearPlottables();
  confusionPlot_->clearItems();
  auto *map = new QCPColorMap(confusionPlot_->xAxis, confusionPlot_->yAxis);
  map->data()->setSize(classes, classes);
  map->data()->setRange(QCPRange(0, classes - 1), QCPRange(0, classes - 1));
  // One cell of the matrix: true class t, predicted class q.
  const auto cell = [&](int t, int q) {
    return e.confusion[static_cast<std::size_t>(t) * static_cast<std::size_t>(classes) + static_cast<std::size_t>(q)];
  };
  for (int t = 0; t < classes; ++t) {
    qint64 row = 0;
    for (int q = 0; q < classes; ++q)
      row += cell(t, q);
    for (int q = 0; q < classes; ++q) { // row-normalised: recall per class on the diagonal
      const double share = row ? static_cast<double>(cell(t, q)) / static_cast<double>(row) : 0;
      map->data()->setCell(q, t, share);
      if (classes <= 12 && share >= 0.005) { // the percentage in the cell, where it fits
        auto *text = new QCPItemText(confusionPlot_);
        text->position->setCoords(q, t);
        text->setText(QString::number(100 * share, 'f', 0) + "%");
        text->setColor(share > 0.5 ? Qt::white : QColor(0x20, 0x20, 0x20)); // its size: fitConfusion
      }
    }
  }
  map->setGradient(charts::shareGradient());
  map->setDataRange(QCPRange(0, 1));
  map->setInterpolate(false);
  // Class names on both axes (up to 30 classes; beyond, indices).
  if (classes <= 30) {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int c = 0; c < classes; ++c)
      ticker->addTick(c, c < static_cast<int>(e.classNames.size())
                             ? QString::fromStdString(e.classNames[static_cast<std::size_t>(c)])
                             : QString::number(c));
    confusionPlot_->xAxis->setTicker(ticker);
    confusionPlot_->yAxis->setTicker(ticker);
    confusionPlot_->xAxis->setSubTicks(false);
    confusionPlot_->yAxis->setSubTicks(false);
  }
  confusionPlot_->xAxis->setRange(-0.5, classes - 0.5);
  confusionPlot_->yAxis->setRange(-0.5, classes - 0.5);
  confusionPlot_->yAxis->setRangeReversed(true); // the first class on top, as in a table
  confusionClasses_ = classes;                   // drawn with the epoch's other charts (addEpoch)
  setConfusionTitle(tr("Confusion matrix (validation)"));
  confusionCounts_ = e.confusion;
  confusionNames_.clear();
  for (int c = 0; c < classes; ++c)
    confusionNames_ << (c < static_cast<int>(e.classNames.size())
                            ? QString::fromStdString(e.classNames[static_cast<std::size_t>(c)])
                            : QString::number(c));
  confusionSplit_ = QStringLiteral("validation");
}

// At 1024×700 ten classes leave cells some 17 pixels wide: "100%" at 7 pt ran over its neighbours
// (read "00%") and the names, 60° apart by one cell, ran into each other. The figures take the
// largest size from 7 pt down to 5 at which "100%" fits a cell, none below (the colour says it);
// the names stand upright once slanted ones would touch, smaller where even that is too tight.
void TrainCharts::fitConfusion() {
  const int classes = confusionClasses_;
  if (classes <= 0)
    return;
  const QRect cells = confusionPlot_->axisRect()->rect();
  const double width = cells.width() / static_cast<double>(classes),
               height = cells.height() / static_cast<double>(classes);
  int points = 0;
  for (int pt = 7; pt >= 5 && points == 0; --pt) {
    const QFontMetrics m(QFont(font().family(), pt));
    if (m.horizontalAdvance("100%") <= width && m.height() <= height)
      points = pt;
  }
  for (int i = 0; i < confusionPlot_->itemCount(); ++i)
    if (auto *text = qobject_cast<QCPItemText *>(confusionPlot_->item(i))) {
      text->setVisible(points > 0);
      if (points > 0)
        text->setFont(QFont(font().family(), points));
    }
  QCPAxis *x = confusionPlot_->xAxis;
  QFont names = confusionPlot_->yAxis->tickLabelFont();
  double rotation = 0;
  if (classes > 4) {
    rotation = width * std::sin(qDegreesToRadians(60.0)) >= QFontMetrics(names).height() ? 60 : 90;
    while (rotation == 90 && QFontMetrics(names).height() > width && names.pointSizeF() > 6)
      names.setPointSizeF(names.pointSizeF() - 0.5);
  }
  // A change moves the axis' margin: laid out again at the next replot, where this finds it done.
  if (x->tickLabelRotation() != rotation || x->tickLabelFont() != names) {
    x->setTickLabelRotation(rotation);
    x->setTickLabelFont(names);
    confusionPlot_->replot(QCustomPlot::rpQueuedReplot);
  }
}

void TrainCharts::markChange(qint64 step, const QString &text) {
  auto *line = new QCPItemStraightLine(lossPlot_);
  line->point1->setCoords(static_cast<double>(step), 0);
  line->point2->setCoords(static_cast<double>(step), 1);
  line->setPen(QPen(charts::markColor(), 1.5, Qt::DashLine));
  auto *label = new QCPItemText(lossPlot_);
  label->position->setTypeX(QCPItemPosition::ptPlotCoords);
  label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
  label->position->setCoords(static_cast<double>(step), 0.05);
  label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
  label->setText(text);
  label->setColor(charts::markColor());
  redraw();
}

void TrainCharts::showOverlays(const std::vector<const RunRecord *> &runs) {
  // Remove old overlay graphs (everything beyond the live ones) and add the checked runs: the
  // training loss on the loss chart (a run of this session: smoothed per step; a run read from its
  // folder: metrics.csv's train loss at each epoch's last step), its validation loss and accuracy
  // on the epoch chart. The run's folder holds no per-step rate, shares or matrix to overlay.
  while (lossPlot_->graphCount() > 2)
    lossPlot_->removeGraph(lossPlot_->graphCount() - 1);
  while (epochPlot_->graphCount() > 3)
    epochPlot_->removeGraph(epochPlot_->graphCount() - 1);
  overlaySteps_ = overlayEpochs_ = 0;
  for (const RunRecord *r : runs) {
    const RunRecord &run = *r;
    const QString number = run.name.section(' ', 0, 0);
    auto *loss = lossPlot_->addGraph();
    loss->setData(run.steps, run.losses, true);
    loss->setPen(QPen(run.color, 1.5, Qt::DotLine));
    loss->setName(run.name);
    auto *vloss = epochPlot_->addGraph();
    vloss->setData(run.epochs, run.valLoss, true);
    vloss->setPen(QPen(run.color, 1.5, Qt::DashDotLine));
    vloss->setName(number + tr(" val loss"));
    auto *acc = epochPlot_->addGraph(epochPlot_->xAxis, epochPlot_->yAxis2);
    acc->setData(run.epochs, run.valAccuracy, true);
    acc->setPen(QPen(run.color, 1.5, Qt::DotLine));
    acc->setName(number + tr(" val accuracy"));
    // A line needs two points: a run of one epoch (or one logged step) shows its points as discs.
    if (run.steps.size() < 2)
      loss->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, run.color, run.color, 6));
    if (run.epochs.size() < 2) {
      vloss->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, run.color, run.color, 6));
      acc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, run.color, run.color, 6));
    }
    if (!run.steps.isEmpty())
      overlaySteps_ = std::max(overlaySteps_, *std::max_element(run.steps.begin(), run.steps.end()));
    if (!run.epochs.isEmpty())
      overlayEpochs_ = std::max(overlayEpochs_, *std::max_element(run.epochs.begin(), run.epochs.end()));
  }
  fitAxes();
  redraw();
}

void TrainCharts::fitAxes() {
  // The x axes span the live run (its planned steps and epochs) and every overlaid run; a chart
  // with a curve drawn shows no placeholder, one with none shows it again.
  const bool liveSteps = !rawLoss_->data()->isEmpty();
  const double steps = std::max({10.0, liveSteps ? liveTotalSteps_ : 0.0, overlaySteps_});
  lossPlot_->xAxis->setRange(0, steps);
  if (liveSteps)
    ratePlot_->xAxis->setRange(0, steps);
  const double epochs = std::max({2.0, static_cast<double>(liveEpochs_), overlayEpochs_});
  epochPlot_->xAxis->setRange(0.5, epochs + 0.5);
  sharePlot_->xAxis->setRange(0.5, epochs + 0.5);
  auto drawsData = [](QCustomPlot *plot, const QCPAxis *axis) {
    for (int i = 0; i < plot->graphCount(); ++i)
      if (!plot->graph(i)->data()->isEmpty() && (!axis || plot->graph(i)->valueAxis() == axis))
        return true;
    return false;
  };
  if (drawsData(epochPlot_, epochPlot_->yAxis)) { // the losses from 0, the accuracy's axis stays 0–1
    epochPlot_->yAxis->rescale();
    epochPlot_->yAxis->setRangeLower(0);
    epochPlot_->yAxis->setRangeUpper(epochPlot_->yAxis->range().upper * 1.1);
  } else {
    epochPlot_->yAxis->setRange(0, 1);
  }
  for (QCustomPlot *plot : {lossPlot_, epochPlot_}) {
    const bool data = drawsData(plot, nullptr);
    for (int i = 0; i < plot->itemCount(); ++i)
      if (plot->item(i)->objectName() == "placeholder")
        plot->item(i)->setVisible(!data);
  }
}

bool TrainCharts::exportTo(const QString &path, QString *error) {
  auto failed = [&](const QString &why) {
    if (error)
      *error = why;
    return false;
  };
  if (path.endsWith(".csv", Qt::CaseInsensitive)) {
    // Written whole or not at all: a failed export leaves an earlier file of that name as it was.
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
      return failed(tr("%1: %2").arg(path, f.errorString()));
    QTextStream out(&f);
    const auto field = [](const QString &text) { // a class or branch name as one CSV field
      return text.contains(QRegularExpression("[\",\r\n]")) ? '"' + QString(text).replace('"', "\"\"") + '"' : text;
    };
    // One table in long form: a step's figures; an epoch's (`loss` is the epoch's training loss); a
    // sub-model's contribution share at an epoch (`branch` is "combine/branch"); or a cell of the
    // confusion matrix as drawn (`split` says whether the validation or the test split's, as the
    // chart's title does).
    out << "kind,x,loss,smoothed_loss,lr,samples_per_second,val_loss,val_accuracy,split,true_class,"
           "predicted_class,count,branch,share\n";
    auto raw = rawLoss_->data(), smooth = smoothLoss_->data(), lr = lrGraph_->data(), tp = throughput_->data();
    for (int i = 0; i < raw->size(); ++i)
      out << "step," << raw->at(i)->key << "," << raw->at(i)->value << "," << smooth->at(i)->value << ","
          << lr->at(i)->value << "," << tp->at(i)->value << ",,,,,,,,\n";
    auto vl = valLoss_->data(), va = valAcc_->data(), tl = trainLossEpoch_->data();
    for (int i = 0; i < vl->size(); ++i)
      out << "epoch," << vl->at(i)->key << "," << (i < tl->size() ? QString::number(tl->at(i)->value) : QString())
          << ",,,," << vl->at(i)->value << "," << va->at(i)->value << ",,,,,,\n";
    for (const auto &[branch, graph] : shareGraphs_)
      for (const QCPGraphData &share : *graph->data())
        out << "share," << share.key << ",,,,,,,,,,," << field(branch) << "," << share.value << "\n";
    const int classes = static_cast<int>(confusionNames_.size());
    if (confusionCounts_.size() == static_cast<std::size_t>(classes) * static_cast<std::size_t>(classes))
      for (int t = 0; t < classes; ++t)
        for (int q = 0; q < classes; ++q)
          out << "confusion,,,,,,,," << confusionSplit_ << "," << field(confusionNames_[t]) << ","
              << field(confusionNames_[q]) << ","
              << confusionCounts_[static_cast<std::size_t>(t) * static_cast<std::size_t>(classes) +
                                  static_cast<std::size_t>(q)]
              << ",,\n";
    out.flush();
    if (out.status() != QTextStream::Ok || !f.commit())
      return failed(tr("%1: %2").arg(path, f.errorString()));
    return true;
  }
  const QPixmap picture = area_->grab();
  if (path.endsWith(".pdf", Qt::CaseInsensitive)) {
    QPdfWriter pdf(path);
    pdf.setPageSize(QPageSize(QSizeF(picture.width(), picture.height()), QPageSize::Point));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    QPainter painter;
    if (!painter.begin(&pdf))
      return failed(tr("%1: cannot write a PDF there").arg(path));
    painter.drawPixmap(painter.viewport(), picture);
    return painter.end() || failed(tr("%1: cannot write a PDF there").arg(path));
  }
  if (!path.endsWith(".png", Qt::CaseInsensitive))
    return failed(tr("%1: choose .png, .pdf or .csv").arg(path));
  return picture.save(path) || failed(tr("%1: cannot write the image").arg(path));
}

} // namespace particle::ui
