#include "training/TrainPanel.h"

#include "document/GraphDocument.h"
#include "graph/Catalogue.h"
#include "train/TrainingSpec.h"
#include "training/EngineWorker.h"

#include "training/CustomPlot.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QListWidget>
#include <QPdfWriter>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QTextStream>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>

namespace particle::ui {

namespace {
constexpr int kReplotMs = 33;          // ≤ 30 redraws per second
constexpr int kMaxStepPoints = 200000; // history cap per run
constexpr double kSmoothing = 0.95;    // EMA of the step loss

QCustomPlot *makePlot(const QString &title, QWidget *parent) {
  auto *plot = new QCustomPlot(parent);
  plot->setMinimumSize(260, 170);
  plot->plotLayout()->insertRow(0);
  auto *heading = new QCPTextElement(plot, title, QFont(plot->font().family(), 9, QFont::Bold));
  plot->plotLayout()->addElement(0, 0, heading);
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot->setNoAntialiasingOnDrag(true);
  const QPalette pal = plot->palette();
  plot->setBackground(pal.color(QPalette::Base));
  for (auto *axis : {plot->xAxis, plot->yAxis, plot->yAxis2}) {
    axis->setBasePen(QPen(pal.color(QPalette::Text)));
    axis->setTickPen(QPen(pal.color(QPalette::Text)));
    axis->setSubTickPen(QPen(pal.color(QPalette::Mid)));
    axis->setTickLabelColor(pal.color(QPalette::Text));
    axis->setLabelColor(pal.color(QPalette::Text));
    axis->grid()->setPen(QPen(pal.color(QPalette::Midlight), 0, Qt::DotLine));
  }
  heading->setTextColor(pal.color(QPalette::Text));
  // Hover: the value under the cursor.
  QObject::connect(plot, &QCustomPlot::mouseMove, plot, [plot](QMouseEvent *e) {
    const double x = plot->xAxis->pixelToCoord(e->position().x());
    const double y = plot->yAxis->pixelToCoord(e->position().y());
    QToolTip::showText(e->globalPosition().toPoint(), QString("x %1\ny %2").arg(x, 0, 'g', 5).arg(y, 0, 'g', 4), plot);
  });
  return plot;
}

QColor seriesColor(int i) {
  static const QColor colors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                                  QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                  QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f)};
  return colors[i % 8];
}
} // namespace

TrainPanel::TrainPanel(GraphDocument *doc, QWidget *parent) : QWidget(parent), doc_(doc) {
  controller_ = new TrainingController(this);

  // ---- settings column ----
  auto *settings = new QGroupBox(tr("Run"), this);
  auto *form = new QFormLayout(settings);
  device_ = new QComboBox(settings);
  device_->addItems(EngineWorker::availableDevices());
  optimizer_ = new QComboBox(settings);
  optimizer_->addItems({"adam", "adamw", "sgd"});
  lr_ = new QDoubleSpinBox(settings);
  lr_->setDecimals(6);
  lr_->setRange(1e-6, 10);
  lr_->setSingleStep(0.0005);
  schedule_ = new QComboBox(settings);
  schedule_->addItems({"constant", "step", "cosine"});
  batch_ = new QSpinBox(settings);
  batch_->setRange(1, 65536);
  epochs_ = new QSpinBox(settings);
  epochs_->setRange(1, 10000);
  seed_ = new QSpinBox(settings);
  seed_->setRange(0, 1 << 30);
  form->addRow(tr("device"), device_);
  form->addRow(tr("optimizer"), optimizer_);
  form->addRow(tr("learning rate"), lr_);
  form->addRow(tr("schedule"), schedule_);
  form->addRow(tr("batch size"), batch_);
  form->addRow(tr("epochs"), epochs_);
  form->addRow(tr("seed"), seed_);
  start_ = new QPushButton(tr("Start"), settings);
  start_->setShortcut(QKeySequence("Ctrl+Return"));
  pause_ = new QPushButton(tr("Pause"), settings);
  stop_ = new QPushButton(tr("Stop"), settings);
  auto *buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(pause_);
  buttons->addWidget(stop_);
  form->addRow(buttons);
  progress_ = new QProgressBar(settings);
  progressLabel_ = new QLabel(tr("idle"), settings);
  progressLabel_->setWordWrap(true);
  progressLabel_->setMinimumHeight(3 * progressLabel_->fontMetrics().height());
  form->addRow(progress_);
  form->addRow(progressLabel_);

  auto *live = new QGroupBox(tr("While paused"), this);
  auto *liveLayout = new QVBoxLayout(live);
  liveLayout->addWidget(new QLabel(tr("Change the learning rate or schedule above, or freeze sub-models, then "
                                      "Apply and Resume. The change is marked on the curves."),
                                   live));
  liveLayout->itemAt(0)->widget()->setProperty("wordWrap", true);
  frozen_ = new QListWidget(live);
  frozen_->setMaximumHeight(110);
  liveLayout->addWidget(frozen_);
  apply_ = new QPushButton(tr("Apply"), live);
  liveLayout->addWidget(apply_);

  auto *historyBox = new QGroupBox(tr("Run history (check to overlay)"), this);
  auto *historyLayout = new QVBoxLayout(historyBox);
  history_ = new QListWidget(historyBox);
  diffLabel_ = new QLabel(historyBox);
  diffLabel_->setWordWrap(true);
  export_ = new QPushButton(tr("Export charts…"), historyBox);
  historyLayout->addWidget(history_);
  historyLayout->addWidget(diffLabel_);
  historyLayout->addWidget(export_);

  auto *left = new QWidget(this);
  auto *leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(settings);
  leftLayout->addWidget(live);
  leftLayout->addWidget(historyBox, 1);
  left->setMaximumWidth(330);

  // ---- charts ----
  auto *charts = new QWidget(this);
  charts->setObjectName("charts");
  auto *grid = new QGridLayout(charts);
  lossPlot_ = makePlot(tr("Training loss per step"), charts);
  rawLoss_ = lossPlot_->addGraph();
  rawLoss_->setPen(QPen(QColor(0x1f, 0x77, 0xb4, 70)));
  smoothLoss_ = lossPlot_->addGraph();
  smoothLoss_->setPen(QPen(QColor(0x1f, 0x77, 0xb4), 2));
  lossPlot_->xAxis->setLabel(tr("step"));
  epochPlot_ = makePlot(tr("Validation per epoch"), charts);
  valLoss_ = epochPlot_->addGraph();
  valLoss_->setName(tr("val loss"));
  valLoss_->setPen(QPen(QColor(0xd6, 0x27, 0x28), 2));
  valLoss_->setScatterStyle(QCPScatterStyle::ssDisc);
  trainLossEpoch_ = epochPlot_->addGraph();
  trainLossEpoch_->setName(tr("train loss"));
  trainLossEpoch_->setPen(QPen(QColor(0x1f, 0x77, 0xb4), 1, Qt::DashLine));
  valAcc_ = epochPlot_->addGraph(epochPlot_->xAxis, epochPlot_->yAxis2);
  valAcc_->setName(tr("val accuracy"));
  valAcc_->setPen(QPen(QColor(0x2c, 0xa0, 0x2c), 2));
  valAcc_->setScatterStyle(QCPScatterStyle::ssDisc);
  epochPlot_->yAxis2->setVisible(true);
  epochPlot_->yAxis2->setRange(0, 1);
  epochPlot_->yAxis->setLabel(tr("loss"));
  epochPlot_->yAxis2->setLabel(tr("accuracy"));
  epochPlot_->xAxis->setLabel(tr("epoch"));
  epochPlot_->legend->setVisible(true);
  epochPlot_->legend->setFont(QFont(font().family(), 8));
  ratePlot_ = makePlot(tr("Learning rate and throughput"), charts);
  lrGraph_ = ratePlot_->addGraph();
  lrGraph_->setName("lr");
  lrGraph_->setPen(QPen(QColor(0x94, 0x67, 0xbd), 2));
  throughput_ = ratePlot_->addGraph(ratePlot_->xAxis, ratePlot_->yAxis2);
  throughput_->setName(tr("samples/s"));
  throughput_->setPen(QPen(QColor(0x7f, 0x7f, 0x7f)));
  ratePlot_->yAxis2->setVisible(true);
  ratePlot_->yAxis->setLabel("lr");
  ratePlot_->yAxis2->setLabel(tr("samples/s"));
  ratePlot_->xAxis->setLabel(tr("step"));
  sharePlot_ = makePlot(tr("Contribution share per sub-model"), charts);
  sharePlot_->yAxis->setRange(0, 1);
  sharePlot_->xAxis->setLabel(tr("epoch"));
  sharePlot_->legend->setVisible(true);
  sharePlot_->legend->setFont(QFont(font().family(), 8));
  confusionPlot_ = makePlot(tr("Confusion matrix (validation)"), charts);
  confusionPlot_->xAxis->setLabel(tr("predicted"));
  confusionPlot_->yAxis->setLabel(tr("true"));
  grid->addWidget(lossPlot_, 0, 0);
  grid->addWidget(epochPlot_, 0, 1);
  grid->addWidget(ratePlot_, 1, 0);
  grid->addWidget(sharePlot_, 1, 1);
  grid->addWidget(confusionPlot_, 0, 2, 2, 1);
  grid->setColumnStretch(0, 3);
  grid->setColumnStretch(1, 3);
  grid->setColumnStretch(2, 2);

  auto *layout = new QHBoxLayout(this);
  layout->addWidget(left);
  layout->addWidget(charts, 1);

  replot_ = new QTimer(this);
  replot_->setInterval(kReplotMs);
  connect(replot_, &QTimer::timeout, this, [this] {
    if (!dirty_)
      return;
    dirty_ = false;
    for (auto *p : {lossPlot_, epochPlot_, ratePlot_, sharePlot_})
      p->replot(QCustomPlot::rpQueuedReplot);
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
  connect(pause_, &QPushButton::clicked, this, [this] {
    if (controller_->paused())
      controller_->resume();
    else
      controller_->pause();
    updateButtons();
  });
  connect(stop_, &QPushButton::clicked, this, [this] { controller_->stop(); });
  connect(apply_, &QPushButton::clicked, this, [this] {
    LiveSettings s;
    s.lr = lr_->value();
    s.schedule = schedule_->currentText();
    for (int i = 0; i < frozen_->count(); ++i)
      if (frozen_->item(i)->checkState() == Qt::Checked)
        s.frozen << frozen_->item(i)->text();
    controller_->applyLive(s);
  });
  connect(export_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export charts"), QString(),
                                                      tr("PNG image (*.png);;PDF (*.pdf);;CSV (*.csv)"));
    if (!path.isEmpty())
      exportTo(path);
  });
  connect(history_, &QListWidget::itemChanged, this, [this] { refreshOverlays(); });
  connect(history_, &QListWidget::currentRowChanged, this, &TrainPanel::showRunDiff);
  connect(doc_, &GraphDocument::modelReset, this, [this] {
    const TrainingSpec spec = [&] {
      try {
        return parseTrainingSpec(doc_->project().training);
      } catch (const Error &) {
        return TrainingSpec{};
      }
    }();
    optimizer_->setCurrentText(QString::fromStdString(spec.optimizer));
    lr_->setValue(spec.lr);
    schedule_->setCurrentText(QString::fromStdString(spec.schedule));
    batch_->setValue(static_cast<int>(spec.batchSize));
    epochs_->setValue(spec.epochs);
    seed_->setValue(static_cast<int>(spec.seed));
    const int device = device_->findText(QString::fromStdString(spec.device));
    device_->setCurrentIndex(device >= 0 ? device : (device_->count() > 1 ? 1 : 0));
    refreshFrozenList();
  });
  connect(doc_, &GraphDocument::validated, this, &TrainPanel::refreshFrozenList);
  updateButtons();
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
  const QString project = doc_->filePath();
  if (!project.isEmpty())
    return QFileInfo(project).absolutePath() + "/runs";
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/runs";
}

QString TrainPanel::settingsJson() const {
  Json s = {{"device", device_->currentText().toStdString()},
            {"optimizer", optimizer_->currentText().toStdString()},
            {"lr", lr_->value()},
            {"schedule", schedule_->currentText().toStdString()},
            {"batch_size", batch_->value()},
            {"epochs", epochs_->value()},
            {"seed", seed_->value()}};
  return QString::fromStdString(s.dump());
}

void TrainPanel::refreshFrozenList() {
  QStringList checked;
  for (int i = 0; i < frozen_->count(); ++i)
    if (frozen_->item(i)->checkState() == Qt::Checked)
      checked << frozen_->item(i)->text();
  frozen_->clear();
  for (const auto &n : doc_->graph().nodes) {
    const NodeType *t = Catalogue::instance().find(n.type);
    if (!t || !t->shareable)
      continue;
    auto *item = new QListWidgetItem(QString::fromStdString(n.id), frozen_);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(checked.contains(item->text()) ? Qt::Checked : Qt::Unchecked);
  }
}

void TrainPanel::startRun() {
  if (controller_->running())
    return;
  if (!doc_->validation().ok()) {
    progressLabel_->setText(tr("The graph has problems; fix them in the Design tab first."));
    return;
  }
  rawLoss_->data()->clear();
  smoothLoss_->data()->clear();
  valLoss_->data()->clear();
  trainLossEpoch_->data()->clear();
  valAcc_->data()->clear();
  lrGraph_->data()->clear();
  throughput_->data()->clear();
  for (auto &[name, g] : shareGraphs_)
    sharePlot_->removeGraph(g);
  shareGraphs_.clear();
  lossPlot_->clearItems();
  haveSmoothed_ = false;
  lastStep_ = 0;
  Run run;
  run.name = QDateTime::currentDateTime().toString("HH:mm:ss") + " " + optimizer_->currentText() + " lr " +
             QString::number(lr_->value());
  run.settings = settingsJson();
  run.graphSnapshot = QString::fromStdString(doc_->graphSnapshot());
  run.color = seriesColor(static_cast<int>(runs_.size()));
  runs_.push_back(run);
  auto *item = new QListWidgetItem(run.name + tr(" (running)"), history_);
  item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
  item->setCheckState(Qt::Unchecked);
  item->setForeground(run.color);
  const QString name = QString::fromStdString(doc_->project().name);
  const QString out = runsFolder() + "/" + name + "-" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss-zzz");
  QDir().mkpath(out);
  QString path = doc_->filePath();
  if (path.isEmpty())
    path = out + "/project.particle.json";
  progressLabel_->setText(tr("loading data…"));
  controller_->start(QString::fromStdString(doc_->text()), path, settingsJson(), out);
}

void TrainPanel::onSteps(const QVector<StepPoint> &points) {
  if (points.isEmpty())
    return;
  Run &run = runs_.back();
  for (const auto &p : points) {
    smoothed_ = haveSmoothed_ ? kSmoothing * smoothed_ + (1 - kSmoothing) * p.loss : p.loss;
    haveSmoothed_ = true;
    rawLoss_->addData(static_cast<double>(p.step), p.loss);
    smoothLoss_->addData(static_cast<double>(p.step), smoothed_);
    lrGraph_->addData(static_cast<double>(p.step), p.lr);
    throughput_->addData(static_cast<double>(p.step), p.samplesPerSecond);
    if (run.steps.size() < kMaxStepPoints) {
      run.steps << static_cast<double>(p.step);
      run.losses << smoothed_;
    }
  }
  const StepPoint &last = points.back();
  lastStep_ = last.step;
  lastLr_ = last.lr;
  progress_->setRange(0, static_cast<int>(last.totalSteps));
  progress_->setValue(static_cast<int>(last.step));
  progressLabel_->setText(tr("epoch %1 · step %2/%3 · loss %4 · %5 samples/s · ETA %6 s")
                              .arg(last.epoch + 1)
                              .arg(last.step)
                              .arg(last.totalSteps)
                              .arg(last.loss, 0, 'f', 4)
                              .arg(last.samplesPerSecond, 0, 'f', 0)
                              .arg(last.etaSeconds, 0, 'f', 0));
  for (auto *p : {lossPlot_, ratePlot_}) {
    p->xAxis->setRange(0, std::max<double>(10, static_cast<double>(last.totalSteps)));
  }
  lossPlot_->yAxis->rescale();
  ratePlot_->yAxis->rescale();
  ratePlot_->yAxis2->rescale();
  dirty_ = true;
}

void TrainPanel::onEpoch(const EpochPoint &p) {
  Run &run = runs_.back();
  valLoss_->addData(p.epoch, p.valLoss);
  trainLossEpoch_->addData(p.epoch, p.trainLoss);
  valAcc_->addData(p.epoch, p.valAccuracy);
  run.epochs << p.epoch;
  run.valLoss << p.valLoss;
  run.valAccuracy << p.valAccuracy;
  epochPlot_->xAxis->setRange(0.5, std::max(2, p.epochs) + 0.5);
  epochPlot_->yAxis->rescale();
  epochPlot_->yAxis->setRangeLower(0);
  for (int i = 0; i < p.shares.size(); ++i) {
    QCPGraph *&g = shareGraphs_[p.shareBranches[i]];
    if (!g) {
      g = sharePlot_->addGraph();
      g->setName(p.shareBranches[i].section('/', 1));
      g->setPen(QPen(seriesColor(static_cast<int>(shareGraphs_.size()) - 1), 2));
      g->setScatterStyle(QCPScatterStyle::ssCircle);
    }
    g->addData(p.epoch, p.shares[i]);
  }
  sharePlot_->xAxis->setRange(0.5, std::max(2, p.epochs) + 0.5);
  drawConfusion(p);
  dirty_ = true;
  Q_EMIT epochReceived(p);
}

void TrainPanel::drawConfusion(const EpochPoint &p) {
  if (p.classes <= 0 || p.confusion.size() != p.classes * p.classes)
    return;
  confusionPlot_->clearPlottables();
  auto *map = new QCPColorMap(confusionPlot_->xAxis, confusionPlot_->yAxis);
  map->data()->setSize(p.classes, p.classes);
  map->data()->setRange(QCPRange(0, p.classes - 1), QCPRange(0, p.classes - 1));
  for (int t = 0; t < p.classes; ++t) {
    qint64 row = 0;
    for (int q = 0; q < p.classes; ++q)
      row += p.confusion[t * p.classes + q];
    for (int q = 0; q < p.classes; ++q) // row-normalised: recall per class on the diagonal
      map->data()->setCell(q, t, row ? static_cast<double>(p.confusion[t * p.classes + q]) / row : 0);
  }
  map->setGradient(QCPColorGradient::gpThermal);
  map->setDataRange(QCPRange(0, 1));
  map->setInterpolate(false);
  confusionPlot_->xAxis->setRange(-0.5, p.classes - 0.5);
  confusionPlot_->yAxis->setRange(-0.5, p.classes - 0.5);
  confusionPlot_->yAxis->setRangeReversed(true); // true class 0 on top, as in a table
  confusionPlot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainPanel::onSettingsApplied(const LiveSettings &s, qint64 step) {
  auto *line = new QCPItemStraightLine(lossPlot_);
  line->point1->setCoords(static_cast<double>(step), 0);
  line->point2->setCoords(static_cast<double>(step), 1);
  line->setPen(QPen(QColor(0xd0, 0x7a, 0x1f), 1.5, Qt::DashLine));
  auto *label = new QCPItemText(lossPlot_);
  label->position->setTypeX(QCPItemPosition::ptPlotCoords);
  label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
  label->position->setCoords(static_cast<double>(step), 0.05);
  label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
  QString text = QString(" lr %1").arg(s.lr, 0, 'g', 3);
  if (!s.frozen.isEmpty())
    text += tr(", frozen: %1").arg(s.frozen.join(", "));
  label->setText(text);
  label->setColor(QColor(0xd0, 0x7a, 0x1f));
  dirty_ = true;
  progressLabel_->setText(tr("applied at step %1:%2").arg(step).arg(text));
}

void TrainPanel::onFinished(const RunFinished &r) {
  lastCheckpoint_ = r.checkpoint;
  QString text = r.failed ? tr("Run failed: %1").arg(r.message)
                          : tr("%1 after %2 epoch(s): test accuracy %3%, test loss %4")
                                .arg(r.status)
                                .arg(r.epochs)
                                .arg(100 * r.testAccuracy, 0, 'f', 2)
                                .arg(r.testLoss, 0, 'f', 4);
  if (!r.message.isEmpty() && !r.failed)
    text += "\n" + r.message;
  progressLabel_->setText(text);
  if (auto *item = history_->item(history_->count() - 1))
    item->setText(runs_.back().name + QString(" — %1, %2%").arg(r.status).arg(100 * r.testAccuracy, 0, 'f', 1));
  updateButtons();
  dirty_ = true;
  Q_EMIT runFinished(r);
}

void TrainPanel::updateButtons() {
  const bool running = controller_->running();
  const bool paused = running && controller_->paused();
  start_->setEnabled(!running);
  pause_->setEnabled(running);
  pause_->setText(paused ? tr("Resume") : tr("Pause"));
  stop_->setEnabled(running);
  apply_->setEnabled(paused);
  frozen_->setEnabled(!running || paused);
  for (QWidget *w : std::initializer_list<QWidget *>{device_, optimizer_, batch_, epochs_, seed_})
    w->setEnabled(!running);
  lr_->setEnabled(!running || paused);
  schedule_->setEnabled(!running || paused);
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
    const Run &run = runs_[i];
    auto *loss = lossPlot_->addGraph();
    loss->setData(run.steps, run.losses, true);
    loss->setPen(QPen(run.color, 1.5, Qt::DotLine));
    loss->setName(run.name);
    auto *acc = epochPlot_->addGraph(epochPlot_->xAxis, epochPlot_->yAxis2);
    acc->setData(run.epochs, run.valAccuracy, true);
    acc->setPen(QPen(run.color, 1.5, Qt::DotLine));
    acc->setName(run.name);
  }
  dirty_ = true;
}

void TrainPanel::showRunDiff(int index) {
  if (index < 0 || index >= static_cast<int>(runs_.size())) {
    diffLabel_->clear();
    return;
  }
  Json snap = Json::parse(runs_[index].graphSnapshot.toStdString());
  snap["format"] = "particle-studio";
  snap["version"] = kFormatVersion;
  const Graph then = projectFromJson(snap, "run").graph;
  const Graph &now = doc_->graph();
  QStringList diffs;
  for (const auto &n : then.nodes) {
    const Node *m = now.find(n.id);
    if (!m) {
      diffs << tr("%1 removed").arg(QString::fromStdString(n.id));
      continue;
    }
    if (m->type != n.type)
      diffs << tr("%1: type %2 → %3")
                   .arg(QString::fromStdString(n.id), QString::fromStdString(n.type), QString::fromStdString(m->type));
    for (auto it = m->params.begin(); it != m->params.end(); ++it)
      if (!n.params.contains(it.key()) || n.params[it.key()] != it.value())
        diffs << QString("%1.%2: %3 → %4")
                     .arg(QString::fromStdString(n.id), QString::fromStdString(it.key()),
                          QString::fromStdString(n.params.contains(it.key()) ? n.params[it.key()].dump() : "default"),
                          QString::fromStdString(it.value().dump()));
    for (auto it = n.params.begin(); it != n.params.end(); ++it)
      if (!m->params.contains(it.key()))
        diffs << QString("%1.%2: %3 → default")
                     .arg(QString::fromStdString(n.id), QString::fromStdString(it.key()),
                          QString::fromStdString(it.value().dump()));
    if (m->share != n.share)
      diffs << tr("%1: share group \"%2\" → \"%3\"")
                   .arg(QString::fromStdString(n.id), QString::fromStdString(n.share),
                        QString::fromStdString(m->share));
  }
  for (const auto &m : now.nodes)
    if (!then.find(m.id))
      diffs << tr("%1 added").arg(QString::fromStdString(m.id));
  if (then.edges.size() != now.edges.size())
    diffs << tr("%1 → %2 edges").arg(then.edges.size()).arg(now.edges.size());
  diffLabel_->setText(diffs.isEmpty() ? tr("Same graph as now.")
                                      : tr("Changed since this run:\n") + diffs.mid(0, 12).join("\n"));
}

bool TrainPanel::exportTo(const QString &path) {
  QWidget *charts = findChild<QWidget *>("charts");
  if (path.endsWith(".csv", Qt::CaseInsensitive)) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
      return false;
    QTextStream out(&f);
    out << "kind,x,loss,smoothed_loss,lr,samples_per_second,val_loss,val_accuracy\n";
    auto raw = rawLoss_->data(), smooth = smoothLoss_->data(), lr = lrGraph_->data(), tp = throughput_->data();
    for (int i = 0; i < raw->size(); ++i)
      out << "step," << raw->at(i)->key << "," << raw->at(i)->value << "," << smooth->at(i)->value << ","
          << lr->at(i)->value << "," << tp->at(i)->value << ",,\n";
    auto vl = valLoss_->data(), va = valAcc_->data();
    for (int i = 0; i < vl->size(); ++i)
      out << "epoch," << vl->at(i)->key << ",,,,," << vl->at(i)->value << "," << va->at(i)->value << "\n";
    return true;
  }
  const QPixmap picture = charts->grab();
  if (path.endsWith(".pdf", Qt::CaseInsensitive)) {
    QPdfWriter pdf(path);
    pdf.setPageSize(QPageSize(QSizeF(picture.width(), picture.height()), QPageSize::Point));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    QPainter painter(&pdf);
    const QRect target = painter.viewport();
    painter.drawPixmap(target, picture);
    return painter.end();
  }
  return picture.save(path);
}

} // namespace particle::ui
