#include "experiments/ExperimentsPanel.h"

#include "experiments/ClaimsLab.h"
#include "experiments/TransferLab.h"

#include "AppPaths.h"
#include "document/GraphDocument.h"
#include "project/Project.h"
#include "recipes/Processes.h"
#include "recipes/RunPlan.h"
#include "recipes/Search.h"
#include "charts/Charts.h"
#include "charts/CustomPlot.h"
#include "training/EngineWorker.h"

#include <QCoreApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

namespace particle::ui {

namespace {
const QStringList kColumns = {"Variant",   "Rung", "Epochs", "Status", "Val acc", "Unique params",
                              "µs/sample", "Time", "Parts",  "Width",  "Combine", "Sharing"};
} // namespace

ExperimentsPanel::ExperimentsPanel(GraphDocument *doc, QWidget *parent) : QWidget(parent), doc_(doc) {
  auto *layout = new QVBoxLayout(this);
  auto *box = new QGroupBox(tr("Decomposition search"), this);
  auto *grid = new QGridLayout(box);
  budget_ = new QLineEdit("10m", box);
  budget_->setObjectName("searchBudget");
  budget_->setToolTip(tr("A time (90s, 10m, 1h), or a number of trials (24trials: the same variants for the same "
                         "seed, whatever the machine)"));
  budget_->setMaximumWidth(110);
  // A refused budget, once the text typed is one: the refusal goes as it is typed, not at Start.
  connect(budget_, &QLineEdit::textChanged, this, [this](const QString &text) {
    if (!budgetRefused_)
      return;
    try {
      (void)SearchBudget::parse(text.trimmed().toStdString());
    } catch (const Error &) {
      return;
    }
    setStatus(beforeRefusal_, beforeRefusalError_);
  });
  jobs_ = new QSpinBox(box);
  jobs_->setObjectName("searchJobs");
  jobs_->setRange(1, std::max(1, QThread::idealThreadCount()));
  jobs_->setToolTip(tr("Trials at once, each with cores ÷ jobs threads"));
  seed_ = new QSpinBox(box);
  seed_->setObjectName("searchSeed");
  seed_->setRange(0, 1000000);
  seed_->setToolTip(tr("Which variants start besides this graph and the monolithic baseline"));
  start_ = new QPushButton(tr("Start search"), box);
  start_->setObjectName("startSearch");
  start_->setToolTip(tr("Trains variants of this graph — parts, width, combine mode, sharing, and the monolithic "
                        "baseline — by successive halving, each trial as its own process"));
  stop_ = new QPushButton(tr("Stop"), box);
  stop_->setObjectName("stopSearch");
  stop_->setEnabled(false);
  stop_->setToolTip(tr("Stops the search; what finished is kept (search.json), and a search in the same folder "
                       "would continue from it"));
  grid->addWidget(new QLabel(tr("Budget"), box), 0, 0);
  grid->addWidget(budget_, 0, 1);
  grid->addWidget(new QLabel(tr("Jobs"), box), 0, 2);
  grid->addWidget(jobs_, 0, 3);
  grid->addWidget(new QLabel(tr("Seed"), box), 0, 4);
  grid->addWidget(seed_, 0, 5);
  open_ = new QPushButton(tr("Open search…"), box);
  open_->setObjectName("openSearch");
  open_->setToolTip(tr("Shows a search folder written earlier, by this tab or by `particle search`"));
  grid->addWidget(start_, 0, 6);
  grid->addWidget(stop_, 0, 7);
  grid->addWidget(open_, 0, 9);
  grid->setColumnStretch(8, 1);
  status_ = new QLabel(tr("Search over decompositions of the graph in the Design tab: how many parts, how wide, how "
                          "combined, how shared — against one sub-model on the whole input."),
                       box);
  status_->setObjectName("searchStatus");
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  // A long folder name has no place to wrap: it must not widen the tab (and the window) for it.
  status_->setMinimumWidth(1);
  grid->addWidget(status_, 1, 0, 1, 10);
  layout->addWidget(box);

  auto *split = new QSplitter(Qt::Horizontal, this);
  table_ = new QTableWidget(0, static_cast<int>(kColumns.size()), split);
  table_->setObjectName("trialsTable");
  table_->setHorizontalHeaderLabels(kColumns);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setToolTip(tr("One row per trial. Rung 0 trains every variant briefly; each later rung trains the better "
                        "half twice as long. Bold: the Pareto set, at its latest trial. Double-click a trial to "
                        "open its variant in the designer; select rows for the claims lab."));
  pareto_ = charts::makeAxesPlot(split, "paretoPlot", tr("unique parameters"), tr("validation accuracy (%)"));
  pareto_->xAxis->setScaleType(QCPAxis::stLogarithmic);
  pareto_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  pareto_->xAxis->setNumberFormat("eb"); // 10⁵
  pareto_->xAxis->setNumberPrecision(0);
  pareto_->xAxis->setRange(1e3, 1e6);
  pareto_->yAxis->setRange(0, 100);
  // Labels lie below the points, so that a click on a point reaches the point.
  pareto_->addLayer("labels", pareto_->layer("main"), QCustomPlot::limBelow);
  pareto_->setToolTip(tr("Each variant at the longest it was trained. Blue: the Pareto set (no other is both more "
                         "accurate and smaller); orange: this graph; red: the monolithic baseline; grey: the rest. "
                         "Larger points take longer per sample. Click a point to open that variant."));
  split->addWidget(table_);
  split->addWidget(pareto_);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);
  // The table and the plot take the height the page has (at least what the plot needs to draw its
  // axes): asking for their preferred height made the page scroll in a 1024×700 window.
  split->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Ignored);
  split->setMinimumHeight(150);
  layout->addWidget(split, 1);

  // The two labs take turns below the search: stacked, they did not fit a 1024×700 window.
  labs_ = new QTabWidget(this);
  labs_->setObjectName("labTabs");
  // The learning curve takes the Pareto set of the search shown when it is of this graph.
  claimsLab_ = new ClaimsLab(
      doc_, [this] { return runsFolder(); },
      [this] {
        return running() || searchedName_ != QString::fromStdString(doc_->project().name) ? QString() : folder_;
      },
      labs_);
  labs_->addTab(claimsLab_, tr("Claims"));
  transferLab_ = new TransferLab(
      doc_, [this] { return runsFolder(); }, labs_);
  labs_->addTab(transferLab_, tr("Transfer"));
  // The tab names each lab: their group boxes' titles and frames would only take height.
  for (QGroupBox *lab : {static_cast<QGroupBox *>(claimsLab_), static_cast<QGroupBox *>(transferLab_)}) {
    lab->setTitle({});
    lab->setFlat(true);
  }
  labs_->setTabToolTip(0, tr("Measure the write-up's claims on the rows selected above"));
  labs_->setTabToolTip(1, tr("Reuse a particle trained on another task: frozen, LoRA, fine-tuned, from scratch"));
  layout->addWidget(labs_, 1);

  poll_ = new QTimer(this);
  poll_->setInterval(500);
  connect(poll_, &QTimer::timeout, this, &ExperimentsPanel::poll);
  connect(start_, &QPushButton::clicked, this, &ExperimentsPanel::startSearch);
  connect(stop_, &QPushButton::clicked, this, &ExperimentsPanel::stopSearch);
  connect(claimsLab_->button(), &QPushButton::clicked, this, &ExperimentsPanel::startClaims);
  connect(claimsLab_, &ClaimsLab::finished, this, [this] { claimsLab_->button()->setEnabled(!running()); });
  connect(open_, &QPushButton::clicked, this, &ExperimentsPanel::openSearch);
  // Another document (a variant opened from here, another project): the search shown stays, and
  // says whose it is.
  connect(doc_, &GraphDocument::modelReset, this, [this] {
    if (folder_.isEmpty() || running() || searchedName_.isEmpty())
      return;
    const QString now = QString::fromStdString(doc_->project().name);
    if (now != searchedName_)
      setStatus(tr("Showing the search of %1 (%2). Start search searches the graph now in the Design tab (%3); "
                   "double-click the row \"own\" to open %1's graph again.")
                    .arg(searchedName_, folder_, now));
  });
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { openRow(row); });
  connect(pareto_, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable *p, int, QMouseEvent *) {
    const QString name = p ? p->property("variant").toString() : QString();
    if (!name.isEmpty())
      Q_EMIT openVariantRequested(folder_ + "/variants/" + name + ".particle.json");
  });
}

ExperimentsPanel::~ExperimentsPanel() {
  shutdown();
}

bool ExperimentsPanel::running() const {
  return process_ && process_->state() != QProcess::NotRunning;
}

void ExperimentsPanel::shutdown() {
  if (running()) {
    process_->disconnect(this);
    process_->terminate(); // the search kills its trial and keeps search.json
    if (!process_->waitForFinished(5000)) {
      process_->kill();
      process_->waitForFinished(5000);
    }
  }
  claimsLab_->shutdown();
  transferLab_->shutdown();
}

QString ExperimentsPanel::runsFolder() const {
  if (!runsFolder_.isEmpty())
    return runsFolder_;
  return runsFolderFor(doc_->filePath());
}

void ExperimentsPanel::setStatus(const QString &text, bool error) {
  budgetRefused_ = false;
  status_->setText(text);
  status_->setStyleSheet(error ? "color: #d03030" : QString());
}

void ExperimentsPanel::startSearch() {
  if (running())
    return;
  const QString program = EngineWorker::commandLineProgram();
  if (program.isEmpty()) {
    setStatus(tr("The search runs the `particle` command-line program, which is neither next to the app nor on PATH "
                 "(set PARTICLE_CLI to it)."),
              true);
    return;
  }
  if (!doc_->validation().ok()) {
    setStatus(tr("The graph has problems; fix them first (Problems panel)."), true);
    return;
  }
  try {
    (void)SearchBudget::parse(budget_->text().trimmed().toStdString());
  } catch (const Error &) {
    if (!budgetRefused_) {
      beforeRefusal_ = status_->text();
      beforeRefusalError_ = !status_->styleSheet().isEmpty();
    }
    setStatus(tr("Budget \"%1\": give a time (90s, 10m, 1h) or a number of trials (24trials: successive halving "
                 "over n variants takes about 2n trials).")
                  .arg(budget_->text().trimmed()),
              true);
    budgetRefused_ = true;
    return;
  }
  try {
    (void)findDecompositionSite(doc_->graph());
  } catch (const Error &e) {
    setStatus(tr("Nothing to search: %1").arg(QString::fromUtf8(e.what())), true);
    return;
  }
  QString source;
  try {
    // A fresh folder named safely after the project (a name with "../" or a leading '-' stays
    // inside the runs folder), with particle's marker: the search is started with --force, which
    // empties only such a folder, so the copy of the project written here is all it can remove.
    folder_ =
        QString::fromStdString(newRunFolder(runsFolder().toStdString(), "search-" + safeRunName(doc_->project().name)));
    source = folder_ + "/source.particle.json";
    doc_->saveCopyTo(source);
  } catch (const std::exception &e) {
    setStatus(tr("Cannot start: %1").arg(QString::fromUtf8(e.what())), true);
    return;
  }
  table_->setRowCount(0);
  pareto_->clearGraphs();
  pareto_->clearItems();
  pareto_->replot();
  claimsLab_->clear();
  searchedName_ = QString::fromStdString(doc_->project().name);
  seen_ = QDateTime();
  output_.clear();
  process_ = new QProcess(this);
  process_->setProcessChannelMode(QProcess::MergedChannels);
  connect(process_, &QProcess::readyRead, this, [this] {
    output_ += QString::fromUtf8(process_->readAll());
    if (output_.size() > 20000)
      output_ = output_.right(10000);
  });
  connect(process_, &QProcess::finished, this, [this, p = process_](int code, QProcess::ExitStatus status) {
    output_ += QString::fromUtf8(p->readAll());
    poll_->stop();
    poll();
    const QStringList lines = output_.trimmed().split('\n');
    const bool ok = status == QProcess::NormalExit && code == 0;
    if (ok)
      setStatus(tr("Search of %1 finished: %2 — results in %3")
                    .arg(searchedName_, lines.filter("trial(s) in").value(0).trimmed(), folder_));
    else if (status == QProcess::CrashExit || code == 15 || code == 143)
      setStatus(tr("Search stopped; what finished is in %1").arg(folder_));
    else
      setStatus(tr("The search failed: %1").arg(lines.value(lines.size() - 1)), true);
    start_->setEnabled(true);
    stop_->setEnabled(false);
    claimsLab_->button()->setEnabled(table_->rowCount() > 0);
    p->deleteLater();
    process_ = nullptr;
    Q_EMIT searchFinished(ok);
  });
  // The search, and the trials it starts, end with the app.
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QString::fromLatin1(kParentPidVariable), QString::number(QCoreApplication::applicationPid()));
  process_->setProcessEnvironment(env);
  process_->start(program,
                  {"search", source, "--budget", budget_->text().trimmed(), "--jobs", QString::number(jobs_->value()),
                   "--seed", QString::number(seed_->value()), "--out", folder_, "--force"});
  start_->setEnabled(false);
  stop_->setEnabled(true);
  claimsLab_->button()->setEnabled(false);
  setStatus(tr("Searching (budget %1)… trials appear as they finish.").arg(budget_->text().trimmed()));
  poll_->start();
}

void ExperimentsPanel::stopSearch() {
  if (running())
    process_->terminate();
}

void ExperimentsPanel::openSearch() {
  if (running())
    return;
  QFileDialog dialog(this, tr("Open a search folder"), folder_.isEmpty() ? runsFolder() : folder_);
  dialog.setObjectName("openSearchDialog");
  dialog.setFileMode(QFileDialog::Directory);
  dialog.setOption(QFileDialog::ShowDirsOnly);
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty())
    return;
  const QString dir = dialog.selectedFiles().front();
  if (!QFile::exists(dir + "/search.json")) {
    setStatus(tr("%1 holds no search.json: not a search folder").arg(dir), true);
    return;
  }
  SearchFile search;
  try {
    search = readSearchFile((dir + "/search.json").toStdString());
  } catch (const std::exception &e) {
    setStatus(tr("Cannot show this search: %1").arg(QString::fromUtf8(e.what())), true);
    return;
  }
  folder_ = dir;
  seen_ = QDateTime();
  claimsLab_->showMeasured(dir);
  searchedName_ = QString::fromStdString(search.project);
  poll();
  claimsLab_->button()->setEnabled(table_->rowCount() > 0);
  setStatus(tr("Search in %1: %n trial(s).", "", table_->rowCount()).arg(folder_));
}

void ExperimentsPanel::poll() {
  const QFileInfo file(folder_ + "/search.json");
  if (!file.exists() || file.lastModified() == seen_)
    return;
  seen_ = file.lastModified();
  Json search;
  try {
    search = Json::parse(readTextFile(file.absoluteFilePath().toStdString()));
  } catch (const std::exception &) {
    seen_ = QDateTime(); // written while read: next time
    return;
  }
  try {
    showSearch(readSearchJson(search, file.absoluteFilePath().toStdString())); // the text just read
  } catch (const std::exception &e) {
    setStatus(tr("Cannot show this search: %1").arg(QString::fromUtf8(e.what())), true);
  }
}

void ExperimentsPanel::showSearch(const SearchFile &search) {
  const std::set<std::string> front(search.pareto.begin(), search.pareto.end());
  const std::vector<TrialRecord> &trials = search.trials;
  std::map<std::string, std::size_t> latest; // a variant's last completed trial, by index
  for (std::size_t i = 0; i < trials.size(); ++i)
    if (trials[i].ok())
      latest[trials[i].variant] = i;
  table_->setSortingEnabled(false);
  table_->setRowCount(static_cast<int>(trials.size()));
  int row = 0;
  for (const TrialRecord &t : trials) {
    const std::string &name = t.variant;
    const bool ok = t.ok();
    const SearchVariant *v = search.variant(name);
    const auto axis = [&](const char *key) { return QString::fromStdString(v ? v->axis(key) : std::string()); };
    const QStringList cells = {QString::fromStdString(name),
                               QString::number(t.rung),
                               QString::number(t.epochs),
                               QString::fromStdString(t.status),
                               ok ? QString::number(100 * t.valAccuracy, 'f', 2) + " %" : QString(),
                               ok ? QLocale().toString(static_cast<qlonglong>(t.uniqueParameters)) : QString(),
                               ok ? QString::number(t.usPerSample, 'f', 1) : QString(),
                               QString::number(t.seconds, 'f', 0) + " s",
                               axis("parts"),
                               axis("width"),
                               axis("combine"),
                               axis("sharing")};
    for (int c = 0; c < cells.size(); ++c) {
      auto *item = new QTableWidgetItem(cells[c]);
      if (front.count(name) && latest[name] == static_cast<std::size_t>(row)) {
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
      }
      if (!ok)
        item->setToolTip(QString::fromStdString(t.message));
      item->setData(Qt::UserRole, QString::fromStdString(name));
      table_->setItem(row, c, item);
    }
    ++row;
  }
  drawPareto(search);
}

void ExperimentsPanel::drawPareto(const SearchFile &search) {
  pareto_->clearGraphs();
  pareto_->clearItems();
  // Each variant at its latest completed trial.
  struct Point {
    std::string name;
    double params = 0, accuracy = 0, us = 0;
    bool own = false, baseline = false;
  };
  std::map<std::string, Point> points;
  std::map<std::string, int> rungOf;
  for (const TrialRecord &t : search.trials) {
    if (!t.ok())
      continue;
    if (rungOf.count(t.variant) && rungOf[t.variant] > t.rung)
      continue;
    rungOf[t.variant] = t.rung;
    points[t.variant] = {t.variant, static_cast<double>(t.uniqueParameters), 100 * t.valAccuracy, t.usPerSample};
  }
  for (const SearchVariant &v : search.variants)
    if (auto it = points.find(v.name); it != points.end()) {
      it->second.own = v.original;
      it->second.baseline = v.baseline;
    }
  const std::set<std::string> front(search.pareto.begin(), search.pareto.end());
  double minUs = 1e300, maxUs = 0;
  for (const auto &[name, p] : points) {
    minUs = std::min(minUs, p.us);
    maxUs = std::max(maxUs, p.us);
  }
  // The front as a line first (not clickable), then one graph per point (clickable, with its own size).
  std::vector<Point> frontPoints;
  for (const auto &name : front)
    if (points.count(name))
      frontPoints.push_back(points[name]);
  std::sort(frontPoints.begin(), frontPoints.end(), [](const Point &a, const Point &b) { return a.params < b.params; });
  if (frontPoints.size() > 1) {
    QCPGraph *line = pareto_->addGraph();
    QColor frontColor = charts::seriesColor(0);
    frontColor.setAlpha(120);
    line->setPen(QPen(frontColor, 1.5, Qt::DashLine));
    line->setLineStyle(QCPGraph::lsStepLeft);
    for (const auto &p : frontPoints)
      line->addData(p.params, p.accuracy);
    line->setSelectable(QCP::stNone);
  }
  double lo = 1e300, hi = 0, accLo = 100, accHi = 0;
  for (const auto &[name, p] : points) {
    lo = std::min(lo, p.params);
    hi = std::max(hi, p.params);
  }
  for (const auto &[name, p] : points) {
    QCPGraph *g = pareto_->addGraph();
    g->setProperty("variant", QString::fromStdString(name));
    g->setName(QString::fromStdString(name));
    g->setLineStyle(QCPGraph::lsNone);
    const QColor color = p.own               ? charts::markColor()
                         : p.baseline        ? charts::negativeColor()
                         : front.count(name) ? charts::seriesColor(0)
                                             : charts::mutedColor();
    const double size = 7 + (maxUs > minUs ? 11 * (p.us - minUs) / (maxUs - minUs) : 4);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, size));
    g->addData(p.params, p.accuracy);
    accLo = std::min(accLo, p.accuracy);
    accHi = std::max(accHi, p.accuracy);
    if (p.own || p.baseline || front.count(name)) {
      auto *label = new QCPItemText(pareto_);
      label->position->setCoords(p.params, p.accuracy);
      // Right of the point, or left of it in the right part of the plot.
      const bool right = hi > lo && std::log(p.params / lo) > 0.6 * std::log(hi / lo);
      label->setPositionAlignment((right ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignBottom);
      label->setPadding(right ? QMargins(0, 0, 6, 4) : QMargins(6, 0, 0, 4));
      label->setText(p.own ? tr("this graph") : QString::fromStdString(name));
      label->setColor(color.darker(130));
      label->setClipToAxisRect(false);
      label->setLayer("labels");
    }
  }
  if (!points.empty()) {
    // At least two decades, so that the log axis has whole powers of ten to label.
    const double spread = std::max(hi / lo * 4, 100.0);
    const double middle = std::sqrt(lo * hi);
    pareto_->xAxis->setRange(middle / std::sqrt(spread), middle * std::sqrt(spread));
    const double pad = std::max(1.0, (accHi - accLo) * 0.15);
    pareto_->yAxis->setRange(accLo - pad, std::min(100.0, accHi + pad) + pad / 2);
  }
  pareto_->replot();
}

void ExperimentsPanel::openRow(int row) {
  if (auto *item = table_->item(row, 0))
    Q_EMIT openVariantRequested(folder_ + "/variants/" + item->data(Qt::UserRole).toString() + ".particle.json");
}

void ExperimentsPanel::startClaims() {
  QStringList chosen;
  for (const auto &index : table_->selectionModel()->selectedRows())
    if (auto *item = table_->item(index.row(), 0))
      chosen << item->data(Qt::UserRole).toString();
  claimsLab_->measure(folder_, chosen);
}

} // namespace particle::ui
