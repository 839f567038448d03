// The Train tab's precision (training.precision), chosen in its form with the mouse and the keys:
// bf16 trains and the run's status and history say bf16; a precision this machine cannot train in
// (fp16 on the CPU) is explained under the field before Start, and Start says why and starts nothing.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "editor/ParameterText.h"
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

#include <cmath>

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
  // The figures a comparison with an fp32 run reads: samples/s and the time, on the line under it.
  const QString speed =
      QString("%1 samples/s over ").arg(withCommas(std::llround(summary["samples_per_second"].get<double>())));
  QVERIFY2(status.section('\n', 1, 1).startsWith(speed), qPrintable(status + " / " + speed));
  // The history says bf16 before the accuracy, where the narrow list does not cut it, and its
  // tooltip has the precision, samples/s, test accuracy and folder.
  const QListWidgetItem *item = panel->historyList()->item(0);
  const QString accuracy = QString::number(100 * result.testAccuracy, 'f', 2) + "%";
  QVERIFY2(item->text().endsWith(" — bf16 " + accuracy), qPrintable(item->text()));
  for (const QString &part :
       {QString("completed, bf16"), "test accuracy " + QString::number(100 * result.testAccuracy, 'f', 2) + "%",
        speed.section(" over", 0, 0), "Run folder: " + result.outDir})
    QVERIFY2(item->toolTip().contains(part), qPrintable(item->toolTip() + " / " + part));
  // At the narrowest window the status shows every line (the peak measured after the run, if it
  // was missing, completes the last), and the list shows the text up to the accuracy.
  window_->resize(1024, 700);
  QTRY_COMPARE(window_->size(), QSize(1024, 700));
  QLabel *label = panel->progressLabel();
  QTRY_VERIFY_WITH_TIMEOUT(!label->text().contains("measuring"), 30000);
  QTRY_VERIFY2(
      label->height() >= label->heightForWidth(label->width()),
      qPrintable(
          QString("%1 < %2: %3").arg(label->height()).arg(label->heightForWidth(label->width())).arg(label->text())));
  QListWidget *list = panel->historyList();
  const QString shown = item->text().section(",", 0, 0); // "#1 at … — bf16 86.52%"
  QVERIFY2(list->fontMetrics().horizontalAdvance(shown) + 40 <= list->viewport()->width(),
           qPrintable(QString("%1 px for '%2' in %3 px")
                          .arg(list->fontMetrics().horizontalAdvance(shown))
                          .arg(shown)
                          .arg(list->viewport()->width())));

  // The same graph again in fp32: its status compares the two speeds (is bf16 faster here, for
  // this model?), with the figures summary.json has.
  QVERIFY(chooseWithMouse(precisionBox(), "fp32"));
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QVERIFY(done.wait(60000));
  const auto fp32 = done.at(1).at(0).value<RunFinished>();
  QVERIFY2(!fp32.failed, qPrintable(fp32.message));
  const double bf16Speed = summary["samples_per_second"].get<double>();
  const QString comparison = QString("%1× the samples/s of %2 (bf16, same graph and threads: ")
                                 .arg(fp32.samplesPerSecond / bf16Speed, 0, 'f', 2)
                                 .arg(item->text().section(" — ", 0, 0));
  QTRY_VERIFY2(label->text().contains(comparison), qPrintable(label->text() + " / " + comparison));
  QTRY_VERIFY2(
      label->height() >= label->heightForWidth(label->width()),
      qPrintable(
          QString("%1 < %2: %3").arg(label->height()).arg(label->heightForWidth(label->width())).arg(label->text())));
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
