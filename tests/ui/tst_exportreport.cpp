// File → Export report…, through input events only: after a run started with the Train tab's
// button, Ctrl+R opens the dialog on that run's folder; the file typed into it is written by
// `particle report` (a process: the window keeps answering), and the message names it. A folder
// that is no report's is said in the dialog, whose Export button stays disabled. After a search
// and then claims started from the Experiments tab, Ctrl+R offers the one that finished last (not
// the session's run), the field showing the folder's end and the whole path in its tooltip.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "experiments/ClaimsLab.h"
#include "experiments/ExperimentsPanel.h"
#include "report/ReportExport.h"
#include "training/TrainPanel.h"

#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSplitter>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {

// What the dialog showed, and what was done in it.
struct DialogAnswer {
  bool shown = false, exportEnabled = false;
  QString folder, kind, folderTip;
  bool folderEndShown = false; // the field scrolled to the folder's own name
};

// Answers the next report dialog: types `folder` into its folder field when given, `file` into its
// file field when given, then clicks Export (or presses Escape when `cancel`).
std::shared_ptr<DialogAnswer> answerReportDialog(const QString &folder, const QString &file, bool cancel) {
  auto answer = std::make_shared<DialogAnswer>();
  auto attempt = std::make_shared<std::function<void(int)>>();
  std::weak_ptr<std::function<void(int)>> self = attempt;
  *attempt = [=](int tries) {
    auto *dialog = qobject_cast<ReportDialog *>(QApplication::activeModalWidget());
    if (!dialog) {
      if (auto again = self.lock(); again && tries > 0)
        QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
      return;
    }
    if (QApplication::activeWindow() != dialog)
      QApplication::setActiveWindow(dialog);
    auto *folderField = dialog->findChild<QLineEdit *>("reportFolder");
    auto *fileField = dialog->findChild<QLineEdit *>("reportFile");
    auto *exportButton = dialog->findChild<QPushButton *>("reportExportButton");
    answer->folder = folderField->text();
    answer->folderTip = folderField->toolTip();
    answer->folderEndShown =
        folderField->cursorPosition() == folderField->text().size() &&
        folderField->rect().contains(folderField->inputMethodQuery(Qt::ImCursorRectangle).toRect().center());
    if (!folder.isEmpty())
      typeInto(folderField, folder, Qt::Key_Tab);
    if (!file.isEmpty())
      typeInto(fileField, file, Qt::Key_Tab);
    answer->kind = dialog->findChild<QLabel *>("reportKind")->text();
    answer->exportEnabled = exportButton->isEnabled();
    answer->shown = true;
    if (cancel)
      QTest::keyClick(dialog, Qt::Key_Escape);
    else
      QTest::mouseClick(exportButton, Qt::LeftButton);
  };
  QTimer::singleShot(50, [attempt] { (*attempt)(600); });
  return answer;
}

bool activate(MainWindow &window) {
  if (!window.isActiveWindow())
    window.activateWindow();
  return QTest::qWaitForWindowActive(&window);
}

void clickTab(QTabWidget *tabs, const QString &text) {
  for (int i = 0; i < tabs->count(); ++i)
    if (tabs->tabText(i) == text)
      QTest::mouseClick(tabs->tabBar(), Qt::LeftButton, {}, tabs->tabBar()->tabRect(i).center());
}

// Ctrl+R's dialog, cancelled: what it offered.
std::shared_ptr<DialogAnswer> offered(MainWindow &window) {
  auto dialog = answerReportDialog({}, {}, true);
  if (!activate(window))
    return dialog;
  QTest::keyClick(window.view(), Qt::Key_R, Qt::ControlModifier);
  QTest::qWaitFor([&] { return dialog->shown; }, 30000);
  return dialog;
}

// Opens `project` with Ctrl+O (the file dialog answered).
bool openProject(MainWindow &window, const QString &project) {
  auto opened = answerFileDialog(project);
  QTest::keyClick(window.view(), Qt::Key_O, Qt::ControlModifier);
  return *opened && QTest::qWaitFor([&] { return window.document()->filePath() == project; }, 10000);
}

} // namespace

class TestExportReport : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    qputenv("PARTICLE_CLI", PARTICLE_CLI);
  }

  void exportsTheRunsReport() {
    QTemporaryDir dir;
    const QString project = QString::fromStdString(writeFile(dir, "p.particle.json", baseProject().dump(2)));
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    auto opened = answerFileDialog(project);
    QTest::keyClick(window.view(), Qt::Key_O, Qt::ControlModifier);
    QVERIFY(*opened);
    QTRY_COMPARE(window.document()->filePath(), project);

    // A run, started with the Train tab's button (the window active again after the file dialog).
    QVERIFY(activate(window));
    QTest::keyClick(window.view(), Qt::Key_2, Qt::ControlModifier);
    TrainPanel *panel = window.trainPanel();
    QTRY_VERIFY(panel->startButton()->isVisible() && panel->startButton()->isEnabled());
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->lastRunFolder().isEmpty() && panel->startButton()->isEnabled(), 120000);
    QTRY_VERIFY(QFile::exists(panel->lastRunFolder() + "/summary.json"));

    // Ctrl+R: the dialog starts from that run; the file typed in is written.
    const QString file = dir.filePath("out/the-report.html");
    auto dialog = answerReportDialog({}, file, false);
    auto done = answerMessageBox();
    QVERIFY(activate(window));
    QTest::keyClick(window.view(), Qt::Key_R, Qt::ControlModifier);
    QTRY_VERIFY(dialog->shown);
    QCOMPARE(QDir::cleanPath(dialog->folder), QDir::cleanPath(panel->lastRunFolder()));
    QVERIFY2(dialog->kind.contains("run folder"), qPrintable(dialog->kind));
    QVERIFY(dialog->exportEnabled);
    // The report is written by a process: the status bar says its stages and offers Cancel.
    QTRY_VERIFY(window.findChild<QPushButton *>("cancelReportButton") || done->shown);
    QTRY_VERIFY_WITH_TIMEOUT(done->shown, 120000);
    QCOMPARE(done->title, QString("Export report"));
    QVERIFY2(done->text.contains(file), qPrintable(done->text));
    const QString html = QString::fromStdString(readTextFile(file.toStdString()));
    QVERIFY(html.contains("<svg") && html.contains("Model card"));
    QTRY_VERIFY(!window.findChild<QPushButton *>("cancelReportButton"));

    // A folder that is no report's: said in the dialog, Export disabled, nothing written.
    const QString other = dir.filePath("nothing");
    QVERIFY(QDir().mkpath(other));
    dialog = answerReportDialog(other, {}, true);
    QVERIFY(activate(window));
    QTest::keyClick(window.view(), Qt::Key_R, Qt::ControlModifier);
    QTRY_VERIFY(dialog->shown);
    QVERIFY2(dialog->kind.contains(other) && dialog->kind.contains("summary.json"), qPrintable(dialog->kind));
    QVERIFY(!dialog->exportEnabled);
    QVERIFY(!QFile::exists(dir.filePath("nothing-report.html")));
  }

  // Nothing finished yet: nothing offered. A run, then a search and claims from the Experiments
  // tab: each time Ctrl+R offers what finished last.
  void offersTheLatestResultOfThisSession() {
    QTemporaryDir dir;
    Json doc = baseProject();
    doc["dataset"]["samples"] = 300;
    const QString project = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump(2)));
    MainWindow window;
    window.experimentsPanel()->setRunsFolder(dir.filePath("runs"));
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QVERIFY(openProject(window, project));
    auto dialog = offered(window);
    QVERIFY(dialog->shown);
    QCOMPARE(dialog->folder, QString());

    // A run, from the Train tab's button.
    QVERIFY(activate(window));
    QTest::keyClick(window.view(), Qt::Key_2, Qt::ControlModifier);
    TrainPanel *train = window.trainPanel();
    QTRY_VERIFY(train->startButton()->isVisible() && train->startButton()->isEnabled());
    QTest::mouseClick(train->startButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!train->lastRunFolder().isEmpty() && train->startButton()->isEnabled(), 120000);
    QTRY_VERIFY(QFile::exists(train->lastRunFolder() + "/summary.json"));
    dialog = offered(window);
    QCOMPARE(QDir::cleanPath(dialog->folder), QDir::cleanPath(train->lastRunFolder()));

    // A search, from the Experiments tab: Ctrl+R offers it, not the run.
    clickTab(window.tabs(), "Experiments");
    ExperimentsPanel *panel = window.experimentsPanel();
    QTRY_VERIFY(panel->startButton()->isVisible());
    typeInto(panel->budgetEdit(), "3trials");
    typeInto(panel->seedsSpin(), "1");
    QSignalSpy searched(panel, &ExperimentsPanel::searchFinished);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY(searched.wait(300000));
    QVERIFY2(searched.at(0).at(0).toBool(), "the search failed");
    QVERIFY(QFile::exists(panel->searchFolder() + "/search.json"));
    dialog = offered(window);
    QCOMPARE(QDir::cleanPath(dialog->folder), QDir::cleanPath(panel->searchFolder()));
    QVERIFY2(dialog->kind.contains("search folder"), qPrintable(dialog->kind));
    QVERIFY(dialog->folderEndShown);
    QVERIFY2(dialog->folderTip.startsWith(dialog->folder), qPrintable(dialog->folderTip));

    // Claims, from the lab below the search (dragged up by its handle when folded).
    auto *page = panel->findChild<QSplitter *>("searchAndLabs");
    QVERIFY(page);
    if (page->sizes().at(1) < page->height() / 3) {
      QWidget *handle = page->handle(1);
      const QPoint grip = handle->rect().center();
      const int up = page->height() / 2 - page->sizes().at(1);
      QTest::mousePress(handle, Qt::LeftButton, {}, grip);
      for (int dy = 20; dy < up; dy += 20)
        QTest::mouseMove(handle, grip - QPoint(0, dy));
      QTest::mouseRelease(handle, Qt::LeftButton, {}, grip - QPoint(0, up));
      QTRY_VERIFY(page->sizes().at(1) >= page->height() / 3);
    }
    ClaimsLab *lab = panel->claimsLab();
    QTRY_VERIFY(lab->claimsButton()->isVisible() && lab->claimsButton()->isEnabled());
    typeInto(lab->seedsSpin(), "1");
    QSignalSpy measured(lab, &ClaimsLab::experimentFinished);
    QTest::mouseClick(lab->claimsButton(), Qt::LeftButton);
    QVERIFY(measured.wait(300000));
    QVERIFY2(measured.at(0).at(0).toBool(), "measuring claims failed");
    QVERIFY(QFile::exists(lab->resultsFolder() + "/claims.json"));
    dialog = offered(window);
    QCOMPARE(QDir::cleanPath(dialog->folder), QDir::cleanPath(lab->resultsFolder()));
    QVERIFY2(dialog->kind.contains("claims folder"), qPrintable(dialog->kind));
    QVERIFY(dialog->folderEndShown);
  }
};

QTEST_MAIN(TestExportReport)
#include "tst_exportreport.moc"
