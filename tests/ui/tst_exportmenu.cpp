// File → Export to PyTorch / ONNX, through input events only: Ctrl+E with the folder typed into the
// dialog exports the opened project with the weights a run would start from; after a run (started
// with the Train tab's button), Ctrl+Shift+E exports that run's checkpoint with model.onnx, and the
// message says what ONNX Runtime made of it; Debian's python3-torch then runs model.py --check on
// both. A project with problems is refused with a message.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "training/TrainPanel.h"

#include <QDir>
#include <QProcess>
#include <QPushButton>
#include <QStandardPaths>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

class TestExportMenu : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void exportsWithKeysAndTheDialog();

private:
  static bool activate(MainWindow &window) {
    if (!window.isActiveWindow())
      window.activateWindow();
    return QTest::qWaitForWindowActive(&window);
  }
  // The shortcut, the folder typed into the dialog, then the message the export ends with.
  static std::shared_ptr<MessageBoxAnswer> exportWithKeys(MainWindow &window, const QString &folder, bool onnx) {
    if (!activate(window))
      return nullptr;
    auto answered = answerFileDialog(folder);
    QTest::keyClick(window.view(), Qt::Key_E, onnx ? Qt::ControlModifier | Qt::ShiftModifier : Qt::ControlModifier);
    if (!*answered)
      return nullptr;
    return answerMessageBox(); // the export runs in a worker thread; its message comes when it ends
  }
  static QProcess::ExitStatus check(const QString &folder, int &code, QString &output) {
    QProcess p;
    p.start("/usr/bin/python3", {folder + "/model.py", "--check"});
    p.waitForFinished(120000);
    code = p.exitCode();
    output = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
    return p.exitStatus();
  }
};

void TestExportMenu::exportsWithKeysAndTheDialog() {
  if (QProcess::execute("/usr/bin/python3", {"-c", "import torch"}) != 0)
    QSKIP("Debian's python3-torch is not installed (scripts/setup.sh installs it)");
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["dataset"]["samples"] = 600;
  const QString project = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump(2)));
  MainWindow window;
  window.resize(1400, 900);
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  auto opened = answerFileDialog(project);
  QTest::keyClick(window.view(), Qt::Key_O, Qt::ControlModifier);
  QVERIFY(*opened);
  QTRY_COMPARE(window.document()->filePath(), project);

  // No run yet: the initial weights.
  const QString first = dir.filePath("first");
  QVERIFY(QDir().mkpath(first));
  auto box = exportWithKeys(window, first, false);
  QVERIFY(box);
  QTRY_VERIFY_WITH_TIMEOUT(box->shown, 60000);
  QCOMPARE(box->title, QString("Export to PyTorch"));
  QVERIFY2(box->text.contains("model.py") && box->text.contains("initial weights"), qPrintable(box->text));
  int code = -1;
  QString output;
  QCOMPARE(check(first, code, output), QProcess::NormalExit);
  QVERIFY2(code == 0 && output.contains(": ok"), qPrintable(output));

  // A run, started with the Train tab's button; then ONNX with its checkpoint.
  QVERIFY(activate(window));
  QTest::keyClick(window.view(), Qt::Key_2, Qt::ControlModifier);
  TrainPanel *panel = window.trainPanel();
  QTRY_VERIFY(panel->startButton()->isVisible() && panel->startButton()->isEnabled());
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(!panel->lastCheckpoint().isEmpty() && panel->startButton()->isEnabled(), 120000);
  const QString second = dir.filePath("second");
  QVERIFY(QDir().mkpath(second));
  box = exportWithKeys(window, second, true);
  QVERIFY(box);
  QTRY_VERIFY_WITH_TIMEOUT(box->shown, 120000);
  QCOMPARE(box->title, QString("Export to ONNX"));
  QVERIFY2(box->text.contains("model.onnx") && box->text.contains(panel->lastCheckpoint()), qPrintable(box->text));
  // What ONNX Runtime said: the figure within 1e-4 where it is installed (as the export looks for
  // it: $PARTICLE_ONNXRUNTIME, else the checkout's .deps/onnxruntime), else that it was skipped.
  const bool runtime =
      !QStandardPaths::findExecutable("node").isEmpty() &&
      QFileInfo::exists(qEnvironmentVariable("PARTICLE_ONNXRUNTIME", PARTICLE_SOURCE_DIR "/.deps/onnxruntime") +
                        "/node_modules/onnxruntime-node/package.json");
  QVERIFY2(runtime ? box->text.contains(QRegularExpression("ONNX Runtime: onnxruntime\\S* .* max \\|Δlogit\\| = "
                                                           "\\S+ \\(tolerance 0.0001\\): ok"))
                   : box->text.contains("ONNX Runtime: SKIPPED, logits not compared"),
           qPrintable(box->text));
  QVERIFY(QFile::exists(second + "/model.onnx"));
  QCOMPARE(check(second, code, output), QProcess::NormalExit);
  QVERIFY2(code == 0 && output.contains(": ok"), qPrintable(output));

  // A project with problems: refused, with a message, nothing written.
  Json bad = baseProject();
  bad["nodes"][1]["params"]["parts"] = 3;
  const QString badPath = QString::fromStdString(writeFile(dir, "bad.particle.json", bad.dump(2)));
  QVERIFY(activate(window));
  opened = answerFileDialog(badPath);
  QTest::keyClick(window.view(), Qt::Key_O, Qt::ControlModifier);
  QVERIFY(*opened);
  QTRY_COMPARE(window.document()->filePath(), badPath);
  QVERIFY(activate(window));
  box = answerMessageBox();
  QTest::keyClick(window.view(), Qt::Key_E, Qt::ControlModifier);
  QTRY_VERIFY(box->shown);
  QVERIFY2(box->text.contains("problem"), qPrintable(box->text));
}

QTEST_MAIN(TestExportMenu)
#include "tst_exportmenu.moc"
