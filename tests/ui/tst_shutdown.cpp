// Closing the window never hangs: right after a run finished (its last events still queued), and
// right after an explain request (queued and running work is cancelled), the window is gone
// within 2 seconds. The threaded paths of the app, run under TSan by scripts/tsan.sh.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "ProjectFiles.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "explain/ExplainPanel.h"
#include "train/Trainer.h"
#include "training/EngineWorker.h"
#include "training/TrainPanel.h"

#include <QElapsedTimer>
#include <atomic>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QStandardPaths>
#include <QUndoStack>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

class TestShutdown : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void closeRightAfterARunFinished();
  void closeMidRun();
  void closeRightAfterAnExplainRequest();
};

namespace {
// Deletes the window (its destructor stops and joins every engine thread); returns the milliseconds.
qint64 timeToClose(MainWindow *window) {
  window->undoStack()->setClean();
  QElapsedTimer clock;
  clock.start();
  window->close();
  delete window;
  return clock.elapsed();
}

// Many branches and samples: an explanation that takes a while, to be cancelled.
Json slowToExplain() {
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "synthetic"}, {"parts", 10}, {"part_dim", 8}, {"classes", 4}, {"samples", 12000}};
  doc["nodes"] = Json::array({{{"id", "input"}, {"type", "Input"}},
                              {{"id", "split"}, {"type", "Split"}, {"params", {{"mode", "chunks"}, {"parts", 10}}}},
                              {{"id", "combine"}, {"type", "Combine"}, {"params", {{"mode", "attention"}}}},
                              {{"id", "head"}, {"type", "Classifier"}}});
  doc["edges"] = Json::array({{{"from", "input"}, {"to", "split"}}, {{"from", "combine"}, {"to", "head"}}});
  for (int k = 0; k < 10; ++k) {
    const std::string id = "m" + std::to_string(k);
    doc["nodes"].push_back({{"id", id}, {"type", "MLP"}, {"params", {{"hidden", {32}}, {"out", 16}}}});
    doc["edges"].push_back({{"from", "split:" + std::to_string(k)}, {"to", id}});
    doc["edges"].push_back({{"from", id}, {"to", "combine:" + std::to_string(k)}});
  }
  doc["training"] = {{"epochs", 1}, {"threads", 1}};
  return doc;
}
// A shown window on `doc`, its runs written under `runs`.
MainWindow *windowOn(const Json &doc, const QTemporaryDir &runs, const char *name) {
  auto *window = new MainWindow;
  window->trainPanel()->setRunsFolder(runs.path());
  window->show();
  window->document()->reset(projectFromJson(doc, name));
  return window;
}
} // namespace

void TestShutdown::closeRightAfterARunFinished() {
  QTemporaryDir runs;
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
  auto *window = windowOn(doc, runs, "short.json");
  window->setCurrentTab("train");
  TrainPanel *panel = window->trainPanel();
  EngineWorker *worker = panel->controller()->worker();
  // Told on the engine thread (a direct connection), so the GUI thread hears nothing of it.
  std::atomic<bool> ended{false};
  connect(
      worker, &EngineWorker::finished, worker, [&ended] { ended = true; }, Qt::DirectConnection);
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  // Wait for the run to end without letting the GUI hear of it: its "finished" stays queued.
  QElapsedTimer wait;
  wait.start();
  while (!ended && wait.elapsed() < 60000)
    QThread::msleep(5);
  QVERIFY(ended);
  QVERIFY(!worker->busy());
  QVERIFY(panel->controller()->running()); // the GUI has not been told yet
  const qint64 ms = timeToClose(window);
  QVERIFY2(ms < 2000, qPrintable(QString("closing took %1 ms").arg(ms)));
}

void TestShutdown::closeMidRun() {
  QTemporaryDir runs;
  Json doc = baseProject();
  doc["dataset"]["samples"] = 6000;
  doc["training"] = {{"epochs", 50}, {"batch_size", 8}, {"threads", 1}};
  auto *window = windowOn(doc, runs, "long.json");
  TrainPanel *panel = window->trainPanel();
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > 20, 60000);
  window->undoStack()->setClean();
  QElapsedTimer clock;
  clock.start();
  QVERIFY(window->close()); // stops the run after its batch and waits for it
  const qint64 ms = clock.elapsed();
  QVERIFY(!panel->controller()->running());
  QVERIFY(QFile::exists(panel->lastCheckpoint())); // the stopped run kept its checkpoint
  delete window;
  QVERIFY2(ms < 2000, qPrintable(QString("closing mid-run took %1 ms").arg(ms)));
}

void TestShutdown::closeRightAfterAnExplainRequest() {
  QTemporaryDir dir;
  const std::string path = writeFile(dir, "slow.particle.json", slowToExplain().dump());
  {
    TrainOptions options;
    options.outDir = dir.path().toStdString();
    Trainer trainer(loadProject(path), options);
    QVERIFY(!trainer.run().failed());
  }
  auto *window = new MainWindow;
  window->show();
  QVERIFY(window->files()->open(QString::fromStdString(path)));
  window->setCurrentTab("explain");
  ExplainPanel *panel = window->explainPanel();
  panel->setCheckpoint(dir.filePath("checkpoint.pt"));
  // Many samples, then several requests in a row (they coalesce), then close at once.
  auto *count = panel->findChild<QSpinBox *>();
  QVERIFY(count);
  typeInto(count, "2400");
  for (int i = 0; i < 3; ++i)
    QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
  QTest::qWait(300);                           // the work has started
  QVERIFY(panel->cancelButton()->isVisible()); // still computing when the window closes
  const qint64 ms = timeToClose(window);
  QVERIFY2(ms < 2000, qPrintable(QString("closing during an explanation took %1 ms").arg(ms)));
}

QTEST_MAIN(TestShutdown)
#include "tst_shutdown.moc"
