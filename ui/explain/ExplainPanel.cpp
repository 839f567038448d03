#include "explain/ExplainPanel.h"

#include "forms/RangeSpinBox.h"

#include "explain/ContributionCharts.h"
#include "explain/SampleView.h"

#include "document/GraphDocument.h"
#include "recipes/Contributions.h"
#include "recipes/GraphCheckpoint.h"
#include "project/Checkpoint.h"

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>

#include <cmath>
#include <functional>

namespace particle::ui {

namespace {
// A run that did not end as planned (stopped, diverged, failed): its weights are those of the moment
// it ended.
bool unfinished(const QString &status) {
  return !status.isEmpty() && status != "completed" && status != "early-stopped";
}

// Which run a checkpoint comes from, read from the run folder it lies in: "run t-20261204-235012
// of project “t”, 2026-12-04 23:50, epoch 5, test accuracy 81.2%"; a run that did not complete says
// so ("… (stopped at step 11), …"). `status`, when given, is the run's status where summary.json
// does not say it (a run that failed before writing one), and comes back as the status found.
QString checkpointRun(const QString &path, const Json &meta, QString *status = nullptr) {
  const QFileInfo file(path);
  QString text = ExplainPanel::tr("run %1").arg(file.dir().dirName());
  QString accuracy, found = status ? *status : QString();
  try {
    const Json s = Json::parse(readTextFile(file.dir().filePath("summary.json").toStdString()));
    if (s.contains("name") && s["name"].is_string())
      text += ExplainPanel::tr(" of project “%1”").arg(QString::fromStdString(s["name"].get<std::string>()));
    if (s.contains("test_accuracy") && s["test_accuracy"].is_number())
      accuracy = ExplainPanel::tr("test accuracy %1%").arg(100 * s["test_accuracy"].get<double>(), 0, 'f', 1);
    if (s.contains("status") && s["status"].is_string())
      found = QString::fromStdString(s["status"].get<std::string>());
  } catch (const std::exception &) {
    // No summary (the run is still going, or the file was moved): the header says the rest.
  }
  if (status)
    *status = found;
  if (unfinished(found)) {
    text += meta.contains("step") && meta["step"].is_number_integer()
                ? ExplainPanel::tr(" (%1 at step %2)").arg(found).arg(meta["step"].get<int64_t>())
                : ExplainPanel::tr(" (%1)").arg(found);
  }
  text += ", " + file.lastModified().toString("yyyy-MM-dd HH:mm");
  // A run stopped in its first epoch has no whole epoch: its step says how far it came.
  if (meta.contains("epoch") && meta["epoch"].is_number_integer() && meta["epoch"].get<int64_t>() > 0)
    text += ExplainPanel::tr(", epoch %1").arg(meta["epoch"].get<int64_t>());
  return text + ", " +
         (accuracy.isEmpty() ? ExplainPanel::tr("accuracy not recorded (no summary.json beside it)") : accuracy);
}

} // namespace

ExplainPanel::ExplainPanel(GraphDocument *doc, std::function<QString()> runsFolder, QWidget *parent)
    : QWidget(parent), doc_(doc), runsFolder_(std::move(runsFolder)) {
  controller_ = new ExplainController(this);
  method_ = new QComboBox(this);
  method_->setObjectName("methodBox");
  method_->addItem(tr("Shapley values"), "shapley");
  method_->setItemData(0,
                       tr("Exact Shapley values over the coalitions of branches (sampled above 12 branches): "
                          "the fair share of each branch in f(x) − f(baseline)."),
                       Qt::ToolTipRole);
  method_->addItem(tr("Ablation"), "ablation");
  method_->setItemData(1,
                       tr("f(x) − f(x with this branch at its baseline): what removing one branch costs. Where the "
                          "branches do not interact (a sum or concat Combine into the linear Classifier: each "
                          "branch moves the logit by the same amount whatever the others do) it equals the Shapley "
                          "values."),
                       Qt::ToolTipRole);
  method_->addItem(tr("Gradient × activation"), "gradxact");
  method_->setItemData(2,
                       tr("First-order: gradient of the target logit times (activation − baseline). Fast. Exact, "
                          "and equal to the Shapley values, where the logit is linear in the branches' outputs."),
                       Qt::ToolTipRole);
  target_ = new QComboBox(this);
  target_->addItem(tr("predicted class"), "predicted");
  target_->addItem(tr("true class"), "true");
  target_->setToolTip(tr("Which class's logit the attributions explain"));
  baseline_ = new QComboBox(this);
  baseline_->addItem(tr("mean"), "mean");
  baseline_->addItem(tr("zero"), "zero");
  baseline_->addItem(tr("background"), "background");
  baseline_->setToolTip(tr("What an absent branch is replaced by: its mean output over training samples, zero, "
                           "or each of 100 training samples in turn (background)"));
  // A number typed outside the range is shown as typed; Enter or leaving the box keeps the value
  // before and says so, as the Train tab's fields do.
  auto *countBox = new RangeSpinBox(this);
  count_ = countBox;
  count_->setObjectName("samplesBox");
  count_->setRange(1, 10000);
  count_->setValue(200);
  count_->setKeyboardTracking(false); // "99999" typed is not taken as 9999 on the way
  count_->setToolTip(tr("Test samples to explain (1 … 10000)"));
  // What the box did with a number it could not take, beside it until the next accepted value.
  auto *countProblem = new QLabel(this);
  countProblem->setObjectName("samplesProblem");
  countProblem->setStyleSheet("color: #d03030");
  countProblem->hide();
  countBox->refused = [this, countProblem](const QString &text, const QString &kept) {
    if (text.isEmpty())
      return;
    countProblem->setText(tr("samples %1 is outside the allowed range [%2, %3]; kept %4")
                              .arg(text)
                              .arg(count_->minimum())
                              .arg(count_->maximum())
                              .arg(kept));
    countProblem->setProperty("kept", kept);
    countProblem->show();
  };
  // Enter emits the value again even when it was kept: only another value removes the note.
  connect(count_, &QSpinBox::valueChanged, countProblem, [countProblem](int v) {
    if (v != countProblem->property("kept").toInt())
      countProblem->hide();
  });
  compute_ = new QPushButton(tr("Explain"), this);
  compute_->setObjectName("explainButton");
  compute_->setShortcut(QKeySequence(Qt::Key_F9)); // Ctrl+E is File → Export to PyTorch
  compute_->setToolTip(tr("Explain the checkpoint (F9)"));
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setObjectName("cancelExplainButton");
  load_ = new QPushButton(tr("Checkpoint…"), this);
  load_->setObjectName("checkpointButton");
  export_ = new QPushButton(tr("Export…"), this);
  export_->setObjectName("exportExplainButton");
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(220);
  progress_->setTextVisible(true);
  auto *bar = new QHBoxLayout;
  for (auto [label, w] : std::initializer_list<std::pair<QString, QWidget *>>{
           {tr("method"), method_}, {tr("target"), target_}, {tr("baseline"), baseline_}, {tr("samples"), count_}}) {
    auto *l = new QLabel(label, this);
    l->setBuddy(w);
    bar->addWidget(l);
    bar->addWidget(w);
  }
  bar->addWidget(countProblem);
  bar->addStretch();
  auto *actions = new QHBoxLayout;
  actions->addWidget(compute_);
  actions->addWidget(cancel_);
  actions->addWidget(progress_);
  actions->addStretch();
  actions->addWidget(load_);
  actions->addWidget(export_);

  combineLabel_ = new QLabel(tr("Combine"), this);
  combine_ = new QComboBox(this);
  combine_->setObjectName("combineBox");
  combineLabel_->setBuddy(combine_);
  status_ = new QLabel(tr("Train a model (Train tab) or pick a checkpoint, then Explain."), this);
  status_->setObjectName("explainStatus");
  status_->setWordWrap(true);
  auto *statusRow = new QHBoxLayout;
  statusRow->addWidget(combineLabel_);
  statusRow->addWidget(combine_);
  statusRow->addWidget(status_, 1);

  samples_ = new QListWidget(this);
  samples_->setObjectName("sampleList");
  samples_->setViewMode(QListView::IconMode);
  samples_->setIconSize(QSize(40, 40));
  samples_->setGridSize(QSize(86, 74));
  samples_->setResizeMode(QListView::Adjust);
  samples_->setMovement(QListView::Static);
  samples_->setWordWrap(true);
  samples_->setMinimumWidth(110);
  samples_->setToolTip(tr("Test samples: true → predicted class (errors in red)"));

  sampleView_ = new SampleView(this);
  branches_ = new QListWidget(this);
  branches_->setObjectName("branchList");
  branches_->setMinimumHeight(80);
  branches_->setToolTip(tr("Click a branch: its saliency is drawn over the sample and its node is selected in "
                           "the editor.\nδ small beside φ: the saliency map converged (the heading above says more)."));
  flagHelp_ = new QLabel(tr("⚑ = the combiner gives this branch a large weight but it changes the output little, "
                            "or the reverse: a weight is not a contribution."),
                         this);
  flagHelp_->setWordWrap(true);
  flagHelp_->setStyleSheet("color: #b06010");
  flagHelp_->hide();
  auto *centerWidget = new QWidget(this);
  auto *center = new QVBoxLayout(centerWidget);
  center->setContentsMargins(0, 0, 0, 0);
  center->addWidget(sampleView_, 2);
  auto *branchesHeading = new QLabel(tr("Branches: φ for this sample, saliency δ (convergence)"), this);
  // What δ is, and why the baseline box does not move it (a fresh-eyes user asked both).
  branchesHeading->setToolTip(
      tr("φ: the branch's contribution to the explained class's logit (method and baseline above).\n"
         "δ: how far the saliency map falls short of adding up, |Σ integrated gradients − (f(x) − f(input "
         "zeroed))|, in logits. Small beside φ: the map converged. The saliency always integrates from a zero "
         "input, whatever the baseline above, so δ does not change with it."));
  center->addWidget(branchesHeading);
  center->addWidget(branches_, 1);
  center->addWidget(flagHelp_);

  charts_ = new ContributionCharts(this);
  auto *chartScroll = new QScrollArea(this);
  chartScroll->setWidget(charts_);
  chartScroll->setWidgetResizable(true);
  chartScroll->setFrameShape(QFrame::NoFrame);

  auto *body = new QSplitter(Qt::Horizontal, this);
  body->addWidget(samples_);
  body->addWidget(centerWidget);
  body->addWidget(chartScroll);
  body->setStretchFactor(0, 1);
  body->setStretchFactor(1, 2);
  body->setStretchFactor(2, 4);
  body->setSizes({200, 300, 700});
  body->setChildrenCollapsible(false);
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addLayout(actions);
  layout->addLayout(statusRow);
  layout->addWidget(body, 1);

  ExplainWorker *worker = controller_->worker();
  connect(worker, &ExplainWorker::progress, this, [this](int percent, const QString &stage) {
    progress_->setValue(percent);
    progress_->setFormat(stage);
  });
  connect(worker, &ExplainWorker::computed, this, &ExplainPanel::onComputed);
  connect(worker, &ExplainWorker::detailed, this, &ExplainPanel::onDetail);
  connect(compute_, &QPushButton::clicked, this, &ExplainPanel::compute);
  connect(cancel_, &QPushButton::clicked, this, [this] {
    controller_->cancel();
    status_->setText(tr("cancelling…"));
  });
  connect(load_, &QPushButton::clicked, this, [this] {
    // Where the project's checkpoints are: its runs folder, else beside the one held.
    const QString runs = runsFolder_();
    const QString start =
        QFileInfo(runs).isDir() || checkpoint_.isEmpty() ? runs : QFileInfo(checkpoint_).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Checkpoint"), start, tr("Checkpoints (*.pt)"));
    if (path.isEmpty())
      return;
    // Checked as it is picked (damage, another graph), and named by the run it comes from; a
    // refused one leaves the checkpoint and the results before it.
    QString origin, status;
    try {
      const CheckpointFit fit = checkpointFit(path.toStdString(), doc_->graph());
      if (fit.status == CheckpointFit::Status::Unreadable)
        throw Error(ErrorKind::File, fit.problem);
      origin = checkpointRun(path, fit.meta, &status);
      if (!fit.fits())
        throw Error(ErrorKind::File, path.toStdString() + ": this checkpoint was trained on a different graph (" +
                                         origin.toStdString() + "); it does not fit this project");
    } catch (const std::exception &e) {
      status_->setText(tr("Cannot use this checkpoint: %1").arg(QString::fromUtf8(e.what())) +
                       (checkpoint_.isEmpty() ? QString() : "\n" + stillOn() + "."));
      status_->setToolTip(path);
      return;
    }
    take(path, origin, status);
  });
  connect(export_, &QPushButton::clicked, this, [this] {
    QFileDialog dialog(this, tr("Export"));
    dialog.setObjectName("exportExplainDialog");
    dialog.setDirectory(QFileInfo(checkpoint_).absolutePath()); // beside the run it explains
    dialog.setAcceptMode(QFileDialog::AcceptSave);
    dialog.setNameFilters({tr("PNG image of the tab (*.png)"), tr("CSV of every sample's contributions (*.csv)")});
    if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty())
      return;
    QString path = dialog.selectedFiles().front();
    // The chosen type decides the suffix when none was typed.
    if (QFileInfo(path).suffix().isEmpty())
      path += dialog.selectedNameFilter().contains("csv") ? ".csv" : ".png";
    QString error;
    if (!exportTo(path, &error))
      QMessageBox::warning(this, tr("Cannot export"), error);
    else
      status_->setText(tr("Wrote %1").arg(path));
  });
  connect(samples_, &QListWidget::currentRowChanged, this, &ExplainPanel::selectSample);
  connect(branches_, &QListWidget::currentRowChanged, this, [this](int row) {
    drawSample();
    const CombineResult *c = combineResult();
    if (c && row >= 0 && row < c->branchNodes.size())
      Q_EMIT branchActivated(c->branchNodes[row]);
  });
  connect(combine_, &QComboBox::currentIndexChanged, this, [this] { showCombine(); });
  // A method, target, baseline or sample count changed after a result: the charts still show the
  // old one, and the status says so until Explain runs again (or the choice goes back).
  for (QComboBox *box : {method_, target_, baseline_})
    connect(box, &QComboBox::currentIndexChanged, this, [this] { showCombine(); });
  connect(count_, &QSpinBox::valueChanged, this, [this] { showCombine(); });
  connect(doc_, &GraphDocument::modelReset, this, &ExplainPanel::clear);
  setBusy(false);
  compute_->setEnabled(false);
  export_->setEnabled(false);
  combineLabel_->hide();
  combine_->hide();
}

QStringList ExplainPanel::choices() const {
  return {method_->currentData().toString(), target_->currentData().toString(), baseline_->currentData().toString(),
          QString::number(count_->value())};
}

void ExplainPanel::setBusy(bool busy) {
  progress_->setVisible(busy);
  cancel_->setVisible(busy);
  compute_->setEnabled(!busy && !checkpoint_.isEmpty());
}

void ExplainPanel::clear() {
  controller_->cancel();
  checkpoint_.clear();
  checkpointOrigin_.clear();
  checkpointUnfinished_ = false;
  result_ = ExplainResult{};
  detail_ = SampleDetail{};
  current_ = -1;
  samples_->clear();
  branches_->clear();
  combine_->clear();
  combineLabel_->hide();
  combine_->hide();
  sampleView_->clear();
  charts_->clear();
  flagHelp_->hide();
  setBusy(false);
  compute_->setEnabled(false);
  export_->setEnabled(false);
  status_->setText(tr("Train a model (Train tab) or pick a checkpoint, then Explain."));
}

void ExplainPanel::runMoved(const QString &from, const QString &to) {
  if (!checkpoint_.startsWith(from + "/"))
    return;
  checkpoint_ = to + checkpoint_.mid(from.size());
  status_->setToolTip(checkpoint_);
  // Where the run is and whose it is, as its folder and summary say now (the project's name once
  // an untitled project is saved), in what the tab says of it.
  try {
    QString status;
    const QString origin = checkpointRun(checkpoint_, readCheckpointFile(checkpoint_.toStdString()).meta, &status);
    if (!checkpointOrigin_.isEmpty())
      status_->setText(status_->text().replace(checkpointOrigin_, origin));
    checkpointOrigin_ = origin;
  } catch (const std::exception &) {
    // Named as it was.
  }
}

void ExplainPanel::setCheckpoint(const QString &path) {
  QString origin, status;
  try {
    origin = checkpointRun(path, readCheckpointFile(path.toStdString()).meta, &status);
  } catch (const std::exception &) {
    // Named by its file alone; Explain says what is wrong with it.
  }
  take(path, origin, status);
}

void ExplainPanel::offerRunCheckpoint(const QString &path, const QString &runStatus) {
  QString origin, status = runStatus;
  try {
    origin = checkpointRun(path, readCheckpointFile(path.toStdString()).meta, &status);
  } catch (const std::exception &) {
    // Named by its folder; the status is the one the run ended with.
  }
  // A run that ended early does not push aside the checkpoint of one that ended as planned: its
  // weights are the moment's, not the model's. It is still one pick away.
  if (unfinished(status) && !checkpoint_.isEmpty() && !checkpointUnfinished_ && path != checkpoint_) {
    status_->setText(stillOn() + ".\n" +
                     tr("The %1 run (%2) was not taken; to explain it, pick its checkpoint with Checkpoint…: %3")
                         .arg(status, origin.isEmpty() ? QFileInfo(path).dir().dirName() : origin, path));
    return;
  }
  take(path, origin, status);
}

void ExplainPanel::take(const QString &path, const QString &origin, const QString &status) {
  // The results on screen belong to the checkpoint they came from: another one clears them, so a
  // failed Explain never leaves the last model's charts (and Export…) under the new name.
  if (path != checkpoint_)
    clear();
  checkpoint_ = path;
  checkpointOrigin_ = origin;
  checkpointUnfinished_ = unfinished(status);
  compute_->setEnabled(!path.isEmpty());
  status_->setText(origin.isEmpty()
                       ? tr("Checkpoint %1 — press Explain (F9).").arg(QFileInfo(path).fileName())
                       : tr("Checkpoint %1 — %2 — press Explain (F9).").arg(QFileInfo(path).fileName(), origin));
  status_->setToolTip(path);
}

QString ExplainPanel::stillOn() const {
  return checkpointOrigin_.isEmpty() ? tr("Still on %1").arg(checkpoint_)
                                     : tr("Still on %1 — %2").arg(QFileInfo(checkpoint_).fileName(), checkpointOrigin_);
}

void ExplainPanel::compute() {
  if (checkpoint_.isEmpty())
    return;
  ExplainRequest request;
  request.projectText = QString::fromStdString(doc_->text());
  // Relative data paths resolve against the file the project came from, as for training (an
  // example opened as a template has no file of its own, but its data lies beside the example).
  request.projectPath = doc_->sourcePath().isEmpty() ? QFileInfo(checkpoint_).absolutePath() + "/project.particle.json"
                                                     : doc_->sourcePath();
  request.checkpoint = checkpoint_;
  request.method = method_->currentData().toString();
  request.baseline = baseline_->currentData().toString();
  request.target = target_->currentData().toString();
  request.samples = count_->value();
  requested_ = choices();
  progress_->setValue(0);
  progress_->setFormat(tr("starting"));
  setBusy(true);
  status_->setText(tr("Explaining %1 samples…").arg(request.samples));
  controller_->compute(request);
}

const CombineResult *ExplainPanel::combineResult() const {
  const int i = combineIndex();
  return i >= 0 ? &result_.combines[i] : nullptr;
}

int ExplainPanel::combineIndex() const {
  const int i = combine_->currentIndex();
  return i >= 0 && i < result_.combines.size() ? i : (result_.combines.isEmpty() ? -1 : 0);
}

void ExplainPanel::onComputed(const ExplainResult &r) {
  if (r.cancelled) {
    setBusy(false);
    status_->setText(tr("Cancelled."));
    return;
  }
  setBusy(false);
  if (!r.error.isEmpty()) {
    status_->setText(tr("Cannot explain: %1").arg(r.error));
    return;
  }
  result_ = r;
  shown_ = requested_;
  export_->setEnabled(true);
  samples_->clear();
  for (int i = 0; i < r.samples; ++i) {
    const bool wrong = r.labels[i] != r.predictions[i];
    auto *item = new QListWidgetItem(
        wrong ? QString("%1\n→ %2").arg(result_.className(r.labels[i]), result_.className(r.predictions[i]))
              : result_.className(r.labels[i]),
        samples_);
    const QString file = r.sampleName(i);
    item->setToolTip(tr("sample #%1: true class %2, predicted %3")
                         .arg(i)
                         .arg(result_.className(r.labels[i]), result_.className(r.predictions[i])) +
                     (file.isEmpty() ? QString() : "\n" + file));
    if (i < r.images.size()) // images, and audio's spectrograms
      item->setIcon(QIcon(QPixmap::fromImage(r.images[i].scaled(40, 40))));
    if (wrong)
      item->setForeground(QColor(0xd0, 0x30, 0x30));
  }
  {
    const QSignalBlocker block(combine_);
    combine_->clear();
    for (const auto &c : r.combines)
      combine_->addItem(c.combine);
  }
  combineLabel_->setVisible(r.combines.size() > 1);
  combine_->setVisible(r.combines.size() > 1);
  showCombine();
  samples_->setCurrentRow(0);
  Q_EMIT resultReady();
}

void ExplainPanel::showCombine() {
  const CombineResult *c = combineResult();
  if (!c)
    return;
  int correct = 0;
  for (int i = 0; i < result_.samples; ++i)
    correct += result_.labels[i] == result_.predictions[i];
  // Only Shapley values add up to f(x) − f(baseline) whatever the combiner; the other two do where
  // the branches do not interact. A large error from them is what they are, not a fault: say so.
  const bool approximate = result_.method != "shapley" && c->completenessMaxError > 1e-3;
  status_->setText(tr("%1 over %2 (%3% correct), Combine '%4'%5: completeness error %6%7")
                       .arg(method_->findData(result_.method) >= 0
                                ? method_->itemText(method_->findData(result_.method))
                                : result_.method)
                       .arg(result_.drawn)
                       .arg(result_.samples ? 100 * correct / result_.samples : 0)
                       .arg(c->combine, c->exact ? QString() : tr(" (sampled)"))
                       .arg(c->completenessMaxError, 0, 'g', 2)
                       .arg(approximate ? tr(" — this method's φ add up to f(x) − f(baseline) only where the "
                                             "branches do not interact (a gate or attention Combine makes them "
                                             "interact; the chart draws the rest as 'interactions'); Shapley "
                                             "values always do")
                                        : QString()));
  if (progress_->isHidden() && choices() != shown_)
    status_->setText(status_->text() + "\n" +
                     tr("The choices above have changed since: the charts show these results until you press "
                        "Explain (F9)."));
  status_->setToolTip(tr("Completeness error: the largest |Σφ − (f(x) − f(baseline))| over the samples explained, "
                         "in logits. Shapley values make it 0 up to rounding (or sampling, above 12 branches)."));
  charts_->showCombine(result_, combineIndex());
  if (current_ >= 0)
    selectSample(current_);
}

void ExplainPanel::selectSample(int index) {
  const CombineResult *c = combineResult();
  if (!c || index < 0 || index >= result_.samples)
    return;
  current_ = index;
  const int k = static_cast<int>(c->branches.size());
  const QSignalBlocker block(branches_);
  const int keep = branches_->currentRow();
  branches_->clear();
  double total = 0;
  for (int b = 0; b < k; ++b)
    total += std::abs(c->phi[index * k + b]);
  bool anyFlag = false;
  for (int b = 0; b < k; ++b) {
    auto *item = new QListWidgetItem(
        QString("%1   φ = %2").arg(c->branchLabel(b)).arg(c->phi[index * k + b], 0, 'f', 3), branches_);
    // A high weight is not a high contribution: flag where they disagree.
    if (!c->weights.isEmpty() && total > 0) {
      const double share = std::abs(c->phi[index * k + b]) / total, weight = c->weights[index * k + b];
      if (weightEffectDisagree(weight, share, k)) {
        anyFlag = true;
        item->setData(Qt::UserRole, true);
        item->setText(item->text() + "   ⚑");
        item->setToolTip(tr("Weight %1 but %2% of the contribution: the combiner's weight and the branch's "
                            "effect on the output disagree.")
                             .arg(weight, 0, 'f', 2)
                             .arg(100 * share, 0, 'f', 0));
        item->setForeground(QColor(0xb0, 0x60, 0x10));
      }
    }
  }
  flagHelp_->setVisible(anyFlag);
  branches_->setCurrentRow(keep >= 0 && keep < k ? keep : 0);
  charts_->showSample(result_, combineIndex(), current_);
  drawSample();
  controller_->detail(index, c->combine);
}

void ExplainPanel::onDetail(const SampleDetail &d) {
  const CombineResult *c = combineResult();
  if (!c || d.index != current_ || d.combine != c->combine)
    return;
  detail_ = d;
  const int k = static_cast<int>(c->branches.size());
  for (int b = 0; b < k && b < d.saliencyDelta.size() && b < branches_->count(); ++b)
    branches_->item(b)->setText(QString("%1   φ = %2   δ = %3%4")
                                    .arg(c->branchLabel(b))
                                    .arg(c->phi[d.index * k + b], 0, 'f', 3)
                                    .arg(d.saliencyDelta[b], 0, 'g', 2)
                                    .arg(branches_->item(b)->data(Qt::UserRole).toBool() ? "   ⚑" : ""));
  charts_->showDetail(d);
  drawSample();
  Q_EMIT detailReady();
}

void ExplainPanel::drawSample() {
  sampleView_->show(result_, combineIndex(), current_, branches_->currentRow(), detail_);
}

bool ExplainPanel::exportTo(const QString &path, QString *error) {
  auto failed = [&](const QString &why) {
    if (error)
      *error = why;
    return false;
  };
  if (path.endsWith(".csv", Qt::CaseInsensitive)) {
    const CombineResult *c = combineResult();
    if (!c)
      return failed(tr("nothing to export yet: press Explain first"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
      return failed(tr("%1: %2").arg(path, f.errorString()));
    QTextStream out(&f);
    out << "sample,file,label,label_name,prediction,prediction_name,target,f_x,f_baseline";
    for (const auto &b : c->branches)
      out << ",phi_" << b;
    out << "\n";
    const int k = static_cast<int>(c->branches.size());
    auto quoted = [](QString s) { return "\"" + s.replace("\"", "\"\"") + "\""; };
    for (int i = 0; i < result_.samples; ++i) {
      out << i << "," << quoted(result_.sampleName(i)) << "," << result_.labels[i] << ","
          << quoted(result_.className(result_.labels[i])) << "," << result_.predictions[i] << ","
          << quoted(result_.className(result_.predictions[i])) << "," << result_.targets[i] << "," << c->fx[i] << ","
          << c->fBaseline[i];
      for (int b = 0; b < k; ++b)
        out << "," << c->phi[i * k + b];
      out << "\n";
    }
    out.flush();
    if (f.error() != QFile::NoError)
      return failed(tr("%1: %2").arg(path, f.errorString()));
    return true;
  }
  if (!path.endsWith(".png", Qt::CaseInsensitive))
    return failed(tr("%1: choose .png or .csv").arg(path));
  return grab().save(path) || failed(tr("%1: cannot write the image").arg(path));
}

} // namespace particle::ui
