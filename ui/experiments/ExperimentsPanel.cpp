#include "experiments/ExperimentsPanel.h"

#include "experiments/ClaimsLab.h"
#include "experiments/TransferLab.h"

#include "AppPaths.h"
#include "document/GraphDocument.h"
#include "project/Project.h"
#include "project/ProjectCheck.h"
#include "recipes/Processes.h"
#include "recipes/RunPlan.h"
#include "recipes/Search.h"
#include "recipes/Verdict.h"
#include "charts/Charts.h"
#include "charts/CustomPlot.h"
#include "training/EngineWorker.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontMetricsF>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QRegularExpression>
#include <QSplitter>
#include <QTabBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QHelpEvent>
#include <QResizeEvent>
#include <QThread>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

namespace particle::ui {

namespace {
const QStringList kColumns = {"Variant",      "Rung",      "Epochs", "Seed",  "Status", "Val acc", "Unique params",
                              "FLOPs/sample", "µs/sample", "Time",   "Parts", "Width",  "Combine", "Sharing"};
enum Column { kVariant, kRung, kEpochs, kSeed, kStatus, kVal, kParams, kFlops, kUs, kTime };
// A row of a trial running: its key ("own", "own seed 1"), as the search's lines name it.
constexpr int kRunningRole = Qt::UserRole + 1;

QString percent(double fraction, int decimals = 2) {
  return QString::number(100 * fraction, 'f', decimals) + " %";
}

// Validation accuracy over seeds: "91.20 ± 0.40 %" (one seed: no spread to give).
QString spreadText(const Spread &s) {
  if (s.n < 2)
    return percent(s.mean);
  return QString::number(100 * s.mean, 'f', 2) + " ± " + QString::number(100 * s.sd, 'f', 2) + " %";
}

QString seedList(const std::vector<int> &seeds) {
  QStringList list;
  for (int seed : seeds)
    list << QString::number(seed);
  return (seeds.size() == 1 ? "seed " : "seeds ") + list.join(", ");
}

QString seedValues(const Spread &s) {
  QStringList values;
  for (double v : s.values)
    values << percent(v);
  return values.join(", ");
}

// 1.23 M, 456 k as `particle check` writes them; empty when not counted.
QString flopsText(double flops) {
  return flops > 0 ? QString::fromStdString(particle::flopsText(flops)) : QString();
}

// "1 epoch", "3 seeds": the figures a scientist compares read as words, not "3 seed(s)".
QString count(int n, const QString &one, const QString &many) {
  return QString("%1 %2").arg(n).arg(n == 1 ? one : many);
}
QString epochsText(int n) {
  return count(n, "epoch", "epochs");
}
QString seedsText(int n) {
  return count(n, "seed", "seeds");
}

// The seeds the finalists have: "3 seeds", or while some are short of them "1–2 of 3 seeds so far".
QString finalistSeeds(const SearchFile &search, bool provisional) {
  int fewest = search.seeds, most = 0;
  for (const Finalist &f : search.finalists) {
    fewest = std::min(fewest, f.val.n);
    most = std::max(most, f.val.n);
  }
  if (!provisional)
    return seedsText(most);
  const QString done = fewest == most ? QString::number(most) : QString("%1–%2").arg(fewest).arg(most);
  return QCoreApplication::translate("ExperimentsPanel", "%1 of %2 so far").arg(done, seedsText(search.seeds));
}

// What ran, "14 trials in 1 rung (1 cut short)", and apart from it what the budget left out before
// it started, "3 variants left out of budget, never trained" (empty when none was).
std::pair<QString, QString> trialsText(const SearchFile &search) {
  const auto tr = [](const char *text) { return QCoreApplication::translate("ExperimentsPanel", text); };
  const TrialTally tally = tallyTrials(search.trials);
  QStringList besides;
  if (tally.failed > 0)
    besides << tr("%1 failed").arg(tally.failed);
  if (tally.cut > 0)
    besides << tr("%1 cut short").arg(tally.cut);
  QString ran =
      tr("%1 in %2").arg(count(tally.ran(), tr("trial"), tr("trials")), count(search.rungs, tr("rung"), tr("rungs")));
  if (!besides.isEmpty())
    ran += " (" + besides.join(", ") + ")";
  return {ran, tally.leftOut > 0
                   ? tr("%1 left out of budget, never trained").arg(count(tally.leftOut, tr("variant"), tr("variants")))
                   : QString()};
}

// Trials a halving of n variants takes: n, then half of them (rounded up), … down to one.
int halvingTrials(int n) {
  int trials = 0;
  for (; n > 1; n = (n + 1) / 2)
    trials += n;
  return trials + std::max(0, n);
}

QString durationText(double seconds) {
  if (seconds < 90)
    return QString::number(seconds, 'f', 0) + " s";
  const int s = static_cast<int>(std::lround(seconds));
  if (s < 3600)
    return QString("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QString("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60);
}
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
  jobs_->setValue(defaultSearchJobs()); // as `particle search`: one trial per core
  jobs_->setToolTip(tr("Trials at once, the cores shared among them (by default one per core: a small model "
                       "trains faster as two trials on one thread each than as one on two)"));
  seed_ = new QSpinBox(box);
  seed_->setObjectName("searchSeed");
  seed_->setRange(0, 1000000);
  seed_->setToolTip(tr("Which variants start besides this graph and the monolithic baseline"));
  // Three by default: one seed gives no spread, and so no verdict — the question the search
  // answers ("is the winner really better?") needs at least two, and three is the fewest whose
  // standard deviation says something. It costs two more trainings of each finalist.
  seeds_ = new QSpinBox(box);
  seeds_->setObjectName("searchSeeds");
  seeds_->setRange(1, 10);
  seeds_->setValue(3);
  seeds_->setToolTip(tr("How many times each finalist trains at the final epochs, each with its own seed: the "
                        "winner is the best mean, and the verdict says whether its lead is larger than the spread "
                        "between seeds (one seed: no verdict)"));
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
  auto *seedsLabel = new QLabel(tr("Seeds"), box);
  seedsLabel->setBuddy(seeds_);
  seedsLabel->setToolTip(seeds_->toolTip());
  grid->addWidget(seedsLabel, 0, 6);
  grid->addWidget(seeds_, 0, 7);
  open_ = new QPushButton(tr("Open search…"), box);
  open_->setObjectName("openSearch");
  open_->setToolTip(tr("Shows a search folder written earlier, by this tab or by `particle search`"));
  grid->addWidget(start_, 0, 8);
  grid->addWidget(stop_, 0, 9);
  grid->addWidget(open_, 0, 11);
  grid->setColumnStretch(10, 1);
  // The seed phase runs after the budget's halving, whatever the budget: a 1m search with 3 seeds
  // took three minutes, and nothing said so before it started.
  seedsNote_ = new QLabel(box);
  seedsNote_->setObjectName("seedsNote");
  seedsNote_->setWordWrap(true);
  seedsNote_->setMinimumWidth(1); // wrapped or cut rather than widen a narrow window
  seedsNote_->setForegroundRole(QPalette::PlaceholderText);
  seedsNote_->setToolTip(tr("The budget limits the halving (the rungs that pick the finalists). Then each finalist "
                            "trains again from scratch at the final epochs once per seed, whatever the budget: that "
                            "phase takes about finalists × seeds trials more."));
  const auto noteSeeds = [this](int seeds) {
    seedsNote_->setText(tr("the budget covers the halving; then %1 of each finalist").arg(seedsText(seeds)));
  };
  noteSeeds(seeds_->value());
  connect(seeds_, &QSpinBox::valueChanged, this, noteSeeds);
  grid->addWidget(seedsNote_, 0, 10);
  status_ = new QLabel(tr("Search over decompositions of the graph in the Design tab: how many parts, how wide, how "
                          "combined, how shared — against one sub-model on the whole input."),
                       box);
  status_->setObjectName("searchStatus");
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  // A long folder name has no place to wrap: it must not widen the tab (and the window) for it.
  status_->setMinimumWidth(1);
  grid->addWidget(status_, 1, 0, 1, 12);
  layout->addWidget(box);

  auto *split = new QSplitter(Qt::Horizontal, this);
  table_ = new QTableWidget(0, static_cast<int>(kColumns.size()), split);
  table_->setObjectName("trialsTable");
  table_->setHorizontalHeaderLabels(kColumns);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setToolTip(tr("First the finalists (shaded): each trained with every seed at the final epochs, their "
                        "validation accuracy the mean ± standard deviation over the seeds (hover for each seed's). "
                        "Then one row per trial: rung 0 trains every variant briefly, each later rung the better "
                        "half twice as long. Bold: the Pareto set, at its latest trial. Double-click a row to open "
                        "its variant in the designer; select rows for the claims lab."));
  const std::pair<int, QString> headerTips[] = {
      {kSeed, tr("The training seed of the trial; a finalist's row: how many seeds it trained with")},
      {kVal, tr("Validation accuracy; a finalist's: mean ± standard deviation over its seeds")},
      {kFlops, tr("Floating-point operations of one forward pass per sample (a multiply-add counts 2), counted from "
                  "the node types: the same on every machine")},
      {kUs, tr("Inference time per sample on the test split: the median of several timed passes at a fixed thread "
               "count, on this machine")}};
  for (const auto &[column, tip] : headerTips)
    table_->horizontalHeaderItem(column)->setToolTip(tip);
  // The plot and, above it, which trials it compares.
  auto *plotSide = new QWidget(split);
  auto *plotLayout = new QVBoxLayout(plotSide);
  plotLayout->setContentsMargins(0, 0, 0, 0);
  plotLayout->setSpacing(2);
  view_ = new QComboBox(plotSide);
  view_->setObjectName("paretoView");
  view_->setToolTip(tr("Accuracies compare only between variants trained equally long: the finalists (every seed at "
                       "the final epochs), or the variants of one rung"));
  view_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  view_->setPlaceholderText(tr("no search yet"));
  view_->setEnabled(false);
  auto *viewRow = new QHBoxLayout;
  auto *viewLabel = new QLabel(tr("Compare"), plotSide);
  viewLabel->setBuddy(view_);
  viewRow->addWidget(viewLabel);
  viewRow->addWidget(view_);
  viewRow->addStretch(1);
  // What point size means, beside the choice (in the plot's title it took a line of a small plot).
  sizeNote_ = new QLabel(plotSide);
  sizeNote_->setObjectName("paretoSizeNote");
  sizeNote_->setToolTip(tr("Point size: floating-point operations of one forward pass per sample, counted from the "
                           "node types; the same on every machine, so a variant keeps its size in every view"));
  sizeNote_->setMinimumWidth(1); // cut rather than widen a narrow window
  sizeNote_->setForegroundRole(QPalette::PlaceholderText);
  viewRow->addWidget(sizeNote_);
  plotLayout->addLayout(viewRow);
  pareto_ = charts::makePlot(plotSide, "paretoPlot", " ");
  paretoTitle_ = qobject_cast<QCPTextElement *>(pareto_->plotLayout()->element(0, 0));
  pareto_->xAxis->setLabel(tr("unique parameters"));
  pareto_->yAxis->setLabel(tr("validation accuracy (%)"));
  plotLayout->addWidget(pareto_, 1);
  pareto_->xAxis->setScaleType(QCPAxis::stLogarithmic);
  pareto_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  pareto_->xAxis->setNumberFormat("eb"); // 10⁵
  pareto_->xAxis->setNumberPrecision(0);
  pareto_->xAxis->setRange(1e3, 1e6);
  pareto_->yAxis->setRange(0, 100);
  // Labels lie below the points, so that a click on a point reaches the point.
  pareto_->addLayer("labels", pareto_->layer("main"), QCustomPlot::limBelow);
  pareto_->setToolTip(
      tr("Variants trained equally long (the title says how long). Blue: the Pareto set among them "
         "(no other is both more accurate and smaller); orange: this graph; red: the monolithic "
         "baseline; grey: the rest. Bars: ± one standard deviation over seeds. Larger points take "
         "more FLOPs per sample. Hover a point for its figures; click it to select its row (ringed: the "
         "rows selected), double-click it to open that variant."));
  pareto_->installEventFilter(this);
  connect(pareto_, &QCustomPlot::mouseMove, this, [this](QMouseEvent *e) {
    const bool onPoint = showPointTip(e->position().toPoint());
    // A point is a thing to click: the hand says so.
    if (onPoint)
      pareto_->setCursor(Qt::PointingHandCursor);
    else
      pareto_->unsetCursor();
    if (!onPoint && pointTipShown_) {
      QToolTip::hideText();
      pointTipShown_ = false;
    }
  });
  // A click selects the point's row (Ctrl adds or removes it), as a click in the table does; the
  // error bars drawn over a finalist's point took QCustomPlot's own plottable click, so the hit is
  // tested here, on the disc.
  connect(pareto_, &QCustomPlot::mousePress, this, [this](QMouseEvent *e) {
    QCPGraph *g = e->button() == Qt::LeftButton ? pointAt(e->position().toPoint()) : nullptr;
    const int row = g ? g->property("row").toInt() : -1;
    if (row < 0 || row >= table_->rowCount())
      return;
    table_->setCurrentCell(
        row, 0,
        (e->modifiers() & Qt::ControlModifier ? QItemSelectionModel::Toggle : QItemSelectionModel::ClearAndSelect) |
            QItemSelectionModel::Rows);
    table_->scrollToItem(table_->item(row, 0));
  });
  connect(pareto_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent *e) {
    if (QCPGraph *g = e->button() == Qt::LeftButton ? pointAt(e->position().toPoint()) : nullptr)
      Q_EMIT openVariantRequested(folder_ + "/variants/" + g->property("variant").toString() + ".particle.json");
  });
  connect(view_, &QComboBox::activated, this, [this] { viewPicked_ = true; });
  connect(view_, &QComboBox::currentIndexChanged, this, [this] { drawPareto(); });
  split->addWidget(table_);
  split->addWidget(plotSide);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);
  // The table and the plot take the height the page has (at least what the plot needs to draw its
  // axes): asking for their preferred height made the page scroll in a 1024×700 window.
  split->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Ignored);
  split->setMinimumHeight(150);
  // The search above the labs, a handle between them: in a small window the labs can be dragged
  // down out of the way (collapsed) to give the table and the plot the page.
  auto *page = page_ = new QSplitter(Qt::Vertical, this);
  page->setObjectName("searchAndLabs");
  page->setChildrenCollapsible(true);
  page->addWidget(split);
  page->setCollapsible(0, false);
  layout->addWidget(page, 1);

  // The two labs take turns below the search: stacked, they did not fit a 1024×700 window.
  labs_ = new QTabWidget(page);
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
  page->addWidget(labs_);
  // The search takes the larger share: at 1024×700 an even split left its plot too short to read.
  page->setStretchFactor(0, 3);
  page->setStretchFactor(1, 2);
  page->setHandleWidth(7);
  page->handle(1)->setToolTip(
      tr("Drag down to give the search the page (the labs fold to their tabs), up to have them back"));
  // Folded, the labs keep their tabs in sight: folded away whole (at 1024×700, where they start
  // folded) nothing said they were there. A click on a tab opens them (two fifths of the page, as
  // the stretch gives them); a drag that would leave their controls cut in half goes to the nearer
  // of folded and open.
  labs_->setMinimumHeight(labs_->tabBar()->sizeHint().height() + 2);
  page->setCollapsible(1, false);
  for (int i = 0; i < labs_->count(); ++i)
    labs_->setTabToolTip(i, labs_->tabToolTip(i) + tr(" (folded: click to open the labs)"));
  // The tooltip alone did not tell: a user dragged the handle instead. Folded, the tab bar says it.
  foldHint_ = new QToolButton(labs_);
  foldHint_->setObjectName("openLabsHint");
  foldHint_->setAutoRaise(true);
  foldHint_->setText(tr("▲ folded: click a tab, or here, to open the labs"));
  foldHint_->hide();
  labs_->setCornerWidget(foldHint_, Qt::TopRightCorner);
  labs_->installEventFilter(this); // folded or not, its height says
  const auto openLabs = [this] {
    if (!labsFolded())
      return;
    pageMoved_ = true;
    const int total = page_->sizes().value(0) + page_->sizes().value(1);
    const int open =
        std::min(total - page_->widget(0)->minimumHeight(), std::max(labs_->minimumSizeHint().height(), total * 2 / 5));
    page_->setSizes({total - open, open});
  };
  connect(labs_->tabBar(), &QTabBar::tabBarClicked, this, openLabs);
  connect(foldHint_, &QToolButton::clicked, this, openLabs);
  connect(page, &QSplitter::splitterMoved, this, [this] {
    pageMoved_ = true;
    const int labs = page_->sizes().value(1), folded = labs_->minimumHeight(), open = labs_->minimumSizeHint().height();
    if (labs > folded && labs < open) {
      const int total = page_->sizes().value(0) + labs;
      const int to = labs - folded < open - labs ? folded : std::min(open, total - page_->widget(0)->minimumHeight());
      page_->setSizes({total - to, to});
    }
  });

  poll_ = new QTimer(this);
  poll_->setInterval(500);
  connect(poll_, &QTimer::timeout, this, [this] {
    poll();
    showProgress();
  });
  connect(start_, &QPushButton::clicked, this, &ExperimentsPanel::startSearch);
  connect(stop_, &QPushButton::clicked, this, &ExperimentsPanel::stopSearch);
  connect(claimsLab_->button(), &QPushButton::clicked, this, &ExperimentsPanel::startClaims);
  connect(claimsLab_, &ClaimsLab::finished, this, [this] { claimsLab_->button()->setEnabled(!running()); });
  connect(open_, &QPushButton::clicked, this, &ExperimentsPanel::openSearch);
  // What this document makes goes with its project when it is saved (keepFolders); one in use then
  // goes when its process ends.
  connect(claimsLab_, &ClaimsLab::folderMade, this, [this](const QString &folder, const QString &kind) {
    made_.add(folder, kind, QString::fromStdString(doc_->project().name));
  });
  connect(transferLab_, &TransferLab::folderMade, this, [this](const QString &folder) {
    made_.add(folder, "transfer", QString::fromStdString(doc_->project().name));
  });
  const auto ended = [this] {
    if (made_.waiting())
      Q_EMIT freed();
  };
  connect(this, &ExperimentsPanel::searchFinished, this, ended);
  connect(claimsLab_, &ClaimsLab::finished, this, ended);
  connect(claimsLab_, &ClaimsLab::experimentFinished, this, ended);
  connect(transferLab_, &TransferLab::transferFinished, this, ended);
  // Another document (a variant opened from here, another project): the search shown stays, and
  // says whose it is.
  connect(doc_, &GraphDocument::modelReset, this, [this] {
    made_.clear(); // another document's: they stay where they are
    if (folder_.isEmpty() || running() || searchedName_.isEmpty())
      return;
    const QString now = QString::fromStdString(doc_->project().name);
    if (now != searchedName_)
      setStatus(tr("Showing the search of %1 (%2). Start search searches the graph now in the Design tab (%3); "
                   "double-click the row \"own\" to open %1's graph again.")
                    .arg(searchedName_, folder_, now));
  });
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { openRow(row); });
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] { markSelected(); });
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

KeepReport ExperimentsPanel::keepFolders() {
  return made_.keep(
      runsFolder(), userRunsFolder(), QString::fromStdString(doc_->project().name),
      [this](const QString &folder) {
        return (running() && folder == folder_) || claimsLab_->uses(folder) || transferLab_->uses(folder);
      },
      [this](const QString &from, const QString &to) {
        if (folder_ == from || folder_.startsWith(from + "/")) {
          folder_ = to + folder_.mid(from.size());
          // The search shown is of the project under its new name (search.json says so now): the
          // learning curve still takes its Pareto set.
          try {
            searchedName_ = QString::fromStdString(readSearchFile((folder_ + "/search.json").toStdString()).project);
          } catch (const std::exception &) {
            // Shown as it was.
          }
          status_->setText(status_->text().replace(from, to));
          status_->setToolTip(status_->toolTip().replace(from, to));
          seen_ = QDateTime();
        }
        claimsLab_->relocate(from, to);
        transferLab_->relocate(from, to);
        Q_EMIT folderMoved(from, to);
      });
}

QString ExperimentsPanel::runsFolder() const {
  if (!runsFolder_.isEmpty())
    return runsFolder_;
  return runsFolderFor(doc_->filePath());
}

void ExperimentsPanel::setStatus(const QString &text, bool error) {
  budgetRefused_ = false;
  status_->setToolTip({});
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
    made_.add(folder_, "search", QString::fromStdString(doc_->project().name));
    source = folder_ + "/source.particle.json";
    doc_->saveCopyTo(source);
  } catch (const std::exception &e) {
    setStatus(tr("Cannot start: %1").arg(QString::fromUtf8(e.what())), true);
    return;
  }
  table_->setRowCount(0);
  shown_.reset();
  viewPicked_ = false;
  view_->clear();
  view_->setEnabled(false);
  pareto_->clearPlottables();
  pareto_->clearItems();
  paretoTitle_->setText(" ");
  pareto_->replot();
  claimsLab_->clear();
  searchedName_ = QString::fromStdString(doc_->project().name);
  seen_ = QDateTime();
  output_.clear();
  searchBudget_ = budget_->text().trimmed();
  searchSeeds_ = seeds_->value();
  expectedFinalists_ = 0;
  runningTrials_.clear();
  partialLine_.clear();
  started_.start();
  process_ = new QProcess(this);
  process_->setProcessChannelMode(QProcess::MergedChannels);
  connect(process_, &QProcess::readyRead, this, [this] {
    const QString chunk = QString::fromUtf8(process_->readAll());
    output_ += chunk;
    if (output_.size() > 20000)
      output_ = output_.right(10000);
    readTrialLines(chunk);
  });
  connect(process_, &QProcess::finished, this, [this, p = process_](int code, QProcess::ExitStatus status) {
    output_ += QString::fromUtf8(p->readAll());
    poll_->stop();
    poll();
    runningTrials_.clear(); // what it left running ended with it
    showRunningTrials();
    const QStringList lines = output_.trimmed().split('\n');
    const bool ok = status == QProcess::NormalExit && code == 0;
    if (ok) {
      // "13 trials in 3 rungs, 1 min 2 s", from search.json (the winner is said below, with its reason).
      const auto [ran, leftOut] = shown_ ? trialsText(*shown_) : std::pair<QString, QString>();
      const QString result = shown_ ? outcome(*shown_) : QString();
      setStatus(tr("Search of %1 finished: %2, %3%4.%5")
                    .arg(searchedName_, ran, durationText(static_cast<double>(started_.elapsed()) / 1000),
                         leftOut.isEmpty() ? QString() : "; " + leftOut, result.isEmpty() ? QString() : " " + result));
      status_->setToolTip(shown_ ? details(*shown_) : QString());
    } else if (status == QProcess::CrashExit || code == 15 || code == 143)
      setStatus(tr("Search stopped; what finished is in %1").arg(folder_));
    else
      setStatus(tr("The search failed: %1").arg(lines.value(lines.size() - 1)), true);
    start_->setEnabled(true);
    stop_->setEnabled(false);
    claimsLab_->button()->setEnabled(table_->rowCount() > 0);
    p->deleteLater();
    process_ = nullptr;
    expectedFinalists_ = 0;
    // Drawn while it ran, the finalists may still read "so far": now they are what there is.
    if (shown_)
      showSearch(SearchFile(*shown_));
    Q_EMIT searchFinished(ok);
  });
  // The search, and the trials it starts, end with the app.
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QString::fromLatin1(kParentPidVariable), QString::number(QCoreApplication::applicationPid()));
  process_->setProcessEnvironment(env);
  process_->start(program, {"search", source, "--budget", budget_->text().trimmed(), "--jobs",
                            QString::number(jobs_->value()), "--seed", QString::number(seed_->value()), "--seeds",
                            QString::number(seeds_->value()), "--out", folder_, "--force"});
  start_->setEnabled(false);
  stop_->setEnabled(true);
  claimsLab_->button()->setEnabled(false);
  poll_->start();
  showProgress();
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
  const QString result = shown_ ? outcome(*shown_) : QString();
  const auto [ran, leftOut] = shown_ ? trialsText(*shown_) : std::pair<QString, QString>();
  setStatus(tr("Search in %1: %2%3.").arg(folder_, ran, leftOut.isEmpty() ? QString() : "; " + leftOut) +
            (result.isEmpty() ? QString() : " " + result));
  status_->setToolTip(shown_ ? details(*shown_) : QString());
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
  shown_ = std::make_unique<SearchFile>(search);
  const std::set<std::string> front(search.pareto.begin(), search.pareto.end());
  const std::vector<TrialRecord> &trials = search.trials;
  std::map<std::string, std::size_t> latest; // a variant's last completed halving trial (the front's), by index
  for (std::size_t i = 0; i < trials.size(); ++i)
    if (trials[i].ok() && trials[i].phase == "halving")
      latest[trials[i].variant] = i;
  const std::string runnerUp = search.verdict.runnerUp ? search.verdict.runnerUp->b : std::string();
  table_->setSortingEnabled(false);
  table_->setRowCount(static_cast<int>(search.finalists.size() + trials.size()));
  const auto axes = [&](const std::string &name) {
    const SearchVariant *v = search.variant(name);
    QStringList values;
    for (const char *key : {"parts", "width", "combine", "sharing"})
      values << QString::fromStdString(v ? v->axis(key) : std::string());
    return values;
  };
  const auto fill = [&](int row, const std::string &name, const QStringList &cells) {
    for (int c = 0; c < cells.size(); ++c) {
      auto *item = new QTableWidgetItem(cells[c]);
      item->setData(Qt::UserRole, QString::fromStdString(name));
      table_->setItem(row, c, item);
    }
  };
  // The finalists first: the comparison the winner was chosen by, every one at the same epochs.
  QColor shade = charts::seriesColor(0);
  shade.setAlpha(30);
  // Short of their seeds, the finalists' order is the one so far: a winner named from one seed
  // of three changed later.
  const bool soFar = provisional(search);
  int row = 0;
  for (const Finalist &f : search.finalists) {
    const SearchVariant *v = search.variant(f.variant);
    const QString role = f.variant == search.winner ? (soFar ? tr("leading so far") : tr("winner"))
                         : f.variant == runnerUp    ? (soFar ? tr("second so far") : tr("runner-up"))
                         : v && v->baseline         ? tr("baseline")
                         : v && v->original         ? tr("this graph")
                                                    : tr("finalist");
    fill(row, f.variant,
         QStringList{QString::fromStdString(f.variant), tr("final"), QString::number(f.epochs),
                     soFar ? tr("%1 of %2").arg(f.val.n).arg(seedsText(search.seeds)) : seedsText(f.val.n), role,
                     spreadText(f.val), QLocale().toString(static_cast<qlonglong>(f.uniqueParameters)),
                     flopsText(f.flopsPerSample),
                     f.usPerSample > 0 ? QString::number(f.usPerSample, 'f', 1) : QString(), QString()} +
             axes(f.variant));
    for (int c = 0; c < table_->columnCount(); ++c)
      table_->item(row, c)->setBackground(shade);
    table_->item(row, kVal)->setToolTip(
        tr("Validation accuracy of %1 at %2, per seed (%3): %4\nTest accuracy: %5 (per seed: %6)")
            .arg(QString::fromStdString(f.variant), epochsText(f.epochs), seedList(f.seeds), seedValues(f.val),
                 spreadText(f.test), seedValues(f.test)));
    ++row;
  }
  for (std::size_t i = 0; i < trials.size(); ++i, ++row) {
    const TrialRecord &t = trials[i];
    const bool ok = t.ok();
    fill(row, t.variant,
         QStringList{QString::fromStdString(t.variant), t.phase == "seeds" ? tr("final") : QString::number(t.rung),
                     QString::number(t.epochs), QString::number(t.seed), QString::fromStdString(t.status),
                     ok ? percent(t.valAccuracy) : QString(),
                     ok ? QLocale().toString(static_cast<qlonglong>(t.uniqueParameters)) : QString(),
                     ok ? flopsText(t.flopsPerSample) : QString(),
                     ok ? QString::number(t.usPerSample, 'f', 1) : QString(), durationText(t.seconds)} +
             axes(t.variant));
    for (int c = 0; c < table_->columnCount(); ++c) {
      QTableWidgetItem *item = table_->item(row, c);
      if (front.count(t.variant) && latest[t.variant] == i) {
        QFont font = item->font();
        font.setBold(true);
        item->setFont(font);
      }
      if (!ok)
        item->setToolTip(QString::fromStdString(t.message));
    }
    // Two seeds of this graph once read 23.61 % both, and looked as if the seed never reached it:
    // they had trained apart (test 22.7 and 35.0 %), and landed on the same 17 of 72 samples.
    if (ok)
      table_->item(row, kVal)->setToolTip(
          tr("Validation accuracy %1, test accuracy %2; trained with seed %3. Accuracy counts whole samples: on a "
             "small validation split two seeds can land on the same count however differently they trained, and "
             "their test accuracy tells them apart.")
              .arg(percent(t.valAccuracy), percent(t.testAccuracy))
              .arg(t.seed));
  }
  showRunningTrials();
  fillViews(search);
}

QString ExperimentsPanel::outcome(const SearchFile &search) const {
  if (search.finalists.empty() || search.winner.empty())
    return {};
  const Finalist *winner = nullptr;
  for (const Finalist &f : search.finalists)
    if (f.variant == search.winner)
      winner = &f;
  if (!winner)
    return {};
  // A few plain words (the reason, the figures and the cost are the tooltip): the winner is chosen
  // on validation, the verdict is on the test split — a "winner" that trails on the test split
  // read as a contradiction when the two were not told apart.
  QStringList sentences;
  sentences << (provisional(search) ? tr("Leading so far by mean validation accuracy (%1): %2, %3")
                                          .arg(finalistSeeds(search, true), QString::fromStdString(search.winner),
                                               spreadText(winner->val))
                                    : tr("Winner by mean validation accuracy: %1, %2")
                                          .arg(QString::fromStdString(search.winner), spreadText(winner->val)));
  QStringList verdicts;
  for (const auto &[comparison, whom] : {std::pair{&search.verdict.runnerUp, tr("the runner-up")},
                                         std::pair{&search.verdict.baseline, tr("the baseline")}}) {
    if (!*comparison)
      continue;
    const Comparison &c = **comparison;
    const QString word = c.verdict == "better"          ? tr("significant")
                         : c.verdict == "worse"         ? tr("significantly behind")
                         : c.verdict == "too few seeds" ? tr("cannot tell with one seed")
                                                        : QString::fromStdString(c.verdict);
    verdicts << tr("%1 against %2 (%3)").arg(word, whom, QString::fromStdString(c.b));
  }
  if (!verdicts.isEmpty())
    sentences << tr("Verdict on the test split, which chose nothing: %1").arg(verdicts.join(tr(", ")));
  for (QString &s : sentences)
    s += '.';
  return sentences.join(' ');
}

QString ExperimentsPanel::details(const SearchFile &search) const {
  QStringList lines;
  if (!search.reason.empty())
    lines << QString::fromStdString(search.reason);
  if (!search.verdict.sentence.empty())
    lines << QString::fromStdString(search.verdict.sentence);
  if (search.cost.fullSeconds > 0) {
    // With few variants halving can cost more than it saves (the seeds train afresh): said so.
    const long saving = std::lround(100 * search.cost.saving());
    lines << tr("Cost: %1 of trials (the seeds %2), against %3 to train every variant started for %4 with %5, from "
                "the measured time per epoch: %6.")
                 .arg(durationText(search.cost.seconds), durationText(search.cost.seedSeconds),
                      durationText(search.cost.fullSeconds),
                      epochsText(search.finalists.empty() ? 0 : search.finalists.front().epochs),
                      seedsText(search.seeds),
                      saving >= 0 ? tr("halving saved %1 %").arg(saving)
                                  : tr("halving cost %1 % more, too few variants for it to pay").arg(-saving));
  }
  if (!folder_.isEmpty())
    lines << tr("Results in %1").arg(folder_);
  return lines.join("\n\n");
}

bool ExperimentsPanel::provisional(const SearchFile &search) const {
  if (search.finalists.empty())
    return false;
  if (running() && static_cast<int>(search.finalists.size()) < expectedFinalists_)
    return true;
  return std::any_of(search.finalists.begin(), search.finalists.end(),
                     [&](const Finalist &f) { return f.val.n < search.seeds; });
}

void ExperimentsPanel::showProgress() {
  if (!running())
    return;
  // The phase from the search's own lines ("rung 1: 4 variant(s), 2 epoch(s) each", "finalists: 5
  // variant(s), 3 seed(s) each, …"), the trials done from search.json.
  const QStringList lines = output_.split('\n');
  QString phase;
  for (auto it = lines.crbegin(); it != lines.crend() && phase.isEmpty(); ++it)
    if (it->startsWith("rung ") || it->startsWith("finalists: "))
      phase = *it;
  const auto number = [](const QString &line, int field) { return line.section(' ', field, field).toInt(); };
  int halvingDone = 0, seedsDone = 0;
  const int seeds = searchSeeds_;
  if (shown_)
    for (const TrialRecord &t : shown_->trials)
      (t.phase == "seeds" ? seedsDone : halvingDone)++;
  const SearchBudget budget = SearchBudget::parse(searchBudget_.toStdString()); // checked at the start
  const QString runningText =
      runningTrials_.empty() ? QString() : tr(", %1 running").arg(static_cast<int>(runningTrials_.size()));
  QString text;
  if (phase.startsWith("finalists: ")) {
    expectedFinalists_ = number(phase, 1);
    text = tr("Seed phase, after the budget's halving: %1 of %2 trials done (%3 of each of %4 finalists at %5)%6. "
              "Winner and verdict once every seed is in.")
               .arg(seedsDone)
               .arg(expectedFinalists_ * seeds)
               .arg(seedsText(seeds))
               .arg(expectedFinalists_)
               .arg(epochsText(number(phase, 6)), runningText);
  } else {
    QString done;
    if (budget.trials) {
      // The trials of the rungs before this one, then this rung's halving, as far as the budget goes.
      const int rung = phase.isEmpty() ? 0 : phase.section(' ', 1, 1).chopped(1).toInt();
      int before = 0;
      if (shown_)
        for (const TrialRecord &t : shown_->trials)
          before += t.phase == "halving" && t.rung < rung;
      const int total = phase.isEmpty() ? *budget.trials
                                        : before + std::min(halvingTrials(number(phase, 2)), *budget.trials - before);
      done = tr("%1 of %2 trials done").arg(halvingDone).arg(total) + runningText;
    } else {
      const double left = *budget.seconds - static_cast<double>(started_.elapsed()) / 1000;
      done = tr("%1 done%2, %3")
                 .arg(count(halvingDone, tr("trial"), tr("trials")), runningText,
                      left > 0 ? tr("%1 of the budget left").arg(durationText(left)) : tr("the budget is spent"));
    }
    text = tr("Halving%1: %2. Then %3 of each finalist.")
               .arg(phase.isEmpty() ? QString()
                                    : tr(", rung %1 (%2 at %3)")
                                          .arg(phase.section(' ', 1, 1).chopped(1))
                                          .arg(count(number(phase, 2), tr("variant"), tr("variants")),
                                               epochsText(number(phase, 4))),
                    done, seedsText(seeds));
  }
  if (status_->text() != text)
    setStatus(text);
  showRunningTrials(); // their clocks
}

void ExperimentsPanel::readTrialLines(const QString &chunk) {
  // "started own (rung 0, 1 epoch(s), seed 0)" as a trial starts, "  own   val 23.61%  …" (two
  // spaces, the same name) as it ends.
  static const QRegularExpression started(
      R"(^started (\S+(?: seed \d+)?) \((rung \d+|final), (\d+) epoch\(s\), seed (\d+)\)$)");
  static const QRegularExpression ended(R"(^  (\S+(?: seed \d+)?)\s)");
  partialLine_ += chunk;
  QStringList lines = partialLine_.split('\n');
  partialLine_ = lines.takeLast(); // not yet whole
  for (const QString &line : lines) {
    if (const auto m = started.match(line); m.hasMatch()) {
      RunningTrial t;
      t.key = m.captured(1);
      t.variant = t.key.section(' ', 0, 0);
      t.stage = m.captured(2) == "final" ? tr("final") : m.captured(2).section(' ', 1);
      t.epochs = m.captured(3).toInt();
      t.seed = m.captured(4).toInt();
      t.since.start();
      runningTrials_.push_back(t);
    } else if (const auto e = ended.match(line); e.hasMatch()) {
      runningTrials_.erase(std::remove_if(runningTrials_.begin(), runningTrials_.end(),
                                          [&](const RunningTrial &t) { return t.key == e.captured(1); }),
                           runningTrials_.end());
    }
  }
  showRunningTrials();
  showProgress();
}

void ExperimentsPanel::showRunningTrials() {
  // A trial's row came only once it had ended: a first rung at one epoch left the table empty for
  // half a minute. The rows of those running sit below the finalists, in italics; rebuilt when the
  // set changes, only their clocks otherwise (a selection or a scroll stays).
  std::vector<int> rows;
  for (int r = 0; r < table_->rowCount(); ++r)
    if (QTableWidgetItem *item = table_->item(r, kVariant); item && item->data(kRunningRole).isValid())
      rows.push_back(r);
  const auto clock = [this](const RunningTrial &t) {
    const qint64 seconds = t.since.elapsed() / 1000;
    return tr("running · %1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QChar('0'));
  };
  bool same = rows.size() == runningTrials_.size();
  for (std::size_t i = 0; same && i < rows.size(); ++i)
    same = table_->item(rows[i], kVariant)->data(kRunningRole).toString() == runningTrials_[i].key;
  if (same) {
    for (std::size_t i = 0; i < rows.size(); ++i)
      table_->item(rows[i], kStatus)->setText(clock(runningTrials_[i]));
    return;
  }
  for (auto it = rows.rbegin(); it != rows.rend(); ++it)
    table_->removeRow(*it);
  int at = shown_ ? static_cast<int>(std::min<std::size_t>(shown_->finalists.size(), table_->rowCount())) : 0;
  for (const RunningTrial &t : runningTrials_) {
    table_->insertRow(at);
    const QStringList cells = {t.variant, t.stage, QString::number(t.epochs), QString::number(t.seed), clock(t)};
    for (int c = 0; c < table_->columnCount(); ++c) {
      auto *item = new QTableWidgetItem(cells.value(c));
      item->setData(Qt::UserRole, t.variant);
      item->setData(kRunningRole, t.key);
      QFont font = item->font();
      font.setItalic(true);
      item->setFont(font);
      table_->setItem(at, c, item);
    }
    ++at;
  }
}

void ExperimentsPanel::fillViews(const SearchFile &search) {
  const QString current = view_->currentData().toString();
  QSignalBlocker block(view_);
  view_->clear();
  if (!search.finalists.empty()) {
    const Finalist &f = search.finalists.front();
    view_->addItem(tr("Finalists (%1 × %2)").arg(epochsText(f.epochs), finalistSeeds(search, provisional(search))),
                   "final");
  }
  std::map<int, std::pair<int, std::set<std::string>>> rungs; // rung → epochs, variants completed
  for (const TrialRecord &t : search.trials)
    if (t.ok() && t.phase == "halving") {
      rungs[t.rung].first = t.epochs;
      rungs[t.rung].second.insert(t.variant);
    }
  for (const auto &[rung, what] : rungs)
    view_->addItem(tr("Rung %1 (%2, %3)")
                       .arg(rung)
                       .arg(epochsText(what.first), count(static_cast<int>(what.second.size()), "variant", "variants")),
                   QString("rung:%1").arg(rung));
  // The view picked stays; otherwise the furthest the search has come: the finalists once they
  // are in, else the latest rung.
  int index = viewPicked_ ? view_->findData(current) : -1;
  if (index < 0)
    index = search.finalists.empty() ? view_->count() - 1 : 0;
  view_->setCurrentIndex(index);
  view_->setEnabled(view_->count() > 0);
  drawPareto();
}

void ExperimentsPanel::drawPareto() {
  pareto_->clearPlottables();
  pareto_->clearItems();
  if (!shown_ || view_->currentIndex() < 0) {
    paretoTitle_->setText(" ");
    sizeNote_->clear();
    pareto_->replot();
    return;
  }
  const SearchFile &search = *shown_;
  const QString view = view_->currentData().toString();
  struct Point {
    std::string name;
    double params = 0, flops = 0, us = 0;
    Spread val, test;
    int epochs = 0;
    std::vector<int> seeds;
    int row = -1; // its row in the table
  };
  std::vector<Point> points;
  int epochs = 0, seeds = 1;
  const bool soFar = view == "final" && provisional(search);
  if (view == "final") {
    for (const Finalist &f : search.finalists) {
      points.push_back({f.variant, static_cast<double>(f.uniqueParameters), f.flopsPerSample, f.usPerSample, f.val,
                        f.test, f.epochs, f.seeds, static_cast<int>(points.size())});
      epochs = f.epochs;
      seeds = std::max(seeds, f.val.n);
    }
  } else {
    // One rung: each variant's first completed trial of it (every variant there trained as long).
    const int rung = view.section(':', 1).toInt();
    std::set<std::string> seen;
    for (std::size_t i = 0; i < search.trials.size(); ++i)
      if (const TrialRecord &t = search.trials[i];
          t.ok() && t.phase == "halving" && t.rung == rung && seen.insert(t.variant).second) {
        points.push_back({t.variant,
                          static_cast<double>(t.uniqueParameters),
                          t.flopsPerSample,
                          t.usPerSample,
                          spreadOf({t.valAccuracy}),
                          spreadOf({t.testAccuracy}),
                          t.epochs,
                          {t.seed},
                          static_cast<int>(search.finalists.size() + i)}); // the table: finalists, then trials
        epochs = t.epochs;
      }
  }
  // Point size by FLOPs per sample, scaled over the whole search: a variant keeps its size in
  // every view (a measured time would jitter from rung to rung).
  double minFlops = 1e300, maxFlops = 0;
  for (const TrialRecord &t : search.trials)
    if (t.flopsPerSample > 0) {
      minFlops = std::min(minFlops, t.flopsPerSample);
      maxFlops = std::max(maxFlops, t.flopsPerSample);
    }
  // Log scale, the full range of sizes for a hundredfold: two variants 1.8× apart must not look
  // like a dot and a boulder.
  const auto radius = [&](double flops) {
    if (flops <= 0 || maxFlops <= 0)
      return 7.0;
    return 7 + 11 * std::log(flops / minFlops) / std::max(std::log(maxFlops / minFlops), std::log(100.0));
  };
  paretoTitle_->setText(
      view == "final" ? (soFar       ? tr("Finalists: %1, %2").arg(epochsText(epochs), finalistSeeds(search, true))
                         : seeds > 1 ? tr("Finalists: %1, mean ± sd over %2").arg(epochsText(epochs), seedsText(seeds))
                                     : tr("Finalists: %1, one seed").arg(epochsText(epochs)))
                      : tr("Rung %1: every variant at %2, one seed").arg(view.section(':', 1), epochsText(epochs)));
  sizeNote_->setText(maxFlops > 0 ? tr("size = FLOPs: %1–%2").arg(flopsText(minFlops), flopsText(maxFlops))
                                  : QString());

  // The Pareto set among the points shown: no other is at least as accurate and as small, and
  // better in one.
  std::set<std::string> front;
  for (const Point &p : points) {
    bool dominated = false;
    for (const Point &q : points)
      dominated = dominated || (q.val.mean >= p.val.mean && q.params <= p.params &&
                                (q.val.mean > p.val.mean || q.params < p.params));
    if (!dominated)
      front.insert(p.name);
  }
  std::vector<const Point *> frontPoints;
  for (const Point &p : points)
    if (front.count(p.name))
      frontPoints.push_back(&p);
  std::sort(frontPoints.begin(), frontPoints.end(),
            [](const Point *a, const Point *b) { return a->params < b->params; });
  // The front as a line first (not clickable), then one graph per point (clickable, with its own size).
  if (frontPoints.size() > 1) {
    QCPGraph *line = pareto_->addGraph();
    QColor frontColor = charts::seriesColor(0);
    frontColor.setAlpha(120);
    line->setPen(QPen(frontColor, 1.5, Qt::DashLine));
    line->setLineStyle(QCPGraph::lsStepLeft);
    for (const Point *p : frontPoints)
      line->addData(p->params, 100 * p->val.mean);
    line->setSelectable(QCP::stNone);
  }
  double lo = 1e300, hi = 0, accLo = 100, accHi = 0;
  for (const Point &p : points) {
    lo = std::min(lo, p.params);
    hi = std::max(hi, p.params);
  }
  for (const Point &p : points) {
    const SearchVariant *v = search.variant(p.name);
    const bool own = v && v->original, baseline = v && v->baseline, winner = view == "final" && p.name == search.winner;
    QCPGraph *g = pareto_->addGraph();
    g->setProperty("variant", QString::fromStdString(p.name));
    g->setProperty("row", p.row);
    g->setName(QString::fromStdString(p.name));
    g->setLineStyle(QCPGraph::lsNone);
    const QColor color = own                   ? charts::markColor()
                         : baseline            ? charts::negativeColor()
                         : front.count(p.name) ? charts::seriesColor(0)
                                               : charts::mutedColor();
    const double size = radius(p.flops);
    g->setProperty("size", size);
    g->setProperty("color", color);
    g->setProperty("counted", p.flops > 0);
    // Unknown FLOPs (a TorchScript node): a hollow ring, not a size that would claim a count (drawn
    // in markSelected).
    const double accuracy = 100 * p.val.mean, sd = 100 * p.val.sd;
    g->addData(p.params, accuracy);
    g->setProperty("sd", p.val.n > 1 ? sd : 0.0);
    if (p.val.n > 1) {
      auto *bars = new QCPErrorBars(pareto_->xAxis, pareto_->yAxis);
      bars->setDataPlottable(g);
      bars->setData(QVector<double>{sd});
      bars->setPen(QPen(color.darker(115), 1.2));
      bars->setSelectable(QCP::stNone);
      bars->removeFromLegend();
    }
    accLo = std::min(accLo, accuracy - sd);
    accHi = std::max(accHi, accuracy + sd);
    const QString name = QString::fromStdString(p.name);
    QStringList tip;
    tip << (own        ? tr("%1 (this graph)").arg(name)
            : baseline ? tr("%1 (the monolithic baseline)").arg(name)
                       : name) +
               (winner ? (soFar ? tr(" — leading so far") : tr(" — the winner")) : QString());
    tip << epochsText(p.epochs) + ", " + seedList(p.seeds);
    tip << (p.val.n > 1 ? tr("validation accuracy %1 (per seed: %2)").arg(spreadText(p.val), seedValues(p.val))
                        : tr("validation accuracy %1").arg(spreadText(p.val)));
    tip << (p.test.n > 1 ? tr("test accuracy %1 (per seed: %2)").arg(spreadText(p.test), seedValues(p.test))
                         : tr("test accuracy %1").arg(spreadText(p.test)));
    tip << tr("%1 unique parameters").arg(QLocale().toString(static_cast<qlonglong>(p.params)));
    tip << (p.flops > 0 ? tr("%1 FLOPs per sample").arg(flopsText(p.flops))
                        : tr("FLOPs per sample unknown (a node that cannot be counted)"));
    if (p.us > 0)
      tip << tr("%1 µs per sample (median, this machine)").arg(p.us, 0, 'f', 1);
    if (v)
      tip << tr("parts %1, width %2, combine %3, sharing %4")
                 .arg(QString::fromStdString(v->axis("parts")), QString::fromStdString(v->axis("width")),
                      QString::fromStdString(v->axis("combine")), QString::fromStdString(v->axis("sharing")));
    tip << tr("Click to select its row; double-click to open this variant.");
    g->setProperty("tip", tip.join('\n'));
    // Every finalist is named (they are few); of a rung, the ones a reader looks for.
    if (view == "final" || own || baseline || front.count(p.name)) {
      auto *label = new QCPItemText(pareto_);
      label->position->setCoords(p.params, accuracy);
      label->setText((own ? tr("this graph") : name) +
                     (winner ? (soFar ? tr(" (leading so far)") : tr(" (winner)")) : QString()));
      label->setColor(color.darker(130));
      label->setClipToAxisRect(false);
      label->setLayer("labels");
      label->setProperty("variant", QString::fromStdString(p.name));
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
  placeLabels();
  markSelected(); // replots
}

void ExperimentsPanel::placeLabels() {
  pareto_->replot(); // the axis rect as laid out now: the pixels below are its
  const QRectF area = pareto_->axisRect()->rect();
  const auto pixel = [&](double key, double value) {
    return QPointF(pareto_->xAxis->coordToPixel(key), pareto_->yAxis->coordToPixel(value));
  };
  // What a label must not cover: the points with their bars (of the variant they belong to), the
  // front's line, the labels placed before it. Checking only the labels drew a runner-up's name
  // across the winner's bar and the front at 1600×1000.
  std::vector<std::pair<QString, QRectF>> marks;
  std::map<QString, double> radii; // of each variant's point
  double lo = 1e300, hi = 0;       // unique parameters of the points
  for (int i = 0; i < pareto_->graphCount(); ++i) {
    QCPGraph *g = pareto_->graph(i);
    const QString variant = g->property("variant").toString();
    if (g->property("tip").isValid() && g->dataCount() == 1) {
      const auto d = g->data()->constBegin();
      lo = std::min(lo, d->key);
      hi = std::max(hi, d->key);
      const QPointF at = pixel(d->key, d->value);
      const double r = g->property("size").toDouble() / 2 + 2;
      radii[variant] = r;
      marks.emplace_back(variant, QRectF(at - QPointF(r, r), QSizeF(2 * r, 2 * r)));
      if (const double sd = g->property("sd").toDouble(); sd > 0)
        marks.emplace_back(variant, QRectF(pixel(d->key, d->value + sd) - QPointF(6, 1),
                                           pixel(d->key, d->value - sd) + QPointF(6, 1)));
    } else if (g->lineStyle() == QCPGraph::lsStepLeft) {
      for (auto a = g->data()->constBegin(), b = a + 1; a != g->data()->constEnd() && b != g->data()->constEnd();
           ++a, ++b) {
        const QPointF from = pixel(a->key, a->value), corner = pixel(b->key, a->value), to = pixel(b->key, b->value);
        marks.emplace_back(QString(), QRectF(from - QPointF(0, 2), corner + QPointF(0, 2)).normalized());
        marks.emplace_back(QString(), QRectF(corner - QPointF(2, 0), to + QPointF(2, 0)).normalized());
      }
    }
  }
  // Each label beside its point, at the first place that covers nothing and stays inside the axes:
  // right of the point (left in the right part of the plot) and above it, else below, else on the
  // other side; where every place covers something, the one that covers least.
  std::vector<QRectF> placed;
  for (QCPLayerable *item : pareto_->layer("labels")->children()) {
    auto *label = qobject_cast<QCPItemText *>(item);
    if (!label)
      continue;
    const QString variant = label->property("variant").toString();
    const QPointF at = pixel(label->position->key(), label->position->value());
    const QSizeF text = QFontMetricsF(label->font()).size(0, label->text()) + QSizeF(4, 2);
    const bool rightPart = hi > lo && std::log(label->position->key() / lo) > 0.6 * std::log(hi / lo);
    struct Place {
      bool left, below;
    };
    const Place places[] = {{rightPart, false}, {rightPart, true}, {!rightPart, false}, {!rightPart, true}};
    // Diagonally off the point, its corner clear of the point's disc (and of the ring round it
    // when selected): 6 pixels each way for the smallest point, more for larger ones.
    const int off = static_cast<int>(std::ceil(std::max(6.0, 0.75 * (radii[variant] + 3))));
    const auto rectAt = [&](const Place &place) {
      return QRectF(place.left ? at.x() - off - text.width() : at.x() + off,
                    place.below ? at.y() + off : at.y() - off - text.height(), text.width(), text.height());
    };
    const auto covered = [&](const QRectF &rect) {
      const auto overlap = [&](const QRectF &r) {
        const QRectF both = rect.intersected(r);
        return both.isEmpty() ? 0.0 : both.width() * both.height();
      };
      double sum = rect.width() * rect.height() - overlap(area);
      for (const auto &[whose, mark] : marks)
        if (whose != variant || whose.isEmpty())
          sum += overlap(mark);
      for (const QRectF &r : placed)
        sum += overlap(r);
      return sum;
    };
    Place chosen = places[0];
    double least = 1e300;
    for (const Place &place : places)
      if (const double c = covered(rectAt(place)); c < least) {
        least = c;
        chosen = place;
        if (c <= 0)
          break;
      }
    placed.push_back(rectAt(chosen));
    label->setPositionAlignment((chosen.left ? Qt::AlignRight : Qt::AlignLeft) |
                                (chosen.below ? Qt::AlignTop : Qt::AlignBottom));
    label->setPadding(
        QMargins(chosen.left ? 0 : off, chosen.below ? off : 0, chosen.left ? off : 0, chosen.below ? 0 : off));
  }
}

void ExperimentsPanel::markSelected() {
  std::set<QString> chosen;
  for (const auto &index : table_->selectionModel()->selectedRows())
    if (auto *item = table_->item(index.row(), 0))
      chosen.insert(item->data(Qt::UserRole).toString());
  for (int i = 0; i < pareto_->graphCount(); ++i) {
    QCPGraph *g = pareto_->graph(i);
    if (!g->property("tip").isValid())
      continue;
    // Selected: the point in its colour inside a dark ring (a disc takes its pen's colour whole).
    const QColor color = g->property("color").value<QColor>();
    const bool counted = g->property("counted").toBool(), selected = chosen.count(g->property("variant").toString());
    const double size = g->property("size").toDouble();
    g->setScatterStyle(selected ? QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(palette().color(QPalette::Text), 2.5),
                                                  counted ? QBrush(color) : QBrush(Qt::NoBrush), size + 4)
                                : QCPScatterStyle(counted ? QCPScatterStyle::ssDisc : QCPScatterStyle::ssCircle, color,
                                                  counted ? color : QColor(Qt::transparent), size));
  }
  pareto_->replot();
}

QCPGraph *ExperimentsPanel::pointAt(const QPoint &at) const {
  QCPGraph *nearest = nullptr;
  double best = 1e300;
  for (int i = 0; i < pareto_->graphCount(); ++i) {
    QCPGraph *g = pareto_->graph(i);
    if (!g->property("tip").isValid() || g->dataCount() != 1)
      continue;
    const auto point = g->data()->constBegin();
    const double dx = pareto_->xAxis->coordToPixel(point->key) - at.x();
    const double dy = pareto_->yAxis->coordToPixel(point->value) - at.y();
    const double distance = std::hypot(dx, dy);
    if (distance <= g->property("size").toDouble() / 2 + 4 && distance < best) {
      best = distance;
      nearest = g;
    }
  }
  return nearest;
}

bool ExperimentsPanel::showPointTip(const QPoint &at) {
  QCPGraph *nearest = pointAt(at);
  if (!nearest)
    return false;
  QToolTip::showText(pareto_->mapToGlobal(at), nearest->property("tip").toString(), pareto_);
  pointTipShown_ = true;
  return true;
}

bool ExperimentsPanel::eventFilter(QObject *watched, QEvent *event) {
  // Resized, the points move in pixels and the labels' places with them (once the plot has taken
  // its new size).
  if (watched == pareto_ && event->type() == QEvent::Resize)
    QTimer::singleShot(0, this, [this] {
      placeLabels();
      pareto_->replot();
    });
  // Over a point its figures, elsewhere what the plot shows.
  if (watched == pareto_ && event->type() == QEvent::ToolTip && showPointTip(static_cast<QHelpEvent *>(event)->pos()))
    return true;
  if (watched == labs_ && event->type() == QEvent::Resize)
    foldHint_->setVisible(labsFolded());
  return QWidget::eventFilter(watched, event);
}

bool ExperimentsPanel::labsFolded() const {
  return page_->sizes().value(1) < labs_->minimumSizeHint().height();
}

void ExperimentsPanel::resizeEvent(QResizeEvent *event) {
  QWidget::resizeEvent(event);
  // Until the handle is dragged or a lab's tab clicked: in a short window (under about 800 pixels)
  // the labs start folded to their tabs — open, their minimum left the Pareto plot some 100 pixels,
  // its labels over each other — and a click on a tab brings them up; in a taller one the search
  // and the labs share it evenly (three fifths for the search left the learning curve's plots 100
  // pixels at 1600×1000).
  if (pageMoved_)
    return;
  const int total = std::max(0, page_->height() - page_->handleWidth()), folded = labs_->minimumHeight();
  page_->setSizes(event->size().height() < 640 ? QList<int>{total - folded, folded} : QList<int>{3000, 3000});
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
