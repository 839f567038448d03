#include "training/TrainPanel.h"

#include "AppPaths.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "editor/ParameterText.h"
#include "forms/SchemaForm.h"
#include "graph/Catalogue.h"
#include "recipes/RunPlan.h"
#include "recipes/GraphCheckpoint.h"
#include "project/TrainingSpec.h"
#include "project/Project.h"
#include "training/EngineWorker.h"
#include "training/RunHistory.h"
#include "training/TrainCharts.h"
#include "train/Peak.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QSplitter>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

#include <cmath>

namespace particle::ui {

namespace {

// The errors about the training section (a precision this machine cannot train in), as the CLI
// words them ("training.precision: …").
QStringList trainingErrors(const Validation &v) {
  QStringList out;
  for (const Problem &p : v.problems)
    if (p.isError() && p.node.empty() && p.param.rfind("training.", 0) == 0)
      out << QString::fromStdString(p.format(""));
  return out;
}

QString seconds(double s) {
  const auto t = static_cast<qint64>(std::llround(s));
  if (t >= 3600)
    return QString("%1 h %2 min").arg(t / 3600).arg((t % 3600) / 60, 2, 10, QChar('0'));
  if (t >= 60)
    return QString("%1 min %2 s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
  return QString("%1 s").arg(t);
}

QString pausedAt(qint64 step) {
  return TrainPanel::tr("paused at step %1: change the learning rate, schedule or frozen sub-models, then Resume")
      .arg(step);
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
  // A QShortcut, not the button's: setText (Pause ↔ Resume) resets a button's shortcut.
  auto *f6 = new QShortcut(QKeySequence(Qt::Key_F6), this);
  connect(f6, &QShortcut::activated, this, [this] {
    if (pause_->isEnabled())
      togglePause();
  });
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
  QStringList devices = {"auto"},
              deviceLabels = {
                  tr("auto")}; // the field's tooltip says what auto picks; a longer label was cut at 1024×700
  for (const QString &d : EngineWorker::availableDevices()) {
    devices << d;
    deviceLabels << EngineWorker::deviceLabel(d);
  }
  form_->setSuggestions("device", devices, deviceLabels);

  auto *live = new QGroupBox(tr("While paused"), this);
  auto *liveLayout = new QVBoxLayout(live);
  auto *liveHelp = new QLabel(tr("Change the learning rate or schedule above, or freeze sub-models (no gradient; "
                                 "the node's freeze in the project), then Resume. The change is marked on the loss "
                                 "curve."),
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
  history_ = new RunHistory(doc_, historyBox);
  export_ = new QPushButton(tr("Export charts…"), historyBox);
  export_->setObjectName("exportChartsButton");
  historyLayout->addWidget(history_);
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

  charts_ = new TrainCharts([this] { return controller_->running(); }, this);

  auto *split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(charts_);
  split->setStretchFactor(1, 1);
  split->setSizes({300, 900});
  split->setChildrenCollapsible(false);
  auto *layout = new QHBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(split);

  EngineWorker *worker = controller_->worker();
  connect(worker, &EngineWorker::steps, this, &TrainPanel::onSteps);
  connect(worker, &EngineWorker::epoch, this, &TrainPanel::onEpoch);
  connect(worker, &EngineWorker::finished, this, &TrainPanel::onFinished);
  connect(worker, &EngineWorker::peakMeasured, this, &TrainPanel::onPeakMeasured);
  connect(worker, &EngineWorker::settingsApplied, this, &TrainPanel::onSettingsApplied);
  connect(worker, &EngineWorker::log, this, [this](const QString &m) { progressLabel_->setToolTip(m); });
  connect(controller_, &TrainingController::runningChanged, this, &TrainPanel::updateButtons);
  connect(start_, &QPushButton::clicked, this, &TrainPanel::startRun);
  connect(pause_, &QPushButton::clicked, this, &TrainPanel::togglePause);
  connect(stop_, &QPushButton::clicked, this, [this] {
    if (controller_->running() && !stopping_) {
      // What the run does before it ends (Trainer::finishRun): its step, the checkpoint, the test
      // set and the inference timing, then its folder's files. Said until the result replaces it.
      stopping_ = true;
      setStatus(tr("stopping… finishing the step, then saving the checkpoint and testing on the test set"));
      updateButtons();
    }
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
    // A name that says which run and precision the charts are ("…-20261206-192924-048-bf16-charts"):
    // an fp32 and a bf16 export could not be told apart once saved.
    if (!lastRunFolder_.isEmpty())
      dialog.selectFile(QFileInfo(lastRunFolder_).fileName() + "-" +
                        (runPrecision_.isEmpty() ? QString("fp32") : runPrecision_) + "-charts");
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
  connect(history_, &RunHistory::tickedChanged, this, [this] { charts_->showOverlays(history_->ticked()); });
  connect(history_, &RunHistory::explainRequested, this, &TrainPanel::explainRequested);
  connect(doc_, &GraphDocument::modelReset, this, [this] {
    clearRuns();
    refreshForm();
    refreshFrozenList();
    // After every view has forgotten the old project (the Explain tab takes the found checkpoint).
    QTimer::singleShot(0, this, &TrainPanel::loadHistory);
  });
  connect(doc_, &GraphDocument::trainingChanged, this, &TrainPanel::refreshForm);
  connect(doc_, &GraphDocument::validated, this, &TrainPanel::refreshFrozenList);
  connect(doc_, &GraphDocument::validated, this, &TrainPanel::refreshHiddenSettings);
  // Why Start was refused is said while it holds: an edit or an undo that changes the cause changes
  // the message, one that removes it (the graph is valid again) removes it.
  connect(doc_, &GraphDocument::validated, this, [this] {
    if (!startRefused_ || controller_->running())
      return;
    startRefused_ = refuseStart();
    if (!startRefused_)
      setStatus(tr("Ready. Press Start (Ctrl+Enter) to train the graph in the Design tab."));
  });
  // Checking a sub-model here is the node's own freeze, an edit of the project like any other
  // (undoable, saved, and what the next run starts with); a paused run takes it with Apply or Resume.
  connect(frozen_, &QListWidget::itemChanged, this, [this](QListWidgetItem *item) {
    const bool freeze = item->checkState() == Qt::Checked;
    const Node *node = doc_->graph().find(item->data(Qt::UserRole).toString().toStdString());
    if (!node || node->freeze == freeze)
      return;
    // A share group trains one module: its members freeze together.
    QStringList ids;
    for (const auto &n : doc_->graph().nodes)
      if (n.id == node->id || (!node->share.empty() && n.share == node->share))
        ids << QString::fromStdString(n.id);
    undo_->beginMacro(freeze ? tr("Freeze %1").arg(ids.join(", ")) : tr("Unfreeze %1").arg(ids.join(", ")));
    for (const QString &id : ids)
      undo_->push(commands::setFreeze(doc_, id, freeze));
    undo_->endMacro();
  });
  refreshForm();
  clearCharts();
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
  // What validation finds beyond a key's own value (a precision this machine cannot train in, a
  // mask wider than the samples; a learning rate that will likely diverge, a warning) is shown
  // under its field too, before anyone presses Start.
  for (const Problem &p : doc_->validation().problems) {
    if (!p.node.empty() || p.param.rfind("training.", 0) != 0)
      continue;
    const std::string prefix = p.param + ": ", key = p.param.substr(std::string("training.").size());
    if (!problems.count(key))
      problems[key] =
          QString::fromStdString(p.message.rfind(prefix, 0) == 0 ? p.message.substr(prefix.size()) : p.message);
  }
  form_->setProblems(problems);
  refreshHiddenSettings();
}

void TrainPanel::refreshHiddenSettings() {
  // Augmentation needs samples shaped [C, H, W] (a spectrogram or an image): for vectors, tables or
  // token ids its fields are noise ("More settings…" listed time masks for a table). One the project
  // sets stays shown, with the problem validation finds under it.
  QStringList hidden;
  const DataInfo *data = doc_->dataInfo();
  if (data && data->sampleShape.size() != 3) {
    const Json &section = doc_->project().training;
    for (const Field &f : trainingSchema().fields())
      if (f.name.rfind("augment_", 0) == 0 && !(section.is_object() && section.contains(f.name)))
        hidden << QString::fromStdString(f.name);
  }
  form_->setHiddenFields(hidden);
}

void TrainPanel::setStatus(const QString &text, bool error, bool whole) {
  // An error, and a finished run's result, is shown whole (it may take more than the three lines a
  // progress line has): set once, it does not make the tab jump as a run's progress would.
  const int threeLines = 3 * progressLabel_->fontMetrics().lineSpacing() + 4;
  progressLabel_->setMinimumHeight(threeLines);
  progressLabel_->setMaximumHeight(error || whole ? QWIDGETSIZE_MAX : threeLines);
  progressLabel_->setText(text);
  progressLabel_->setStyleSheet(error ? "color: #d03030" : QString());
}

void TrainPanel::refreshFrozenList() {
  // The boxes show the nodes' freeze as the project has it.
  const QSignalBlocker quiet(frozen_);
  // An adapted node says so: its own weights stay whether it is ticked or not (only its adapters
  // train), which an unticked box alone would not tell. A member of a share group names its group
  // (as the canvas's chip does): ticking one ticks them all, which two bare rows did not explain.
  auto label = [this](const Node &n) {
    QString id = QString::fromStdString(n.id);
    const QString group = QString::fromStdString(n.share);
    if (n.adapter)
      return tr("%1 — LoRA (only its adapters train)").arg(id);
    if (!n.share.empty())
      return n.shareScope == "trunk" ? tr("%1 — shared trunk (%2)").arg(id, group)
                                     : tr("%1 — tied (%2)").arg(id, group);
    return id;
  };
  QStringList wanted, labels;
  for (const auto &n : doc_->graph().nodes) {
    const NodeType *t = Catalogue::instance().find(n.type);
    if (t && t->shareable) {
      wanted << QString::fromStdString(n.id);
      labels << label(n);
    }
  }
  bool same = frozen_->count() == wanted.size();
  for (int i = 0; same && i < wanted.size(); ++i)
    same = frozen_->item(i)->text() == labels[i];
  if (same) {
    for (int i = 0; i < frozen_->count(); ++i) {
      const Node *n = doc_->graph().find(frozen_->item(i)->data(Qt::UserRole).toString().toStdString());
      frozen_->item(i)->setCheckState(n && n->freeze ? Qt::Checked : Qt::Unchecked);
    }
    return;
  }
  frozen_->clear();
  for (int i = 0; i < wanted.size(); ++i) {
    const QString &id = wanted[i];
    auto *item = new QListWidgetItem(labels[i], frozen_);
    item->setData(Qt::UserRole, id);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    const Node *n = doc_->graph().find(id.toStdString());
    item->setCheckState(n && n->freeze ? Qt::Checked : Qt::Unchecked);
    if (n && !n->share.empty())
      item->setToolTip(n->shareScope == "trunk"
                           ? tr("%1 shares its trunk with group \"%2\": freezing it freezes the shared trunk for "
                                "every member; its own last layer too.")
                                 .arg(id, QString::fromStdString(n->share))
                           : tr("%1 is tied to group \"%2\": freezing it freezes the one module every member uses.")
                                 .arg(id, QString::fromStdString(n->share)));
    else if (n && n->adapter)
      item->setToolTip(tr("%1 has a LoRA adapter: its own weights already stay as they start and only the adapters "
                          "train (freeze it or adapt it, not both)")
                           .arg(id));
  }
}

void TrainPanel::clearCharts() {
  int epochs = 5;
  try {
    epochs = parseTrainingSpec(doc_->project().training).epochs;
  } catch (const Error &) {
  }
  charts_->clear(epochs);
  lastStep_ = 0;
  pace_ = RunPace();
  progress_->reset();
}

void TrainPanel::clearRuns() {
  if (controller_->running())
    controller_->stopAndWait();
  clearCharts();
  history_->clear();
  lastCheckpoint_.clear();
  lastRunFolder_.clear();
  madeRuns_.clear();
  setStatus(tr("Ready. Press Start (Ctrl+Enter) to train the graph in the Design tab."));
  startRefused_ = false;
  fixData_->hide();
  showProblems_->hide();
  charts_->redrawNow();
}

KeepReport TrainPanel::keepRuns() {
  return madeRuns_.keep(
      runsFolder(), userRunsFolder(), QString::fromStdString(doc_->project().name),
      [this](const QString &folder) { return controller_->running() && folder == lastRunFolder_; },
      [this](const QString &from, const QString &to) {
        auto follow = [&](QString &path) {
          if (path == from || path.startsWith(from + "/"))
            path = to + path.mid(from.size());
        };
        follow(lastRunFolder_);
        follow(lastCheckpoint_);
        follow(lastFinished_.outDir);
        follow(lastFinished_.checkpoint);
        history_->relocate(from, to);
        Q_EMIT runMoved(from, to);
      });
}

void TrainPanel::loadHistory() {
  if (const QString newest = history_->load(runsFolder()); !newest.isEmpty()) {
    lastCheckpoint_ = newest;
    Q_EMIT checkpointFound(lastCheckpoint_);
  }
}

QListWidget *TrainPanel::historyList() const {
  return history_->list();
}
QLabel *TrainPanel::diffLabel() const {
  return history_->diffLabel();
}
QCustomPlot *TrainPanel::lossPlot() const {
  return charts_->lossPlot();
}
QCustomPlot *TrainPanel::epochPlot() const {
  return charts_->epochPlot();
}
QCustomPlot *TrainPanel::ratePlot() const {
  return charts_->ratePlot();
}
QCustomPlot *TrainPanel::sharePlot() const {
  return charts_->sharePlot();
}
QCustomPlot *TrainPanel::confusionPlot() const {
  return charts_->confusionPlot();
}

bool TrainPanel::exportTo(const QString &path, QString *error) {
  return charts_->exportTo(path, error);
}

QString TrainPanel::lastCheckpoint() const {
  return lastCheckpoint_.isEmpty() ? doc_->startCheckpoint() : lastCheckpoint_;
}

bool TrainPanel::refuseStart() {
  fixData_->hide();
  showProblems_->hide();
  const Validation &v = doc_->validation();
  // The memory estimate, with its figures: a run that cannot fit is refused.
  if (v.has(ProblemCode::MemoryTooLarge) && v.errorCount() == 1) {
    for (const Problem &p : v.problems)
      if (p.code == ProblemCode::MemoryTooLarge)
        setStatus(tr("Cannot start: %1").arg(QString::fromStdString(p.format(""))), true);
    return true;
  }
  if (v.ok())
    return false;
  if (!doc_->dataError().isEmpty()) {
    setStatus(tr("The data set cannot be read: %1").arg(doc_->dataError()), true);
    fixData_->show();
  } else if (const QStringList training = trainingErrors(v); training.size() == v.errorCount()) {
    // The settings beside the button are what is wrong: say what, here.
    setStatus(tr("Cannot start: %1").arg(training.join("\n")), true);
  } else {
    setStatus(tr("The graph has %n problem(s); fix them first (Problems panel).", "", v.errorCount()), true);
    showProblems_->show();
  }
  return true;
}

void TrainPanel::startRun() {
  if (controller_->running())
    return;
  startRefused_ = refuseStart();
  if (startRefused_)
    return;
  const Validation &v = doc_->validation();
  // The memory estimate, with its figures: one that fills most of the free memory starts with the
  // warning.
  QString memoryNote;
  for (const Problem &p : v.problems)
    if (p.code == ProblemCode::MemoryHigh)
      memoryNote = QString::fromStdString(p.format(""));
  QString out;
  try {
    out = QString::fromStdString(newRunFolder(runsFolder().toStdString(), doc_->project().name));
  } catch (const Error &e) {
    setStatus(tr("Cannot start: %1").arg(QString::fromStdString(e.what())), true);
    return;
  }
  clearCharts();
  history_->start(out);
  lastRunFolder_ = out;
  madeRuns_.add(out, {}, QString::fromStdString(doc_->project().name));
  // Relative data paths resolve against the file the project came from (an example's too).
  const QString path = doc_->sourcePath().isEmpty() ? out + "/project.particle.json" : doc_->sourcePath();
  // A document that starts from a checkpoint (a search variant's trial) continues from it, once:
  // the run it starts is the newest checkpoint after that. One of another graph (the graph was
  // edited since) is left: the run starts from initial weights.
  QString resumeFrom;
  if (const QString start = doc_->startCheckpoint(); !start.isEmpty()) {
    if (checkpointFit(start.toStdString(), doc_->graph()).fits())
      resumeFrom = start;
    doc_->setStartCheckpoint(QString());
  }
  appliedLive_ = liveSettings();
  int64_t batch = 0;
  try {
    const TrainingSpec spec = parseTrainingSpec(doc_->project().training);
    runWorkers_ = spec.workers;
    batch = spec.batchSize;
    // The peak is the CPU's, and read from the cache only (a tiny file); a run on CUDA has none.
    const bool cpu = spec.device == "cpu" || (spec.device == "auto" && EngineWorker::availableDevices().size() == 1);
    runPeak_ = cpu ? matmulPeakGflops(spec.precision, spec.threads, false) : 0;
    runPrecision_ = QString::fromStdString(spec.precision);
  } catch (const Error &) {
    runWorkers_ = 1; // the engine reports the bad setting
    runPeak_ = 0;
  }
  runFlops_ = v.flopsKnown ? v.flopsPerSample : 0;
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
      s.frozen << frozen_->item(i)->data(Qt::UserRole).toString();
  return s;
}

void TrainPanel::applyLive() {
  const LiveSettings s = liveSettings();
  appliedLive_ = s;
  controller_->applyLive(s);
}

void TrainPanel::togglePause() {
  if (!controller_->running() || stopping_)
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
    setStatus(pausedAt(lastStep_)); // and again with the step it stops at, which comes with its last steps
  }
  updateButtons();
}

void TrainPanel::onSteps(const std::vector<StepEvent> &points) {
  if (points.empty() || history_->empty())
    return;
  charts_->addSteps(points, history_->latest());
  for (const StepEvent &p : points)
    pace_.step(p);
  const StepEvent &last = points.back();
  lastStep_ = last.step;
  lastLr_ = last.lr;
  // Progress, status and loss curve change together, once per batch of steps (at most four times a
  // second: EngineWorker::kStepIntervalMs), and are painted together: QProgressBar repaints at once
  // (a paint and a flush of the window of its own) unless its updates wait for the others'.
  if (progress_->maximum() != static_cast<int>(last.totalSteps))
    progress_->setRange(0, static_cast<int>(last.totalSteps));
  if (progress_->value() != static_cast<int>(last.step)) {
    progress_->setUpdatesEnabled(false);
    progress_->setValue(static_cast<int>(last.step));
    progress_->setUpdatesEnabled(true); // an update(), painted with the rest
  }
  // The text is read by a person: once per batch is enough, and each change costs a relayout.
  const bool statusDue = !statusClock_.isValid() || statusClock_.elapsed() >= 200 || last.step == last.totalSteps;
  if (statusDue)
    statusClock_.restart();
  if (stopping_)
    return; // the box says what the run does until it ends
  if (controller_->paused()) {
    // The steps the run made before it stopped at the pause: say where it stands.
    setStatus(pausedAt(lastStep_));
    return;
  }
  // A run in bf16 or fp16 says so as it goes (fp32, the default, goes unsaid).
  const QString precision = runPrecision_.isEmpty() || runPrecision_ == "fp32" ? QString() : " · " + runPrecision_;
  // The time left at the run's mean pace since its warm-up, with the validations to come (the
  // engine's own figure, from its last steps' rate, only for the first few steps).
  const double left = pace_.secondsLeft(last);
  if (statusDue)
    // The time left before the GFLOP/s: where the narrow column cuts the third line, it cuts those.
    setStatus(tr("epoch %1 · step %2 of %3 · loss %4%5\n%6 samples/s · %7 left%8")
                  .arg(last.epoch + 1)
                  .arg(last.step)
                  .arg(last.totalSteps)
                  .arg(last.loss, 0, 'f', 4)
                  .arg(precision)
                  .arg(charts_->throughput(), 0, 'f', 0)
                  .arg(seconds(left))
                  .arg(runFlops_ > 0
                           ? " · " + flopsText(3 * runFlops_ * charts_->throughput() / 1e9, runPeak_, runPrecision_)
                           : QString()));
}

void TrainPanel::onEpoch(const EpochEvent &p) {
  if (history_->empty())
    return;
  RunRecord &run = history_->latest();
  run.epochs << p.epoch;
  run.valLoss << p.valLoss;
  run.valAccuracy << p.valAccuracy;
  charts_->addEpoch(p);
  pace_.epoch(p);
  Q_EMIT epochReceived(p);
}

void TrainPanel::onSettingsApplied(const LiveSettings &s, qint64 step) {
  QString text = QString(" lr %1").arg(s.lr, 0, 'g', 3);
  if (!s.frozen.isEmpty())
    text += tr(", frozen: %1").arg(s.frozen.join(", "));
  charts_->markChange(step, text);
  if (!stopping_)
    setStatus(tr("applied at step %1:%2").arg(step).arg(text));
}

namespace {
// Two significant digits below 10 (0.018, 5.2), whole numbers above (52, 203).
QString figure(double v) {
  return v >= 10 ? QString::number(v, 'f', 0) : QString::number(v, 'g', 2);
}
} // namespace

QString TrainPanel::flopsText(double gflops, double peak, const QString &precision, bool measuring) const {
  if (gflops <= 0)
    return {}; // FLOPs not counted (a TorchScript node)
  if (peak <= 0)
    return tr("%1 GFLOP/s").arg(figure(gflops)) + (measuring ? tr("; measuring the %1 peak…").arg(precision) : "");
  // A peak is a maximum: training above it shows a peak measured on a busy machine, not a
  // fraction above 100%.
  const QString again = measuring ? tr(" (re-measuring…)") : QString();
  return gflops > peak
             ? tr("%1 GFLOP/s, above the cached %2 peak").arg(figure(gflops), precision) + again
             : tr("%1 GFLOP/s, %2% of the %3 peak").arg(figure(gflops), figure(100 * gflops / peak), precision) + again;
}

QString TrainPanel::finishedText(const RunFinished &r) const {
  // A run stopped in its first epoch has no whole epoch to name: say the steps instead.
  QString when = r.epochs > 0 ? tr("after %n epoch(s)", "", r.epochs) : tr("at step %1").arg(r.steps);
  if (!r.precision.isEmpty() && r.precision != "fp32")
    when += tr(" in %1").arg(r.precision);
  QString text = r.failed ? tr("Run failed: %1").arg(r.message)
                          : tr("%1 %2: test accuracy %3%, test loss %4")
                                .arg(r.status, when)
                                .arg(100 * r.testAccuracy, 0, 'f', 2)
                                .arg(r.testLoss, 0, 'f', 4);
  if (r.status == "stopped")
    text += "\n" + tr("The checkpoint keeps the weights so far.");
  else if (!r.message.isEmpty() && !r.failed)
    text += "\n" + r.message;
  // Its speed, time and work rate on a line of their own: what a comparison of two runs (fp32 and
  // bf16) reads.
  if (!r.failed && r.samplesPerSecond > 0) {
    // A short run's time to a tenth of a second (a 0.45 s run read "over 0 s").
    text += "\n" + tr("%1 samples/s over %2")
                       .arg(withCommas(std::llround(r.samplesPerSecond)))
                       .arg(r.trainSeconds < 10 ? tr("%1 s").arg(r.trainSeconds, 0, 'f', 1) : seconds(r.trainSeconds));
    if (r.achievedGflops > 0)
      text += " · " + flopsText(r.achievedGflops, r.peakGflops, r.precision, peakPending_);
    // Beside a run of the same graph in another precision: is bf16 faster here, for this model?
    if (!comparison_.isEmpty())
      text += "\n" + comparison_;
  }
  return text;
}

void TrainPanel::onPeakMeasured(const QString &outDir, double gflops) {
  if (outDir != lastFinished_.outDir || controller_->running())
    return; // another run's text is shown now
  peakPending_ = false;
  lastFinished_.peakGflops = gflops;
  setStatus(finishedText(lastFinished_), false, true);
}

void TrainPanel::onFinished(const RunFinished &r) {
  stopping_ = false;
  lastCheckpoint_ = r.failed && !QFile::exists(r.checkpoint) ? QString() : r.checkpoint;
  lastFinished_ = r;
  // As the engine thread decides it (EngineWorker::run): a missing peak, or one the run came near.
  peakPending_ = !r.failed && r.onCpu && peakWantsMeasuring(r.achievedGflops, r.peakGflops);
  comparison_ = r.failed ? QString() : history_->precisionComparison(r.outDir);
  setStatus(finishedText(r), r.failed, true);
  // The whole story, however long, is one hover away.
  progressLabel_->setToolTip(r.message + "\n" + tr("%1 samples/s").arg(withCommas(std::llround(r.samplesPerSecond))) +
                             "\n" + tr("Run folder: %1").arg(r.outDir));
  history_->finish(r);
  updateButtons();
  if (!r.failed && !r.testConfusion.empty())
    charts_->showTestConfusion(r.testConfusion, r.classNames); // which classes the test split got wrong
  charts_->redraw();
  Q_EMIT runFinished(r);
}

void TrainPanel::updateButtons() {
  const bool running = controller_->running();
  const bool paused = running && controller_->paused();
  start_->setEnabled(!running);
  // A worker process cannot wait out a pause: the others would time out in the gradient sum.
  pause_->setEnabled(running && !stopping_ && runWorkers_ <= 1);
  pause_->setToolTip(running && runWorkers_ > 1
                         ? tr("A run with %1 workers can be stopped, not paused").arg(runWorkers_)
                         : tr("Pause after the current batch; Resume applies the changes made meanwhile (F6)"));
  pause_->setText(paused ? tr("Resume") : tr("Pause"));
  if (running)
    history_->showState(paused);
  stop_->setEnabled(running && !stopping_);
  apply_->setEnabled(paused);
  frozen_->setEnabled(!running || paused);
  // While a run goes, only what can change mid-run is editable, and only while paused.
  form_->setEditable(
      [running, paused](const std::string &key) { return !running || (paused && (key == "lr" || key == "schedule")); });
}

} // namespace particle::ui
