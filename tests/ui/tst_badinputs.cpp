// Hostile files in the app, through input events only: every entry of the malformed-input corpus
// (tests/common/BadInputs.h: projects, IDX, CSV, NumPy and text data, checkpoints) opened the way
// a person opens it — Ctrl+O and the file dialog, or the Explain tab's Checkpoint… button — must
// end in a message that names its file and says what is wrong (a dialog, a Problems entry or the
// Explain tab's status), never a crash; and a project save that fails half-way (the file size
// limit, as on a full disk) keeps the saved file as it was, leaves no temporary file and keeps
// the work unsaved, so nothing is lost.

#include "BadInputs.h"
#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "explain/ExplainPanel.h"

#include <QDir>
#include <QLabel>
#include <QListWidget>
#include <QStandardPaths>
#include <QUndoStack>
#include <QtTest>

#include <csignal>
#include <sys/resource.h>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

class TestBadInputs : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void everyBadInputOpensToAMessage();
  void aFailedSaveKeepsTheFileAndTheWork();

private:
  // Shortcuts reach only the active window. A window manager gives the focus back when a dialog
  // closes; the offscreen platform has none, so the test plays its part.
  static bool activate(MainWindow &window) {
    if (!window.isActiveWindow())
      window.activateWindow();
    return QTest::qWaitForWindowActive(&window);
  }
  // Ctrl+O, the path typed into the file dialog; a message box that comes up (the project cannot
  // be opened) is read and closed with Enter. Returns what the box said (`shown` false: none came),
  // or null when the file dialog did not take the path.
  std::shared_ptr<MessageBoxAnswer> openWithKeys(MainWindow &window, const QString &path) {
    if (!activate(window))
      return nullptr;
    auto answered = answerFileDialog(path);
    auto box = answerMessageBox();
    // The dialog and the box are modal: both have come and gone when the key press returns.
    QTest::keyClick(window.view(), Qt::Key_O, Qt::ControlModifier);
    box->stop = true;
    return *answered ? box : nullptr;
  }
  static QStringList problems(MainWindow &window) {
    QStringList lines;
    for (int i = 0; i < window.problemsList()->count(); ++i)
      lines << window.problemsList()->item(i)->text();
    return lines;
  }
};

void TestBadInputs::everyBadInputOpensToAMessage() {
  MainWindow window;
  window.resize(1400, 900);
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  QTemporaryDir dir;
  const auto corpus = writeBadInputs(dir.path().toStdString());
  QVERIFY(corpus.size() >= 60);
  int opened = 0, refused = 0, listed = 0, explained = 0;
  QString explainProject;
  for (const BadInput &bad : corpus) {
    const QString name = QString::fromStdString(bad.name);
    const QString file = QString::fromStdString(bad.file);
    const QString fragment = QString::fromStdString(bad.fragment);
    const QString project = QString::fromStdString(bad.project);
    switch (bad.stage) {
    case BadInput::Stage::Open: {
      // The project cannot be read: a dialog names the file and the fault, the open project stays.
      const std::string before = window.document()->text();
      auto box = openWithKeys(window, project);
      QVERIFY2(box, qPrintable(name));
      QVERIFY2(box->shown, qPrintable(name));
      QVERIFY2(box->text.contains(file) && box->text.contains(fragment), qPrintable(name + ": " + box->text));
      QCOMPARE(box->title, QString("Cannot open project"));
      QCOMPARE(window.document()->text(), before);
      ++refused;
      break;
    }
    case BadInput::Stage::Check: {
      // The project reads: it opens, and the Problems panel says what is wrong (naming the data
      // file when the data is at fault).
      auto box = openWithKeys(window, project);
      QVERIFY2(box, qPrintable(name));
      QVERIFY2(!box->shown, qPrintable(name + ": refused to open: " + box->text));
      QCOMPARE(window.document()->filePath(), project);
      QStringList lines;
      const bool found = QTest::qWaitFor(
          [&] {
            lines = problems(window);
            for (const QString &line : lines)
              if (line.contains(fragment) && (bad.code == 1 || line.contains(file)))
                return true;
            return false;
          },
          10000);
      QVERIFY2(found, qPrintable(name + ": " + lines.join(" | ")));
      QVERIFY2(window.problemsList()->isVisible(), qPrintable(name));
      ++(bad.code == 1 ? opened : listed);
      break;
    }
    case BadInput::Stage::Explain: {
      // The project is sound, the checkpoint is not: Checkpoint…, the path typed, Explain.
      ExplainPanel *explain = window.explainPanel();
      if (explainProject != project) {
        auto box = openWithKeys(window, project);
        QVERIFY(box && !box->shown);
        QCOMPARE(window.document()->filePath(), project);
        QVERIFY(activate(window));
        QTest::keyClick(window.view(), Qt::Key_3, Qt::ControlModifier);
        QTRY_VERIFY(explain->isVisible());
        explainProject = project;
        // First the sound checkpoint the corpus was made from: its results are on screen.
        auto good = answerFileDialog(QFileInfo(project).dir().filePath("good/checkpoint.pt"));
        QTest::mouseClick(explain->checkpointButton(), Qt::LeftButton);
        QVERIFY(QTest::qWaitFor([&] { return *good; }, 30000));
        QTRY_VERIFY(explain->computeButton()->isEnabled());
        QTest::mouseClick(explain->computeButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(explain->sampleList()->count() > 0 && explain->exportButton()->isEnabled(), 60000);
      }
      auto answered = answerFileDialog(QString::fromStdString(bad.checkpoint));
      QTest::mouseClick(explain->checkpointButton(), Qt::LeftButton);
      QVERIFY2(QTest::qWaitFor([&] { return *answered; }, 30000), qPrintable(name));
      QTRY_VERIFY(explain->computeButton()->isEnabled());
      QTest::mouseClick(explain->computeButton(), Qt::LeftButton);
      const bool said = QTest::qWaitFor(
          [&] {
            const QString status = explain->statusLabel()->text();
            return status.contains("Cannot explain") && status.contains(file) && status.contains(fragment);
          },
          60000);
      QVERIFY2(said, qPrintable(name + ": " + explain->statusLabel()->text()));
      // Nothing of the sound checkpoint's results stays under the damaged one's name.
      QCOMPARE(explain->sampleList()->count(), 0);
      QVERIFY(!explain->exportButton()->isEnabled());
      ++explained;
      break;
    }
    }
  }
  qInfo("%d refused at open, %d invalid projects listed, %d data faults listed, %d checkpoints refused", refused,
        opened, listed, explained);
  QVERIFY(refused > 10 && opened > 10 && listed > 10 && explained > 5);
}

void TestBadInputs::aFailedSaveKeepsTheFileAndTheWork() {
  MainWindow window;
  window.resize(1400, 900);
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  QTemporaryDir dir;
  const QString path = dir.filePath("mine.particle.json");
  const std::string saved = baseProject().dump(2);
  writeFile(dir, "mine.particle.json", saved);
  auto opened = openWithKeys(window, path);
  QVERIFY(opened && !opened->shown);
  QCOMPARE(window.document()->filePath(), path);

  // An edit, by keys in the Inspector: the work is now unsaved.
  QWidget *out = inspectorEditor(&window, "c", "out");
  QVERIFY(out);
  typeInto(out, "12");
  QCOMPARE(window.document()->graph().find("c")->params["out"].get<int>(), 12);
  QVERIFY(window.isWindowModified());

  // The disk "fills" half-way through the save: files may not grow past 1 KiB (the project is
  // about 1.5 KiB), and the signal that limit sends is ignored, so writes fail with EFBIG.
  rlimit previous{};
  QVERIFY(getrlimit(RLIMIT_FSIZE, &previous) == 0);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = previous;
  small.rlim_cur = 1024;
  QVERIFY(setrlimit(RLIMIT_FSIZE, &small) == 0);
  QVERIFY(activate(window));
  auto box = answerMessageBox();
  QTest::keyClick(window.view(), Qt::Key_S, Qt::ControlModifier);
  const bool shown = QTest::qWaitFor([&] { return box->shown; }, 30000);
  QVERIFY(setrlimit(RLIMIT_FSIZE, &previous) == 0);
  std::signal(SIGXFSZ, oldHandler);
  QVERIFY(shown);
  QCOMPARE(box->title, QString("Cannot save"));
  QVERIFY2(box->text.contains(path) && box->text.contains("the previous file is kept"), qPrintable(box->text));
  QFile file(path);
  QVERIFY(file.open(QIODevice::ReadOnly));
  QCOMPARE(file.readAll().toStdString(), saved); // byte for byte what was there
  file.close();
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"mine.particle.json"}); // no temp
  QVERIFY(window.isWindowModified()); // the work is still there, still unsaved
  QCOMPARE(window.document()->graph().find("c")->params["out"].get<int>(), 12);

  // Room again: Ctrl+S saves it.
  QVERIFY(activate(window));
  QTest::keyClick(window.view(), Qt::Key_S, Qt::ControlModifier);
  QTRY_VERIFY(!window.isWindowModified());
  QCOMPARE(loadProject(path.toStdString()).graph.find("c")->params["out"].get<int>(), 12);
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"mine.particle.json"});
}

QTEST_MAIN(TestBadInputs)
#include "tst_badinputs.moc"
