// The Experiments tab, driven through input events: a search started with the button fills the
// table and the Pareto plot as trials finish; a click on a point opens that variant as a new
// document; the claims lab draws the noise and gap curves; Stop ends a search and keeps its state;
// the transfer lab runs a transfer and draws accuracy against N per mode.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "experiments/ClaimsLab.h"
#include "experiments/ExperimentsPanel.h"
#include "experiments/TransferLab.h"
#include "explain/ExplainPanel.h"
#include "recipes/Claims.h"
#include "recipes/RunPlan.h"
#include "recipes/Search.h"
#include "train/RunFolder.h"
#include "training/TrainPanel.h"
#include "charts/CustomPlot.h"

#include <QDir>
#include <QDirIterator>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QStatusBar>
#include <QSplitter>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardPaths>
#include <QTabBar>
#include <QToolButton>
#include <QTableWidget>
#include <QToolTip>
#include <QUndoStack>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {
Project smallProject(int samples) {
  Json doc = baseProject();
  doc["dataset"]["samples"] = samples;
  doc["training"] = {{"epochs", 2}, {"batch_size", 32}, {"threads", 1}};
  return projectFromJson(doc, "t.json");
}

// The point of `variant` on the Pareto plot, in widget pixels (nothing when it is not drawn).
std::optional<QPoint> pointOf(QCustomPlot *plot, const QString &variant) {
  for (int i = 0; i < plot->graphCount(); ++i) {
    QCPGraph *g = plot->graph(i);
    if (g->property("variant").toString() == variant && g->dataCount() == 1) {
      const auto it = g->data()->constBegin();
      return QPoint(static_cast<int>(plot->xAxis->coordToPixel(it->key)),
                    static_cast<int>(plot->yAxis->coordToPixel(it->value)));
    }
  }
  return std::nullopt;
}

// The rows a search folder's table has: its finalists, then every trial.
int rowsOf(const QString &folder) {
  const Json search = Json::parse(readTextFile((folder + "/search.json").toStdString()));
  return static_cast<int>(search["finalists"].size() + search["trials"].size());
}

void clickTab(QTabWidget *tabs, const QString &text) {
  for (int i = 0; i < tabs->count(); ++i)
    if (tabs->tabText(i) == text)
      QTest::mouseClick(tabs->tabBar(), Qt::LeftButton, {}, tabs->tabBar()->tabRect(i).center());
}
} // namespace

class TestExperiments : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    qputenv("PARTICLE_CLI", PARTICLE_CLI);
  }
  void init() {
    runs_ = std::make_unique<QTemporaryDir>();
    window_ = new MainWindow;
    window_->experimentsPanel()->setRunsFolder(runs_->path());
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_));
  }
  void cleanup() {
    window_->undoStack()->setClean();
    delete window_;
    window_ = nullptr;
  }

  void searchFillsTableAndPlotAndOpensAVariant() {
    window_->document()->reset(smallProject(400));
    clickTab(window_->tabs(), "Experiments");
    ExperimentsPanel *panel = window_->experimentsPanel();
    QTRY_VERIFY(panel->isVisible());
    typeInto(panel->budgetEdit(), "7trials");
    QCOMPARE(panel->seedsSpin()->value(), 3); // a verdict by default
    typeInto(panel->seedsSpin(), "2");
    QSignalSpy finished(panel, &ExperimentsPanel::searchFinished);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY(panel->running());
    QVERIFY(!panel->startButton()->isEnabled() && panel->stopButton()->isEnabled());
    QVERIFY(finished.wait(300000));
    const QString status = panel->statusLabel()->text();
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(status));
    const Json search = Json::parse(readTextFile((panel->searchFolder() + "/search.json").toStdString()));
    QCOMPARE(search["seeds"].get<int>(), 2); // the seeds typed reached the search
    const Json &trials = search["trials"], &finalists = search["finalists"];
    QVERIFY(finalists.size() >= 2); // at least this graph and the baseline
    // The finalists first, then every trial: 4 + 2 + 1 of the halving, then each finalist's seeds.
    QCOMPARE(trials.size(), 7 + 2 * finalists.size());
    QCOMPARE(panel->table()->rowCount(), static_cast<int>(finalists.size() + trials.size()));
    // Every trial ran (a budget of trials leaves none out), each counted once.
    QVERIFY2(status.contains("Search of t finished: " + QString::number(trials.size()) + " trials in 3 rungs, "),
             qPrintable(status));
    QVERIFY2(!status.contains("left out"), qPrintable(status));
    const auto cell = [&](int row, const QString &column) {
      for (int c = 0; c < panel->table()->columnCount(); ++c)
        if (panel->table()->horizontalHeaderItem(c)->text() == column)
          return panel->table()->item(row, c);
      return static_cast<QTableWidgetItem *>(nullptr);
    };
    for (std::size_t i = 0; i < finalists.size(); ++i) {
      const Json &f = finalists[i];
      const int row = static_cast<int>(i);
      QCOMPARE(cell(row, "Variant")->text(), QString::fromStdString(f["variant"].get<std::string>()));
      QCOMPARE(cell(row, "Epochs")->text(), QString::number(f["epochs"].get<int>()));
      QCOMPARE(cell(row, "Seed")->text(), QString("2 seeds"));
      // Mean ± sd over the seeds, each seed's value in the tooltip.
      const QString val = QString("%1 ± %2 %")
                              .arg(100 * f["val_accuracy_mean"].get<double>(), 0, 'f', 2)
                              .arg(100 * f["val_accuracy_sd"].get<double>(), 0, 'f', 2);
      QCOMPARE(cell(row, "Val acc")->text(), val);
      for (const Json &v : f["val_accuracies"])
        QVERIFY2(cell(row, "Val acc")->toolTip().contains(QString::number(100 * v.get<double>(), 'f', 2) + " %"),
                 qPrintable(cell(row, "Val acc")->toolTip()));
      QVERIFY(!cell(row, "FLOPs/sample")->text().isEmpty());
    }
    QCOMPARE(cell(0, "Status")->text(), QString("winner"));
    QCOMPARE(cell(0, "Variant")->text(), QString::fromStdString(search["winner"].get<std::string>()));
    // Each trial's epochs and seed, and its FLOPs (counted: the same in every rung).
    for (std::size_t i = 0; i < trials.size(); ++i) {
      const int row = static_cast<int>(finalists.size() + i);
      QCOMPARE(cell(row, "Epochs")->text(), QString::number(trials[i]["epochs"].get<int>()));
      QCOMPARE(cell(row, "Seed")->text(), QString::number(trials[i]["seed"].get<int>()));
      QVERIFY(!cell(row, "FLOPs/sample")->text().isEmpty());
      QVERIFY(!cell(row, "µs/sample")->text().isEmpty());
    }
    // The winner and how it was chosen, and the verdict in a few words per comparison; why it won,
    // the verdict's whole sentence and the cost against training every variant fully in the tooltip.
    const QString statusTip = panel->statusLabel()->toolTip();
    QVERIFY2(status.contains("Winner by mean validation accuracy: " +
                             QString::fromStdString(search["winner"].get<std::string>())),
             qPrintable(status));
    QVERIFY2(statusTip.contains(QString::fromStdString(search["reason"].get<std::string>())), qPrintable(statusTip));
    QVERIFY2(status.contains("Verdict on the test split, which chose nothing: "), qPrintable(status));
    for (const char *against : {"runner_up", "baseline"})
      if (!search["verdict"][against].is_null()) {
        const std::string v = search["verdict"][against]["verdict"].get<std::string>();
        const QString word = v == "better"  ? "significant"
                             : v == "worse" ? "significantly behind"
                                            : QString::fromStdString(v);
        QVERIFY2(
            status.contains(word + " against the " + (std::string(against) == "baseline" ? "baseline" : "runner-up")),
            qPrintable(status));
      }
    QVERIFY2(statusTip.contains(QString::fromStdString(search["verdict"]["sentence"].get<std::string>())),
             qPrintable(statusTip));
    const long saving = std::lround(100 * search["cost"]["saving"].get<double>());
    QVERIFY2(statusTip.contains(saving >= 0 ? QString("halving saved %1 %").arg(saving)
                                            : QString("halving cost %1 % more").arg(-saving)),
             qPrintable(statusTip));
    QVERIFY2(!status.contains('\n') && status.size() < 300, qPrintable(status)); // a few plain words

    // The plot compares the finalists at their epochs (the title says so), each with its bar.
    QCustomPlot *plot = panel->paretoPlot();
    const auto points = [&] {
      QStringList names;
      for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->property("variant").isValid())
          names << plot->graph(i)->property("variant").toString();
      return names;
    };
    const auto title = [&] { return qobject_cast<QCPTextElement *>(plot->plotLayout()->element(0, 0))->text(); };
    QCOMPARE(points().size(), static_cast<int>(finalists.size()));
    QVERIFY2(title().startsWith(
                 QString("Finalists: %1 epochs, mean ± sd over 2 seeds").arg(finalists[0]["epochs"].get<int>())),
             qPrintable(title()));
    const QLabel *sizeNote = panel->findChild<QLabel *>("paretoSizeNote");
    QVERIFY2(sizeNote->text().startsWith("size = FLOPs: "), qPrintable(sizeNote->text()));
    // Hovering the winner's point: its figures.
    QTest::qWait(200);
    const QString winner = QString::fromStdString(search["winner"].get<std::string>());
    const auto winnerAt = pointOf(plot, winner);
    QVERIFY(winnerAt);
    QTest::mouseMove(plot, *winnerAt);
    QTRY_VERIFY(QToolTip::isVisible());
    const QString tip = QToolTip::text();
    QVERIFY2(tip.startsWith(winner), qPrintable(tip));
    const QString seeds =
        QString("seeds %1, %2").arg(finalists[0]["seeds"][0].get<int>()).arg(finalists[0]["seeds"][1].get<int>());
    for (const QString &part : {QString(" — the winner"), seeds, QString("validation accuracy"), QString("per seed"),
                                QString("unique parameters"), QString("FLOPs per sample"),
                                QString("µs per sample (median"), QString("Click to select its row")})
      QVERIFY2(tip.contains(part), qPrintable(part + " not in: " + tip));
    // A point is a thing to click: the hand over it, the plot's own cursor elsewhere.
    QCOMPARE(plot->cursor().shape(), Qt::PointingHandCursor);
    QTest::mouseMove(plot, plot->axisRect()->rect().topLeft() + QPoint(3, 3));
    QTRY_VERIFY(plot->cursor().shape() != Qt::PointingHandCursor);
    // A click on the winner's point (its bars drawn over it) selects its row, and the point of the
    // rows selected is ringed; a row chosen in the table moves the ring.
    const auto ringed = [&](const QString &variant) {
      for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->property("variant").toString() == variant && plot->graph(i)->dataCount() == 1)
          return plot->graph(i)->scatterStyle().pen().widthF() > 2;
      return false;
    };
    QVERIFY(!ringed(winner));
    QTest::mouseClick(plot, Qt::LeftButton, {}, *winnerAt);
    QTRY_COMPARE(panel->table()->currentRow(), 0);
    QCOMPARE(panel->table()->selectionModel()->selectedRows().size(), 1);
    QCOMPARE(panel->table()->item(0, 0)->text(), winner);
    QVERIFY(ringed(winner));
    const QString second = panel->table()->item(1, 0)->text();
    QTest::mouseClick(panel->table()->viewport(), Qt::LeftButton, {},
                      panel->table()->visualItemRect(panel->table()->item(1, 0)).center());
    QTRY_VERIFY(ringed(second));
    QVERIFY(!ringed(winner));
    // Ctrl+click on the winner's point adds its row; Ctrl+clicks take both off again (the claims
    // lab below measures its own choice when no row is selected).
    QTest::mouseClick(plot, Qt::LeftButton, Qt::ControlModifier, *winnerAt);
    QTRY_VERIFY(ringed(winner));
    QVERIFY(ringed(second));
    QCOMPARE(panel->table()->selectionModel()->selectedRows().size(), 2);
    QTest::mouseClick(plot, Qt::LeftButton, Qt::ControlModifier, *winnerAt);
    QTest::mouseClick(panel->table()->viewport(), Qt::LeftButton, Qt::ControlModifier,
                      panel->table()->visualItemRect(panel->table()->item(1, 0)).center());
    QTRY_VERIFY(panel->table()->selectionModel()->selectedRows().isEmpty());
    QVERIFY(!ringed(winner) && !ringed(second));
    const double baselineSize = [&] {
      for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->property("variant").toString() == "monolithic-w1")
          return plot->graph(i)->scatterStyle().size();
      return 0.0;
    }();
    // One rung at a time, its epochs in the title: the 4 variants of rung 0, each the size it was.
    QVERIFY(chooseWithMouse(panel->paretoView(), "rung:0"));
    QTRY_COMPARE(points().size(), 4);
    QCOMPARE(title(), QString("Rung 0: every variant at 1 epoch, one seed"));
    for (int i = 0; i < plot->graphCount(); ++i)
      if (plot->graph(i)->property("variant").toString() == "monolithic-w1")
        QCOMPARE(plot->graph(i)->scatterStyle().size(), baselineSize);

    // The claims lab over the front, this graph and the baseline.
    QVERIFY(panel->claimsLab()->button()->isEnabled());
    QSignalSpy claims(panel->claimsLab(), &ClaimsLab::finished);
    QTest::mouseClick(panel->claimsLab()->button(), Qt::LeftButton);
    QVERIFY(claims.wait(120000));
    QVERIFY(panel->claimsLab()->noisePlot()->graphCount() >= 2); // at least this graph and the baseline
    QVERIFY(panel->claimsLab()->gapPlot()->graphCount() >= 2);
    QVERIFY(QFile::exists(panel->searchFolder() + "/claims/monolithic-w1/robustness.json"));
    QVERIFY(QFile::exists(panel->searchFolder() + "/claims/own/robustness.json"));

    // A double click on the baseline's point opens it in the designer as a new document (once the
    // layout has settled: the claims' text changed the plot's size).
    QTest::qWait(200);
    const auto at = pointOf(panel->paretoPlot(), "monolithic-w1");
    QVERIFY(at);
    QTest::mouseDClick(panel->paretoPlot(), Qt::LeftButton, {}, *at);
    QTRY_COMPARE(QString::fromStdString(window_->document()->project().name), QString("t-monolithic-w1"));
    QVERIFY(window_->document()->isTemplate()); // Save asks where
    QCOMPARE(window_->tabs()->currentIndex(), 0);
    QVERIFY(window_->document()->validation().ok());
    QCOMPARE(panel->table()->rowCount(),
             static_cast<int>(finalists.size() + trials.size())); // the search stays, and says whose it is
    QVERIFY2(panel->statusLabel()->text().contains("Showing the search of t"),
             qPrintable(panel->statusLabel()->text()));
  }

  // While a search runs the status says its phase and how far it is, and finalists short of their
  // seeds are marked as such — "so far" in the rows, the plot's choice and its title alike — until
  // every seed is in; before the start, beside Seeds, that the seeds follow the budget.
  void aRunningSearchSaysWhereItIs() {
    window_->document()->reset(smallProject(400));
    clickTab(window_->tabs(), "Experiments");
    ExperimentsPanel *panel = window_->experimentsPanel();
    QTRY_VERIFY(panel->isVisible());
    typeInto(panel->seedsSpin(), "2");
    QCOMPARE(panel->seedsNote()->text(), QString("the budget covers the halving; then 2 seeds of each finalist"));
    QVERIFY(panel->seedsNote()->isVisible());
    typeInto(panel->seedsSpin(), "3");
    QCOMPARE(panel->seedsNote()->text(), QString("the budget covers the halving; then 3 seeds of each finalist"));
    // 3 trials: the graph and the baseline at 1 epoch, the better at 2; then 3 seeds of both.
    typeInto(panel->budgetEdit(), "3trials");
    QSignalSpy finished(panel, &ExperimentsPanel::searchFinished);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY(panel->running());
    QLabel *status = panel->statusLabel();
    const auto cell = [&](int row, const QString &column) {
      for (int c = 0; c < panel->table()->columnCount(); ++c)
        if (panel->table()->horizontalHeaderItem(c)->text() == column)
          return panel->table()->item(row, c);
      return static_cast<QTableWidgetItem *>(nullptr);
    };
    // From the start, the trial running has its row and its clock, and the line counts it (the
    // table stayed empty until a trial ended).
    QTRY_VERIFY_WITH_TIMEOUT(panel->table()->rowCount() > 0 && cell(0, "Status")->text().startsWith("running · 0:"),
                             10000);
    QVERIFY2(cell(0, "Variant")->text() == "own" || cell(0, "Variant")->text() == "monolithic-w1",
             qPrintable(cell(0, "Variant")->text()));
    QTRY_VERIFY2_WITH_TIMEOUT(status->text().startsWith("Halving, rung 0 (2 variants at 1 epoch): ") &&
                                  status->text().contains(QRegularExpression(
                                      " of 3 trials done, 1 running\\. Then 3 seeds of each finalist\\.")),
                              qPrintable(status->text()), 60000);
    const auto title = [&] {
      return qobject_cast<QCPTextElement *>(panel->paretoPlot()->plotLayout()->element(0, 0))->text();
    };
    // The seed phase: the first finalist in, the leader provisional.
    // (A seed trial running has a "final" row too, below the finalists, its status its clock.)
    const auto finalist = [&](int row) {
      return cell(row, "Rung")->text() == "final" && !cell(row, "Status")->text().startsWith("running");
    };
    QTRY_VERIFY_WITH_TIMEOUT(panel->table()->rowCount() > 0 && finalist(0), 120000);
    QVERIFY(panel->running()); // five seed trials still to come
    QCOMPARE(cell(0, "Status")->text(), QString("leading so far"));
    int fewest = 3, most = 0, finalists = 0;
    for (; finalists < panel->table()->rowCount() && finalist(finalists); ++finalists) {
      const QString seeds = cell(finalists, "Seed")->text();
      QVERIFY2(seeds.endsWith(" of 3 seeds"), qPrintable(seeds));
      fewest = std::min(fewest, seeds.section(' ', 0, 0).toInt());
      most = std::max(most, seeds.section(' ', 0, 0).toInt());
      QVERIFY(cell(finalists, "Status")->text() != "winner" && cell(finalists, "Status")->text() != "runner-up");
    }
    const QString soFar =
        (fewest == most ? QString::number(most) : QString("%1–%2").arg(fewest).arg(most)) + " of 3 seeds so far";
    QVERIFY2(panel->paretoView()->currentText() == "Finalists (2 epochs × " + soFar + ")",
             qPrintable(panel->paretoView()->currentText() + " / " + soFar));
    QVERIFY2(title() == "Finalists: 2 epochs, " + soFar, qPrintable(title() + " / " + soFar));
    QTRY_VERIFY2(status->text().startsWith("Seed phase, after the budget's halving: ") &&
                     status->text().contains(" of 6 trials done (3 seeds of each of 2 finalists at 2 epochs)"),
                 qPrintable(status->text()));
    // Every seed in: the winner, over 3 seeds everywhere.
    QVERIFY(finished.wait(300000));
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(status->text()));
    QCOMPARE(cell(0, "Status")->text(), QString("winner"));
    QCOMPARE(cell(0, "Seed")->text(), QString("3 seeds"));
    QCOMPARE(panel->paretoView()->currentText(), QString("Finalists (2 epochs × 3 seeds)"));
    QCOMPARE(title(), QString("Finalists: 2 epochs, mean ± sd over 3 seeds"));
    QVERIFY2(status->text().contains("Winner by mean validation accuracy: "), qPrintable(status->text()));
    // Nothing left running; a seed trial's accuracy says which seed it trained with, and its test
    // accuracy beside it.
    int seedTwo = -1;
    for (int row = 0; row < panel->table()->rowCount(); ++row) {
      QVERIFY(!cell(row, "Status")->text().startsWith("running"));
      if (cell(row, "Rung")->text() == "final" && cell(row, "Seed")->text() == "2")
        seedTwo = row;
    }
    QVERIFY(seedTwo >= 0);
    const QString tip = cell(seedTwo, "Val acc")->toolTip();
    QVERIFY2(tip.startsWith("Validation accuracy " + cell(seedTwo, "Val acc")->text() + ", test accuracy ") &&
                 tip.contains("trained with seed 2"),
             qPrintable(tip));
  }

  void stopKeepsWhatFinished() {
    window_->document()->reset(smallProject(30000));
    clickTab(window_->tabs(), "Experiments");
    ExperimentsPanel *panel = window_->experimentsPanel();
    typeInto(panel->budgetEdit(), "10m");
    QSignalSpy finished(panel, &ExperimentsPanel::searchFinished);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    // The first trial is in (a trial running has a row too, its status its clock).
    const auto ended = [&] {
      int n = 0;
      for (int row = 0; row < panel->table()->rowCount(); ++row)
        n += !panel->table()->item(row, 4)->text().startsWith("running");
      return n;
    };
    QTRY_VERIFY_WITH_TIMEOUT(ended() >= 1, 120000);
    QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
    QVERIFY(finished.wait(30000));
    QVERIFY(!panel->running());
    QVERIFY(panel->startButton()->isEnabled());
    QVERIFY2(panel->statusLabel()->text().contains("stopped"), qPrintable(panel->statusLabel()->text()));
    QVERIFY(QFile::exists(panel->searchFolder() + "/search.json"));
  }

  void openSearchShowsAFolderFromTheCommandLine() {
    QTemporaryDir dir;
    Json doc = baseProject();
    doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
    const QString p = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump(2)));
    const ProcessRun r = runProcess(PARTICLE_CLI, {"search", p, "--budget", "3trials", "--out", dir.filePath("s")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    clickTab(window_->tabs(), "Experiments");
    ExperimentsPanel *panel = window_->experimentsPanel();
    auto answered = answerFileDialog(dir.filePath("s"));
    QTest::mouseClick(panel->openButton(), Qt::LeftButton);
    QVERIFY(*answered);
    const int rows = rowsOf(dir.filePath("s"));
    QTRY_COMPARE(panel->table()->rowCount(), rows);
    QCOMPARE(panel->searchFolder(), dir.filePath("s"));
    // In a small window the labs start folded to their tabs: the plot takes the page, and the tabs
    // say the labs are there, in sight (folded away whole, nothing did). A click on a tab opens
    // them; dragged down they fold to their tabs again.
    window_->resize(1024, 700);
    auto *page = panel->findChild<QSplitter *>("searchAndLabs");
    QTRY_COMPARE(window_->size(), QSize(1024, 700));
    QTabBar *labTabs = panel->labTabs()->tabBar();
    const auto labsInSight = [&] {
      const QRect tabs(labTabs->mapTo(window_, QPoint(0, 0)), labTabs->size());
      return labTabs->isVisible() && tabs.height() > 10 && window_->rect().contains(tabs);
    };
    QTRY_VERIFY(labsInSight());
    QVERIFY2(page->sizes().at(1) < 60, qPrintable(QString::number(page->sizes().at(1))));
    QVERIFY(panel->claimsLab()->button()->visibleRegion().isEmpty());
    // Folded, they say how they open (a user dragged the handle, not knowing a tab opens them).
    auto *hint = panel->findChild<QToolButton *>("openLabsHint");
    QVERIFY(hint);
    QTRY_VERIFY(hint->isVisible() && window_->rect().contains(QRect(hint->mapTo(window_, QPoint(0, 0)), hint->size())));
    QVERIFY2(hint->text().contains("click"), qPrintable(hint->text()));
    clickTab(panel->labTabs(), "Claims");
    QTRY_VERIFY(page->sizes().at(1) > 150);
    QTRY_VERIFY(!hint->isVisible());
    QTRY_VERIFY(!panel->claimsLab()->button()->visibleRegion().isEmpty());
    QVERIFY(window_->rect().contains(
        QRect(panel->claimsLab()->button()->mapTo(window_, QPoint(0, 0)), panel->claimsLab()->button()->size())));
    QTest::qWait(100);
    const int before = panel->paretoPlot()->height();
    QWidget *handle = page->handle(1);
    const QPoint grip = handle->rect().center();
    QTest::mousePress(handle, Qt::LeftButton, {}, grip);
    for (int dy = 20; dy <= 600; dy += 20)
      QTest::mouseMove(handle, grip + QPoint(0, dy));
    QTest::mouseRelease(handle, Qt::LeftButton, {}, grip + QPoint(0, 600));
    QTRY_VERIFY(page->sizes().at(1) < 60);
    QVERIFY(labsInSight());
    QVERIFY2(panel->paretoPlot()->height() > before + 150,
             qPrintable(QString("%1 → %2").arg(before).arg(panel->paretoPlot()->height())));
    // Folded again, the hint is back, and a click on it opens them too.
    QTRY_VERIFY(hint->isVisible());
    QTest::mouseClick(hint, Qt::LeftButton);
    QTRY_VERIFY(page->sizes().at(1) > 150);
    QTRY_VERIFY(!hint->isVisible());
    // Dragged up again, they are back.
    window_->resize(1400, 900);
    QTRY_COMPARE(window_->size(), QSize(1400, 900));
    const QPoint bottom = handle->rect().center();
    QTest::mousePress(handle, Qt::LeftButton, {}, bottom);
    for (int dy = 20; dy <= 300; dy += 20)
      QTest::mouseMove(handle, bottom - QPoint(0, dy));
    QTest::mouseRelease(handle, Qt::LeftButton, {}, bottom - QPoint(0, 300));
    QTRY_VERIFY(page->sizes().at(1) > 200);
    QVERIFY(panel->claimsLab()->button()->isVisible());
    QVERIFY(panel->claimsLab()->button()->isEnabled());
    QCOMPARE(panel->claimsLab()->noisePlot()->graphCount(), 0);
    // Measured once, shown again when the folder is opened again.
    QSignalSpy claims(panel->claimsLab(), &ClaimsLab::finished);
    QTest::mouseClick(panel->claimsLab()->button(), Qt::LeftButton);
    QVERIFY(claims.wait(120000));
    const int measured = panel->claimsLab()->noisePlot()->graphCount();
    QVERIFY(measured >= 2);
    auto reopened = answerFileDialog(dir.filePath("s"));
    QTest::mouseClick(panel->openButton(), Qt::LeftButton);
    QVERIFY(*reopened);
    QTRY_COMPARE(panel->claimsLab()->noisePlot()->graphCount(), measured);
    // A folder without search.json is refused with a message.
    auto again = answerFileDialog(dir.path());
    QTest::mouseClick(panel->openButton(), Qt::LeftButton);
    QVERIFY(*again);
    QTRY_VERIFY(panel->statusLabel()->text().contains("not a search folder"));
    QCOMPARE(panel->table()->rowCount(), rows); // what was shown stays
    // A search.json of the wrong shape is refused with the file and the field.
    Json bad = Json::parse(readTextFile(dir.filePath("s/search.json").toStdString()));
    bad["trials"][0]["variant"] = 3;
    QVERIFY(QDir().mkpath(dir.filePath("bad")));
    writeFileAtomically(dir.filePath("bad/search.json").toStdString(), bad.dump(2));
    auto wrong = answerFileDialog(dir.filePath("bad"));
    QTest::mouseClick(panel->openButton(), Qt::LeftButton);
    QVERIFY(*wrong);
    QTRY_VERIFY2(
        panel->statusLabel()->text().contains(dir.filePath("bad/search.json") + ": trials[0].variant must be a string"),
        qPrintable(panel->statusLabel()->text()));
    QCOMPARE(panel->table()->rowCount(), rows);

    // A search whose budget ran out: the trial it cut ran (cut short), the one it never started is
    // no trial but a variant left out of budget.
    Json spent = Json::parse(readTextFile(dir.filePath("s/search.json").toStdString()));
    const int ran = static_cast<int>(spent["trials"].size()) + 1;
    Json cut = spent["trials"][0], notStarted = spent["trials"][0];
    cut["status"] = "out of budget";
    cut["message"] = "stopped: the budget ran out";
    cut["seconds"] = 3.5;
    notStarted["status"] = "out of budget";
    notStarted["message"] = "not started: the budget ran out";
    notStarted["seconds"] = 0.0;
    spent["trials"].push_back(cut);
    spent["trials"].push_back(notStarted);
    spent["out_of_budget"] = true;
    QVERIFY(QDir().mkpath(dir.filePath("ranout")));
    writeFileAtomically(dir.filePath("ranout/search.json").toStdString(), spent.dump(2));
    auto opened = answerFileDialog(dir.filePath("ranout"));
    QTest::mouseClick(panel->openButton(), Qt::LeftButton);
    QVERIFY(*opened);
    const QString expected =
        QString("Search in %1: %2 trials in %3 (1 cut short); 1 variant left out of budget, "
                "never trained.")
            .arg(dir.filePath("ranout"))
            .arg(ran)
            .arg(spent["rungs"].get<int>() == 1 ? QString("1 rung")
                                                : QString("%1 rungs").arg(spent["rungs"].get<int>()));
    QTRY_VERIFY2(panel->statusLabel()->text().startsWith(expected), qPrintable(panel->statusLabel()->text()));
  }

  // The finalists' names are drawn clear of the other points, their bars and each other: at
  // 1600×1000 the runner-up's name was drawn across the winner's bar (fashion-patches' finalists,
  // their figures written into a search of the test graph).
  void paretoLabelsCoverNoOtherPoint() {
    QTemporaryDir dir;
    const QString p = QString::fromStdString(writeFile(dir, "p.particle.json", baseProject().dump(2)));
    const ProcessRun r = runProcess(PARTICLE_CLI, {"search", p, "--budget", "3trials", "--out", dir.filePath("s")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    Json search = Json::parse(readTextFile(dir.filePath("s/search.json").toStdString()));
    QVERIFY(search["variants"].size() >= 3);
    const struct {
      double mean, sd;
      int64_t params;
      double flops;
    } figures[] = {
        {0.8913, 0.0033, 320938, 8.39e6}, {0.8859, 0.0023, 472714, 23.1e6}, {0.8655, 0.0021, 251146, 8.31e6}};
    Json finalists = Json::array();
    for (int i = 0; i < 3; ++i) {
      const auto &f = figures[i];
      finalists.push_back({{"variant", search["variants"][i]["name"]},
                           {"epochs", 1},
                           {"seeds", {1, 2, 3}},
                           {"val_accuracy_mean", f.mean},
                           {"val_accuracy_sd", f.sd},
                           {"val_accuracies", {f.mean - f.sd, f.mean, f.mean + f.sd}},
                           {"test_accuracy_mean", f.mean},
                           {"test_accuracy_sd", f.sd},
                           {"test_accuracies", {f.mean - f.sd, f.mean, f.mean + f.sd}},
                           {"unique_parameters", f.params},
                           {"flops_per_sample", f.flops},
                           {"us_per_sample", 100.0},
                           {"run_dirs", Json::array()}});
    }
    for (Json &t : search["trials"])
      t["flops_per_sample"] = 1.68e6; // the range of sizes fashion-patches had
    search["trials"][0]["flops_per_sample"] = 23.1e6;
    search["finalists"] = finalists;
    search["seeds"] = 3;
    search["winner"] = search["variants"][0]["name"];
    writeFileAtomically(dir.filePath("s/search.json").toStdString(), search.dump(2));

    window_->resize(1600, 1000);
    QTRY_COMPARE(window_->size(), QSize(1600, 1000));
    clickTab(window_->tabs(), "Experiments");
    ExperimentsPanel *panel = window_->experimentsPanel();
    auto answered = answerFileDialog(dir.filePath("s"));
    QTest::mouseClick(panel->openButton(), Qt::LeftButton);
    QVERIFY(*answered);
    QCustomPlot *plot = panel->paretoPlot();
    QTRY_COMPARE(plot->itemCount(), 3);
    QTest::qWait(200); // laid out, the labels placed at the plot's size
    // Each point's disc and bar, by variant, in pixels.
    std::vector<std::pair<QString, QRectF>> marks;
    for (int i = 0; i < plot->graphCount(); ++i) {
      QCPGraph *g = plot->graph(i);
      if (!g->property("variant").isValid() || g->dataCount() != 1)
        continue;
      const auto d = g->data()->constBegin();
      const QPointF at(plot->xAxis->coordToPixel(d->key), plot->yAxis->coordToPixel(d->value));
      const double radius = g->scatterStyle().size() / 2;
      const QString variant = g->property("variant").toString();
      marks.emplace_back(variant, QRectF(at - QPointF(radius, radius), QSizeF(2 * radius, 2 * radius)));
      for (const auto &[name, f] :
           {std::pair{search["variants"][0]["name"], figures[0]}, std::pair{search["variants"][1]["name"], figures[1]},
            std::pair{search["variants"][2]["name"], figures[2]}})
        if (QString::fromStdString(name.get<std::string>()) == variant)
          marks.emplace_back(variant, QRectF(QPointF(at.x() - 4, plot->yAxis->coordToPixel(100 * (f.mean + f.sd))),
                                             QPointF(at.x() + 4, plot->yAxis->coordToPixel(100 * (f.mean - f.sd)))));
    }
    QCOMPARE(static_cast<int>(marks.size()), 6);
    // Each label's text (its rectangle less the padding on the point's side), and its variant: the
    // point its text stands beside.
    std::vector<std::pair<QString, QRectF>> texts;
    for (int i = 0; i < plot->itemCount(); ++i) {
      auto *label = qobject_cast<QCPItemText *>(plot->item(i));
      QVERIFY(label);
      const QRectF box = QRectF(label->topLeft->pixelPosition(), label->bottomRight->pixelPosition()).normalized();
      const QMargins pad = label->padding();
      const QRectF text = box.adjusted(pad.left(), pad.top(), -pad.right(), -pad.bottom());
      QString variant;
      for (const auto &[name, mark] : marks)
        if (std::abs(mark.center().x() - plot->xAxis->coordToPixel(label->position->key())) < 1 &&
            std::abs(mark.center().y() - plot->yAxis->coordToPixel(label->position->value())) < 1)
          variant = name;
      QVERIFY2(!variant.isEmpty(), qPrintable(label->text()));
      QVERIFY2(plot->axisRect()->rect().contains(text.toRect()), qPrintable(label->text()));
      for (const auto &[name, mark] : marks)
        QVERIFY2(name == variant || !text.intersects(mark), qPrintable(label->text() + " covers " + name));
      for (const auto &[name, other] : texts)
        QVERIFY2(!text.intersects(other), qPrintable(label->text() + " covers the name of " + name));
      texts.emplace_back(variant, text);
    }
  }

  // A project whose name climbs out of the runs folder ("../../x", a leading '-', a newline, 5,000
  // characters): the search and a training run started from the buttons stay inside it.
  void hostileNamesStayInTheRunsFolder() {
    window_->trainPanel()->setRunsFolder(runs_->path());
    const QString root = QFileInfo(runs_->path()).canonicalFilePath();
    for (const std::string &bad : {std::string("../../x"), std::string("x/../../y"), std::string("-rf"),
                                   std::string("a\nb"), std::string(5000, 'n')}) {
      Project p = smallProject(200);
      p.name = bad;
      window_->document()->reset(p);
      clickTab(window_->tabs(), "Experiments");
      ExperimentsPanel *panel = window_->experimentsPanel();
      typeInto(panel->budgetEdit(), "2trials");
      QSignalSpy finished(panel, &ExperimentsPanel::searchFinished);
      QTest::mouseClick(panel->startButton(), Qt::LeftButton);
      QVERIFY(finished.wait(180000));
      QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(panel->statusLabel()->text()));
      const QFileInfo folder(panel->searchFolder());
      QCOMPARE(folder.canonicalPath(), root);
      QVERIFY2(folder.fileName().startsWith(QString::fromStdString(safeRunName("search-" + safeRunName(bad)))),
               qPrintable(folder.fileName()));
      QVERIFY(QFile::exists(folder.filePath() + "/search.json"));
      // A training run of the same project.
      clickTab(window_->tabs(), "Train");
      TrainPanel *train = window_->trainPanel();
      QSignalSpy done(train, &TrainPanel::runFinished);
      QTest::mouseClick(train->startButton(), Qt::LeftButton);
      QVERIFY(done.wait(120000));
      const QFileInfo run(train->lastRunFolder());
      QCOMPARE(run.canonicalPath(), root);
      QVERIFY2(run.fileName().startsWith(QString::fromStdString(safeRunName(bad))), qPrintable(run.fileName()));
    }
    // Only the search and run folders were made, all directly in the runs folder.
    QCOMPARE(QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 10);
  }

  // #21 item 16: a variant opened from the table keeps what its trial trained: the Explain tab
  // holds the trial's checkpoint, Export writes its weights, Train continues from it.
  void aVariantKeepsItsTrialsCheckpoint() {
    window_->trainPanel()->setRunsFolder(runs_->path());
    QTemporaryDir dir;
    Json doc = baseProject();
    doc["training"] = {{"epochs", 2}, {"batch_size", 32}, {"threads", 1}};
    const QString p = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump(2)));
    const ProcessRun r = runProcess(PARTICLE_CLI, {"search", p, "--budget", "3trials", "--out", dir.filePath("s")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    const QString trial = dir.filePath("s/trials/own/checkpoint.pt"); // the graph itself, 1 epoch of 2
    QVERIFY(QFile::exists(trial));
    clickTab(window_->tabs(), "Experiments");
    ExperimentsPanel *panel = window_->experimentsPanel();
    auto answered = answerFileDialog(dir.filePath("s"));
    QTest::mouseClick(panel->openButton(), Qt::LeftButton);
    QVERIFY(*answered);
    QTRY_COMPARE(panel->table()->rowCount(), rowsOf(dir.filePath("s")));
    QTableWidgetItem *own = nullptr;
    for (int row = 0; row < panel->table()->rowCount(); ++row)
      if (panel->table()->item(row, 0)->data(Qt::UserRole).toString() == "own")
        own = panel->table()->item(row, 0);
    QVERIFY(own);
    panel->table()->scrollToItem(own);
    const QPoint at = panel->table()->visualItemRect(own).center();
    QTest::mouseClick(panel->table()->viewport(), Qt::LeftButton, {}, at);
    QTest::mouseDClick(panel->table()->viewport(), Qt::LeftButton, {}, at);
    QTRY_VERIFY(window_->document()->sourcePath().endsWith("/variants/own.particle.json"));
    QCOMPARE(window_->tabs()->currentIndex(), 0);

    // Explain: the trial's checkpoint, ready.
    clickTab(window_->tabs(), "Explain");
    QCOMPARE(window_->explainPanel()->checkpoint(), trial);
    QVERIFY(window_->explainPanel()->computeButton()->isEnabled());

    // Export (Ctrl+E): the trial's weights, not the initial ones.
    QVERIFY(QDir(dir.path()).mkpath("export"));
    clickTab(window_->tabs(), "Design");
    if (!window_->isActiveWindow())
      window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    auto folder = answerFileDialog(dir.filePath("export"));
    QTest::keyClick(window_->view(), Qt::Key_E, Qt::ControlModifier);
    QVERIFY(*folder);
    auto box = answerMessageBox();
    QTRY_VERIFY_WITH_TIMEOUT(box->shown, 120000);
    QVERIFY2(box->text.contains("Weights: " + trial), qPrintable(box->text));

    // Train: continues from the trial (its first epoch is carried over as it was, time and all).
    clickTab(window_->tabs(), "Train");
    TrainPanel *train = window_->trainPanel();
    QSignalSpy done(train, &TrainPanel::runFinished);
    QTest::mouseClick(train->startButton(), Qt::LeftButton);
    QVERIFY2(train->progressLabel()->text().contains("continuing from " + trial),
             qPrintable(train->progressLabel()->text()));
    QVERIFY(done.wait(120000));
    const auto rows = [](const QString &file) {
      QFile f(file);
      return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts)
                                         : QStringList();
    };
    const QStringList before = rows(dir.filePath("s/trials/own/metrics.csv"));
    const QStringList after = rows(train->lastRunFolder() + "/metrics.csv");
    QCOMPARE(before.size(), 2); // header and epoch 1
    QCOMPARE(after.size(), 3);  // and epoch 2
    QCOMPARE(after.at(1), before.at(1));
    // The next run is the document's own: it starts from initial weights, as any project does.
    QCOMPARE(window_->document()->startCheckpoint(), QString());
    QCOMPARE(train->lastCheckpoint(), train->lastRunFolder() + "/checkpoint.pt");
  }

  // The transfer lab: a source project picked by its path, the suggested particle, two sizes and
  // one seed typed in; Run trains the source and every mode, and the table and the plot of
  // accuracy against N fill in. A missing source is refused before anything starts.
  void transferLabRunsAndPlots() {
    window_->document()->reset(smallProject(300));
    clickTab(window_->tabs(), "Experiments");
    TransferLab *lab = window_->experimentsPanel()->transferLab();
    QVERIFY(!lab->isVisible()); // the claims lab's turn until its tab is clicked
    clickTab(window_->experimentsPanel()->labTabs(), "Transfer");
    QTRY_VERIFY(lab->isVisible());
    QCOMPARE(lab->nodesEdit()->text(), QString("a")); // the graph's first sub-model
    QTest::mouseClick(lab->runButton(), Qt::LeftButton);
    QVERIFY(!lab->running());
    QVERIFY2(lab->statusLabel()->text().contains("Pick the source project"), qPrintable(lab->statusLabel()->text()));

    Json source = baseProject();
    source["name"] = "task-a";
    source["dataset"]["seed"] = 5;
    source["dataset"]["informative"] = {1, 3};
    source["dataset"]["samples"] = 300;
    const std::string sourceFile = writeFile(*runs_, "task-a.particle.json", source.dump(2));
    typeInto(lab->sourceEdit(), QString::fromStdString(sourceFile));
    typeInto(lab->sizesEdit(), "40,120");
    typeInto(lab->seedsSpin(), "1");
    typeInto(lab->epochsSpin(), "1");
    QSignalSpy finished(lab, &TransferLab::transferFinished);
    QTest::mouseClick(lab->runButton(), Qt::LeftButton);
    QVERIFY(lab->running());
    QVERIFY(finished.wait(180000));
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(lab->statusLabel()->text()));
    QVERIFY2(lab->statusLabel()->text().contains("Transfer finished: 10 trial(s)"),
             qPrintable(lab->statusLabel()->text()));
    QCOMPARE(lab->table()->rowCount(), 5);
    QCOMPARE(lab->table()->columnCount(), 4); // mode, trained, N=40, N=120
    QCOMPARE(lab->table()->horizontalHeaderItem(3)->text(), QString("N=120"));
    for (int row = 0; row < 5; ++row)
      QVERIFY2(lab->table()->item(row, 2)->text().contains('.'), qPrintable(lab->table()->item(row, 2)->text()));
    QCOMPARE(lab->plot()->graphCount(), 5);
    for (int i = 0; i < 5; ++i)
      QCOMPARE(lab->plot()->graph(i)->dataCount(), 2);
    QVERIFY(QFile::exists(lab->folder() + "/transfer.json"));
  }

  void badBudgetIsReported() {
    window_->document()->reset(smallProject(400));
    clickTab(window_->tabs(), "Experiments");
    ExperimentsPanel *panel = window_->experimentsPanel();
    typeInto(panel->budgetEdit(), "soon");
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    // Checked before anything starts: no search, the message says what a budget is.
    QVERIFY(!panel->running());
    QVERIFY(panel->startButton()->isEnabled());
    QVERIFY2(panel->statusLabel()->text().contains("Budget \"soon\": give a time (90s, 10m, 1h) or a number of trials"),
             qPrintable(panel->statusLabel()->text()));
    // A graph without a Split has nothing to vary.
    Json flat = baseProject();
    flat["nodes"] = Json::parse(R"([{"id": "input", "type": "Input"}, {"id": "m", "type": "MLP"},
                                    {"id": "head", "type": "Classifier"}])");
    flat["edges"] = Json::parse(R"([{"from": "input", "to": "m"}, {"from": "m", "to": "head"}])");
    window_->document()->reset(projectFromJson(flat, "flat.json"));
    typeInto(panel->budgetEdit(), "4trials");
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY(!panel->running());
    QVERIFY2(panel->statusLabel()->text().contains("Nothing to search: the graph has no Split node"),
             qPrintable(panel->statusLabel()->text()));
  }

  // An untitled project's search and claims are written to the user's runs folder, as its runs
  // are; its first save takes them to runs/ beside the file under the project's name, and what
  // they say of where they are and whose they are follows them.
  void anUntitledProjectsSearchAndClaimsComeWithItOnItsFirstSave() {
    ExperimentsPanel *panel = window_->experimentsPanel();
    panel->setRunsFolder({}); // where the app puts them: the project's runs folder
    Json doc = baseProject();
    doc["name"] = "untitled";
    doc["dataset"]["samples"] = 200;
    doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
    window_->document()->reset(projectFromJson(doc, ""));
    QVERIFY(window_->document()->filePath().isEmpty());
    clickTab(window_->tabs(), "Experiments");
    QTRY_VERIFY(panel->isVisible());
    typeInto(panel->budgetEdit(), "3trials");
    typeInto(panel->seedsSpin(), "1");
    QSignalSpy searched(panel, &ExperimentsPanel::searchFinished);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY(searched.wait(300000));
    QVERIFY2(searched.at(0).at(0).toBool(), qPrintable(panel->statusLabel()->text()));
    const QString search = panel->searchFolder();
    auto removeSearch = qScopeGuard([search] { QDir(search).removeRecursively(); }); // if the save left it
    const QString users =
        QFileInfo(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/runs").absoluteFilePath();
    QCOMPARE(QFileInfo(search).absolutePath(), users);

    ClaimsLab *lab = panel->claimsLab();
    clickTab(panel->labTabs(), "Claims");
    QTRY_VERIFY(lab->claimsButton()->isVisible());
    typeInto(lab->seedsSpin(), "1");
    QSignalSpy claimed(lab, &ClaimsLab::experimentFinished);
    QTest::mouseClick(lab->claimsButton(), Qt::LeftButton);
    QVERIFY(claimed.wait(300000));
    QVERIFY2(claimed.at(0).at(0).toBool(), qPrintable(lab->statusLabel()->text()));
    const QString claims = lab->resultsFolder();
    auto removeClaims = qScopeGuard([claims] { QDir(claims).removeRecursively(); });
    QCOMPARE(QFileInfo(claims).absolutePath(), users);

    // Ctrl+S: the Save dialog asks where; both folders go to runs/ beside the file.
    QTemporaryDir dir;
    const QString path = dir.filePath("bands.particle.json"), runs = QFileInfo(dir.filePath("runs")).absoluteFilePath();
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    auto saved = answerFileDialog(path);
    QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
    QTRY_VERIFY(*saved);
    QTRY_COMPARE(window_->document()->filePath(), path);
    const QString keptSearch = runs + "/search-bands-" + QFileInfo(search).fileName().mid(16);
    const QString keptClaims = runs + "/claims-bands-" + QFileInfo(claims).fileName().mid(16);
    QVERIFY2(!QFileInfo::exists(search) && !QFileInfo::exists(claims), "the originals are still there");
    QCOMPARE(panel->searchFolder(), keptSearch);
    QCOMPARE(lab->resultsFolder(), keptClaims);
    const QString message = window_->statusBar()->currentMessage();
    QVERIFY2(message == "Saved bands.particle.json; 1 claims folder, 1 search moved to runs/ beside it",
             qPrintable(message));

    // Nothing in them names the old place; the search is of "bands", its trials of its variants.
    const QString searchText = QString::fromStdString(readTextFile((keptSearch + "/search.json").toStdString()));
    const QString claimsText = QString::fromStdString(readTextFile((keptClaims + "/claims.json").toStdString()));
    QVERIFY2(!searchText.contains(search) && !claimsText.contains(claims), "a path still names the old folder");
    // Nor what the trials printed ("wrote <folder>/trials/…"): each log names where its run is now.
    for (const auto &[folder, old] : {std::pair{keptSearch, search}, std::pair{keptClaims, claims}}) {
      int naming = 0;
      QDirIterator logs(folder + "/logs", {"*.log", "*.err"}, QDir::Files);
      while (logs.hasNext()) {
        const QString file = logs.next();
        const QString text = QString::fromStdString(readTextFile(file.toStdString()));
        QVERIFY2(!text.contains(old), qPrintable(file + " still names " + old));
        naming += text.contains(folder + "/trials/") ? 1 : 0;
      }
      QVERIFY2(naming > 0, qPrintable("no log under " + folder + " names where its trials are now"));
    }
    const SearchFile kept = readSearchFile((keptSearch + "/search.json").toStdString());
    QCOMPARE(kept.project, std::string("bands"));
    QVERIFY(!kept.trials.empty());
    for (const TrialRecord &t : kept.trials) {
      QVERIFY2(QFileInfo::exists(QString::fromStdString(t.runDir) + "/checkpoint.pt"), t.runDir.c_str());
      QVERIFY2(QString::fromStdString(t.runDir).startsWith(keptSearch + "/trials/"), t.runDir.c_str());
      QVERIFY2(readRunSummary(t.runDir).name.rfind("bands-", 0) == 0, readRunSummary(t.runDir).name.c_str());
    }
    const ClaimsResult measured = readClaimsFile((keptClaims + "/claims.json").toStdString());
    QCOMPARE(measured.project, std::string("bands"));
    QCOMPARE(measured.models.at(0).name, std::string("bands"));
    for (const ClaimModel &model : measured.models)
      for (const ClaimRun &run : model.runs)
        QVERIFY2(QString::fromStdString(run.runDir).startsWith(keptClaims + "/trials/"), run.runDir.c_str());
    // The tab shows the search where it is now.
    QVERIFY2(panel->table()->rowCount() > 0, "the table was emptied");
  }

private:
  MainWindow *window_ = nullptr;
  std::unique_ptr<QTemporaryDir> runs_;
};

QTEST_MAIN(TestExperiments)
#include "tst_experiments.moc"
