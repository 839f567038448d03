#include "experiments/ClaimsLab.h"

#include "base/Files.h"
#include "base/Json.h"
#include "charts/Charts.h"
#include "charts/CustomPlot.h"
#include "document/GraphDocument.h"
#include "recipes/Claims.h"
#include "recipes/LearningCurve.h"
#include "recipes/Processes.h"
#include "recipes/RunPlan.h"
#include "recipes/Search.h"
#include "training/EngineWorker.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <vector>

namespace particle::ui {

namespace {

// The legend's entries. Its grid counts its empty cells as items too (item() gives null for them):
// three entries in two columns leave one, and reading it as an entry crashed the app.
QList<QCPAbstractLegendItem *> legendEntries(const QCPLegend *legend) {
  QList<QCPAbstractLegendItem *> entries;
  for (int i = 0; i < legend->itemCount(); ++i)
    if (QCPAbstractLegendItem *item = legend->item(i))
      entries << item;
  return entries;
}

// Shows the legend below the axes while the plot has named curves (an empty one would take room).
void placeLegend(QCustomPlot *plot) {
  const bool below = plot->property("legendBelow").toBool();
  const bool wanted = !legendEntries(plot->legend).isEmpty();
  if (wanted && !below)
    charts::legendBelow(plot);
  else if (!wanted && below)
    charts::legendHidden(plot);
  plot->setProperty("legendBelow", wanted);
}

// A variant's name in a legend, its middle elided past 22 characters: two entries a row still
// fit a plot in a 1024×700 window (the line beside the plots names it whole).
QString legendName(const QString &name) {
  return name.size() <= 22 ? name : name.left(10) + "…" + name.right(11);
}

QCustomPlot *labPlot(QWidget *parent, const QString &name, const QString &x, const QString &y) {
  QCustomPlot *plot = charts::makeAxesPlot(parent, name, x, y);
  // Below the common 160: a 1024×700 window leaves the lab's plots about 150 pixels with the
  // verdict line under them.
  plot->setMinimumHeight(120);
  return plot;
}

// Grey text in place of the curves while a plot has none, its tick labels hidden: bare axes over
// a default range (0.001 to 1 samples) read as a result. An empty text: the curves are there.
void hint(QCustomPlot *plot, const QString &text) {
  charts::clearPlaceholder(plot);
  if (!text.isEmpty())
    charts::placeholder(plot, text);
  plot->xAxis->setTickLabels(text.isEmpty());
  plot->yAxis->setTickLabels(text.isEmpty());
}

void logAxis(QCustomPlot *plot) {
  plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
  plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  plot->xAxis->setNumberFormat("g");
}

// Ticks at the training sizes of a curve: a log axis over less than two decades falls back to
// evenly spaced ticks that crowded its right end ("10001250"). A size within a factor 1.5 of the
// one before it goes unlabelled, so that labels never overlap.
void sizeTicks(QCustomPlot *plot, std::vector<int64_t> sizes) {
  std::sort(sizes.begin(), sizes.end());
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  double last = 0;
  for (int64_t n : sizes)
    if (last == 0 || static_cast<double>(n) >= 1.5 * last) {
      ticker->addTick(static_cast<double>(n), QLocale().toString(static_cast<qlonglong>(n)));
      last = static_cast<double>(n);
    }
  plot->xAxis->setTicker(ticker);
}

// Sizes for a learning curve of `train` training samples: 100, 300, 1000… below half of it, at
// most three, then all of it; a small training split in quarters.
QString sizesFor(int64_t train) {
  QStringList sizes;
  if (train < 400) {
    for (int64_t s : {train / 4, train / 2})
      if (s > 0)
        sizes << QString::number(s);
  } else {
    for (int64_t s : {100, 300, 1000, 3000, 10000, 30000})
      if (s <= train / 2 && sizes.size() < 3)
        sizes << QString::number(s);
  }
  if (train > 0)
    sizes << QString::number(train);
  return sizes.join(',');
}

// "62.3 ± 1.2 %" over seeds (accuracies are fractions); parameter counts whole.
QString spreadText(const Claim &c, const Spread &s) {
  if (c.id == "sharing")
    return QLocale().toString(static_cast<qlonglong>(std::llround(s.mean)));
  if (s.n == 0)
    return "–";
  QString text = QString::number(100 * s.mean, 'f', 1);
  if (s.n > 1)
    text += " ± " + QString::number(100 * s.sd, 'f', 1);
  return text + " %";
}

QString signedNumber(double v, int digits) {
  return (v > 0 ? "+" : v < 0 ? "−" : "") + QString::number(std::abs(v), 'f', digits);
}

// "+2.1 pts [−0.4, +4.6] · graph better": the difference with its 95 % interval (none for one
// seed), and which side it favours — the sign alone read the wrong way where smaller is better.
QString differenceText(const Claim &c) {
  const Comparison &k = c.comparison;
  const QString direction = QString::fromStdString(claimDirection(c));
  const QString side = direction.isEmpty() ? QString() : " · " + direction;
  if (c.id == "sharing")
    return (k.difference > 0   ? "+"
            : k.difference < 0 ? "−"
                               : "") +
           QLocale().toString(static_cast<qlonglong>(std::llround(std::abs(k.difference)))) + side;
  if (c.verdict == "not applicable" || c.graph.n == 0)
    return "–";
  QString text = signedNumber(100 * k.difference, 1) + QObject::tr(" pts");
  if (k.n > 1)
    text += QString(" [%1, %2]").arg(signedNumber(100 * k.low, 1), signedNumber(100 * k.high, 1));
  return text + side;
}

QColor verdictColor(const QString &verdict) {
  QColor c = verdict == "holds"           ? charts::positiveColor()
             : verdict == "does not hold" ? charts::negativeColor()
             : verdict == "within noise"  ? charts::markColor()
                                          : charts::mutedColor();
  c.setAlpha(70);
  return c;
}

QColor roleColor(const std::string &role, int pareto) {
  if (role == "graph")
    return charts::markColor();
  if (role == "baseline")
    return charts::negativeColor();
  static const int blues[] = {0, 4, 5, 6, 7};
  return charts::seriesColor(blues[pareto % 5]);
}

QString roleName(const CurveModel &model) {
  if (model.role == "graph")
    return QObject::tr("this graph");
  if (model.role == "baseline")
    return QObject::tr("monolithic baseline");
  return QString::fromStdString(model.name);
}

} // namespace

ClaimsLab::ClaimsLab(GraphDocument *doc, std::function<QString()> runsFolder, std::function<QString()> searchFolder,
                     QWidget *parent)
    : QGroupBox(tr("Claims lab"), parent), doc_(doc), runsFolder_(std::move(runsFolder)),
      searchFolder_(std::move(searchFolder)) {
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 2); // the plots need the height more than the frame
  // A claim's first training took minutes with nothing but "training…" on the line.
  experimentTick_ = new QTimer(this);
  experimentTick_->setInterval(1000);
  connect(experimentTick_, &QTimer::timeout, this, &ClaimsLab::showExperimentProgress);
  seeds_ = new QSpinBox(this);
  seeds_->setObjectName("claimsSeeds");
  seeds_->setRange(1, 20);
  seeds_->setValue(3);
  seeds_->setToolTip(tr("Seeds per model: each starts other weights and shuffles otherwise; the spread over them "
                        "is what a difference is judged against"));
  claimsButton_ = new QPushButton(tr("Measure claims"), this);
  claimsButton_->setObjectName("measureClaims");
  claimsButton_->setToolTip(tr("Trains this graph and its monolithic baseline, each with every seed and equally "
                               "long, measures both alike and says for each claim whether it holds on this data"));
  sizes_ = new QLineEdit(this);
  sizes_->setObjectName("curveSizes");
  sizes_->setToolTip(tr("Training samples per point of the curve, drawn per seed (the validation and test splits "
                        "stay)"));
  sizes_->setMaximumWidth(170);
  curveButton_ = new QPushButton(tr("Learning curve"), this);
  curveButton_->setObjectName("learningCurve");
  curveButton_->setToolTip(tr("Trains this graph, the monolithic baseline and the Pareto set of the search shown at "
                              "every size with every seed: test accuracy and the generalisation gap against the "
                              "number of training samples"));
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setObjectName("stopClaims");
  stop_->setEnabled(false);
  button_ = new QPushButton(tr("Measure robustness"), this);
  button_->setObjectName("claimsButton");
  button_->setEnabled(false);
  button_->setToolTip(tr("For the selected trials of the search (or its Pareto set, this graph and the monolithic "
                         "baseline): accuracy under Gaussian input noise, with each input part occluded, and the "
                         "generalisation gap per epoch"));
  open_ = new QPushButton(tr("Open results…"), this);
  open_->setObjectName("openClaims");
  open_->setToolTip(tr("Shows a claims or learning-curve folder written earlier, by this lab or by `particle "
                       "robustness --seeds` / `particle learning-curve`"));
  auto *row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Seeds"), this));
  row->addWidget(seeds_);
  row->addWidget(claimsButton_);
  row->addSpacing(8);
  row->addWidget(new QLabel(tr("Sizes"), this));
  row->addWidget(sizes_, 1);
  row->addWidget(curveButton_);
  row->addWidget(stop_);
  row->addStretch(1);
  row->addWidget(button_);
  row->addWidget(open_);
  layout->addLayout(row);
  status_ = new QLabel(tr("The write-up's claims, tested on the graph in the Design tab against the monolithic "
                          "baseline."),
                       this);
  status_->setObjectName("claimsStatus");
  status_->setWordWrap(true);
  status_->setMinimumWidth(1);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(status_);

  views_ = new QTabWidget(this);
  views_->setObjectName("claimsViews");
  views_->setDocumentMode(true);
  table_ = new QTableWidget(0, 5, views_);
  table_->setObjectName("claimsTable");
  table_->setHorizontalHeaderLabels(
      {tr("Claim"), tr("This graph"), tr("Baseline"), tr("Difference (95 % interval)"), tr("Verdict")});
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  table_->setWordWrap(true);
  table_->setToolTip(tr("Mean ± sd over the seeds; the difference is this graph minus the baseline with its 95 % "
                        "interval. Hover a claim for its verdict in a sentence."));
  views_->addTab(table_, tr("Claims"));

  auto *curvePage = new QWidget(views_);
  auto *curveGrid = new QGridLayout(curvePage);
  curveGrid->setContentsMargins(0, 2, 0, 0);
  curve_ = labPlot(curvePage, "curvePlot", tr("training samples"), tr("test acc. (%)"));
  logAxis(curve_);
  curve_->setToolTip(tr("Test accuracy against the number of training samples (log scale), mean ± sd over the "
                        "seeds: orange this graph, red the monolithic baseline, blue the search's Pareto set"));
  curveGap_ = labPlot(curvePage, "curveGapPlot", tr("training samples"), tr("gap (pts)"));
  logAxis(curveGap_);
  curveGap_->setToolTip(tr("The generalisation gap, training minus validation accuracy after the last epoch, mean ± sd "
                           "over the seeds: it shrinks as the training set grows; a model that over-fits less stays "
                           "lower"));
  verdicts_ = new QLabel(curvePage);
  verdicts_->setObjectName("curveVerdicts");
  verdicts_->setWordWrap(true);
  verdicts_->setMinimumWidth(1);
  verdicts_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  hint(curve_, tr("Learning curve: test accuracy against the\nnumber of training samples, per model"));
  hint(curveGap_, tr("…and the generalisation gap (training\nminus validation accuracy) per size"));
  curveGrid->addWidget(curve_, 0, 0);
  curveGrid->addWidget(curveGap_, 0, 1);
  curveGrid->addWidget(verdicts_, 1, 0, 1, 2);
  curveGrid->setRowStretch(0, 1);
  views_->addTab(curvePage, tr("Learning curve"));

  auto *variantsPage = new QWidget(views_);
  auto *grid = new QGridLayout(variantsPage);
  grid->setContentsMargins(0, 2, 0, 0);
  label_ = new QLabel(variantsPage);
  label_->setObjectName("claimsLabel");
  label_->setToolTip(tr("Per model: test accuracy on clean inputs; the loss when the worst of the searched "
                        "graph's input parts is set to the training mean (every model over the same parts); "
                        "unique of total parameters (sharing makes them differ)"));
  label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  // One line per model measured: wrapped to the room there is, never widening the tab.
  label_->setWordWrap(true);
  label_->setMinimumWidth(1);
  noise_ = labPlot(variantsPage, "noisePlot", tr("input noise σ (training-data standard deviations)"),
                   tr("test accuracy (%)"));
  noise_->xAxis->setRange(0, 1);
  noise_->yAxis->setRange(0, 100);
  gap_ = labPlot(variantsPage, "gapPlot", tr("epoch"), tr("train − val accuracy (%)"));
  gap_->setToolTip(tr("Training accuracy (the running mean over each epoch) minus validation accuracy after it: "
                      "below zero early on, growing as a model starts to over-fit"));
  gap_->xAxis->setRange(0.5, 5.5);
  gap_->yAxis->setRange(-5, 5);
  // The lines per model beside the plots, scrolled when they are many: above them, they left the
  // plots no height in a 1024×700 window.
  auto *lines = new QScrollArea(variantsPage);
  lines->setWidget(label_);
  lines->setWidgetResizable(true);
  lines->setFrameShape(QFrame::NoFrame);
  lines->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  label_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
  grid->addWidget(noise_, 0, 0);
  grid->addWidget(gap_, 0, 1);
  grid->addWidget(lines, 0, 2);
  grid->setColumnStretch(0, 3);
  grid->setColumnStretch(1, 3);
  grid->setColumnStretch(2, 2);
  views_->addTab(variantsPage, tr("Search variants"));
  views_->setTabToolTip(2, tr("Robustness of the search's variants (Measure robustness)"));
  // The views take the height the lab has; asking for their preferred height made the
  // Experiments page scroll in a 1024×700 window.
  views_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Ignored);
  views_->setMinimumHeight(150);
  layout->addWidget(views_, 1);

  connect(claimsButton_, &QPushButton::clicked, this, [this] { startExperiment("claims", {}); });
  connect(curveButton_, &QPushButton::clicked, this, [this] {
    QString sizes = sizes_->text().remove(' ');
    if (sizes.isEmpty()) {
      setStatus(tr("Give the training sizes of the curve, e.g. 100,300,1000."), true);
      return;
    }
    QStringList extra = {"--sizes", sizes};
    const QString search = searchFolder_();
    if (!search.isEmpty() && QFile::exists(search + "/search.json"))
      extra << "--search" << search; // its Pareto set on the curve too
    startExperiment("curve", extra);
  });
  connect(stop_, &QPushButton::clicked, this, [this] {
    if (experimentRunning())
      experiment_->terminate();
  });
  connect(open_, &QPushButton::clicked, this, &ClaimsLab::openResults);
  connect(sizes_, &QLineEdit::textEdited, this, [this] { sizesTyped_ = true; });
  connect(doc_, &GraphDocument::validated, this, &ClaimsLab::suggestSizes);
  suggestSizes();
  draw();
}

ClaimsLab::~ClaimsLab() {
  shutdown();
}

bool ClaimsLab::measuring() const {
  return (process_ && process_->state() != QProcess::NotRunning) || experimentRunning();
}

bool ClaimsLab::experimentRunning() const {
  return experiment_ && experiment_->state() != QProcess::NotRunning;
}

bool ClaimsLab::uses(const QString &folder) const {
  return (experimentRunning() && folder == experimentFolder_) ||
         (process_ && process_->state() != QProcess::NotRunning && folder == folder_);
}

void ClaimsLab::relocate(const QString &from, const QString &to) {
  for (QString *path : {&folder_, &results_, &experimentFolder_})
    if (*path == from || path->startsWith(from + "/"))
      *path = to + path->mid(from.size());
  status_->setText(status_->text().replace(from, to));
  status_->setToolTip(status_->toolTip().replace(from, to));
}

void ClaimsLab::shutdown() {
  for (QProcess *p : {process_, experiment_}) {
    if (!p || p->state() == QProcess::NotRunning)
      continue;
    p->disconnect(this);
    p->terminate(); // the command ends its trials
    if (!p->waitForFinished(5000)) {
      p->kill();
      p->waitForFinished(5000);
    }
  }
}

// One line at 1024×700 where it can: a results folder is named in the text, its path in the tooltip.
void ClaimsLab::setStatus(const QString &text, bool error) {
  status_->setText(text);
  status_->setToolTip({});
  status_->setStyleSheet(error ? "color: #d03030" : QString());
}

void ClaimsLab::suggestSizes() {
  if (sizesTyped_)
    return;
  if (const DataInfo *d = doc_->dataInfo(); d && d->trainCount > 0)
    sizes_->setText(sizesFor(d->trainCount));
}

void ClaimsLab::startExperiment(const QString &kind, const QStringList &extra) {
  if (experimentRunning())
    return;
  const QString program = EngineWorker::commandLineProgram();
  if (program.isEmpty()) {
    setStatus(tr("The claims lab runs the `particle` command-line program, which is neither next to the app nor on "
                 "PATH (set PARTICLE_CLI to it)."),
              true);
    return;
  }
  if (!doc_->validation().ok()) {
    setStatus(tr("The graph has problems; fix them first (Problems panel)."), true);
    return;
  }
  // The command keeps its own copies of the projects it trains (projects/ in its folder), which
  // must hold nothing else when it starts: the graph goes to it from a temporary file.
  QString folder, source;
  try {
    sourceDir_ = std::make_unique<QTemporaryDir>();
    source = sourceDir_->filePath(QString::fromStdString(safeRunName(doc_->project().name)) + ".particle.json");
    doc_->saveCopyTo(source);
    folder = QString::fromStdString(
        newRunFolder(runsFolder_().toStdString(), kind.toStdString() + "-" + safeRunName(doc_->project().name)));
  } catch (const std::exception &e) {
    setStatus(tr("Cannot start: %1").arg(QString::fromUtf8(e.what())), true);
    return;
  }
  experimentFolder_ = folder;
  Q_EMIT folderMade(folder, kind);
  const bool claims = kind == "claims";
  output_.clear();
  experiment_ = new QProcess(this);
  experiment_->setProcessChannelMode(QProcess::MergedChannels);
  connect(experiment_, &QProcess::readyRead, this, [this, claims] {
    output_ += QString::fromUtf8(experiment_->readAll());
    if (output_.size() > 20000)
      output_ = output_.right(10000);
    // The latest progress line, "[k/n] …" as the commands print it after each trial.
    static const QRegularExpression progress(R"(^\[(\d+)/(\d+)\]\s*(.*)$)", QRegularExpression::MultilineOption);
    QRegularExpressionMatch last;
    for (auto it = progress.globalMatch(output_); it.hasNext();)
      last = it.next();
    if (last.hasMatch()) {
      trialsDone_ = last.captured(1).toInt();
      trialsPlanned_ = last.captured(2).toInt();
      lastTrial_ = last.captured(3).trimmed();
      showExperimentProgress();
    }
  });
  connect(experiment_, &QProcess::finished, this,
          [this, claims, folder, p = experiment_](int code, QProcess::ExitStatus status) {
            output_ += QString::fromUtf8(p->readAll());
            const QStringList lines = output_.trimmed().split('\n');
            const bool ok = status == QProcess::NormalExit && code == 0;
            for (QPushButton *b : {claimsButton_, curveButton_, open_})
              b->setEnabled(true);
            stop_->setEnabled(false);
            experimentTick_->stop();
            p->deleteLater();
            experiment_ = nullptr;
            if (ok) {
              if (claims)
                showClaims(folder);
              else
                showCurve(folder);
            } else {
              if (status == QProcess::CrashExit || code == 15 || code == 143)
                setStatus(tr("Stopped; what finished is in %1").arg(folder));
              else
                setStatus(
                    tr("%1 failed: %2")
                        .arg(claims ? tr("Measuring claims") : tr("The learning curve"), lines.value(lines.size() - 1)),
                    true);
              if (!claims) // the points it finished, no longer "so far"
                try {
                  drawCurve(readCurveFile((folder + "/curve.json").toStdString()), false);
                } catch (const std::exception &) {
                  drawCurve({}, false);
                }
            }
            Q_EMIT experimentFinished(ok);
          });
  // The command, and the trials it starts, end with the app.
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QString::fromLatin1(kParentPidVariable), QString::number(QCoreApplication::applicationPid()));
  experiment_->setProcessEnvironment(env);
  if (!claims) {
    // curve.json is written again after every run: its points are drawn as they come (a curve with
    // a search is some 50 runs, minutes before the last).
    auto *watcher = new QFileSystemWatcher({folder}, experiment_);
    connect(watcher, &QFileSystemWatcher::directoryChanged, this, [this, folder] {
      if (experimentRunning()) // a change reported after the end would draw over the whole curve
        showPartialCurve(folder);
    });
    drawCurve({}, true);
    views_->setCurrentIndex(1);
  }
  QStringList args = {claims ? "robustness" : "learning-curve", source, "--seeds", QString::number(seeds_->value())};
  args << extra << "--out" << folder;
  experiment_->start(program, args);
  for (QPushButton *b : {claimsButton_, curveButton_, open_})
    b->setEnabled(false);
  stop_->setEnabled(true);
  // The claims of a new folder are known ahead: each seed of both models trained, then measured.
  experimentClaims_ = claims;
  trialsDone_ = 0;
  trialsPlanned_ = claims ? 4 * seeds_->value() : 0;
  lastTrial_.clear();
  experimentClock_.start();
  experimentTick_->start();
  showExperimentProgress();
}

void ClaimsLab::showExperimentProgress() {
  if (!experimentRunning())
    return;
  const qint64 seconds = experimentClock_.elapsed() / 1000;
  const QString clock = QString("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QChar('0'));
  const QString what =
      experimentClaims_
          ? tr("Measuring claims (this graph and the monolithic baseline, %n seed(s) each)", "", seeds_->value())
          : tr("Learning curve (every model at every size, %n seed(s) each)", "", seeds_->value());
  const QString running = trialsPlanned_ == 0 ? tr("trial %1 running").arg(trialsDone_ + 1)
                          : trialsDone_ < trialsPlanned_
                              ? tr("trial %1 of %2 running").arg(trialsDone_ + 1).arg(trialsPlanned_)
                              : tr("all %1 trials done, writing the results").arg(trialsPlanned_);
  QString text = QString("%1: %2 · %3").arg(what, running, clock);
  if (!lastTrial_.isEmpty())
    text += tr(" — last: %1").arg(lastTrial_);
  setStatus(text);
}

void ClaimsLab::openResults() {
  if (experimentRunning())
    return;
  QFileDialog dialog(this, tr("Open a claims or learning-curve folder"), results_.isEmpty() ? runsFolder_() : results_);
  dialog.setObjectName("openClaimsDialog");
  dialog.setFileMode(QFileDialog::Directory);
  dialog.setOption(QFileDialog::ShowDirsOnly);
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty())
    return;
  const QString dir = dialog.selectedFiles().front();
  if (QFile::exists(dir + "/claims.json"))
    showClaims(dir);
  else if (QFile::exists(dir + "/curve.json"))
    showCurve(dir);
  else
    setStatus(tr("%1 holds neither claims.json nor curve.json: not a claims or learning-curve folder").arg(dir), true);
}

void ClaimsLab::showClaims(const QString &folder) {
  ClaimsResult r;
  try {
    r = readClaimsFile((folder + "/claims.json").toStdString());
  } catch (const std::exception &e) {
    setStatus(tr("Cannot show these claims: %1").arg(QString::fromUtf8(e.what())), true);
    return;
  }
  results_ = folder;
  table_->setRowCount(static_cast<int>(r.claims.size()));
  int row = 0;
  for (const Claim &c : r.claims) {
    const QString verdict = QString::fromStdString(claimVerdictText(c));
    const QStringList cells = {QString::fromStdString(c.claim), spreadText(c, c.graph), spreadText(c, c.baseline),
                               differenceText(c), verdict};
    const QString sentence = QString::fromStdString(c.sentence);
    for (int col = 0; col < cells.size(); ++col) {
      auto *item = new QTableWidgetItem(cells[col]);
      item->setToolTip(col == 0 ? tr("%1\n\nMeasured: %2").arg(sentence, QString::fromStdString(c.measure)) : sentence);
      if (col > 0)
        item->setTextAlignment(Qt::AlignCenter);
      if (col == 4)
        item->setBackground(verdictColor(verdict));
      item->setData(Qt::UserRole, QString::fromStdString(c.id));
      table_->setItem(row, col, item);
    }
    ++row;
  }
  table_->resizeRowsToContents();
  views_->setCurrentWidget(table_);
  setStatus(
      tr("Claims of %1 against %2, %3 epoch(s), %n seed(s) each (a claim's tooltip says why) — in %4", "", r.seeds)
          .arg(QString::fromStdString(r.project), QString::fromStdString(r.baseline))
          .arg(r.epochs)
          .arg(QFileInfo(folder).fileName()));
  status_->setToolTip(folder);
}

void ClaimsLab::showCurve(const QString &folder) {
  CurveResult r;
  try {
    r = readCurveFile((folder + "/curve.json").toStdString());
  } catch (const std::exception &e) {
    setStatus(tr("Cannot show this learning curve: %1").arg(QString::fromUtf8(e.what())), true);
    return;
  }
  results_ = folder;
  drawCurve(r, false);
  views_->setCurrentIndex(1);
  QStringList sizes;
  for (int64_t n : r.sizes)
    sizes << QLocale().toString(static_cast<qlonglong>(n));
  setStatus(tr("Learning curve of %1 at %2 training samples, %n seed(s) each — in %3", "", r.seeds)
                .arg(QString::fromStdString(r.project), sizes.join(", "), QFileInfo(folder).fileName()));
  status_->setToolTip(folder);
}

void ClaimsLab::showPartialCurve(const QString &folder) {
  try {
    drawCurve(readCurveFile((folder + "/curve.json").toStdString()), true);
  } catch (const std::exception &) {
    // Not written yet: the command writes it before the first run starts.
  }
}

void ClaimsLab::drawCurve(const CurveResult &r, bool running) {
  curve_->clearPlottables();
  curveGap_->clearPlottables();
  double accLo = 100, accHi = 0, gapLo = 0, gapHi = 0, sizeLo = 1e300, sizeHi = 0;
  int pareto = 0;
  for (const CurveModel &model : r.models) {
    const QColor color = roleColor(model.role, model.role == "pareto" ? pareto++ : 0);
    for (auto [plot, quantity] :
         {std::pair<QCustomPlot *, Spread CurvePoint::*>{curve_, &CurvePoint::test}, {curveGap_, &CurvePoint::gap}}) {
      QCPGraph *g = plot->addGraph();
      g->setName(roleName(model));
      g->setPen(QPen(color, model.role == "pareto" ? 1.4 : 2));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, 6));
      auto *bars = new QCPErrorBars(plot->xAxis, plot->yAxis);
      bars->removeFromLegend();
      bars->setPen(QPen(color, 1.2));
      QVector<double> errors;
      for (const CurvePoint &point : model.points) {
        const Spread &s = point.*quantity;
        if (s.n == 0) // no seed of this size finished (yet)
          continue;
        const double size = static_cast<double>(point.size), mean = 100 * s.mean, sd = 100 * s.sd;
        g->addData(size, mean);
        errors << sd;
        sizeLo = std::min(sizeLo, size);
        sizeHi = std::max(sizeHi, size);
        double &lo = plot == curve_ ? accLo : gapLo, &hi = plot == curve_ ? accHi : gapHi;
        lo = std::min(lo, mean - sd);
        hi = std::max(hi, mean + sd);
      }
      bars->setDataPlottable(g);
      bars->setData(errors);
      // A model none of whose runs finished yet is left out of the legend until one has.
      if (g->dataCount() == 0)
        g->removeFromLegend();
    }
  }
  if (sizeHi > 0) {
    for (QCustomPlot *plot : {curve_, curveGap_}) {
      plot->xAxis->setRange(sizeLo / 1.5, sizeHi * 1.5);
      sizeTicks(plot, r.sizes);
      hint(plot, {});
    }
    curve_->yAxis->setRange(std::max(0.0, accLo - 3), std::min(100.0, accHi + 3));
    const double pad = std::max(1.0, 0.1 * (gapHi - gapLo));
    curveGap_->yAxis->setRange(gapLo - pad, gapHi + pad);
  } else {
    const QString text = running ? tr("Training the first runs: each point\nappears as its seeds finish")
                                 : tr("No run of this curve completed");
    hint(curve_, text);
    hint(curveGap_, text);
  }
  // The verdict at each size, graph against baseline, where both have a seed; the sentences as
  // the tooltip.
  QStringList verdicts, sentences;
  for (const CurveComparison &c : r.comparisons) {
    const Comparison &k = c.comparison;
    if (running && k.n == 0)
      continue;
    QString text = tr("N=%1 %2").arg(c.size).arg(QString::fromStdString(k.verdict));
    if (k.n > 1)
      text +=
          QString(" (%1 pts [%2, %3])")
              .arg(signedNumber(100 * k.difference, 1), signedNumber(100 * k.low, 1), signedNumber(100 * k.high, 1));
    verdicts << text;
    sentences << tr("N=%1: %2").arg(c.size).arg(QString::fromStdString(k.sentence));
  }
  verdicts_->setText(
      verdicts.isEmpty() ? QString::fromStdString(r.notes)
      : running ? tr("So far (seeds still running), this graph against the baseline: %1").arg(verdicts.join(" · "))
                : tr("This graph against the baseline, test accuracy: %1").arg(verdicts.join(" · ")));
  verdicts_->setToolTip(sentences.join("\n"));
  for (QCustomPlot *plot : {curve_, curveGap_}) {
    placeLegend(plot);
    plot->replot();
  }
}

void ClaimsLab::clear() {
  done_.clear();
  errors_.clear();
  draw();
}

void ClaimsLab::showMeasured(const QString &folder) {
  folder_ = folder;
  done_.clear();
  errors_.clear();
  for (const QString &name : QDir(folder + "/claims").entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
    if (QFile::exists(folder + "/claims/" + name + "/robustness.json"))
      done_ << name; // measured earlier: shown again
  draw();
}

void ClaimsLab::measure(const QString &folder, const QStringList &variants) {
  if (folder.isEmpty() || (process_ && process_->state() != QProcess::NotRunning))
    return;
  folder_ = folder;
  QStringList chosen = variants;
  if (chosen.isEmpty()) {
    try {
      const SearchFile search = readSearchFile((folder_ + "/search.json").toStdString());
      for (const std::string &name : search.pareto)
        chosen << QString::fromStdString(name);
      for (const SearchVariant &v : search.variants)
        if (v.original || (v.baseline && v.axis("width") == "w1"))
          chosen << QString::fromStdString(v.name);
    } catch (const std::exception &e) {
      label_->setText(tr("Cannot read the search: %1").arg(QString::fromUtf8(e.what())));
      return;
    }
  }
  chosen.removeDuplicates();
  queue_.clear();
  for (const auto &name : chosen)
    if (QFile::exists(folder_ + "/trials/" + name + "/checkpoint.pt"))
      queue_ << name;
  done_.clear();
  errors_.clear();
  button_->setEnabled(false);
  views_->setCurrentIndex(2);
  label_->setText(tr("Measuring %n variant(s)…", "", static_cast<int>(queue_.size())));
  next();
  if (process_)
    draw(); // what was shown goes: the first variant is being measured
}

void ClaimsLab::next() {
  if (queue_.isEmpty()) {
    draw();
    Q_EMIT finished();
    return;
  }
  const QString name = queue_.takeFirst();
  process_ = new QProcess(this);
  process_->setProcessChannelMode(QProcess::MergedChannels);
  connect(process_, &QProcess::finished, this, [this, name, p = process_](int code, QProcess::ExitStatus) {
    if (code == 0)
      done_ << name;
    else
      errors_ << tr("%1: %2").arg(name, QString::fromUtf8(p->readAll()).trimmed().split('\n').last());
    p->deleteLater();
    process_ = nullptr;
    draw();
    next();
  });
  process_->start(EngineWorker::commandLineProgram(),
                  {"robustness", folder_ + "/variants/" + name + ".particle.json", "--checkpoint",
                   folder_ + "/trials/" + name + "/checkpoint.pt", "--parts-from", folder_ + "/source.particle.json",
                   "--samples", "2000", "--out", folder_ + "/claims/" + name});
}

void ClaimsLab::draw() {
  noise_->clearGraphs();
  gap_->clearGraphs();
  QStringList lines;
  int i = 0;
  double noiseLo = 100, gapLo = 0, gapHi = 0, sigmaHi = 0;
  int epochsHi = 1;
  for (const QString &name : done_) {
    Json r;
    try {
      r = Json::parse(readTextFile((folder_ + "/claims/" + name + "/robustness.json").toStdString()));
    } catch (const std::exception &) {
      continue;
    }
    const QColor color = charts::seriesColor(i++);
    QCPGraph *g = noise_->addGraph();
    g->setName(legendName(name));
    g->setPen(QPen(color, 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    for (const auto &n : r["noise"]) {
      g->addData(n["sigma"].get<double>(), 100 * n["accuracy"].get<double>());
      noiseLo = std::min(noiseLo, 100 * n["accuracy"].get<double>());
      sigmaHi = std::max(sigmaHi, n["sigma"].get<double>());
    }
    QCPGraph *h = gap_->addGraph();
    h->setName(legendName(name));
    h->setPen(QPen(color, 2));
    h->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6)); // a run of one epoch is one point
    for (const auto &e : r["generalisation_gap"]) {
      h->addData(e["epoch"].get<int>(), 100 * e["gap"].get<double>());
      gapLo = std::min(gapLo, 100 * e["gap"].get<double>());
      gapHi = std::max(gapHi, 100 * e["gap"].get<double>());
      epochsHi = std::max(epochsHi, e["epoch"].get<int>());
    }
    double worst = 0;
    for (const auto &o : r["occlusion"])
      worst = std::max(worst, o["drop"].get<double>());
    lines << tr("<b>%1</b>: clean %2 %, worst part occluded −%3 pts, %4 / %5 params unique")
                 .arg(name)
                 .arg(100 * r["clean_accuracy"].get<double>(), 0, 'f', 1)
                 .arg(100 * worst, 0, 'f', 1)
                 .arg(QLocale().toString(static_cast<qlonglong>(r["parameters"]["unique"].get<int64_t>())))
                 .arg(QLocale().toString(static_cast<qlonglong>(r["parameters"]["total"].get<int64_t>())));
  }
  if (i > 0) {
    hint(noise_, {});
    hint(gap_, {});
  } else if (!queue_.isEmpty() || process_) {
    hint(noise_, tr("Measuring the first variant…"));
    hint(gap_, tr("Measuring the first variant…"));
  } else {
    hint(noise_, tr("Select rows of the search (or none) and\npress Measure robustness: accuracy\nunder input noise, a "
                    "curve per variant"));
    hint(gap_, tr("…and the generalisation gap per epoch\n(training minus validation accuracy)"));
  }
  noise_->xAxis->setRange(0, std::max(0.1, sigmaHi) * 1.05);
  noise_->yAxis->setRange(std::max(0.0, noiseLo - 5), 100);
  gap_->xAxis->setRange(0.5, epochsHi + 0.5);
  gap_->yAxis->setRange(gapLo - 2, gapHi + 2);
  placeLegend(noise_);
  placeLegend(gap_);
  noise_->replot();
  gap_->replot();
  if (!queue_.isEmpty() || process_)
    lines.prepend(tr("Measuring… %n to go", "", static_cast<int>(queue_.size()) + (process_ ? 1 : 0)));
  for (const QString &e : errors_)
    lines << QString("<span style=\"color:#d03030\">%1</span>").arg(e.toHtmlEscaped());
  label_->setText(lines.join("<br>"));
}

} // namespace particle::ui
