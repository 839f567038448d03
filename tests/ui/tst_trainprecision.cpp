// The Train tab's precision (training.precision), chosen in its form with the mouse and the keys:
// bf16 trains and the run's status and history say bf16; a precision this machine cannot train in
// (fp16 on the CPU) is explained under the field before Start, and Start says why and starts nothing.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "forms/SchemaForm.h"
#include "project/Precision.h"
#include "training/EngineWorker.h"
#include "training/TrainPanel.h"

#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QStandardPaths>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

class TestTrainPrecision : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void init();
  void cleanup();
  void theFormOffersEveryPrecision();
  void bf16TrainsAndSaysSo();
  void fp16OnTheCpuIsExplainedAndRefused();

private:
  QComboBox *precisionBox() const;
  MainWindow *window_ = nullptr;
  std::unique_ptr<QTemporaryDir> runs_;
};

void TestTrainPrecision::init() {
  runs_ = std::make_unique<QTemporaryDir>();
  window_ = new MainWindow;
  window_->trainPanel()->setRunsFolder(runs_->path());
  window_->show();
  window_->setCurrentTab("train");
  QVERIFY(QTest::qWaitForWindowExposed(window_));
  Json doc = baseProject();
  doc["dataset"]["samples"] = 1000;
  doc["training"] = {{"epochs", 3}, {"batch_size", 32}, {"threads", 1}, {"device", "cpu"}, {"lr", 0.01}};
  window_->document()->reset(projectFromJson(doc, "precision.json"));
}

void TestTrainPrecision::cleanup() {
  window_->undoStack()->setClean();
  delete window_;
  window_ = nullptr;
}

QComboBox *TestTrainPrecision::precisionBox() const {
  return qobject_cast<QComboBox *>(window_->trainPanel()->settingsForm()->editor("precision"));
}

void TestTrainPrecision::theFormOffersEveryPrecision() {
  QComboBox *box = precisionBox();
  QVERIFY(box);
  QVERIFY(box->isVisible()); // not behind "More settings…"
  QCOMPARE(box->currentText(), QString("fp32"));
  QStringList items;
  for (int i = 0; i < box->count(); ++i)
    items << box->itemText(i);
  QCOMPARE(items, QStringList({"fp32", "bf16", "fp16"}));
  // Its tooltip says what it does and where each runs.
  QVERIFY2(box->toolTip().contains("bf16") && box->toolTip().contains("AVX512_BF16") &&
               box->toolTip().contains("float32"),
           qPrintable(box->toolTip()));
  QVERIFY(window_->trainPanel()->settingsForm()->problemText("precision").isEmpty());
}

void TestTrainPrecision::bf16TrainsAndSaysSo() {
  if (const std::string why = precisionUnsupported("bf16", "cpu"); !why.empty())
    QSKIP(qPrintable(QString::fromStdString("this CPU cannot train in bf16: " + why)));
  TrainPanel *panel = window_->trainPanel();
  QVERIFY(chooseWithMouse(precisionBox(), "bf16"));
  QCOMPARE(window_->document()->project().training.value("precision", std::string()), std::string("bf16"));
  QVERIFY(panel->settingsForm()->problemText("precision").isEmpty());
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const auto result = done.at(0).at(0).value<RunFinished>();
  QVERIFY2(!result.failed, qPrintable(result.message));
  QCOMPARE(result.epochs, 3);
  QVERIFY2(result.testAccuracy > 0.5, qPrintable(QString::number(result.testAccuracy))); // chance is 0.25
  const Json summary = Json::parse(readTextFile(result.outDir.toStdString() + "/summary.json"));
  QCOMPARE(summary["precision"].get<std::string>(), std::string("bf16"));
  const QString status = panel->progressLabel()->text();
  QVERIFY2(status.startsWith("completed after 3 epoch(s) in bf16: test accuracy"), qPrintable(status));
  QVERIFY2(panel->historyList()->item(0)->text().endsWith(", bf16"), qPrintable(panel->historyList()->item(0)->text()));
}

void TestTrainPrecision::fp16OnTheCpuIsExplainedAndRefused() {
  TrainPanel *panel = window_->trainPanel();
  const QString why = QString::fromStdString(precisionUnsupported("fp16", "cpu"));
  QVERIFY(!why.isEmpty());
  // With the keys: the click opens the list on fp32; two rows down is fp16.
  QComboBox *box = precisionBox();
  QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(box->width() - 8, box->height() / 2));
  QTRY_VERIFY(box->view()->isVisible());
  QTest::keyClick(box->view(), Qt::Key_Down);
  QTest::keyClick(box->view(), Qt::Key_Down);
  QTest::keyClick(box->view(), Qt::Key_Return);
  QTRY_VERIFY(!box->view()->isVisible());
  QCOMPARE(window_->document()->project().training.value("precision", std::string()), std::string("fp16"));
  // Said under the field before anyone presses Start.
  QCOMPARE(panel->settingsForm()->problemText("precision"), why);
  const auto *under = panel->settingsForm()->findChild<QLabel *>("problem:precision");
  QVERIFY(under && under->isVisible());
  QCOMPARE(under->text(), why);
  // Start says it too, and starts nothing: no run in the history, no run folder.
  QSignalSpy done(panel, &TrainPanel::runFinished);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  const QString status = panel->progressLabel()->text();
  QVERIFY2(status.startsWith("Cannot start: training.precision: " + why), qPrintable(status));
  QVERIFY(!panel->controller()->running());
  QVERIFY(panel->startButton()->isEnabled());
  QTest::qWait(200);
  QCOMPARE(done.count(), 0);
  QCOMPARE(panel->historyList()->count(), 0);
  QVERIFY(QDir(runs_->path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty());
  // Back to fp32: the reason goes, and Start starts.
  QVERIFY(chooseWithMouse(box, "fp32"));
  QVERIFY(panel->settingsForm()->problemText("precision").isEmpty());
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  QVERIFY(!done.at(0).at(0).value<RunFinished>().failed);
}

QTEST_MAIN(TestTrainPrecision)
#include "tst_trainprecision.moc"
