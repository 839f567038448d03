#include "training/RunHistory.h"

#include "charts/Charts.h"
#include "document/GraphDocument.h"
#include "editor/ParameterText.h"
#include "project/Project.h"
#include "recipes/GraphCheckpoint.h"
#include "recipes/GraphDiff.h"
#include "recipes/RunPlan.h"
#include "train/RunFolder.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QScrollArea>
#include <QTimer>
#include <QToolTip>
#include <QLocale>
#include <QRegularExpression>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace particle::ui {

namespace {
// A run's line: "#1 at 14:02:10 — bf16 86.52%". Every run names its precision before its accuracy
// (an unlabelled fp32 run beside a bf16 one left the reader to guess), the accuracy has two
// decimals (runs in two precisions often differ in the second), and a status is added only when
// the run did not complete, last, where the narrow list cuts first; the tooltip has it all.
QString resultText(const QString &name, const QString &status, bool hasAccuracy, double accuracy,
                   const QString &precision) {
  const QString named = precision.isEmpty() ? QString("fp32") : precision;
  const QString ending = status == "completed" ? QString() : ", " + status;
  return hasAccuracy ? QString("%1 — %2 %3%%4").arg(name, named).arg(100 * accuracy, 0, 'f', 2).arg(ending)
                     : QString("%1 — %2 %3").arg(name, named, status);
}

// Whether a run that ended so has a test accuracy (it ended by finishing or by a stop).
bool tested(RunSummary::Status status) {
  return status == RunSummary::Status::Completed || status == RunSummary::Status::Stopped ||
         status == RunSummary::Status::EarlyStopped;
}

// Everything a comparison of runs reads, and where the run is.
QString resultTip(const QString &status, bool hasAccuracy, double accuracy, const QString &precision,
                  double samplesPerSecond, const QString &folder) {
  QStringList lines;
  lines << QObject::tr("%1, %2").arg(status, precision.isEmpty() ? QString("fp32") : precision);
  if (hasAccuracy)
    lines << QObject::tr("test accuracy %1%").arg(100 * accuracy, 0, 'f', 2);
  if (samplesPerSecond > 0)
    lines << QObject::tr("%1 samples/s").arg(withCommas(std::llround(samplesPerSecond)));
  lines << QObject::tr("Run folder: %1").arg(folder);
  return lines.join("\n");
}
} // namespace

RunHistory::RunHistory(GraphDocument *doc, QWidget *parent) : QWidget(parent), doc_(doc) {
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  list_ = new QListWidget(this);
  list_->setObjectName("historyList");
  list_->setMinimumHeight(60);
  list_->setToolTip(tr("Tick a run to overlay its curves; select it to see what changed in the graph since; "
                       "double-click a run of the graph as it is now to explain its checkpoint."));
  diffLabel_ = new QLabel(this);
  diffLabel_->setWordWrap(true);
  layout->addWidget(list_);
  layout->addWidget(diffLabel_);
  connect(list_, &QListWidget::itemChanged, this, &RunHistory::tickedChanged);
  connect(list_, &QListWidget::currentRowChanged, this, &RunHistory::showDiff);
  connect(list_, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem *item) {
    const int row = list_->row(item);
    if (row >= 0 && row < static_cast<int>(runs_.size())) {
      const QString checkpoint = runs_[static_cast<std::size_t>(row)].folder + "/checkpoint.pt";
      if (!QFile::exists(checkpoint))
        return;
      // Explain runs this project's graph: a checkpoint of another graph is not taken to the
      // Explain tab (where Explain could only refuse it); the list says why, and where the run's
      // own project is, which explains it.
      if (!checkpointFit(checkpoint.toStdString(), doc_->graph()).fits()) {
        showDiff(row);
        const QString project = runs_[static_cast<std::size_t>(row)].folder + "/project.particle.json";
        diffLabel_->setText(tr("%1 cannot be explained with this graph (it was trained on the graph as it was then); "
                               "its project explains it: %2.")
                                .arg(runs_[static_cast<std::size_t>(row)].name,
                                     QFileInfo(project).dir().dirName() + "/project.particle.json") +
                            "\n" + diffLabel_->text());
        diffLabel_->setToolTip(QDir::toNativeSeparators(project));
        // Said where the user looks: at the run, and below the list, scrolled into view.
        QToolTip::showText(list_->viewport()->mapToGlobal(list_->visualItemRect(item).bottomLeft()), diffLabel_->text(),
                           list_);
        for (QWidget *w = parentWidget(); w; w = w->parentWidget())
          if (auto *scroll = qobject_cast<QScrollArea *>(w)) {
            // once the longer text is laid out
            QTimer::singleShot(0, scroll, [scroll, label = diffLabel_] { scroll->ensureWidgetVisible(label); });
            break;
          }
        return;
      }
      Q_EMIT explainRequested(checkpoint);
    }
  });
  connect(doc_, &GraphDocument::validated, this, [this] {
    if (list_->currentRow() >= 0)
      showDiff(list_->currentRow());
  });
}

std::vector<const RunRecord *> RunHistory::ticked() const {
  std::vector<const RunRecord *> runs;
  for (int i = 0; i < list_->count() && i < static_cast<int>(runs_.size()); ++i)
    if (list_->item(i)->checkState() == Qt::Checked)
      runs.push_back(&runs_[static_cast<std::size_t>(i)]);
  return runs;
}

QListWidgetItem *RunHistory::addItem(const RunRecord &run, const QString &text) {
  auto *item = new QListWidgetItem(text, list_);
  item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
  item->setCheckState(Qt::Unchecked);
  item->setForeground(run.color);
  item->setToolTip(run.folder);
  return item;
}

QString RunHistory::load(const QString &runsFolder) {
  // Earlier runs of this project (folders "<name>-<yyyyMMdd-HHmmss>[-ms][-n]" with a summary), oldest
  // first. The whole name is matched: a project "fashion" does not list "fashion-patches-…" runs.
  const QString prefix = QString::fromStdString(safeRunName(doc_->project().name)) + "-";
  const QRegularExpression runFolder("^" + QRegularExpression::escape(prefix) + R"(\d{8}-\d{6}(-\d{3})?(-\d+)?$)");
  const QDir dir(runsFolder);
  QFileInfoList folders = dir.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
  folders.erase(std::remove_if(folders.begin(), folders.end(),
                               [&](const QFileInfo &f) {
                                 return !runFolder.match(f.fileName()).hasMatch() ||
                                        !QFile::exists(f.filePath() + "/summary.json");
                               }),
                folders.end());
  // A run whose summary names another project file that still exists is that project's (two
  // projects of one name, e.g. two "untitled" saved beside each other); a run naming no file (from
  // before the key) or a file that is gone (the project was moved with its runs) is listed.
  // (An example opened as a template trains from, and so names, its file in the examples folder.)
  const QString ownFile = doc_->sourcePath().isEmpty() ? QString() : QFileInfo(doc_->sourcePath()).canonicalFilePath();
  auto anotherProjects = [&](const particle::RunRecord &record) {
    if (record.projectFile.empty())
      return false;
    const QFileInfo file(QString::fromStdString(record.projectFile));
    return file.exists() && file.canonicalFilePath() != ownFile;
  };
  constexpr int kMaxHistory = 20;
  if (folders.size() > kMaxHistory)
    folders = folders.mid(folders.size() - kMaxHistory);
  std::vector<std::string> read; // the runs listed now, oldest first
  // Two resets in a row (the app starts with a new project and then opens one) ask twice; a run
  // already listed (loaded before, or started here) is listed once.
  QStringList listed;
  for (const RunRecord &r : runs_)
    listed << QFileInfo(r.folder).absoluteFilePath();
  for (const QFileInfo &f : folders) {
    if (listed.contains(f.absoluteFilePath()))
      continue;
    try {
      const particle::RunRecord record = readRunSummary(f.filePath().toStdString());
      if (anotherProjects(record))
        continue;
      const RunSummary &summary = record.summary;
      RunRecord run;
      run.folder = f.filePath();
      // "#1, 6 Dec 10:27" ("#1 of 6 Dec" read as one of six) from the folder's stamp (20261206-102716): the list is
      // narrow, and the stamp's digits pushed the accuracy out of view; the tooltip names the folder.
      const QString stamp = f.fileName().mid(prefix.size(), 15);
      const QDateTime when = QDateTime::fromString(stamp, "yyyyMMdd-HHmmss");
      run.name =
          tr("#%1, %2").arg(runs_.size() + 1).arg(when.isValid() ? QLocale::c().toString(when, "d MMM HH:mm") : stamp);
      run.color = charts::seriesColor(static_cast<int>(runs_.size()));
      if (QFile::exists(f.filePath() + "/project.particle.json"))
        run.graphSnapshot = QString::fromStdString(
            particle::ui::graphSnapshot(loadProject((f.filePath() + "/project.particle.json").toStdString()).graph));
      // Curves from metrics.csv: one point per epoch (train loss at its step, validation). A file
      // that cannot be read leaves the run without curves.
      try {
        for (const RunEpoch &e : readRunMetrics(f.filePath().toStdString())) {
          run.epochs << e.epoch;
          run.steps << static_cast<double>(e.step);
          run.losses << e.trainLoss;
          run.valLoss << e.valLoss;
          run.valAccuracy << e.valAccuracy;
        }
      } catch (const Error &) {
      }
      const QString status = statusName(summary.status);
      const QString precision = QString::fromStdString(summary.precision);
      const bool hasAccuracy = tested(summary.status);
      addItem(run, resultText(run.name, status, hasAccuracy, summary.testAccuracy, precision))
          ->setToolTip(
              resultTip(status, hasAccuracy, summary.testAccuracy, precision, summary.samplesPerSecond, run.folder));
      runs_.push_back(run);
      read.push_back(f.filePath().toStdString());
    } catch (const std::exception &) {
      // A run folder that cannot be read is skipped; it is still on disk.
    }
  }
  const auto newest = newestCheckpointOf(doc_->graph(), read);
  return newest ? QString::fromStdString(*newest) : QString();
}

RunRecord &RunHistory::start(const QString &folder) {
  RunRecord run;
  run.name = tr("#%1 at %2").arg(runs_.size() + 1).arg(QDateTime::currentDateTime().toString("HH:mm:ss"));
  run.folder = folder;
  run.graphSnapshot = QString::fromStdString(doc_->graphSnapshot());
  run.color = charts::seriesColor(static_cast<int>(runs_.size()));
  runs_.push_back(run);
  addItem(run, run.name + tr(" (running)"));
  return runs_.back();
}

QString RunHistory::precisionComparison(const QString &folder) const {
  particle::RunRecord self;
  try {
    self = readRunSummary(folder.toStdString());
  } catch (const std::exception &) {
    return {};
  }
  if (self.graphHash.empty() || self.summary.samplesPerSecond <= 0)
    return {};
  for (auto run = runs_.rbegin(); run != runs_.rend(); ++run) {
    if (QFileInfo(run->folder) == QFileInfo(folder))
      continue;
    try {
      const particle::RunRecord other = readRunSummary(run->folder.toStdString());
      const RunSummary &s = other.summary;
      if (!tested(s.status) || s.samplesPerSecond <= 0 || other.graphHash != self.graphHash ||
          s.precision == self.summary.precision || s.device != self.summary.device || s.threads != self.summary.threads)
        continue;
      return tr("%1× the samples/s of %2 (%3, same graph and threads: %4 samples/s)")
          .arg(self.summary.samplesPerSecond / s.samplesPerSecond, 0, 'f', 2)
          .arg(run->name, QString::fromStdString(s.precision))
          .arg(withCommas(std::llround(s.samplesPerSecond)));
    } catch (const std::exception &) {
      // A run folder that cannot be read compares with nothing.
    }
  }
  return {};
}

void RunHistory::relocate(const QString &from, const QString &to) {
  for (std::size_t i = 0; i < runs_.size(); ++i)
    if (runs_[i].folder == from) {
      runs_[i].folder = to;
      if (auto *item = list_->item(static_cast<int>(i)))
        item->setToolTip(item->toolTip().replace(from, to));
    }
}

void RunHistory::showState(bool paused) {
  if (!runs_.empty())
    if (auto *item = list_->item(list_->count() - 1))
      item->setText(runs_.back().name + (paused ? tr(" (paused)") : tr(" (running)")));
}

void RunHistory::finish(const RunFinished &r) {
  if (auto *item = list_->item(list_->count() - 1)) {
    item->setText(resultText(runs_.back().name, r.status, !r.failed, r.testAccuracy, r.precision));
    item->setToolTip(resultTip(r.status, !r.failed, r.testAccuracy, r.precision, r.samplesPerSecond, r.outDir));
  }
}

void RunHistory::clear() {
  runs_.clear();
  list_->clear();
  diffLabel_->clear();
}

void RunHistory::showDiff(int index) {
  diffLabel_->setToolTip(QString()); // a run that cannot be explained names its project there
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

} // namespace particle::ui
