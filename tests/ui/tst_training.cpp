// The Train tab: a real run on the engine thread, driven through the tab's buttons.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"
#include "editor/GraphView.h"
#include "editor/ParameterText.h"
#include "editor/NodeItem.h"
#include "explain/ExplainPanel.h"
#include "forms/SchemaForm.h"
#include "charts/CustomPlot.h"
#include "training/EngineWorker.h"
#include "training/RunHistory.h"
#include "training/TrainCharts.h"
#include "train/Pace.h"
#include "training/TrainPanel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QLabel>
#include <QRegularExpression>
#include <QListWidget>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStandardPaths>
#include <QToolButton>
#include <QUndoStack>
#include <QtMath>
#include <QFileDialog>
#include <QLineEdit>
#include <QtTest>

#include <algorithm>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {
// Many small batches, so that a run lasts long enough to pause and stop.
// Clicks a list item's check box where the style draws it.
void clickCheckBox(QListWidget *list, QListWidgetItem *item) {
  QStyleOptionViewItem option;
  option.initFrom(list);
  option.rect = list->visualItemRect(item);
  option.features |= QStyleOptionViewItem::HasCheckIndicator;
  const QRect box = list->style()->subElementRect(QStyle::SE_ItemViewItemCheckIndicator, &option, list);
  QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, box.center());
}

Project longProject(int epochs) {
  Json doc = baseProject();
  doc["dataset"]["samples"] = 6000;
  doc["training"] = {{"epochs", epochs}, {"batch_size", 8}, {"threads", 1}, {"lr", 0.001}};
  return projectFromJson(doc, "long.json");
}

} // namespace

class TestTraining : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void init();
  void cleanup();
  void shortRunFillsTheCharts();
  void pauseResumeStopFromTheButtons();
  void f6PausesAndResumes();
  void changedLrWhilePausedIsUsed();
  void freezeListIsTheNodesFreeze();
  void exportsAndHistory();
  void chartsExportWithTheChosenType();
  void classNamesOnTheConfusionMatrix();
  void tenClassesFitTheConfusionMatrixAt1024();
  void openingAnotherProjectClearsTheTab();
  void twoWorkersFromTheTrainTab();
  void workersThatCannotStartAreReported();
  void augmentationIsSetInTheTrainTab();
  void settingsInUseShowWithTheFormFolded();
  void stopEndsEveryWorker();
  void aFinishedRunIsNamedOnTheExplainTab();
  void aStoppedRunKeepsTheCompletedCheckpoint();
  void throughputIsTheRunsOwnFigure();
  void achievedFlopsBesideTheThroughput();
  void theTimeLeftFollowsTheRunsMeanPace();
  void anOlderRunOfAnotherGraphIsNotOfferedToExplain();
  void theLossCurveFollowsTheRunAndEndsOnItsLastStep();
  void pauseSaysTheStepTheRunStoppedAt();
  void aLearningRateOfZeroIsRefusedAndAHugeOneWarned();
  void aMaskWiderThanTheSamplesIsSaidUnderItsField();
  void aPastRunsChartsAreOverlaidFromItsFolder();
  void stopSaysWhatTheRunDoesUntilItEnds();
  void aRefusedNumberIsForgottenOnceAnotherSettingIsEdited();
  void theGraphsProblemsGoFromTheRunBoxWhenFixed();
  void ctrlZInATakenFieldUndoesTheDocument();

private:
  MainWindow *window_ = nullptr;
  std::unique_ptr<QTemporaryDir> runs_; // fresh per test: earlier runs would show up in the history
};

void TestTraining::init() {
  runs_ = std::make_unique<QTemporaryDir>();
  window_ = new MainWindow;
  window_->trainPanel()->setRunsFolder(runs_->path());
  window_->show();
  window_->setCurrentTab("train");
  QVERIFY(QTest::qWaitForWindowExposed(window_));
}

void TestTraining::cleanup() {
  window_->undoStack()->setClean();
  delete window_; // stops any run and joins the engine thread
  window_ = nullptr;
}

void TestTraining::shortRunFillsTheCharts() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 3}, {"batch_size", 32}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "short.json"));
  TrainPanel *panel = window_->trainPanel();
  QCOMPARE(qobject_cast<QSpinBox *>(panel->settingsForm()->editor("epochs"))->value(), 3);
  QSignalSpy epochs(panel, &TrainPanel::epochReceived);
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  QCOMPARE(epochs.count(), 3); // every epoch event arrived
  for (int i = 0; i < 3; ++i)
    QCOMPARE(epochs.at(i).at(0).value<EpochEvent>().epoch, i + 1);
  const auto result = done.at(0).at(0).value<RunFinished>();
  QVERIFY2(!result.failed, qPrintable(result.message));
  QCOMPARE(result.epochs, 3);
  QVERIFY(panel->lossPlot()->graph(0)->dataCount() > 0);                                        // raw step loss
  QCOMPARE(panel->lossPlot()->graph(1)->dataCount(), panel->lossPlot()->graph(0)->dataCount()); // smoothed
  QCOMPARE(panel->epochPlot()->graph(0)->dataCount(), 3);                                       // val loss per epoch
  QCOMPARE(panel->sharePlot()->graphCount(), 4); // one share series per branch
  QCOMPARE(panel->sharePlot()->graph(0)->dataCount(), 3);
  QCOMPARE(panel->confusionPlot()->plottableCount(), 1); // confusion matrix at the end
  QVERIFY(QFile::exists(result.checkpoint));
  QVERIFY(panel->startButton()->isEnabled());
}

void TestTraining::pauseResumeStopFromTheButtons() {
  window_->document()->reset(longProject(20));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > 50, 60000);
  QTest::mouseClick(panel->pauseButton(), Qt::LeftButton);
  QCOMPARE(panel->pauseButton()->text(), QString("Resume"));
  QVERIFY(panel->applyButton()->isEnabled());
  // Wait until the engine has drained what it sent, then check that no step follows.
  QTest::qWait(300);
  const qint64 paused = panel->lastStep();
  QTest::qWait(300);
  QCOMPARE(panel->lastStep(), paused);
  QTest::mouseClick(panel->pauseButton(), Qt::LeftButton); // resume
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > paused + 20, 60000);
  // The step count continues from where it paused (the raw series has no gap and no repeat).
  auto data = panel->lossPlot()->graph(0)->data();
  for (int i = 1; i < data->size(); ++i)
    QCOMPARE(data->at(i)->key, data->at(i - 1)->key + 1);
  QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const auto result = done.at(0).at(0).value<RunFinished>();
  QCOMPARE(result.status, QString("stopped"));
  QVERIFY(QFile::exists(result.checkpoint));
  QVERIFY(result.steps < 20 * 6000 / 8);
}

void TestTraining::f6PausesAndResumes() {
  window_->document()->reset(longProject(20));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > 50, 60000);
  // Focus on a chart, as after looking at the loss, then F6 twice: pause, resume.
  QWidget *chart = panel->lossPlot();
  QTest::mouseClick(chart, Qt::LeftButton, {}, chart->rect().center());
  QTest::keyClick(QApplication::focusWidget() ? QApplication::focusWidget() : chart, Qt::Key_F6);
  QTRY_COMPARE(panel->pauseButton()->text(), QString("Resume"));
  QTest::qWait(300);
  const qint64 paused = panel->lastStep();
  QTest::qWait(300);
  QCOMPARE(panel->lastStep(), paused);
  QTest::keyClick(QApplication::focusWidget() ? QApplication::focusWidget() : chart, Qt::Key_F6);
  QTRY_COMPARE(panel->pauseButton()->text(), QString("Pause"));
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > paused + 20, 60000);
  QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
}

void TestTraining::changedLrWhilePausedIsUsed() {
  window_->document()->reset(longProject(20));
  TrainPanel *panel = window_->trainPanel();
  // Heard on the GUI thread (a spy on the worker would record on the engine thread).
  QList<qint64> applied;
  connect(panel->controller()->worker(), &EngineWorker::settingsApplied, panel,
          [&applied](const LiveSettings &, qint64 step) { applied << step; });
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > 20, 60000);
  QTest::mouseClick(panel->pauseButton(), Qt::LeftButton);
  // Typed into the learning-rate field while paused.
  auto *lr = qobject_cast<QDoubleSpinBox *>(panel->settingsForm()->editor("lr"));
  QVERIFY(lr && lr->isEnabled());
  QTest::mouseClick(lr, Qt::LeftButton);
  QTest::keyClick(lr, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(lr, "0.0123");
  QTest::keyClick(lr, Qt::Key_Return);
  QCOMPARE(window_->document()->project().training["lr"].get<double>(), 0.0123);
  clickCheckBox(panel->frozenList(), panel->frozenList()->item(0));
  QCOMPARE(panel->frozenList()->item(0)->checkState(), Qt::Checked);
  QVERIFY(window_->document()
              ->graph()
              .find(panel->frozenList()->item(0)->data(Qt::UserRole).toString().toStdString())
              ->freeze);
  QTest::mouseClick(panel->applyButton(), Qt::LeftButton);
  // Applied on the engine thread while paused; the signal may arrive before a wait() could
  // start, so poll the spy's count instead.
  QTRY_VERIFY_WITH_TIMEOUT(applied.count() > 0, 30000);
  const qint64 at = applied.at(0);
  QTest::mouseClick(panel->pauseButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > at + 10, 60000);
  QCOMPARE(panel->lastLr(), 0.0123);            // the lr the engine reports for its latest steps
  QVERIFY(panel->lossPlot()->itemCount() >= 2); // the change is marked on the curve
  QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
}

void TestTraining::freezeListIsTheNodesFreeze() {
  Json doc = baseProject();
  doc["nodes"][4]["freeze"] = true; // c, as the file says
  window_->document()->reset(projectFromJson(doc, "frozen.json"));
  QListWidget *list = window_->trainPanel()->frozenList();
  auto item = [list](const char *id) -> QListWidgetItem * {
    for (int i = 0; i < list->count(); ++i)
      if (list->item(i)->data(Qt::UserRole).toString() == id)
        return list->item(i);
    return nullptr;
  };
  auto frozen = [this](const char *id) { return window_->document()->graph().find(id)->freeze; };
  QVERIFY(item("c") && item("d") && item("a") && item("b"));
  // The members of share group "g" say so: ticking one ticks both.
  QCOMPARE(item("a")->text(), QString("a — tied (g)"));
  QCOMPARE(item("b")->text(), QString("b — tied (g)"));
  QCOMPARE(item("c")->text(), QString("c"));
  QCOMPARE(item("c")->checkState(), Qt::Checked);
  QCOMPARE(item("d")->checkState(), Qt::Unchecked);
  // Checked here, the node is frozen in the project; a share group's members freeze together.
  clickCheckBox(list, item("d"));
  QVERIFY(frozen("d"));
  clickCheckBox(list, item("a"));
  QVERIFY(frozen("a") && frozen("b"));
  QCOMPARE(item("b")->checkState(), Qt::Checked);
  QVERIFY(window_->document()->validation().ok());
  // One undo gives the group back; the list follows the project.
  QTest::keyClick(window_, Qt::Key_Z, Qt::ControlModifier);
  QVERIFY(!frozen("a") && !frozen("b") && frozen("d"));
  QCOMPARE(item("a")->checkState(), Qt::Unchecked);
  // Unchecking the file's own freeze unfreezes the node.
  clickCheckBox(list, item("c"));
  QVERIFY(!frozen("c"));
  QVERIFY(projectToText(window_->document()->project()).find("\"freeze\"") != std::string::npos); // d's
  // Fresh eyes #8: a node given a LoRA adapter (in the Inspector) says so in the list, with why.
  QTest::keyClick(window_, Qt::Key_1, Qt::ControlModifier);
  auto *adapter = qobject_cast<QComboBox *>(inspectorEditor(window_, "c", "adapter"));
  QVERIFY(adapter);
  QVERIFY(chooseWithMouse(adapter, "lora"));
  QVERIFY(window_->document()->graph().find("c")->adapter);
  QTest::keyClick(window_, Qt::Key_2, Qt::ControlModifier);
  QListWidgetItem *adapted = list->findItems("c — LoRA", Qt::MatchStartsWith).value(0);
  QVERIFY(adapted);
  QCOMPARE(adapted->data(Qt::UserRole).toString(), QString("c"));
  QVERIFY2(adapted->toolTip().contains("adapters train"), qPrintable(adapted->toolTip()));
  QCOMPARE(adapted->checkState(), Qt::Unchecked);
}

void TestTraining::exportsAndHistory() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 2}, {"batch_size", 32}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "short.json"));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  QCOMPARE(panel->historyList()->count(), 2);
  const int before = panel->lossPlot()->graphCount();
  panel->historyList()->item(0)->setCheckState(Qt::Checked);
  QCOMPARE(panel->lossPlot()->graphCount(), before + 1); // overlay of the first run
  QTemporaryDir dir;
  QVERIFY(panel->exportTo(dir.filePath("c.png")));
  QVERIFY(panel->exportTo(dir.filePath("c.pdf")));
  QVERIFY(panel->exportTo(dir.filePath("c.csv")));
  QVERIFY(QImage(dir.filePath("c.png")).width() > 100);
  QVERIFY(QFileInfo(dir.filePath("c.pdf")).size() > 1000);
  QFile csv(dir.filePath("c.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly));
  QVERIFY(csv.readAll().count("epoch,") == 2);
}

void TestTraining::chartsExportWithTheChosenType() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "short.json"));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  // The dialog offers a name that says which run and precision the charts are; Escape closes it.
  QString offered;
  std::function<void()> look = [&] {
    auto *dialog = qobject_cast<QFileDialog *>(QApplication::activeModalWidget());
    if (!dialog) {
      QTimer::singleShot(50, look);
      return;
    }
    if (auto *name = dialog->findChild<QLineEdit *>("fileNameEdit"))
      offered = name->text();
    QTest::keyClick(dialog, Qt::Key_Escape);
  };
  QTimer::singleShot(50, look);
  QTest::mouseClick(panel->exportButton(), Qt::LeftButton);
  QTRY_VERIFY(!offered.isEmpty());
  QCOMPARE(offered, QFileInfo(done.at(0).at(0).value<RunFinished>().outDir).fileName() + "-fp32-charts");
  // The PDF filter chosen, no suffix typed: the file gets ".pdf".
  QTemporaryDir dir;
  auto answered = answerFileDialog(dir.filePath("curves"), "PDF");
  QTest::mouseClick(panel->exportButton(), Qt::LeftButton);
  QVERIFY(*answered);
  QTRY_VERIFY(QFile::exists(dir.filePath("curves.pdf")));
  QVERIFY(QFileInfo(dir.filePath("curves.pdf")).size() > 1000);

  // The CSV holds the confusion matrix the chart shows — after a run, the test split's (a trial's
  // user could not tell which split an exported matrix was) — one row per cell, as summary.json's
  // test_confusion counts them.
  answered = answerFileDialog(dir.filePath("curves"), "CSV");
  QTest::mouseClick(panel->exportButton(), Qt::LeftButton);
  QVERIFY(*answered);
  QTRY_VERIFY(QFile::exists(dir.filePath("curves.csv")));
  const QStringList lines = QString::fromStdString(readTextFile(dir.filePath("curves.csv").toStdString())).split('\n');
  QVERIFY2(lines.value(0).endsWith(",split,true_class,predicted_class,count,branch,share"), qPrintable(lines.value(0)));
  const auto result = done.at(0).at(0).value<RunFinished>();
  const Json summary = Json::parse(readTextFile(result.outDir.toStdString() + "/summary.json"));
  const Json &expected = summary.at("test_confusion");
  const auto names = summary.at("class_names");
  QStringList cells;
  for (std::size_t t = 0; t < expected.size(); ++t)
    for (std::size_t q = 0; q < expected[t].size(); ++q)
      cells << QString("confusion,,,,,,,,test,%1,%2,%3,,")
                   .arg(QString::fromStdString(names[t].get<std::string>()),
                        QString::fromStdString(names[q].get<std::string>()))
                   .arg(expected[t][q].get<qint64>());
  QVERIFY(cells.size() >= 4);
  QCOMPARE(lines.filter(QRegularExpression("^confusion,")), cells);
  // Every row has the header's 14 columns (no class name here holds a comma).
  for (const QString &line : lines)
    QVERIFY2(line.isEmpty() || line.count(',') == 13, qPrintable(line));
  // The epoch's row has its training loss beside the validation figures, as metrics.csv has them.
  const QStringList metrics =
      QString::fromStdString(readTextFile(result.outDir.toStdString() + "/metrics.csv")).split('\n');
  const QStringList metricsHeader = metrics.value(0).split(',');
  const QStringList epochRow = lines.filter(QRegularExpression("^epoch,")).value(0).split(',');
  QCOMPARE(epochRow.size(), 14);
  QVERIFY(std::abs(epochRow[2].toDouble() -
                   metrics.value(1).split(',').value(metricsHeader.indexOf("train_loss")).toDouble()) < 1e-4);
  QVERIFY(std::abs(epochRow[6].toDouble() -
                   metrics.value(1).split(',').value(metricsHeader.indexOf("val_loss")).toDouble()) < 1e-4);
  // The contribution share of each sub-model at the epoch, as the share chart draws it.
  const QStringList shares = lines.filter(QRegularExpression("^share,"));
  QCustomPlot *sharePlot = panel->sharePlot();
  QVERIFY(sharePlot->graphCount() >= 2);
  QCOMPARE(shares.size(), sharePlot->graphCount());
  double total = 0;
  for (int g = 0; g < sharePlot->graphCount(); ++g) {
    const QString name = sharePlot->graph(g)->name();
    const QStringList row =
        shares.filter(QRegularExpression("/" + QRegularExpression::escape(name) + ",")).value(0).split(',');
    QCOMPARE(row.size(), 14);
    QCOMPARE(row[1], QString("1"));
    QVERIFY2(std::abs(row[13].toDouble() - sharePlot->graph(g)->data()->at(0)->value) < 1e-4,
             qPrintable(row.join(',')));
    total += row[13].toDouble();
  }
  QVERIFY2(std::abs(total - 1) < 1e-3, qPrintable(QString::number(total)));
}

void TestTraining::classNamesOnTheConfusionMatrix() {
  // A CSV whose label column says "rain, heavy", 'snow "wet"', "sun": the classes are those names,
  // a comma and quotes included (written quoted in the data file, as CSV quotes them).
  QTemporaryDir dir;
  std::string csv = "a,b,weather\n";
  const char *names[] = {"sun", "\"rain, heavy\"", "\"snow \"\"wet\"\"\""};
  for (int i = 0; i < 300; ++i)
    csv += std::to_string(i % 3) + "," + std::to_string((i * 7) % 5) + "," + names[i % 3] + "\n";
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "csv"}, {"path", writeFile(dir, "weather.csv", csv)}, {"label_column", "weather"}};
  doc["nodes"][1]["params"] = {{"mode", "chunks"}, {"parts", 2}};
  doc["edges"] = Json::parse(R"([{"from":"input","to":"split"},{"from":"split","to":"a"},{"from":"split:1","to":"b"},
      {"from":"a","to":"combine"},{"from":"b","to":"combine:1"},{"from":"combine","to":"head"}])");
  doc["nodes"].erase(5);
  doc["nodes"].erase(4);
  doc["training"] = {{"epochs", 1}, {"batch_size", 16}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, dir.filePath("weather.particle.json").toStdString()));
  for (const auto &problem : window_->document()->validation().problems)
    qWarning() << problem.format("").c_str();
  QVERIFY(window_->document()->validation().ok());
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy epochs(panel, &TrainPanel::epochReceived);
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  QCOMPARE(epochs.at(0).at(0).value<EpochEvent>().classNames,
           (std::vector<std::string>{"rain, heavy", "snow \"wet\"", "sun"}));
  auto ticker = panel->confusionPlot()->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
  QVERIFY(ticker);
  QCOMPARE(ticker->ticks().value(0), QString("rain, heavy"));
  QCOMPARE(ticker->ticks().value(2), QString("sun"));
  const auto result = done.at(0).at(0).value<RunFinished>();
  const Json summary = Json::parse(readTextFile(result.outDir.toStdString() + "/summary.json"));
  QCOMPARE(summary["class_names"], Json::parse(R"(["rain, heavy", "snow \"wet\"", "sun"])"));
  // The charts' CSV quotes such names, one field each: every confusion row has 14 fields.
  auto answered = answerFileDialog(dir.filePath("curves"), "CSV");
  QTest::mouseClick(panel->exportButton(), Qt::LeftButton);
  QVERIFY(*answered);
  QTRY_VERIFY(QFile::exists(dir.filePath("curves.csv")));
  const QStringList rows = QString::fromStdString(readTextFile(dir.filePath("curves.csv").toStdString()))
                               .split('\n')
                               .filter(QRegularExpression("^confusion,"));
  QCOMPARE(rows.size(), 9);
  QVERIFY2(rows[1].startsWith(R"(confusion,,,,,,,,test,"rain, heavy","snow ""wet""",)"), qPrintable(rows[1]));
  for (QString row : rows) {
    row.remove(QRegularExpression(R"("([^"]|"")*")")); // a quoted field, commas and doubled quotes in it
    QCOMPARE(row.count(','), 13);
  }
}

// Ten classes in a 1024×700 window: each cell's percentage fits its cell ("100%" was drawn over
// its neighbours and read "00%"), and the class names under it do not run into each other.
void TestTraining::tenClassesFitTheConfusionMatrixAt1024() {
  window_->resize(1024, 700);
  Json doc = baseProject();
  doc["dataset"]["classes"] = 10;
  doc["dataset"]["samples"] = 600;
  window_->document()->reset(projectFromJson(doc, "ten.json"));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  QCustomPlot *plot = panel->confusionPlot();
  QTest::qWait(200); // the queued replot
  const QRect cells = plot->axisRect()->rect();
  const double cellWidth = cells.width() / 10.0, cellHeight = cells.height() / 10.0;
  // Cells too small for any figure show none: their colour says it.
  for (int i = 0; i < plot->itemCount(); ++i) {
    auto *text = qobject_cast<QCPItemText *>(plot->item(i));
    if (!text || !text->visible())
      continue;
    const QFontMetrics metrics(text->font());
    QVERIFY2(metrics.horizontalAdvance(text->text()) <= cellWidth && metrics.height() <= cellHeight,
             qPrintable(QString("\"%1\" is %2×%3 px in a %4×%5 px cell")
                            .arg(text->text())
                            .arg(metrics.horizontalAdvance(text->text()))
                            .arg(metrics.height())
                            .arg(cellWidth)
                            .arg(cellHeight)));
  }
  // The names under the columns, rotated: one column's width apart across their slant, at least
  // a line of their font.
  const double across = cellWidth * std::sin(qDegreesToRadians(plot->xAxis->tickLabelRotation()));
  QVERIFY2(across >= QFontMetrics(plot->xAxis->tickLabelFont()).height(),
           qPrintable(QString("class names %1 px apart at %2°, %3 px high")
                          .arg(across)
                          .arg(plot->xAxis->tickLabelRotation())
                          .arg(QFontMetrics(plot->xAxis->tickLabelFont()).height())));
}

void TestTraining::openingAnotherProjectClearsTheTab() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "short.json"));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  QCOMPARE(panel->historyList()->count(), 1);
  QVERIFY(panel->lossPlot()->graph(0)->dataCount() > 0);
  // Open another project with Ctrl+O: the tab starts over.
  QTemporaryDir dir;
  const std::string other = writeFile(dir, "other.particle.json", readTextFile(examplePath("synthetic-parts")));
  window_->undoStack()->setClean();
  auto answered = answerFileDialog(QString::fromStdString(other));
  QTest::keyClick(window_, Qt::Key_O, Qt::ControlModifier);
  QVERIFY(*answered);
  QTRY_COMPARE(window_->document()->filePath(), QString::fromStdString(other));
  QCOMPARE(panel->historyList()->count(), 0);
  QCOMPARE(panel->lossPlot()->graph(0)->dataCount(), 0);
  QCOMPARE(panel->confusionPlot()->plottableCount(), 0);
  QVERIFY(panel->lastCheckpoint().isEmpty());
  QCOMPARE(qobject_cast<QSpinBox *>(panel->settingsForm()->editor("epochs"))->value(), 20);
}

namespace {
// Shows the advanced settings (a click on "More settings…") and types `value` into `field`.
void typeAdvancedSetting(TrainPanel *panel, const QString &field, const QString &value) {
  auto *toggle = panel->settingsForm()->findChild<QToolButton *>("advancedToggle");
  QVERIFY(toggle);
  if (!toggle->isChecked())
    QTest::mouseClick(toggle, Qt::LeftButton);
  QWidget *editor = panel->settingsForm()->editor(field);
  QVERIFY(editor);
  QTRY_VERIFY(editor->isVisible());
  typeInto(editor, value);
}
} // namespace

void TestTraining::twoWorkersFromTheTrainTab() {
  qputenv("PARTICLE_CLI", PARTICLE_CLI); // the test binary does not sit next to the CLI as the app does
  Json doc = baseProject();
  doc["training"] = {{"epochs", 2}, {"batch_size", 16}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "workers.json"));
  TrainPanel *panel = window_->trainPanel();
  typeAdvancedSetting(panel, "workers", "2");
  QCOMPARE(window_->document()->project().training.value("workers", 0), 2);
  QSignalSpy epochs(panel, &TrainPanel::epochReceived);
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(panel->stopButton()->isEnabled());
  QVERIFY(!panel->pauseButton()->isEnabled()); // the other process could not wait out a pause
  QVERIFY(done.wait(120000));
  const auto result = done.at(0).at(0).value<RunFinished>();
  QVERIFY2(!result.failed, qPrintable(result.message));
  QCOMPARE(epochs.count(), 2); // rank 0 (the engine thread) fed the charts
  QCOMPARE(panel->epochPlot()->graph(0)->dataCount(), 2);
  QVERIFY(panel->lossPlot()->graph(0)->dataCount() > 0);
  const Json summary = Json::parse(readTextFile(result.outDir.toStdString() + "/summary.json"));
  QCOMPARE(summary["workers"].get<int>(), 2);
  // Each step took 16 samples on each of the 2 workers: half the steps one process would take.
  const QString described = QString::fromStdString(summary["dataset"].get<std::string>()); // "…: N train, …"
  const QRegularExpressionMatch m = QRegularExpression("(\\d+) train").match(described);
  QVERIFY2(m.hasMatch(), qPrintable(described));
  const int64_t trainSamples = m.captured(1).toLongLong();
  QCOMPARE(summary["steps"].get<int64_t>(), 2 * ((trainSamples + 31) / 32));
  QVERIFY(QFile::exists(result.outDir + "/worker-1.log"));
  QVERIFY(QFile::exists(result.checkpoint));
  QVERIFY(panel->pauseButton()->toolTip().contains("F6")); // back to the one-process tooltip
  QVERIFY(panel->startButton()->isEnabled());
}

void TestTraining::workersThatCannotStartAreReported() {
  qputenv("PARTICLE_CLI", "/nonexistent/particle");
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"batch_size", 16}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "workers.json"));
  TrainPanel *panel = window_->trainPanel();
  typeAdvancedSetting(panel, "workers", "3");
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  qunsetenv("PARTICLE_CLI");
  const auto result = done.at(0).at(0).value<RunFinished>();
  QVERIFY(result.failed);
  QVERIFY2(result.message.contains("could not start /nonexistent/particle"), qPrintable(result.message));
  QVERIFY(panel->progressLabel()->text().contains("could not start /nonexistent/particle"));
  QVERIFY(panel->startButton()->isEnabled());
}

// training.augment_* are advanced settings of the Train tab: typed there, they go into the project.
// On samples that cannot be augmented (vectors) "More settings…" leaves them out (a fresh-eyes user
// found time masks offered for a table); one the project sets shows, with the reason under it.
void TestTraining::augmentationIsSetInTheTrainTab() {
  Json doc = baseProject(); // samples [32]: vectors
  doc["training"] = {{"epochs", 1}, {"batch_size", 16}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "augment.json"));
  TrainPanel *panel = window_->trainPanel();
  auto *toggle = panel->settingsForm()->findChild<QToolButton *>("advancedToggle");
  QVERIFY(toggle);
  if (!toggle->isChecked())
    QTest::mouseClick(toggle, Qt::LeftButton);
  QTRY_VERIFY(panel->settingsForm()->editor("warmup_steps")->isVisible());
  for (const char *key : {"augment_time_shift", "augment_freq_warp", "augment_time_masks", "augment_time_mask_width",
                          "augment_freq_masks", "augment_freq_mask_width"})
    QVERIFY2(!panel->settingsForm()->editor(key)->isVisible(), key);
  doc["training"]["augment_freq_warp"] = 0.05;
  window_->document()->reset(projectFromJson(doc, "augment.json"));
  QTRY_VERIFY(panel->settingsForm()->editor("augment_freq_warp")->isVisible());
  QVERIFY(!panel->settingsForm()->editor("augment_time_masks")->isVisible());
  typeAdvancedSetting(panel, "augment_freq_warp", "0.15");
  QCOMPARE(window_->document()->project().training.value("augment_freq_warp", 0.0), 0.15);
  auto *problem = panel->settingsForm()->findChild<QLabel *>("problem:augment_freq_warp");
  QVERIFY(problem);
  QTRY_VERIFY(problem->isVisible());
  QVERIFY2(problem->text().contains("needs samples shaped [C, H, W]") && problem->text().contains("[32]"),
           qPrintable(problem->text()));
  // Set back to 0 (off), the problem goes.
  typeAdvancedSetting(panel, "augment_freq_warp", "0");
  QCOMPARE(window_->document()->project().training.value("augment_freq_warp", 1.0), 0.0);
  QTRY_VERIFY(!problem->isVisible());
}

// A reopened project's advanced settings that differ from their defaults (its augmentation) show
// although "More settings…" is folded; the ones left at their defaults stay folded away.
void TestTraining::settingsInUseShowWithTheFormFolded() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"batch_size", 16}, {"threads", 1}, {"augment_time_shift", 3}};
  window_->document()->reset(projectFromJson(doc, "inuse.json"));
  TrainPanel *panel = window_->trainPanel();
  auto *toggle = panel->settingsForm()->findChild<QToolButton *>("advancedToggle");
  QVERIFY(toggle);
  if (toggle->isChecked())
    QTest::mouseClick(toggle, Qt::LeftButton);
  QVERIFY(!toggle->isChecked());
  QWidget *shift = panel->settingsForm()->editor("augment_time_shift");
  QWidget *masks = panel->settingsForm()->editor("augment_time_masks");
  QWidget *clip = panel->settingsForm()->editor("grad_clip");
  QVERIFY(shift && masks && clip);
  QTRY_VERIFY(shift->isVisible());
  QVERIFY(!masks->isVisible());
  QVERIFY(!clip->isVisible());
  // Another project without it: folded away again.
  doc["training"].erase("augment_time_shift");
  window_->document()->reset(projectFromJson(doc, "inuse2.json"));
  shift = panel->settingsForm()->editor("augment_time_shift");
  QVERIFY(shift);
  QTRY_VERIFY(!shift->isVisible());
  QVERIFY(!toggle->isChecked());
}

void TestTraining::stopEndsEveryWorker() {
  qputenv("PARTICLE_CLI", PARTICLE_CLI);
  window_->document()->reset(longProject(20));
  TrainPanel *panel = window_->trainPanel();
  typeAdvancedSetting(panel, "workers", "2");
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > 20, 60000);
  QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const auto result = done.at(0).at(0).value<RunFinished>();
  QCOMPARE(result.status, QString("stopped"));
  QVERIFY2(!result.message.contains("worker 1"), qPrintable(result.message)); // the other one ended well
  QVERIFY(QFile::exists(result.checkpoint));
  QVERIFY(result.steps < 20 * 6000 / 16);
}

namespace {
// How the Explain tab names a run the Train tab ended: its folder, project, date, epoch (none when
// it stopped in its first), status when it did not complete, test accuracy.
QString namedRun(const RunFinished &r) {
  const QString folder = QRegularExpression::escape(QFileInfo(r.outDir).fileName());
  const QString status =
      r.status == "completed" ? QString() : QString(" \\(%1 at step %2\\)").arg(r.status).arg(r.steps);
  const QString epoch = r.epochs > 0 ? QString(", epoch %1").arg(r.epochs) : QString();
  return QString("run %1 of project “t”%2, 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}%3, test accuracy %4%")
      .arg(folder, status, epoch, QRegularExpression::escape(QString::number(100 * r.testAccuracy, 'f', 1)));
}

// Start, and (`stopAt` > 0) Stop once the run has passed that step; the run's result.
RunFinished runFromTheButtons(TrainPanel *panel, qint64 stopAt) {
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  if (stopAt > 0) {
    if (!QTest::qWaitFor([&] { return panel->lastStep() > stopAt; }, 60000))
      return {};
    QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  }
  if (done.isEmpty() && !done.wait(120000))
    return {};
  return done.at(0).at(0).value<RunFinished>();
}
} // namespace

// #21 item 15: the checkpoint of a run that ends on the Train tab is named on the Explain tab like a
// picked one; with no checkpoint before it, a stopped run's is taken, and said to be stopped.
void TestTraining::aFinishedRunIsNamedOnTheExplainTab() {
  // Batches of 2: an epoch of 2,700 steps, long enough for the Stop after step 10 (the Train tab
  // hears of the steps four times a second) to land in the first epoch on a fast machine.
  Json doc = baseProject();
  doc["dataset"]["samples"] = 6000;
  doc["training"] = {{"epochs", 20}, {"batch_size", 2}, {"threads", 1}, {"lr", 0.001}};
  window_->document()->reset(projectFromJson(doc, "long.json"));
  TrainPanel *panel = window_->trainPanel();
  ExplainPanel *explain = window_->explainPanel();
  QVERIFY(explain->checkpoint().isEmpty());
  const RunFinished stopped = runFromTheButtons(panel, 10);
  QCOMPARE(stopped.status, QString("stopped"));
  QCOMPARE(stopped.epochs, 0);
  QCOMPARE(explain->checkpoint(), stopped.checkpoint);
  QString status = explain->statusLabel()->text();
  QVERIFY2(status.contains(QRegularExpression("^Checkpoint checkpoint.pt — " + namedRun(stopped) + " — press Explain")),
           qPrintable(status + "\n" + namedRun(stopped)));
  // One epoch, typed into the tab's settings: completed, it replaces the stopped run's checkpoint.
  typeInto(panel->settingsForm()->editor("epochs"), "1");
  const RunFinished completed = runFromTheButtons(panel, 0);
  QCOMPARE(completed.status, QString("completed"));
  QCOMPARE(explain->checkpoint(), completed.checkpoint);
  status = explain->statusLabel()->text();
  QVERIFY2(
      status.contains(QRegularExpression("^Checkpoint checkpoint.pt — " + namedRun(completed) + " — press Explain")),
      qPrintable(status + "\n" + namedRun(completed)));
}

// #21 item 15: a run stopped early does not push a completed run's checkpoint off the Explain tab;
// the status says which run it still uses, and the stopped one can be picked with Checkpoint….
void TestTraining::aStoppedRunKeepsTheCompletedCheckpoint() {
  window_->document()->reset(longProject(1));
  TrainPanel *panel = window_->trainPanel();
  ExplainPanel *explain = window_->explainPanel();
  const RunFinished completed = runFromTheButtons(panel, 0);
  QCOMPARE(completed.status, QString("completed"));
  QCOMPARE(explain->checkpoint(), completed.checkpoint);
  typeInto(panel->settingsForm()->editor("epochs"), "20");
  const RunFinished stopped = runFromTheButtons(panel, 10);
  QCOMPARE(stopped.status, QString("stopped"));
  QVERIFY(QFile::exists(stopped.checkpoint));
  QCOMPARE(explain->checkpoint(), completed.checkpoint);
  QString status = explain->statusLabel()->text();
  QVERIFY2(status.contains(QRegularExpression("^Still on checkpoint.pt — " + namedRun(completed) +
                                              "\\.\nThe stopped run \\(" + namedRun(stopped) +
                                              "\\) was not taken; to explain it, pick its checkpoint with "
                                              "Checkpoint…: " +
                                              QRegularExpression::escape(stopped.checkpoint) + "$")),
           qPrintable(status));
  QVERIFY(explain->computeButton()->isEnabled());
  // Export (Ctrl+E) writes the weights the Explain tab explains, not the stopped run's.
  QTemporaryDir exported;
  if (!window_->isActiveWindow())
    window_->activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(window_));
  auto folder = answerFileDialog(exported.path());
  QTest::keyClick(window_, Qt::Key_E, Qt::ControlModifier);
  QVERIFY(QTest::qWaitFor([&] { return *folder; }, 30000));
  auto box = answerMessageBox();
  QTRY_VERIFY_WITH_TIMEOUT(box->shown, 120000);
  QVERIFY2(box->text.contains(completed.checkpoint) && !box->text.contains(stopped.checkpoint), qPrintable(box->text));
  window_->activateWindow(); // the message box had the focus
  QVERIFY(QTest::qWaitForWindowActive(window_));
  // Picked, the stopped run's checkpoint is taken, and named as stopped.
  QTest::keyClick(window_, Qt::Key_3, Qt::ControlModifier);
  QTRY_VERIFY(explain->isVisible());
  auto picked = answerFileDialog(stopped.checkpoint);
  QTest::mouseClick(explain->checkpointButton(), Qt::LeftButton);
  QVERIFY(QTest::qWaitFor([&] { return *picked; }, 30000));
  QCOMPARE(explain->checkpoint(), stopped.checkpoint);
  status = explain->statusLabel()->text();
  QVERIFY2(status.contains(QRegularExpression("^Checkpoint checkpoint.pt — " + namedRun(stopped) + " — press Explain")),
           qPrintable(status));
}

// #26 (fresh-eyes trial): a double-click on an older run took its checkpoint to the Explain tab,
// whose Explain then refused it ("trained on a different graph"). A run of another graph is not
// taken there: the history says why and where its project is; a run of this graph is explained.
void TestTraining::anOlderRunOfAnotherGraphIsNotOfferedToExplain() {
  QTemporaryDir dir;
  Json doc = baseProject();
  window_->document()->reset(projectFromJson(doc, dir.filePath("t.particle.json").toStdString()));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const QString older = done.at(0).at(0).value<RunFinished>().checkpoint;
  // The same project with a wider sub-model (as the user edits it), trained again.
  doc["nodes"][4]["params"]["hidden"] = Json::array({24});
  window_->document()->reset(projectFromJson(doc, dir.filePath("t.particle.json").toStdString()));
  QTRY_COMPARE(panel->historyList()->count(), 1); // the older run, listed
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const QString newer = done.at(1).at(0).value<RunFinished>().checkpoint;
  QListWidget *history = panel->historyList();
  QCOMPARE(history->count(), 2);
  ExplainPanel *explain = window_->explainPanel();
  QCOMPARE(explain->checkpoint(), newer);
  auto tab = [&] { return window_->tabs()->tabText(window_->tabs()->currentIndex()).toLower(); };

  // The older run, double-clicked: the Train tab stays, the Explain tab keeps the newer checkpoint,
  // and the history says why and where the run's project is.
  QTest::mouseClick(history->viewport(), Qt::LeftButton, {}, history->visualItemRect(history->item(0)).center());
  QTest::mouseDClick(history->viewport(), Qt::LeftButton, {}, history->visualItemRect(history->item(0)).center());
  QTest::qWait(100);
  QCOMPARE(tab(), QString("train"));
  QCOMPARE(explain->checkpoint(), newer);
  const QString why = panel->diffLabel()->text();
  QVERIFY2(why.contains("cannot be explained with this graph") &&
               why.contains(QFileInfo(older).dir().dirName() + "/project.particle.json") && why.contains("c.hidden") &&
               panel->diffLabel()->toolTip() == QFileInfo(older).dir().filePath("project.particle.json"),
           qPrintable(why + "\n" + panel->diffLabel()->toolTip()));
  // The newer run, double-clicked: its checkpoint on the Explain tab, which explains it.
  QTest::mouseClick(history->viewport(), Qt::LeftButton, {}, history->visualItemRect(history->item(1)).center());
  QTest::mouseDClick(history->viewport(), Qt::LeftButton, {}, history->visualItemRect(history->item(1)).center());
  QTRY_COMPARE(tab(), QString("explain"));
  QCOMPARE(explain->checkpoint(), newer);
  QSignalSpy ready(explain, &ExplainPanel::resultReady);
  QTest::mouseClick(explain->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QVERIFY2(explain->result().error.isEmpty(), qPrintable(explain->result().error));
}

// Fresh-eyes trial: a learning rate of 0 was taken ("valid", "Ready") and trained to chance; 50
// was taken silently. 0 is refused under the field (the value before kept); 50 is taken with a
// warning there that it will likely diverge; the tooltip gives the range as "> 0".
void TestTraining::aLearningRateOfZeroIsRefusedAndAHugeOneWarned() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"batch_size", 16}, {"threads", 1}, {"lr", 0.001}};
  window_->document()->reset(projectFromJson(doc, "lr.json"));
  TrainPanel *panel = window_->trainPanel();
  SchemaForm *form = panel->settingsForm();
  QWidget *lr = form->editor("lr");
  QVERIFY(lr);
  QTRY_VERIFY(lr->isVisible());
  QVERIFY2(lr->toolTip().contains("(> 0)"), qPrintable(lr->toolTip()));
  typeInto(lr, "0");
  QCOMPARE(window_->document()->project().training.value("lr", 0.0), 0.001);
  QTRY_VERIFY2(form->problemText("lr").contains("is 0; it must be > 0; kept 0.001"),
               qPrintable(form->problemText("lr")));
  typeInto(lr, "50");
  QCOMPARE(window_->document()->project().training.value("lr", 0.0), 50.0);
  QTRY_VERIFY2(form->problemText("lr").contains("50 is a very large learning rate for adam") &&
                   form->problemText("lr").contains("will likely diverge"),
               qPrintable(form->problemText("lr")));
  QVERIFY(panel->startButton()->isEnabled()); // a warning: the run may still start
  typeInto(lr, "0.01");
  QTRY_VERIFY2(form->problemText("lr").isEmpty(), qPrintable(form->problemText("lr")));
}

// Fresh-eyes trial: a frequency-mask width of 100 on spectrograms of 64 rows was taken silently.
// On images [1, 28, 28] a width of 100 is said under its field, naming the value and the rows; 28
// is taken. The time shift's tooltip says that it wraps round.
void TestTraining::aMaskWiderThanTheSamplesIsSaidUnderItsField() {
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "fashion-mnist"}, {"limit", 200}};
  doc["training"] = {{"epochs", 1}, {"batch_size", 16}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "masks.json"));
  TrainPanel *panel = window_->trainPanel();
  typeAdvancedSetting(panel, "augment_freq_masks", "1");
  typeAdvancedSetting(panel, "augment_freq_mask_width", "100");
  QCOMPARE(window_->document()->project().training.value("augment_freq_mask_width", 0), 100);
  auto *problem = panel->settingsForm()->findChild<QLabel *>("problem:augment_freq_mask_width");
  QVERIFY(problem);
  QTRY_VERIFY_WITH_TIMEOUT(problem->isVisible(), 30000);
  QVERIFY2(problem->text().contains("100 is wider than the samples' 28 frequency rows") &&
               problem->text().contains("use at most 28"),
           qPrintable(problem->text()));
  typeAdvancedSetting(panel, "augment_freq_mask_width", "28");
  QTRY_VERIFY_WITH_TIMEOUT(!problem->isVisible(), 30000);
  const QString shiftTip = panel->settingsForm()->editor("augment_time_shift")->toolTip();
  QVERIFY2(shiftTip.contains("circularly") && shiftTip.contains("wrap"), qPrintable(shiftTip));
}

namespace {
bool placeholderShown(QCustomPlot *plot) {
  for (int i = 0; i < plot->itemCount(); ++i)
    if (plot->item(i)->objectName() == "placeholder" && plot->item(i)->visible())
      return true;
  return false;
}
} // namespace

// Fresh-eyes trial: after reopening a project, ticking its run #1 overlaid only its val accuracy;
// its loss lay at steps 41–820 off an axis of 0–10, under "once a run starts". Ticked (a click on
// its check box), the run shows its loss within the axis, its val loss and accuracy, and no
// placeholder over them; unticked (Space), the charts are as before.
void TestTraining::aPastRunsChartsAreOverlaidFromItsFolder() {
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["training"] = {{"epochs", 3}, {"batch_size", 16}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, dir.filePath("t.particle.json").toStdString()));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const auto run = done.at(0).at(0).value<RunFinished>();
  QVERIFY2(!run.failed, qPrintable(run.message));
  // Reopened: the run comes from its folder.
  window_->document()->reset(projectFromJson(doc, dir.filePath("t.particle.json").toStdString()));
  QListWidget *history = panel->historyList();
  QTRY_COMPARE(history->count(), 1);
  QCustomPlot *loss = panel->lossPlot(), *epochs = panel->epochPlot();
  QTRY_VERIFY(placeholderShown(loss) && placeholderShown(epochs));
  const int lossGraphs = loss->graphCount(), epochGraphs = epochs->graphCount();
  clickCheckBox(history, history->item(0));
  QTRY_COMPARE(loss->graphCount(), lossGraphs + 1);
  QCPGraph *pastLoss = loss->graph(loss->graphCount() - 1);
  QCOMPARE(pastLoss->dataCount(), 3); // one point per epoch, at its last step
  const double lastStep = pastLoss->data()->at(2)->key;
  QVERIFY2(lastStep > 10 && loss->xAxis->range().contains(lastStep) && loss->xAxis->range().upper <= lastStep * 1.5,
           qPrintable(QString("step %1, axis %2–%3")
                          .arg(lastStep)
                          .arg(loss->xAxis->range().lower)
                          .arg(loss->xAxis->range().upper)));
  QTRY_VERIFY(loss->yAxis->range().contains(pastLoss->data()->at(0)->value)); // drawn at once
  QStringList names;
  for (int i = epochGraphs; i < epochs->graphCount(); ++i) {
    names << epochs->graph(i)->name();
    QCOMPARE(epochs->graph(i)->dataCount(), 3);
    const double last = epochs->graph(i)->data()->at(2)->value;
    QVERIFY(epochs->graph(i)->valueAxis()->range().contains(last));
  }
  QCOMPARE(names.size(), 2);
  QVERIFY2(names.join(",").contains("val loss") && names.join(",").contains("val accuracy"),
           qPrintable(names.join(",")));
  QVERIFY(epochs->xAxis->range().contains(3));
  QVERIFY(!placeholderShown(loss) && !placeholderShown(epochs));
  QVERIFY(placeholderShown(panel->ratePlot())); // nothing of the run's there
  // The legend lists the overlaid run's two curves, not the live run's three empty ones.
  auto listed = [epochs] {
    QStringList names;
    for (int i = 0; i < epochs->legend->itemCount(); ++i)
      if (auto *item = qobject_cast<QCPPlottableLegendItem *>(epochs->legend->item(i)))
        names << item->plottable()->name();
    return names;
  };
  QTRY_COMPARE(listed(), names);
  // Unticked from the keyboard: the overlays go, the placeholders come back.
  QTest::mouseClick(history->viewport(), Qt::LeftButton, {}, history->visualItemRect(history->item(0)).center());
  QTRY_COMPARE(history->currentRow(), 0);
  QTest::keyClick(history, Qt::Key_Space);
  QTRY_COMPARE(loss->graphCount(), lossGraphs);
  QCOMPARE(epochs->graphCount(), epochGraphs);
  QVERIFY(placeholderShown(loss) && placeholderShown(epochs));
  QTRY_COMPARE(listed().size(), 3); // nothing drawn: the live run's curves are listed again
}

QTEST_MAIN(TestTraining)
void TestTraining::throughputIsTheRunsOwnFigure() {
  // Tiny batches of a small model (as the weather example's): one step takes well under a
  // millisecond, so one step's rate is noise. The samples/s curve is an average over seconds of
  // training and stays near the figure the run reports, never orders of magnitude above it.
  Json doc = baseProject();
  doc["dataset"]["samples"] = 1500;
  doc["training"] = {{"epochs", 8}, {"batch_size", 32}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "throughput.json"));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const auto result = done.at(0).at(0).value<RunFinished>();
  QVERIFY2(!result.failed, qPrintable(result.message));
  const Json summary = Json::parse(readTextFile(result.outDir.toStdString() + "/summary.json"));
  const double reported = summary["samples_per_second"].get<double>();
  QVERIFY(reported > 0);
  QCPGraph *throughput = panel->ratePlot()->graph(1);
  QVERIFY(throughput->name().contains("samples/s"));
  QVERIFY(throughput->name().contains("mean")); // the legend says what it averages
  QVERIFY(throughput->dataCount() > 100);
  for (int i = 0; i < throughput->dataCount(); ++i) {
    const double v = throughput->data()->at(i)->value;
    QVERIFY2(v > 0 && v < 5 * reported, qPrintable(QString("step %1: %2 samples/s, the run reports %3")
                                                       .arg(throughput->data()->at(i)->key)
                                                       .arg(v)
                                                       .arg(reported)));
  }
  const double last = throughput->data()->at(throughput->dataCount() - 1)->value;
  QVERIFY2(last > reported / 5, qPrintable(QString("%1 against %2").arg(last).arg(reported)));
}

void TestTraining::achievedFlopsBesideTheThroughput() {
  // A fresh cache folder: the first run finds no peak, says its GFLOP/s and that the peak is being
  // measured (after the run, on the engine thread), then the fraction; the next run has it at once.
  QTemporaryDir cache;
  const CacheHomeAt cacheHome(cache.path());
  Json doc = baseProject();
  doc["training"] = {{"epochs", 2}, {"batch_size", 32}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "flops.json"));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  auto result = done.at(0).at(0).value<RunFinished>();
  QVERIFY2(!result.failed, qPrintable(result.message));
  Json summary = Json::parse(readTextFile(result.outDir.toStdString() + "/summary.json"));
  const double achieved = summary["achieved_gflops"].get<double>();
  QVERIFY(achieved > 0);
  const QString figure =
      (achieved >= 10 ? QString::number(achieved, 'f', 0) : QString::number(achieved, 'g', 2)) + " GFLOP/s";
  const QLabel *status = panel->progressLabel();
  QVERIFY2(status->text().contains(figure), qPrintable(status->text() + " / " + figure));
  QVERIFY2(status->text().contains("measuring the fp32 peak"), qPrintable(status->text()));
  QTRY_VERIFY2_WITH_TIMEOUT(status->text().contains("% of the fp32 peak"), qPrintable(status->text()), 30000);
  QVERIFY(status->text().contains(figure));
  QVERIFY(!status->text().contains("measuring"));
  QVERIFY(QFile::exists(cache.path() + "/particle-studio/peak.json"));
  // The run's summary.json gets the peak measured after it (a first bf16 run in the trial kept 0
  // there while the tab showed its fraction): the fraction shown is achieved / that peak.
  summary = Json::parse(readTextFile(result.outDir.toStdString() + "/summary.json"));
  const double peak = summary["peak_gflops"].get<double>();
  QVERIFY(peak > 0);
  const QRegularExpression shown(R"(([0-9.]+)% of the fp32 peak)");
  const auto match = shown.match(status->text());
  QVERIFY2(match.hasMatch(), qPrintable(status->text()));
  QVERIFY2(std::abs(match.captured(1).toDouble() - 100 * achieved / peak) < 0.06 * 100 * achieved / peak + 0.051,
           qPrintable(QString("%1 shown, %2 from the file").arg(match.captured(1)).arg(100 * achieved / peak)));

  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  result = done.at(1).at(0).value<RunFinished>();
  QVERIFY2(!result.failed, qPrintable(result.message));
  summary = Json::parse(readTextFile(result.outDir.toStdString() + "/summary.json"));
  QVERIFY(summary["peak_gflops"].get<double>() > 0); // read from the cache
  QVERIFY2(status->text().contains("% of the fp32 peak"), qPrintable(status->text()));
  QVERIFY(!status->text().contains("measuring"));
  // Beside it, what a comparison of two runs reads: samples/s and the training time.
  QVERIFY2(
      status->text().contains(QString("%1 samples/s over ").arg(withCommas(std::llround(result.samplesPerSecond)))),
      qPrintable(status->text()));
  // This run of two small epochs takes seconds: its time to a tenth ("over 0 s" in a trial).
  QVERIFY(result.trainSeconds > 0 && result.trainSeconds < 10);
  QVERIFY2(status->text().contains(QString(" over %1 s").arg(result.trainSeconds, 0, 'f', 1)),
           qPrintable(status->text()));

  // A peak measured while the machine was busy (far below what this run trains at): the run says
  // it is above the cached peak, never a fraction above 100%, and the peak is measured again after
  // it; the cache keeps the higher measurement and the fraction follows.
  const std::string peakFile = cache.path().toStdString() + "/particle-studio/peak.json";
  Json cached = Json::parse(readTextFile(peakFile));
  for (Json &e : cached["entries"])
    e["gflops"] = 1e-6;
  writeFileAtomically(peakFile, cached.dump());
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  result = done.at(2).at(0).value<RunFinished>();
  QVERIFY2(!result.failed, qPrintable(result.message));
  QCOMPARE(result.peakGflops, 1e-6);
  const QRegularExpression fraction(R"(([0-9.]+)% of the fp32 peak)");
  auto fractionBelow100 = [&] {
    const auto m = fraction.match(status->text());
    return m.hasMatch() && m.captured(1).toDouble() <= 100;
  };
  // The measurement takes a second on the engine thread after the run: the status says so meanwhile.
  QVERIFY2(status->text().contains("above the cached fp32 peak (re-measuring…)"), qPrintable(status->text()));
  QVERIFY(!fraction.match(status->text()).hasMatch());
  QTRY_VERIFY2_WITH_TIMEOUT(fractionBelow100(), qPrintable(status->text()), 30000);
  QVERIFY(!status->text().contains("measuring"));
  const double measured = Json::parse(readTextFile(peakFile))["entries"][0]["gflops"].get<double>();
  QVERIFY2(measured > 1, qPrintable(QString::number(measured)));
}

void TestTraining::theTimeLeftFollowsTheRunsMeanPace() {
  // The estimator the Train tab and `particle train` share (RunPace), fed a run's reports: five slow
  // warm-up steps, a hundred at 10 ms, then 2 s of a busy machine at 100 ms a step. The 2 s
  // throughput follows the busy steps; the pace the time left is estimated from is the run's mean
  // since the warm-up.
  TrainCharts charts([] { return true; });
  charts.clear(4);
  RunRecord run;
  RunPace pace;
  std::vector<StepEvent> steps;
  for (int64_t step = 1; step <= 125; ++step) {
    StepEvent e;
    e.step = step;
    e.totalSteps = 1000; // 4 epochs of 250 steps
    e.samples = 32;
    e.seconds = step <= 5 ? 0.5 : step <= 105 ? 0.01 : 0.1;
    e.samplesPerSecond = 32 / e.seconds;
    e.etaSeconds = 999; // the engine's own, from its latest steps
    steps.push_back(e);
    pace.step(e);
  }
  charts.addSteps(steps, run);
  QVERIFY2(charts.throughput() < 400, qPrintable(QString::number(charts.throughput()))); // ≈ 320: 32 per 0.1 s
  QVERIFY(qFuzzyCompare(pace.stepSeconds(), 0.025)); // (100 × 0.01 + 20 × 0.1) / 120
  QVERIFY(qFuzzyCompare(pace.secondsLeft(steps.back()), 875 * 0.025));
  // Once an epoch has ended, its validation (and branch shares) count for every epoch still to end:
  // 3 s each here, for the three epochs left, whose steps take 750 × 0.025 s.
  for (int64_t step = 126; step <= 250; ++step) {
    StepEvent e = steps.back();
    e.step = step;
    e.seconds = 0.025;
    pace.step(e);
  }
  EpochEvent end;
  end.epoch = 1;
  end.epochs = 4;
  end.validationSeconds = 2.5;
  end.sharesSeconds = 0.5;
  pace.epoch(end);
  StepEvent next = steps.back();
  next.step = 251;
  next.epoch = 1;
  next.seconds = 0.025;
  pace.step(next);
  QVERIFY(qFuzzyCompare(pace.stepSeconds(), 0.025));
  QVERIFY2(qFuzzyCompare(pace.secondsLeft(next), 749 * 0.025 + 3 * 3.0),
           qPrintable(QString::number(pace.secondsLeft(next))));
  // The last epoch's last step: its validation is still to come; after it, nothing is.
  StepEvent last = next;
  last.step = 1000;
  last.epoch = 3;
  QVERIFY(qFuzzyCompare(pace.secondsLeft(last), 3.0));
  end.epoch = 4;
  pace.epoch(end);
  QCOMPARE(pace.secondsLeft(last), 0.0);
  // A new run starts its mean afresh; within its warm-up the engine's own figure stands.
  RunPace fresh;
  for (int i = 0; i < 3; ++i)
    fresh.step(steps[i]);
  QCOMPARE(fresh.stepSeconds(), 0.0);
  QCOMPARE(fresh.secondsLeft(steps[2]), 999.0);
}

// Issue 25 (in-app training at the CLI's speed): the GUI thread wakes once per batch of steps (at
// most four a second) and draws the loss curve at most twice a second, only while the Train tab is
// on screen — and the curve still follows the run, shows what arrived while the tab was away as
// soon as it is back, and ends on the run's last step.
void TestTraining::theLossCurveFollowsTheRunAndEndsOnItsLastStep() {
  window_->document()->reset(longProject(200));
  TrainPanel *panel = window_->trainPanel();
  QCustomPlot *loss = panel->lossPlot();
  QElapsedTimer clock;
  clock.start();
  // Each time the loss curve is drawn: when, and how many steps it showed.
  QList<QPair<qint64, int>> draws;
  connect(loss, &QCustomPlot::afterReplot, panel,
          [&] { draws << qMakePair(clock.elapsed(), loss->graph(0)->dataCount()); });
  // The batches of steps and the epochs the GUI thread is woken for (heard there: the panel is
  // the receiver's context).
  int batches = 0, epochs = 0;
  connect(panel->controller()->worker(), &EngineWorker::steps, panel, [&] { ++batches; });
  connect(panel, &TrainPanel::epochReceived, panel, [&] { ++epochs; });
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > 0, 60000);

  // On screen for three seconds: drawn again and again as the steps come, never more than about
  // twice a second (one draw per epoch may come between), each time with the steps that had come.
  const qint64 shownFrom = clock.elapsed();
  const int batchesFrom = batches, epochsFrom = epochs;
  QTest::qWait(3000);
  const qint64 shownTo = clock.elapsed();
  const double seconds = static_cast<double>(shownTo - shownFrom) / 1000;
  const int batchesShown = batches - batchesFrom, epochsShown = epochs - epochsFrom;
  QVERIFY2(
      batchesShown <= seconds * 4 + epochsShown + 2,
      qPrintable(QString("%1 batches of steps in %2 s (%3 epochs)").arg(batchesShown).arg(seconds).arg(epochsShown)));
  QList<qint64> shownDraws;
  for (const auto &[at, points] : draws)
    if (at > shownFrom && at <= shownTo)
      shownDraws << at;
  QVERIFY2(shownDraws.size() >= 4 && shownDraws.size() <= seconds * 2 + epochsShown + 2,
           qPrintable(QString("%1 draws in %2 s (%3 epochs)").arg(shownDraws.size()).arg(seconds).arg(epochsShown)));
  for (int i = 1; i < shownDraws.size(); ++i)
    QVERIFY2(shownDraws[i] - shownDraws[i - 1] < 1500, "the curve stood still for 1.5 s while the steps came");

  // The Design tab (Ctrl+1) for a second: the curve is not drawn off screen; back on the Train
  // tab (Ctrl+2) it is drawn at once with every step that came meanwhile.
  QTest::keyClick(window_, Qt::Key_1, Qt::ControlModifier);
  QTRY_VERIFY(!loss->isVisible());
  const qint64 hiddenFrom = clock.elapsed();
  QTest::qWait(1000);
  const int hiddenDraws = static_cast<int>(
      std::count_if(draws.begin(), draws.end(), [&](const auto &d) { return d.first > hiddenFrom + 100; }));
  QCOMPARE(hiddenDraws, 0);
  const int stepsWhileHidden = loss->graph(0)->dataCount();
  QTest::keyClick(window_, Qt::Key_2, Qt::ControlModifier);
  const qint64 back = clock.elapsed();
  QTRY_VERIFY_WITH_TIMEOUT(!draws.isEmpty() && draws.back().first >= back, 300);
  QVERIFY2(draws.back().second >= stepsWhileHidden,
           qPrintable(QString("drawn with %1 of %2 steps").arg(draws.back().second).arg(stepsWhileHidden)));

  // Stopped: the last draw shows the step the run ended at.
  QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const auto result = done.at(0).at(0).value<RunFinished>();
  QCOMPARE(result.status, QString("stopped"));
  auto data = loss->graph(0)->data();
  QCOMPARE(static_cast<qint64>(data->at(data->size() - 1)->key), result.steps);
  QTRY_COMPARE_WITH_TIMEOUT(draws.back().second, data->size(), 1000);
  QCOMPARE(panel->lastStep(), result.steps);
}

// A pause stops the run at its next batch; the status names that step (the steps the run made
// since the last batch it sent are sent at once, not after the resume), which is the step a live
// change applied while paused is marked at.
void TestTraining::pauseSaysTheStepTheRunStoppedAt() {
  window_->document()->reset(longProject(200));
  TrainPanel *panel = window_->trainPanel();
  QList<qint64> applied;
  connect(panel->controller()->worker(), &EngineWorker::settingsApplied, panel,
          [&applied](const LiveSettings &, qint64 step) { applied << step; });
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > 50, 60000);
  QTest::mouseClick(panel->pauseButton(), Qt::LeftButton);
  QTest::qWait(300);
  const qint64 shown = panel->lastStep();
  QVERIFY2(panel->progressLabel()->text().startsWith(QString("paused at step %1:").arg(shown)),
           qPrintable(panel->progressLabel()->text()));
  QTest::mouseClick(panel->applyButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(applied.count() > 0, 30000);
  QCOMPARE(applied.at(0), shown); // the engine's own step while paused
  QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
}

// Fresh-eyes trial: after Stop the progress stayed at its step for ~20 s, Stop still enabled and
// nothing said. Stop is disabled at once and the box says what the run does until it ends (the
// steps that still arrive do not overwrite it); the run ends stopped, with its checkpoint.
void TestTraining::stopSaysWhatTheRunDoesUntilItEnds() {
  window_->document()->reset(longProject(200));
  TrainPanel *panel = window_->trainPanel();
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > 50, 60000);
  // What the box says each time steps arrive after the click (heard after the panel's own slot).
  QStringList said;
  bool stopped = false;
  connect(panel->controller()->worker(), &EngineWorker::steps, panel,
          [&] { said << (stopped ? panel->progressLabel()->text() : QString()); });
  QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  stopped = true;
  QVERIFY(!panel->stopButton()->isEnabled());
  QVERIFY(!panel->pauseButton()->isEnabled());
  const QString now = panel->progressLabel()->text();
  QVERIFY2(now.startsWith("stopping") && now.contains("checkpoint") && now.contains("test set"), qPrintable(now));
  QVERIFY(done.wait(60000));
  for (const QString &text : said)
    QVERIFY2(text.isEmpty() || text == now, qPrintable(text));
  const auto result = done.at(0).at(0).value<RunFinished>();
  QCOMPARE(result.status, QString("stopped"));
  QVERIFY(QFile::exists(result.checkpoint));
  QVERIFY2(panel->progressLabel()->text().startsWith("stopped"), qPrintable(panel->progressLabel()->text()));
  QVERIFY(panel->startButton()->isEnabled());
  QVERIFY(!panel->stopButton()->isEnabled());
}

// Fresh-eyes trial: "batch size is 0 … kept 32" stayed under the field after the user went on to
// edit other settings. It goes once another setting is edited.
void TestTraining::aRefusedNumberIsForgottenOnceAnotherSettingIsEdited() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "refused.json"));
  SchemaForm *form = window_->trainPanel()->settingsForm();
  QWidget *batch = form->editor("batch_size");
  QWidget *epochs = form->editor("epochs");
  QVERIFY(batch && epochs);
  QTRY_VERIFY(batch->isVisible());
  // Typed and left with Tab, as one goes on to the next field.
  typeInto(batch, "0", Qt::Key_Tab);
  QTRY_VERIFY2(form->problemText("batch_size").contains("kept 32"), qPrintable(form->problemText("batch_size")));
  QVERIFY(!batch->hasFocus());
  typeInto(epochs, "3");
  QCOMPARE(window_->document()->project().training.value("epochs", 0), 3);
  QTRY_VERIFY2(form->problemText("batch_size").isEmpty(), qPrintable(form->problemText("batch_size")));
  QCOMPARE(window_->document()->project().training.value("batch_size", 0), 32);
}

// Fresh-eyes trial: "The graph has 2 problem(s); fix them first" stayed in the Run box after Undo
// had fixed the graph (the status bar said "valid"). It goes when the graph is valid again.
void TestTraining::theGraphsProblemsGoFromTheRunBoxWhenFixed() {
  window_->document()->reset(projectFromJson(baseProject(), "problems.json"));
  TrainPanel *panel = window_->trainPanel();
  const auto focused = [this] { return QApplication::focusWidget() ? QApplication::focusWidget() : window_; };
  // On the Design tab: fit the graph, click the classifier, Delete.
  QTest::keyClick(focused(), Qt::Key_1, Qt::ControlModifier);
  GraphView *view = window_->view();
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, QPoint(4, 4));
  QTest::keyClick(focused(), Qt::Key_F);
  NodeItem *head = window_->scene()->nodeItem("head");
  QVERIFY(head);
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->mapFromScene(head->bodyRect().center()));
  QCOMPARE(window_->scene()->selectedIds(), QStringList{"head"});
  QTest::keyClick(focused(), Qt::Key_Delete);
  QVERIFY(!window_->document()->graph().find("head"));
  QTest::keyClick(focused(), Qt::Key_2, Qt::ControlModifier);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY2(panel->progressLabel()->text().contains("problem"), qPrintable(panel->progressLabel()->text()));
  QTest::keyClick(focused(), Qt::Key_Z, Qt::ControlModifier);
  QVERIFY(window_->document()->graph().find("head"));
  QTRY_VERIFY2(window_->validityLabel()->text().contains("valid"), qPrintable(window_->validityLabel()->text()));
  QTRY_VERIFY2(!panel->progressLabel()->text().contains("problem"), qPrintable(panel->progressLabel()->text()));
}

// Fresh-eyes trial: Ctrl+Z did nothing while a settings field had the focus (the field took it).
// Once the field's value is taken, Ctrl+Z undoes the document (the value comes back in the field);
// while the field holds typed text not yet taken, Ctrl+Z undoes the typing and the document stays.
void TestTraining::ctrlZInATakenFieldUndoesTheDocument() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
  window_->document()->reset(projectFromJson(doc, "undo.json"));
  auto *epochs = qobject_cast<QSpinBox *>(window_->trainPanel()->settingsForm()->editor("epochs"));
  QVERIFY(epochs);
  QTRY_VERIFY(epochs->isVisible());
  typeInto(epochs, "3");
  QCOMPARE(window_->document()->project().training.value("epochs", 0), 3);
  QVERIFY(epochs->hasFocus());
  QTest::keyClick(QApplication::focusWidget(), Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(window_->document()->project().training.value("epochs", 0), 1);
  QCOMPARE(epochs->text(), QString("1"));
  QTest::keyClick(QApplication::focusWidget(), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  QCOMPARE(window_->document()->project().training.value("epochs", 0), 3);
  QCOMPARE(epochs->text(), QString("3"));
  // Typed, not taken: the field's own undo; the document keeps 3.
  QTest::keyClick(epochs, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(QApplication::focusWidget(), "7");
  QCOMPARE(epochs->text(), QString("7"));
  const int steps = window_->undoStack()->index();
  QTest::keyClick(QApplication::focusWidget(), Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(epochs->text(), QString("3"));
  QCOMPARE(window_->undoStack()->index(), steps);
  QCOMPARE(window_->document()->project().training.value("epochs", 0), 3);
}

#include "tst_training.moc"
