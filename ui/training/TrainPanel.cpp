#include "training/TrainPanel.h"

#include "AppPaths.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "forms/SchemaForm.h"
#include "graph/Catalogue.h"
#include "recipes/GraphDiff.h"
#include "recipes/RunPlan.h"
#include "train/Checkpoint.h"
#include "project/TrainingSpec.h"
#include "project/Project.h"
#include "training/EngineWorker.h"

#include "charts/Charts.h"
#include "charts/CustomPlot.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPdfWriter>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QSplitter>
#include <QTextStream>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace particle::ui {

namespace {
constexpr int kReplotMs = 500;         // charts redraw at most twice a second while training (bench_gui)
constexpr int kMaxStepPoints = 200000; // history cap per run
constexpr double kSmoothing = 0.95;    // EMA of the step loss

QString seconds(double s) {
  const auto t = static_cast<qint64>(std::llround(s));
  if (t >= 3600)
    return QString("%1 h %2 min").arg(t / 3600).arg((t % 3600) / 60, 2, 10, QChar('0'));
  if (t >= 60)
    return QString("%1 min %2 s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
  return QString("%1 s").arg(t);
}
} // namespace

TrainPanel::TrainPanel(GraphDocument *doc, QUndoStack *undo, QWidget *parent)
    : QWidget(parent), doc_(doc), undo_(undo) {
  controller_ = new TrainingController(this);

  // ---- left column: run controls (fixed place), settings, live changes, history ----
  auto *runBox = new QGroupBox(tr("Run"), this);
  auto *runLayout = new QVBoxLayout(runBox);
  start_ = new QPushButton(tr("Start"), runBox);
  start_->setObjectName("startButton");
  start_->setShortcut(QKeySequence("Ctrl+Return"));
  start_->setToolTip(tr("Train the graph in the editor (Ctrl+Enter or F5)"));
  auto *f5 = new QShortcut(QKeySequence(Qt::Key_F5), this);
  connect(f5, &QShortcut::activated, this, [this] {
    if (start_->isEnabled())
      startRun();
  });
  pause_ = new QPushButton(tr("Pause"), runBox);
  pause_->setObjectName("pauseButton");
  pause_->setShortcut(QKeySequence("F6"));
  pause_->setToolTip(tr("Pause after the current batch; Resume applies the changes made meanwhile (F6)"));
  stop_ = new QPushButton(tr("Stop"), runBox);
  stop_->setObjectName("stopButton");
  stop_->setShortcut(QKeySequence("Shift+F5"));
  stop_->setToolTip(tr("Stop after the current batch and keep a checkpoint (Shift+F5)"));
  auto *buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(pause_);
  buttons->addWidget(stop_);
  runLayout->addLayout(buttons);
  progress_ = new QProgressBar(runBox);
  progress_->setTextVisible(true);
  runLayout->addWidget(progress_);
  progressLabel_ = new QLabel(tr("Ready. Press Start (Ctrl+Enter) to train the graph in the Design tab."), runBox);
  progressLabel_->setObjectName("trainStatus");
  progressLabel_->setWordWrap(true);
  progressLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  // Three lines, always: a status that changes length never moves the buttons.
  progressLabel_->setFixedHeight(3 * progressLabel_->fontMetrics().lineSpacing() + 4);
  progressLabel_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
  runLayout->addWidget(progressLabel_);
  auto *fixes = new QHBoxLayout;
  fixData_ = new QPushButton(tr("Open the Data panel"), runBox);
  showProblems_ = new QPushButton(tr("Show problems"), runBox);
  fixes->addWidget(fixData_);
  fixes->addWidget(showProblems_);
  fixes->addStretch();
  runLayout->addLayout(fixes);
  fixData_->hide();
  showProblems_->hide();

  auto *settingsBox = new QGroupBox(tr("Settings (saved with the project)"), this);
  auto *settingsLayout = new QVBoxLayout(settingsBox);
  form_ = new SchemaForm(settingsBox);
  form_->setObjectName("trainingForm");
  form_->setSchema(trainingSchema(), "training");
  settingsLayout->addWidget(form_);
  QStringList devices = {"auto"}, deviceLabels = {tr("auto (GPU when present)")};
  for (const QString &d : EngineWorker::availableDevices()) {
    devices << d;
    deviceLabels << EngineWorker::deviceLabel(d);
  }
  form_->setSuggestions("device", devices, deviceLabels);

  auto *live = new QGroupBox(tr("While paused"), this);
  auto *liveLayout = new QVBoxLayout(live);
  auto *liveHelp = new QLabel(tr("Change the learning rate or schedule above, or freeze sub-models (no gradient), "
                                 "then Resume. The change is marked on the loss curve."),
                              live);
  liveHelp->setWordWrap(true);
  liveLayout->addWidget(liveHelp);
  frozen_ = new QListWidget(live);
  frozen_->setObjectName("frozenList");
  frozen_->setMaximumHeight(96);
  liveLayout->addWidget(frozen_);
  apply_ = new QPushButton(tr("Apply now"), live);
  apply_->setObjectName("applyButton");
  liveLayout->addWidget(apply_);

  auto *historyBox = new QGroupBox(tr("Run history (tick to overlay)"), this);
  auto *historyLayout = new QVBoxLayout(historyBox);
  history_ = new QListWidget(historyBox);
  history_->setObjectName("historyList");
  history_->setMinimumHeight(60);
  diffLabel_ = new QLabel(historyBox);
  diffLabel_->setWordWrap(true);
  export_ = new QPushButton(tr("Export charts…"), historyBox);
  export_->setObjectName("exportChartsButton");
  historyLayout->addWidget(history_);
  historyLayout->addWidget(diffLabel_);
  historyLayout->addWidget(export_);

  auto *leftContent = new QWidget(this);
  auto *leftLayout = new QVBoxLayout(leftContent);
  leftLayout->setContentsMargins(0, 0, 4, 0);
  leftLayout->addWidget(settingsBox);
  leftLayout->addWidget(live);
  leftLayout->addWidget(historyBox);
  leftLayout->addStretch();
  auto *leftScroll = new QScrollArea(this);
  leftScroll->setWidget(leftContent);
  leftScroll->setWidgetResizable(true);
  leftScroll->setFrameShape(QFrame::NoFrame);
  leftScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  auto *left = new QWidget(this);
  auto *leftOuter = new QVBoxLayout(left);
  leftOuter->setContentsMargins(0, 0, 0, 0);
  leftOuter->addWidget(runBox);
  leftOuter->addWidget(leftScroll, 1);
  left->setMinimumWidth(250);

  // ---- charts ----
  auto *chartArea = new QWidget(this);
  chartArea->setObjectName("charts");
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
  charts::legendBelow(epochPlot_);
  ratePlot_ = charts::makePlot(chartArea, "ratePlot", tr("Learning rate and throughput"), charts::Series::Long);
  lrGraph_ = ratePlot_->addGraph();
  lrGraph_->setName(tr("learning rate"));
  lrGraph_->setPen(QPen(charts::seriesColor(4), 2));
  throughput_ = ratePlot_->addGraph(ratePlot_->xAxis, ratePlot_->yAxis2);
  throughput_->setName(tr("samples/s"));
  throughput_->setPen(QPen(charts::neutralColor()));
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
  confusionPlot_->setToolTip(tr("Each row is a true class; its cells say what share of that class was predicted as "
                                "each column (rows add up to 100%)."));
  confusionPlot_->xAxis->setLabel(tr("predicted"));
  confusionPlot_->yAxis->setLabel(tr("true class (row = 100%)"));
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

  auto *split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(chartScroll);
  split->setStretchFactor(1, 1);
  split->setSizes({300, 900});
  split->setChildrenCollapsible(false);
  auto *layout = new QHBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(split);

  replot_ = new QTimer(this);
  replot_->setInterval(kReplotMs);
  // The GUI thread shares the cores with training: redraw only what changed, only when the tab
  // is on screen, and rescale there (not on every batch of points).
  connect(replot_, &QTimer::timeout, this, [this] {
    if (!isVisible())
      return;
    if (stepsDirty_) {
      stepsDirty_ = false;
      lossPlot_->yAxis->rescale();
      lossPlot_->replot(QCustomPlot::rpQueuedReplot);
      // The learning rate and throughput change slowly: every fourth tick is enough.
      if (++ticks_ % 4 == 0 || !controller_->running())
        ratePlot_->replot(QCustomPlot::rpQueuedReplot);
    }
    if (dirty_) {
      dirty_ = false;
      for (auto *p : {lossPlot_, epochPlot_, ratePlot_, sharePlot_})
        p->replot(QCustomPlot::rpQueuedReplot);
    }
  });
  replot_->start();

  EngineWorker *worker = controller_->worker();
  connect(worker, &EngineWorker::steps, this, &TrainPanel::onSteps);
  connect(worker, &EngineWorker::epoch, this, &TrainPanel::onEpoch);
  connect(worker, &EngineWorker::finished, this, &TrainPanel::onFinished);
  connect(worker, &EngineWorker::settingsApplied, this, &TrainPanel::onSettingsApplied);
  connect(worker, &EngineWorker::log, this, [this](const QString &m) { progressLabel_->setToolTip(m); });
  connect(controller_, &TrainingController::runningChanged, this, &TrainPanel::updateButtons);
  connect(start_, &QPushButton::clicked, this, &TrainPanel::startRun);
  connect(pause_, &QPushButton::clicked, this, &TrainPanel::togglePause);
  connect(stop_, &QPushButton::clicked, this, [this] {
    if (controller_->running())
      setStatus(tr("stopping after the current batch…"));
    controller_->stop();
  });
  connect(apply_, &QPushButton::clicked, this, &TrainPanel::applyLive);
  connect(fixData_, &QPushButton::clicked, this, &TrainPanel::dataPanelRequested);
  connect(showProblems_, &QPushButton::clicked, this, &TrainPanel::problemsRequested);
  connect(export_, &QPushButton::clicked, this, [this] {
    QFileDialog dialog(this, tr("Export charts"));
    dialog.setDirectory(!lastRunFolder_.isEmpty() ? lastRunFolder_ : QFileInfo(doc_->sourcePath()).absolutePath());
    dialog.setAcceptMode(QFileDialog::AcceptSave);
    dialog.setNameFilters({tr("PNG image (*.png)"), tr("PDF (*.pdf)"), tr("CSV (*.csv)")});
    dialog.setObjectName("exportChartsDialog");
    if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty())
      return;
    QString path = dialog.selectedFiles().front();
    // The chosen type decides the suffix when none was typed.
    const QString filter = dialog.selectedNameFilter();
    const QString suffix = filter.contains("pdf") ? ".pdf" : filter.contains("csv") ? ".csv" : ".png";
    if (QFileInfo(path).suffix().isEmpty())
      path += suffix;
    QString error;
    if (!exportTo(path, &error))
      QMessageBox::warning(this, tr("Cannot export"), error);
  });
  connect(form_, &SchemaForm::edited, this, [this](const QString &key, const Json &value) {
    if (auto *cmd = commands::setTrainingKey(doc_, key, value))
      undo_->push(cmd);
  });
  connect(history_, &QListWidget::itemChanged, this, [this] { refreshOverlays(); });
  connect(history_, &QListWidget::currentRowChanged, this, &TrainPanel::showRunDiff);
  connect(doc_, &GraphDocument::modelReset, this, [this] {
    clearRuns();
    refreshForm();
    refreshFrozenList();
    // After every view has forgotten the old project (the Explain tab takes the found checkpoint).
    QTimer::singleShot(0, this, &TrainPanel::loadHistory);
  });
  connect(history_, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem *item) {
    const int row = history_->row(item);
    if (row >= 0 && row < static_cast<int>(runs_.size())) {
      const QString checkpoint = runs_[static_cast<std::size_t>(row)].folder + "/checkpoint.pt";
      if (QFile::exists(checkpoint))
        Q_EMIT explainRequested(checkpoint);
    }
  });
  history_->setToolTip(tr("Tick a run to overlay its curves; select it to see what changed in the graph since; "
                          "double-click it to explain its checkpoint."));
  connect(doc_, &GraphDocument::trainingChanged, this, &TrainPanel::refreshForm);
  connect(doc_, &GraphDocument::validated, this, [this] {
    refreshFrozenList();
    if (history_->currentRow() >= 0)
      showRunDiff(history_->currentRow());
  });
  refreshForm();
  clearCharts();
  updateButtons();
}

void TrainPanel::showEvent(QShowEvent *event) {
  QWidget::showEvent(event);
  // Back on screen: draw what arrived meanwhile.
  stepsDirty_ = dirty_ = true;
}

TrainPanel::~TrainPanel() {
  shutdown();
}

void TrainPanel::shutdown() {
  controller_->stopAndWait();
}

QString TrainPanel::runsFolder() const {
  if (!runsFolder_.isEmpty())
    return runsFolder_;
  return runsFolderFor(doc_->filePath());
}

void TrainPanel::refreshForm() {
  const Json &section = doc_->project().training;
  form_->setValues(section);
  std::map<std::string, QString> problems;
  try {
    parseTrainingSpec(section);
  } catch (const KeyError &e) {
    problems[e.field()] = QString::fromStdString(e.detail());
  } catch (const Error &) {
    // "training: must be an object" is about no key: the status line says it.
  }
  form_->setProblems(problems);
}

void TrainPanel::setStatus(const QString &text, bool error) {
  // An error is shown whole (it may take more than the three lines a progress line has).
  const int threeLines = 3 * progressLabel_->fontMetrics().lineSpacing() + 4;
  progressLabel_->setMinimumHeight(threeLines);
  progressLabel_->setMaximumHeight(error ? QWIDGETSIZE_MAX : threeLines);
  progressLabel_->setText(text);
  progressLabel_->setStyleSheet(error ? "color: #d03030" : QString());
}

void TrainPanel::refreshFrozenList() {
  QStringList checked, wanted;
  for (int i = 0; i < frozen_->count(); ++i)
    if (frozen_->item(i)->checkState() == Qt::Checked)
      checked << frozen_->item(i)->text();
  for (const auto &n : doc_->graph().nodes) {
    const NodeType *t = Catalogue::instance().find(n.type);
    if (t && t->shareable)
      wanted << QString::fromStdString(n.id);
  }
  bool same = frozen_->count() == wanted.size();
  for (int i = 0; same && i < wanted.size(); ++i)
    same = frozen_->item(i)->text() == wanted[i];
  if (same)
    return;
  frozen_->clear();
  for (const QString &id : wanted) {
    auto *item = new QListWidgetItem(id, frozen_);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(checked.contains(id) ? Qt::Checked : Qt::Unchecked);
    const Node *n = doc_->graph().find(id.toStdString());
    if (n && !n->share.empty())
      item->setToolTip(n->shareScope == "trunk"
                           ? tr("%1 shares its trunk with group \"%2\": freezing it freezes the shared trunk for "
                                "every member; its own last layer too.")
                                 .arg(id, QString::fromStdString(n->share))
                           : tr("%1 is tied to group \"%2\": freezing it freezes the one module every member uses.")
                                 .arg(id, QString::fromStdString(n->share)));
  }
}

void TrainPanel::clearCharts() {
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
  confusionPlot_->clearPlottables();
  // Nothing of the previous run or project stays: class names, epoch counts, ranges.
  confusionPlot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  confusionPlot_->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  confusionPlot_->xAxis->setTickLabelRotation(0);
  confusionPlot_->yAxis->setRangeReversed(false);
  int epochs = 5;
  try {
    epochs = parseTrainingSpec(doc_->project().training).epochs;
  } catch (const Error &) {
  }
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
  haveSmoothed_ = false;
  smoothedThroughput_ = 0;
  lastStep_ = 0;
  maxLr_ = maxThroughput_ = 0;
  progress_->reset();
  dirty_ = true;
  confusionPlot_->replot();
}

void TrainPanel::clearRuns() {
  if (controller_->running())
    controller_->stopAndWait();
  clearCharts();
  runs_.clear();
  history_->clear();
  diffLabel_->clear();
  lastCheckpoint_.clear();
  lastRunFolder_.clear();
  setStatus(tr("Ready. Press Start (Ctrl+Enter) to train the graph in the Design tab."));
  fixData_->hide();
  showProblems_->hide();
  for (auto *p : {lossPlot_, epochPlot_, ratePlot_, sharePlot_})
    p->replot();
}

void TrainPanel::loadHistory() {
  // Earlier runs of this project (folders "<name>-<timestamp>" with a summary), oldest first.
  const QString prefix = QString::fromStdString(safeRunName(doc_->project().name)) + "-";
  const QDir dir(runsFolder());
  QFileInfoList folders = dir.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
  folders.erase(std::remove_if(folders.begin(), folders.end(),
                               [&](const QFileInfo &f) {
                                 return !f.fileName().startsWith(prefix) ||
                                        !QFile::exists(f.filePath() + "/summary.json");
                               }),
                folders.end());
  constexpr int kMaxHistory = 20;
  if (folders.size() > kMaxHistory)
    folders = folders.mid(folders.size() - kMaxHistory);
  const std::string hash = graphHash(doc_->graph());
  QString newest;
  // Two resets in a row (the app starts with a new project and then opens one) ask twice; a run
  // already listed (loaded before, or started here) is listed once.
  QStringList listed;
  for (const Run &r : runs_)
    listed << QFileInfo(r.folder).absoluteFilePath();
  for (const QFileInfo &f : folders) {
    if (listed.contains(f.absoluteFilePath()))
      continue;
    try {
      const Json summary = Json::parse(readTextFile((f.filePath() + "/summary.json").toStdString()));
      Run run;
      run.folder = f.filePath();
      run.name = tr("#%1 of %2").arg(runs_.size() + 1).arg(f.fileName().mid(prefix.size(), 15));
      run.color = charts::seriesColor(static_cast<int>(runs_.size()));
      if (QFile::exists(f.filePath() + "/project.particle.json"))
        run.graphSnapshot = QString::fromStdString(
            particle::ui::graphSnapshot(loadProject((f.filePath() + "/project.particle.json").toStdString()).graph));
      // Curves from metrics.csv: one point per epoch (train loss at its step, validation).
      QFile metrics(f.filePath() + "/metrics.csv");
      if (metrics.open(QIODevice::ReadOnly)) {
        const QStringList lines = QString::fromUtf8(metrics.readAll()).split('\n', Qt::SkipEmptyParts);
        // Columns by their header names, so a file with more or reordered columns still reads.
        const QStringList header = lines.value(0).split(',');
        const int epoch = header.indexOf("epoch"), step = header.indexOf("step"), loss = header.indexOf("train_loss"),
                  valLoss = header.indexOf("val_loss"), valAccuracy = header.indexOf("val_accuracy");
        const int needed = std::max({epoch, step, loss, valLoss, valAccuracy});
        for (int i = 1; i < lines.size() && std::min({epoch, step, loss, valLoss, valAccuracy}) >= 0; ++i) {
          const QStringList c = lines[i].split(',');
          if (c.size() <= needed)
            continue;
          run.epochs << c[epoch].toDouble();
          run.steps << c[step].toDouble();
          run.losses << c[loss].toDouble();
          run.valLoss << c[valLoss].toDouble();
          run.valAccuracy << c[valAccuracy].toDouble();
        }
      }
      const QString status = QString::fromStdString(summary.value("status", ""));
      auto *item = new QListWidgetItem(
          run.name + (status == "completed" || status == "stopped" || status == "early-stopped"
                          ? QString(" — %1, %2%").arg(status).arg(100 * summary.value("test_accuracy", 0.0), 0, 'f', 1)
                          : QString(" — %1").arg(status)),
          history_);
      item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
      item->setCheckState(Qt::Unchecked);
      item->setForeground(run.color);
      item->setToolTip(run.folder);
      runs_.push_back(run);
      if (summary.value("graph_hash", "") == hash && QFile::exists(f.filePath() + "/checkpoint.pt"))
        newest = f.filePath() + "/checkpoint.pt";
    } catch (const std::exception &) {
      // A run folder that cannot be read is skipped; it is still on disk.
    }
  }
  if (!newest.isEmpty()) {
    lastCheckpoint_ = newest;
    Q_EMIT checkpointFound(newest);
  }
}

QString TrainPanel::lastCheckpoint() const {
  return lastCheckpoint_.isEmpty() ? doc_->startCheckpoint() : lastCheckpoint_;
}

void TrainPanel::startRun() {
  if (controller_->running())
    return;
  fixData_->hide();
  showProblems_->hide();
  const Validation &v = doc_->validation();
  // The memory estimate, with its figures: a run that cannot fit is refused, one that fills most of
  // the free memory starts with the warning.
  QString memoryNote;
  for (const Problem &p : v.problems)
    if (p.code == ProblemCode::MemoryTooLarge || p.code == ProblemCode::MemoryHigh)
      memoryNote = QString::fromStdString(p.format(""));
  if (v.has(ProblemCode::MemoryTooLarge) && v.errorCount() == 1) {
    setStatus(tr("Cannot start: %1").arg(memoryNote), true);
    return;
  }
  if (!v.ok()) {
    if (!doc_->dataError().isEmpty()) {
      setStatus(tr("The data set cannot be read: %1").arg(doc_->dataError()), true);
      fixData_->show();
    } else {
      setStatus(tr("The graph has %n problem(s); fix them first (Problems panel).", "", v.errorCount()), true);
      showProblems_->show();
    }
    return;
  }
  QString out;
  try {
    out = QString::fromStdString(newRunFolder(runsFolder().toStdString(), doc_->project().name));
  } catch (const Error &e) {
    setStatus(tr("Cannot start: %1").arg(QString::fromStdString(e.what())), true);
    return;
  }
  clearCharts();
  Run run;
  run.name = tr("#%1 at %2").arg(runs_.size() + 1).arg(QDateTime::currentDateTime().toString("HH:mm:ss"));
  run.folder = out;
  run.graphSnapshot = QString::fromStdString(doc_->graphSnapshot());
  run.color = charts::seriesColor(static_cast<int>(runs_.size()));
  runs_.push_back(run);
  auto *item = new QListWidgetItem(run.name + tr(" (running)"), history_);
  item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
  item->setCheckState(Qt::Unchecked);
  item->setForeground(run.color);
  item->setToolTip(out);
  lastRunFolder_ = out;
  // Relative data paths resolve against the file the project came from (an example's too).
  const QString path = doc_->sourcePath().isEmpty() ? out + "/project.particle.json" : doc_->sourcePath();
  // A document that starts from a checkpoint (a search variant's trial) continues from it, once:
  // the run it starts is the newest checkpoint after that. One of another graph (the graph was
  // edited since) is left: the run starts from initial weights.
  QString resumeFrom;
  if (const QString start = doc_->startCheckpoint(); !start.isEmpty()) {
    try {
      if (readCheckpointFile(start.toStdString()).meta.value("graph_hash", "") == graphHash(doc_->graph()))
        resumeFrom = start;
    } catch (const std::exception &) {
    }
    doc_->setStartCheckpoint(QString());
  }
  appliedLive_ = liveSettings();
  int64_t batch = 0;
  try {
    const TrainingSpec spec = parseTrainingSpec(doc_->project().training);
    runWorkers_ = spec.workers;
    batch = spec.batchSize;
  } catch (const Error &) {
    runWorkers_ = 1; // the engine reports the bad setting
  }
  setStatus(runWorkers_ > 1 ? tr("starting %1 worker processes: each takes %2 samples per step, %3 in all; Pause "
                                 "is not available, Stop is")
                                  .arg(runWorkers_)
                                  .arg(batch)
                                  .arg(batch * runWorkers_)
            : v.memory.total() > 0 ? tr("loading data… (training needs about %1 of memory)")
                                         .arg(QString::fromStdString(memoryText(v.memory.total())))
                                   : tr("loading data…"));
  if (!resumeFrom.isEmpty())
    setStatus(tr("continuing from %1…").arg(resumeFrom));
  if (!memoryNote.isEmpty())
    setStatus(memoryNote, true); // the warning stays until the first step is shown
  controller_->start(QString::fromStdString(doc_->text()), path, out, resumeFrom);
}

LiveSettings TrainPanel::liveSettings() const {
  LiveSettings s;
  try {
    const TrainingSpec spec = parseTrainingSpec(doc_->project().training);
    s.lr = spec.lr;
    s.schedule = QString::fromStdString(spec.schedule);
  } catch (const Error &) {
  }
  for (int i = 0; i < frozen_->count(); ++i)
    if (frozen_->item(i)->checkState() == Qt::Checked)
      s.frozen << frozen_->item(i)->text();
  return s;
}

void TrainPanel::applyLive() {
  const LiveSettings s = liveSettings();
  appliedLive_ = s;
  controller_->applyLive(s);
}

void TrainPanel::togglePause() {
  if (!controller_->running())
    return;
  if (controller_->paused()) {
    // Changes made while paused take effect as the run resumes.
    const LiveSettings now = liveSettings();
    if (now.lr != appliedLive_.lr || now.schedule != appliedLive_.schedule || now.frozen != appliedLive_.frozen)
      applyLive();
    controller_->resume();
    setStatus(tr("resumed at step %1").arg(lastStep_));
  } else {
    controller_->pause();
    setStatus(
        tr("paused at step %1: change the learning rate, schedule or frozen sub-models, then Resume").arg(lastStep_));
  }
  updateButtons();
}

void TrainPanel::onSteps(const QVector<StepPoint> &points) {
  if (points.isEmpty() || runs_.empty())
    return;
  Run &run = runs_.back();
  for (const auto &p : points) {
    smoothed_ = haveSmoothed_ ? kSmoothing * smoothed_ + (1 - kSmoothing) * p.loss : p.loss;
    haveSmoothed_ = true;
    const auto x = static_cast<double>(p.step);
    // Samples per second of one step are noisy: the chart shows their running average.
    smoothedThroughput_ = smoothedThroughput_ > 0
                              ? kSmoothing * smoothedThroughput_ + (1 - kSmoothing) * p.samplesPerSecond
                              : p.samplesPerSecond;
    rawLoss_->addData(x, p.loss);
    smoothLoss_->addData(x, smoothed_);
    lrGraph_->addData(x, p.lr);
    throughput_->addData(x, smoothedThroughput_);
    maxLr_ = std::max(maxLr_, p.lr);
    maxThroughput_ = std::max(maxThroughput_, smoothedThroughput_);
    if (run.steps.size() < kMaxStepPoints) {
      run.steps << x;
      run.losses << smoothed_;
    }
  }
  for (auto *plot : {lossPlot_, ratePlot_})
    for (int i = plot->itemCount() - 1; i >= 0; --i)
      if (plot->item(i)->objectName() == "placeholder")
        plot->removeItem(i);
  const StepPoint &last = points.back();
  lastStep_ = last.step;
  lastLr_ = last.lr;
  progress_->setRange(0, static_cast<int>(last.totalSteps));
  progress_->setValue(static_cast<int>(last.step));
  // The text is read by a person: four times a second is enough, and each change costs a relayout.
  const bool statusDue = !statusClock_.isValid() || statusClock_.elapsed() >= 250 || last.step == last.totalSteps;
  if (statusDue)
    statusClock_.restart();
  if (statusDue && !controller_->paused())
    setStatus(tr("epoch %1 · step %2 of %3 · loss %4\n%5 samples/s · %6 left")
                  .arg(last.epoch + 1)
                  .arg(last.step)
                  .arg(last.totalSteps)
                  .arg(last.loss, 0, 'f', 4)
                  .arg(smoothedThroughput_, 0, 'f', 0)
                  .arg(seconds(last.etaSeconds)));
  const double steps = std::max<double>(10, static_cast<double>(last.totalSteps));
  lossPlot_->xAxis->setRange(0, steps);
  ratePlot_->xAxis->setRange(0, steps);
  // A constant learning rate is a flat line at its value, not an axis from −2 to 2.
  ratePlot_->yAxis->setRange(0, maxLr_ > 0 ? maxLr_ * 1.15 : 1);
  ratePlot_->yAxis2->setRange(0, maxThroughput_ > 0 ? maxThroughput_ * 1.15 : 1);
  stepsDirty_ = true;
}

void TrainPanel::onEpoch(const EpochPoint &p) {
  if (runs_.empty())
    return;
  Run &run = runs_.back();
  for (auto *plot : {epochPlot_, sharePlot_})
    for (int i = plot->itemCount() - 1; i >= 0; --i)
      if (plot->item(i)->objectName() == "placeholder")
        plot->removeItem(i);
  valLoss_->addData(p.epoch, p.valLoss);
  trainLossEpoch_->addData(p.epoch, p.trainLoss);
  valAcc_->addData(p.epoch, p.valAccuracy);
  run.epochs << p.epoch;
  run.valLoss << p.valLoss;
  run.valAccuracy << p.valAccuracy;
  epochPlot_->xAxis->setRange(0.5, std::max(2, p.epochs) + 0.5);
  epochPlot_->yAxis->rescale();
  epochPlot_->yAxis->setRangeLower(0);
  epochPlot_->yAxis->setRangeUpper(epochPlot_->yAxis->range().upper * 1.1);
  for (int i = 0; i < p.shares.size(); ++i) {
    QCPGraph *&g = shareGraphs_[p.shareBranches[i]];
    if (!g) {
      g = sharePlot_->addGraph();
      g->setName(p.shareBranches[i].section('/', 1));
      g->setPen(QPen(charts::seriesColor(static_cast<int>(shareGraphs_.size()) - 1), 2));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    }
    g->addData(p.epoch, p.shares[i]);
  }
  sharePlot_->xAxis->setRange(0.5, std::max(2, p.epochs) + 0.5);
  if (sharePlot_->graphCount() > 0 && sharePlot_->plotLayout()->rowCount() <= 2)
    charts::legendBelow(sharePlot_); // the legend appears with the first shares, below the axes
  drawConfusion(p);
  dirty_ = true;
  Q_EMIT epochReceived(p);
}

void TrainPanel::drawConfusion(const EpochPoint &p) {
  if (p.classes <= 0 || p.confusion.size() != static_cast<qsizetype>(p.classes) * p.classes)
    return;
  confusionPlot_->clearPlottables();
  confusionPlot_->clearItems();
  auto *map = new QCPColorMap(confusionPlot_->xAxis, confusionPlot_->yAxis);
  map->data()->setSize(p.classes, p.classes);
  map->data()->setRange(QCPRange(0, p.classes - 1), QCPRange(0, p.classes - 1));
  for (int t = 0; t < p.classes; ++t) {
    qint64 row = 0;
    for (int q = 0; q < p.classes; ++q)
      row += p.confusion[t * p.classes + q];
    for (int q = 0; q < p.classes; ++q) { // row-normalised: recall per class on the diagonal
      const double share = row ? static_cast<double>(p.confusion[t * p.classes + q]) / row : 0;
      map->data()->setCell(q, t, share);
      if (p.classes <= 12 && share >= 0.005) { // the percentage in the cell, where it fits
        auto *text = new QCPItemText(confusionPlot_);
        text->position->setCoords(q, t);
        text->setText(QString::number(100 * share, 'f', 0) + "%");
        text->setFont(QFont(font().family(), 7));
        text->setColor(share > 0.5 ? Qt::white : QColor(0x20, 0x20, 0x20));
      }
    }
  }
  map->setGradient(charts::shareGradient());
  map->setDataRange(QCPRange(0, 1));
  map->setInterpolate(false);
  // Class names on both axes (up to 30 classes; beyond, indices).
  if (p.classes <= 30) {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int c = 0; c < p.classes; ++c)
      ticker->addTick(c, p.classNames.value(c, QString::number(c)));
    confusionPlot_->xAxis->setTicker(ticker);
    confusionPlot_->yAxis->setTicker(ticker);
    confusionPlot_->xAxis->setTickLabelRotation(p.classes > 4 ? 60 : 0);
    confusionPlot_->xAxis->setSubTicks(false);
    confusionPlot_->yAxis->setSubTicks(false);
  }
  confusionPlot_->xAxis->setRange(-0.5, p.classes - 0.5);
  confusionPlot_->yAxis->setRange(-0.5, p.classes - 0.5);
  confusionPlot_->yAxis->setRangeReversed(true); // the first class on top, as in a table
  confusionPlot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainPanel::onSettingsApplied(const LiveSettings &s, qint64 step) {
  auto *line = new QCPItemStraightLine(lossPlot_);
  line->point1->setCoords(static_cast<double>(step), 0);
  line->point2->setCoords(static_cast<double>(step), 1);
  line->setPen(QPen(charts::markColor(), 1.5, Qt::DashLine));
  auto *label = new QCPItemText(lossPlot_);
  label->position->setTypeX(QCPItemPosition::ptPlotCoords);
  label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
  label->position->setCoords(static_cast<double>(step), 0.05);
  label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
  QString text = QString(" lr %1").arg(s.lr, 0, 'g', 3);
  if (!s.frozen.isEmpty())
    text += tr(", frozen: %1").arg(s.frozen.join(", "));
  label->setText(text);
  label->setColor(charts::markColor());
  dirty_ = true;
  setStatus(tr("applied at step %1:%2").arg(step).arg(text));
}

void TrainPanel::onFinished(const RunFinished &r) {
  lastCheckpoint_ = r.failed && !QFile::exists(r.checkpoint) ? QString() : r.checkpoint;
  // A run stopped in its first epoch has no whole epoch to name: say the steps instead.
  const QString when = r.epochs > 0 ? tr("after %n epoch(s)", "", r.epochs) : tr("at step %1").arg(r.steps);
  QString text = r.failed ? tr("Run failed: %1").arg(r.message)
                          : tr("%1 %2: test accuracy %3%, test loss %4")
                                .arg(r.status, when)
                                .arg(100 * r.testAccuracy, 0, 'f', 2)
                                .arg(r.testLoss, 0, 'f', 4);
  if (r.status == "stopped")
    text += "\n" + tr("The checkpoint keeps the weights so far.");
  else if (!r.message.isEmpty() && !r.failed)
    text += "\n" + r.message;
  setStatus(text, r.failed);
  // The whole story, however long, is one hover away.
  progressLabel_->setToolTip(r.message + "\n" + tr("Run folder: %1").arg(r.outDir));
  if (auto *item = history_->item(history_->count() - 1)) {
    item->setText(runs_.back().name + (r.failed
                                           ? QString(" — %1").arg(r.status)
                                           : QString(" — %1, %2%").arg(r.status).arg(100 * r.testAccuracy, 0, 'f', 1)));
    item->setToolTip(r.outDir);
  }
  updateButtons();
  dirty_ = true;
  Q_EMIT runFinished(r);
}

void TrainPanel::updateButtons() {
  const bool running = controller_->running();
  const bool paused = running && controller_->paused();
  start_->setEnabled(!running);
  // A worker process cannot wait out a pause: the others would time out in the gradient sum.
  pause_->setEnabled(running && runWorkers_ <= 1);
  pause_->setToolTip(running && runWorkers_ > 1
                         ? tr("A run with %1 workers can be stopped, not paused").arg(runWorkers_)
                         : tr("Pause after the current batch; Resume applies the changes made meanwhile (F6)"));
  pause_->setText(paused ? tr("Resume") : tr("Pause"));
  if (running && !runs_.empty())
    if (auto *item = history_->item(history_->count() - 1))
      item->setText(runs_.back().name + (paused ? tr(" (paused)") : tr(" (running)")));
  stop_->setEnabled(running);
  apply_->setEnabled(paused);
  frozen_->setEnabled(!running || paused);
  // While a run goes, only what can change mid-run is editable, and only while paused.
  form_->setEditable(
      [running, paused](const std::string &key) { return !running || (paused && (key == "lr" || key == "schedule")); });
}

void TrainPanel::refreshOverlays() {
  // Remove old overlay graphs (everything beyond the live ones) and add the checked runs.
  while (lossPlot_->graphCount() > 2)
    lossPlot_->removeGraph(lossPlot_->graphCount() - 1);
  while (epochPlot_->graphCount() > 3)
    epochPlot_->removeGraph(epochPlot_->graphCount() - 1);
  for (int i = 0; i < history_->count() && i < static_cast<int>(runs_.size()); ++i) {
    if (history_->item(i)->checkState() != Qt::Checked)
      continue;
    const Run &run = runs_[static_cast<std::size_t>(i)];
    auto *loss = lossPlot_->addGraph();
    loss->setData(run.steps, run.losses, true);
    loss->setPen(QPen(run.color, 1.5, Qt::DotLine));
    loss->setName(run.name);
    auto *acc = epochPlot_->addGraph(epochPlot_->xAxis, epochPlot_->yAxis2);
    acc->setData(run.epochs, run.valAccuracy, true);
    acc->setPen(QPen(run.color, 1.5, Qt::DotLine));
    acc->setName(run.name.section(' ', 0, 0) + tr(" val accuracy"));
    // A line needs two points: a run of one epoch (or one logged step) shows its points as discs.
    if (run.steps.size() < 2)
      loss->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, run.color, run.color, 6));
    if (run.epochs.size() < 2)
      acc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, run.color, run.color, 6));
  }
  dirty_ = true;
}

void TrainPanel::showRunDiff(int index) {
  if (index < 0 || index >= static_cast<int>(runs_.size())) {
    diffLabel_->clear();
    return;
  }
  // A run folder without its project copy (written by hand, or cut short) has no graph to compare:
  // say so rather than let the parse error escape the slot (which ended the app).
  const QString snapshot = runs_[static_cast<std::size_t>(index)].graphSnapshot;
  Graph then;
  bool read = !snapshot.isEmpty();
  if (read) {
    try {
      then = graphFromSnapshot(snapshot.toStdString());
    } catch (const std::exception &) {
      read = false;
    }
  }
  if (!read) {
    diffLabel_->setText(tr("No graph of this run to compare (its project.particle.json is missing or unreadable)."));
    return;
  }
  const auto diffs = diffGraphs(then, doc_->graph());
  QStringList lines;
  for (std::size_t i = 0; i < diffs.size() && i < 12; ++i)
    lines << QString::fromStdString(diffs[i]);
  if (diffs.size() > 12)
    lines << tr("… and %1 more").arg(diffs.size() - 12);
  diffLabel_->setText(diffs.empty() ? tr("Same graph as now.") : tr("Changed since this run:\n") + lines.join("\n"));
}

bool TrainPanel::exportTo(const QString &path, QString *error) {
  auto failed = [&](const QString &why) {
    if (error)
      *error = why;
    return false;
  };
  QWidget *charts = findChild<QWidget *>("charts");
  if (path.endsWith(".csv", Qt::CaseInsensitive)) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
      return failed(tr("%1: %2").arg(path, f.errorString()));
    QTextStream out(&f);
    out << "kind,x,loss,smoothed_loss,lr,samples_per_second,val_loss,val_accuracy\n";
    auto raw = rawLoss_->data(), smooth = smoothLoss_->data(), lr = lrGraph_->data(), tp = throughput_->data();
    for (int i = 0; i < raw->size(); ++i)
      out << "step," << raw->at(i)->key << "," << raw->at(i)->value << "," << smooth->at(i)->value << ","
          << lr->at(i)->value << "," << tp->at(i)->value << ",,\n";
    auto vl = valLoss_->data(), va = valAcc_->data();
    for (int i = 0; i < vl->size(); ++i)
      out << "epoch," << vl->at(i)->key << ",,,,," << vl->at(i)->value << "," << va->at(i)->value << "\n";
    out.flush();
    if (f.error() != QFile::NoError)
      return failed(tr("%1: %2").arg(path, f.errorString()));
    return true;
  }
  const QPixmap picture = charts->grab();
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
