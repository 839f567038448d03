// The node editor, driven through its real widgets on the offscreen platform.

#include "AppPaths.h"
#include "GuiDriver.h"
#include "MainWindow.h"
#include "ProjectFiles.h"
#include "training/TrainPanel.h"
#include "TestSupport.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"
#include "editor/GraphView.h"
#include "editor/InspectorWidget.h"
#include "editor/PaletteWidget.h"
#include "charts/CustomPlot.h"
#include "explain/ExplainPanel.h"
#include "train/RunFolder.h"

#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QUndoStack>
#include <QtTest>

#include <csignal>

#include <sys/resource.h>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {

Project emptySynthetic() {
  Project p;
  p.name = "drawn";
  p.dataset = Json::parse(R"({"kind":"synthetic","parts":4,"part_dim":8,"classes":3,"samples":200})");
  return p;
}

void drop(GraphView *view, const QString &type, QPoint at) {
  QMimeData mime;
  mime.setData(kNodeMimeType, type.toUtf8());
  QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(view->viewport(), &enter);
  QDropEvent dropEvent(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(view->viewport(), &dropEvent);
}

// Drags on the viewport from one scene point to another with the left button.
void dragOnViewport(GraphView *view, QPointF fromScene, QPointF toScene) {
  QWidget *vp = view->viewport();
  const QPoint a = view->mapFromScene(fromScene), b = view->mapFromScene(toScene);
  QTest::mousePress(vp, Qt::LeftButton, {}, a);
  QTest::mouseMove(vp, (a + b) / 2);
  QTest::mouseMove(vp, b);
  QTest::mouseRelease(vp, Qt::LeftButton, {}, b);
}

// A new project, untitled, trained one epoch with its Start button: the run folder it made (in
// the user's runs folder), empty when the run failed or went elsewhere.
QString trainUntitled(MainWindow *window) {
  Json doc = baseProject();
  doc["name"] = "untitled";
  doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
  window->document()->reset(projectFromJson(doc, ""));
  if (!window->document()->filePath().isEmpty())
    return {};
  TrainPanel *train = window->trainPanel();
  window->setCurrentTab("train");
  QSignalSpy done(train, &TrainPanel::runFinished);
  QTest::mouseClick(train->startButton(), Qt::LeftButton);
  if (!done.wait(60000) || done.at(0).at(0).value<RunFinished>().failed) {
    qWarning("the run failed: %s",
             done.isEmpty() ? "no end in 60 s" : qPrintable(done.at(0).at(0).value<RunFinished>().message));
    return {};
  }
  const QString made = train->lastRunFolder();
  return QFileInfo(made).absolutePath() == QFileInfo(userRunsFolder()).absoluteFilePath() ? made : QString();
}

// Activates `window` (the offscreen platform has no window manager to give it back the focus).
bool activateWindow(QWidget *window) {
  if (!window->isActiveWindow())
    window->activateWindow();
  return QTest::qWaitForWindowActive(window);
}

// Answers "replace it?" (the Save dialog on a file that exists) with a click on Yes.
std::shared_ptr<bool> answerReplace() {
  auto done = std::make_shared<bool>(false);
  auto attempt = std::make_shared<std::function<void(int)>>();
  std::weak_ptr<std::function<void(int)>> self = attempt;
  *attempt = [done, self](int tries) {
    auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
    if (box && box->button(QMessageBox::Yes)) {
      QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
      *done = true;
    } else if (auto again = self.lock(); again && tries > 0) {
      QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
    }
  };
  QTimer::singleShot(50, [attempt] { (*attempt)(600); });
  return done;
}

// The file's bytes (empty when it cannot be read).
QByteArray bytesOf(const QString &path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestEditor : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase();
  void init();
  void cleanup();
  void paletteDropsAndPortDragsBuildTheGraph();
  void incompatibleConnectionIsRefusedDuringTheDrag();
  void everyCommandUndoesAndRedoesByteIdentically();
  void randomEditSequenceUndoesCompletely();
  void sharingUpdatesTheStatusBar();
  void problemClickSelectsNodeAndFixClearsIt();
  void paletteFilter();
  void copyPasteDuplicateDelete();
  void deletingABranchClosesTheCombinesGap();
  void recentFilesNameTheirFolders();
  void canvasKeysActOnTheDesignTabOnly();
  void autoLayoutIsLayered();
  void saveAndReopen();
  void crashRecoveryOffersRestore();
  void aRestoredExampleFindsItsData();
  void nodesWithoutPositionsAreLaidOut();
  void examplesOpenAsTemplates();
  void runsMadeBeforeTheFirstSaveComeWithTheProject();
  void aRunThatCannotBeKeptStaysWholeAndTheUserIsTold();
  void twoWindowsSaveTheirRunsToOneProject();
  void aCopyKilledMidwayIsClearedAtTheNextSave();
  void theWindowNeverResizesItself();
  void wiresAreSelectedAndDeleted();
  void aWireIsPickedUpByItsInputEnd();
  void anOpenedGraphFitsASmallWindow();
  void sharedNodesCountTheirParametersOnce();
  void ctrlGKeepsAGroupsScopeAndLeavesOutWhatCannotShare();

private:
  bool activate();
  MainWindow *window_ = nullptr;
};

void TestEditor::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
}

void TestEditor::init() {
  QFile::remove(ProjectFiles::recoveryPath());
  window_ = new MainWindow;
  window_->resize(1400, 900);
  window_->show();
  QVERIFY(QTest::qWaitForWindowExposed(window_));
}

// Shortcuts reach only the active window. A window manager gives the focus back when a dialog
// closes; the offscreen platform has none, so the test plays its part.
bool TestEditor::activate() {
  if (!window_->isActiveWindow())
    window_->activateWindow();
  return QTest::qWaitForWindowActive(window_);
}

void TestEditor::cleanup() {
  window_->undoStack()->setClean(); // no save prompt
  delete window_;
  window_ = nullptr;
}

void TestEditor::paletteDropsAndPortDragsBuildTheGraph() {
  GraphDocument *doc = window_->document();
  doc->reset(emptySynthetic());
  GraphView *view = window_->view();
  view->resetTransform();
  const QPoint at[3] = {QPoint(80, 200), QPoint(380, 200), QPoint(680, 200)};
  drop(view, "Input", at[0]);
  drop(view, "MLP", at[1]);
  drop(view, "Classifier", at[2]);
  QCOMPARE(static_cast<int>(doc->graph().nodes.size()), 3);
  NodeItem *input = window_->scene()->nodeItem("input1");
  NodeItem *mlp = window_->scene()->nodeItem("mlp1");
  NodeItem *head = window_->scene()->nodeItem("classifier1");
  QVERIFY(input && mlp && head);
  dragOnViewport(view, input->outputPortPos(0), mlp->inputPortPos("0"));
  dragOnViewport(view, mlp->outputPortPos(0), head->inputPortPos("0"));

  // Dropped nodes land on the grid (so the first click does not snap them and add an undo step).
  auto posOf = [&](QPoint p) {
    const QPointF s = view->mapToScene(p);
    auto snap = [](double v) { return static_cast<int64_t>(std::round(v / NodeItem::kGrid) * NodeItem::kGrid); };
    return Json::array({snap(s.x()), snap(s.y())});
  };
  const Json expected = {{"nodes",
                          {{{"id", "input1"}, {"type", "Input"}, {"pos", posOf(at[0])}},
                           {{"id", "mlp1"}, {"type", "MLP"}, {"pos", posOf(at[1])}},
                           {{"id", "classifier1"}, {"type", "Classifier"}, {"pos", posOf(at[2])}}}},
                         {"edges", {{{"from", "input1"}, {"to", "mlp1"}}, {{"from", "mlp1"}, {"to", "classifier1"}}}}};
  QCOMPARE(Json::parse(doc->graphSnapshot()).dump(), expected.dump());
  QVERIFY(doc->validation().ok());
  QCOMPARE(window_->scene()->edgeItemCount() >= 2, true);
  QVERIFY(window_->validityLabel()->text().contains("valid"));
}

void TestEditor::incompatibleConnectionIsRefusedDuringTheDrag() {
  GraphDocument *doc = window_->document();
  doc->reset(emptySynthetic());
  GraphView *view = window_->view();
  view->resetTransform();
  drop(view, "Input", QPoint(80, 200));
  drop(view, "ConvNet", QPoint(420, 200));
  const std::string before = doc->graphSnapshot();
  NodeItem *input = window_->scene()->nodeItem("input1");
  NodeItem *conv = window_->scene()->nodeItem("convnet1");
  // Hover over the target during the drag: the scene says why it will not connect.
  QWidget *vp = view->viewport();
  const QPoint a = view->mapFromScene(input->outputPortPos(0)), b = view->mapFromScene(conv->inputPortPos("0"));
  QTest::mousePress(vp, Qt::LeftButton, {}, a);
  QTest::mouseMove(vp, b);
  QVERIFY2(window_->scene()->dragVerdict().contains("image"), qPrintable(window_->scene()->dragVerdict()));
  QSignalSpy refused(window_->scene(), &GraphScene::connectionRefused);
  QTest::mouseRelease(vp, Qt::LeftButton, {}, b);
  QCOMPARE(refused.count(), 1);
  QCOMPARE(doc->graphSnapshot(), before);
}

void TestEditor::everyCommandUndoesAndRedoesByteIdentically() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("fashion-patches"))));
  GraphDocument *doc = window_->document();
  QUndoStack *undo = window_->undoStack();
  std::vector<std::function<QUndoCommand *()>> edits = {
      [&] { return commands::addNode(doc, "Dropout", QPointF(10, 20)); },
      [&] { return commands::removeNodes(doc, {"p2"}); },
      [&] {
        return commands::disconnect(doc, PortRef{"p1", "0"}, PortRef{"combine", "1"});
      },
      [&] {
        return commands::connectPorts(doc, PortRef{"p1", "0"}, PortRef{"combine", "4"});
      },
      [&] { return commands::setParam(doc, "combine", "mode", Json("gate")); },
      [&] {
        return commands::moveNodes(doc, {{"head", QPointF(999, 1)}});
      },
      [&] {
        return commands::setShare(doc, {"p0", "p1"}, "other");
      },
      [&] {
        return commands::paste(doc, copyNodes(doc->graph(), {"p0", "p1"}), QPointF(30, 30));
      },
      [&] { return commands::setPositions(doc, window_->scene()->autoLayout(), "layout"); },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    const std::string before = doc->text();
    QUndoCommand *cmd = edits[i]();
    QVERIFY2(cmd, qPrintable(QString("edit %1 changed nothing").arg(i)));
    undo->push(cmd);
    const std::string after = doc->text();
    QVERIFY(after != before);
    undo->undo();
    QCOMPARE(doc->text(), before);
    undo->redo();
    QCOMPARE(doc->text(), after);
  }
}

void TestEditor::randomEditSequenceUndoesCompletely() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("synthetic-parts"))));
  GraphDocument *doc = window_->document();
  QUndoStack *undo = window_->undoStack();
  const std::string original = doc->text();
  QRandomGenerator rng(7);
  const QStringList types = {"MLP", "Linear", "Dropout", "Activation", "LayerNorm"};
  int pushed = 0;
  for (int step = 0; pushed < 50 && step < 500; ++step) {
    const auto &nodes = doc->graph().nodes;
    const auto &edges = doc->graph().edges;
    const QString some = nodes.empty() ? QString() : QString::fromStdString(nodes[rng.bounded(int(nodes.size()))].id);
    const QString other = nodes.empty() ? QString() : QString::fromStdString(nodes[rng.bounded(int(nodes.size()))].id);
    QUndoCommand *cmd = nullptr;
    switch (rng.bounded(7)) {
    case 0:
      cmd = commands::addNode(doc, types[rng.bounded(types.size())], QPointF(rng.bounded(800), rng.bounded(600)));
      break;
    case 1: cmd = some.isEmpty() ? nullptr : commands::removeNodes(doc, {some}); break;
    case 2:
      cmd = some.isEmpty() ? nullptr
                           : commands::connectPorts(doc, PortRef{some.toStdString(), "0"},
                                                    PortRef{other.toStdString(), std::to_string(rng.bounded(3))});
      break;
    case 3:
      cmd = edges.empty() ? nullptr : [&] {
        const Edge e = edges[rng.bounded(int(edges.size()))];
        return commands::disconnect(doc, e.from, e.to);
      }();
      break;
    case 4: cmd = some.isEmpty() ? nullptr : commands::setParam(doc, some, "out", Json(rng.bounded(1, 64))); break;
    case 5:
      cmd = some.isEmpty() ? nullptr : commands::moveNodes(doc, {{some, QPointF(rng.bounded(900), rng.bounded(900))}});
      break;
    case 6:
      cmd = some.isEmpty() ? nullptr : commands::setShare(doc, {some, other}, "g" + QString::number(rng.bounded(3)));
      break;
    }
    if (!cmd)
      continue;
    undo->push(cmd);
    ++pushed;
  }
  QCOMPARE(pushed, 50);
  const std::string edited = doc->text();
  QVERIFY(edited != original);
  while (undo->canUndo())
    undo->undo();
  QCOMPARE(doc->text(), original);
  while (undo->canRedo())
    undo->redo();
  QCOMPARE(doc->text(), edited);
}

void TestEditor::sharingUpdatesTheStatusBar() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("seed-two-halves"))));
  GraphDocument *doc = window_->document();
  const QString before = window_->paramsLabel()->text();
  window_->scene()->selectOnly({"left", "right"});
  window_->shareSelection();
  QCOMPARE(doc->graph().find("left")->share, doc->graph().find("right")->share);
  QVERIFY(!doc->graph().find("left")->share.empty());
  // The status bar shows the engine's own figure.
  const Validation v = validate(doc->project());
  const QString expected = QLocale(QLocale::English).toString(static_cast<qlonglong>(v.uniqueParameters));
  QVERIFY2(window_->paramsLabel()->text().startsWith(expected), qPrintable(window_->paramsLabel()->text()));
  QVERIFY(window_->paramsLabel()->text() != before);
  QVERIFY(window_->paramsLabel()->text().contains("sharing saves"));
  // Nodes that cannot be tied are refused, with the reason, and nothing changes.
  const std::string tied = doc->text();
  window_->scene()->selectOnly({"split", "left"});
  window_->shareSelection();
  QCOMPARE(doc->text(), tied);
  QVERIFY(shareRefusal(*doc, {"split", "left"}).contains("cannot share parameters"));
}

void TestEditor::problemClickSelectsNodeAndFixClearsIt() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("seed-two-halves"))));
  GraphDocument *doc = window_->document();
  window_->undoStack()->push(commands::setParam(doc, "right", "out", Json(0)));
  QListWidget *problems = window_->problemsList();
  QListWidgetItem *item = nullptr;
  for (int i = 0; i < problems->count(); ++i)
    if (problems->item(i)->data(Qt::UserRole).toString() == "right")
      item = problems->item(i);
  QVERIFY(item);
  QVERIFY(window_->validityLabel()->text().contains("problem"));
  problems->scrollToItem(item);
  QTest::mouseClick(problems->viewport(), Qt::LeftButton, {}, problems->visualItemRect(item).center());
  QCOMPARE(window_->scene()->selectedIds(), QStringList{"right"});
  QCOMPARE(window_->inspector()->nodeId(), QString("right"));
  QTRY_VERIFY(qobject_cast<QSpinBox *>(window_->inspector()->editorFor("out")));
  auto *spin = qobject_cast<QSpinBox *>(window_->inspector()->editorFor("out"));
  // Fix it as a person would: click into the field, select its text, type, Enter.
  QTest::mouseClick(spin, Qt::LeftButton);
  QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(spin, "64");
  QTest::keyClick(spin, Qt::Key_Return);
  QVERIFY(doc->validation().ok());
  QCOMPARE(doc->graph().find("right")->params["out"].get<int>(), 64);
  QCOMPARE(problems->count(), 0);
  QVERIFY(window_->validityLabel()->text().contains("valid"));
}

void TestEditor::paletteFilter() {
  PaletteWidget *palette = window_->palette();
  QCOMPARE(palette->visibleTypes(), static_cast<int>(Catalogue::instance().entries().size()));
  QTest::keyClicks(palette->filterBox(), "conv");
  QCOMPARE(palette->visibleTypes(), 2); // ConvNet and Conv1d
  QTest::keyClicks(palette->filterBox(), "n");
  QCOMPARE(palette->visibleTypes(), 1);
  palette->filterBox()->clear();
  QCOMPARE(palette->visibleTypes(), static_cast<int>(Catalogue::instance().entries().size()));
}

void TestEditor::copyPasteDuplicateDelete() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("seed-two-halves"))));
  GraphDocument *doc = window_->document();
  window_->scene()->selectOnly({"left", "combine"});
  window_->view()->setFocus();
  QTest::keyClick(window_, Qt::Key_D, Qt::ControlModifier);
  QCOMPARE(static_cast<int>(doc->graph().nodes.size()), 8);
  QVERIFY(doc->graph().find("left1"));
  QVERIFY(doc->graph().find("combine1"));
  bool copiedEdge = false;
  for (const auto &e : doc->graph().edges)
    copiedEdge |= e.from.node == "left1" && e.to.node == "combine1";
  QVERIFY(copiedEdge);
  QCOMPARE(window_->scene()->selectedIds(), (QStringList{"left1", "combine1"}));
  QTest::keyClick(window_, Qt::Key_Delete);
  QCOMPARE(static_cast<int>(doc->graph().nodes.size()), 6);
  QTest::keyClick(window_, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(static_cast<int>(doc->graph().nodes.size()), 8);
  QTest::keyClick(window_, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  QCOMPARE(static_cast<int>(doc->graph().nodes.size()), 6);
}

// A branch deleted from the middle of a Combine's inputs: the others move up one port in their
// order, in the same step (Undo puts the branch and the ports back), so the graph stays valid.
void TestEditor::deletingABranchClosesTheCombinesGap() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("fashion-patches"))));
  GraphDocument *doc = window_->document();
  const std::string before = doc->graphSnapshot();
  GraphView *view = window_->view();
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {},
                    view->mapFromScene(window_->scene()->nodeItem("p1")->bodyRect().center()));
  QCOMPARE(window_->scene()->selectedIds(), QStringList{"p1"});
  QTest::keyClick(view, Qt::Key_Delete);
  QVERIFY(!doc->graph().find("p1"));
  std::map<std::string, std::string> into; // branch -> Combine port
  for (const auto &e : doc->graph().edges)
    if (e.to.node == "combine")
      into[e.from.node] = e.to.port;
  QCOMPARE(into, (std::map<std::string, std::string>{{"p0", "0"}, {"p2", "1"}, {"p3", "2"}}));
  QTRY_VERIFY(!doc->validation().nodes.count("p1") && doc->validation().nodes.count("p2")); // validated since
  for (const auto &p : doc->validation().problems)
    QVERIFY2(p.node != "combine", p.message.c_str());
  QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(doc->graphSnapshot(), before);
}

// Open Recent lists each project with its folder: two "p.particle.json" of different folders are
// told apart (the trial's user saw another session's project of the same name, bare).
void TestEditor::recentFilesNameTheirFolders() {
  QTemporaryDir dir;
  QVERIFY(QDir(dir.path()).mkpath("first") && QDir(dir.path()).mkpath("second"));
  const std::string a = writeFile(dir, "first/p.particle.json", baseProject().dump());
  const std::string b = writeFile(dir, "second/p.particle.json", baseProject().dump());
  QVERIFY(window_->files()->open(QString::fromStdString(a)));
  QVERIFY(window_->files()->open(QString::fromStdString(b)));
  QMenu *recent = nullptr;
  for (QMenu *m : window_->findChildren<QMenu *>())
    if (m->title() == "Open &Recent")
      recent = m;
  QVERIFY(recent);
  const auto actions = recent->actions();
  QVERIFY(actions.size() >= 2);
  QVERIFY2(actions[0]->text().startsWith("p.particle.json — ") && actions[0]->text().endsWith("second"),
           qPrintable(actions[0]->text()));
  QVERIFY2(actions[1]->text().startsWith("p.particle.json — ") && actions[1]->text().endsWith("first"),
           qPrintable(actions[1]->text()));
  QCOMPARE(actions[0]->toolTip(), QFileInfo(QString::fromStdString(b)).absoluteFilePath());
}

void TestEditor::autoLayoutIsLayered() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("fashion-patches"))));
  GraphDocument *doc = window_->document();
  window_->autoLayout();
  auto x = [&](const char *id) { return (*doc->graph().find(id)->pos)[0]; };
  auto y = [&](const char *id) { return (*doc->graph().find(id)->pos)[1]; };
  QVERIFY(x("input") < x("split"));
  QVERIFY(x("split") < x("p0"));
  QCOMPARE(x("p0"), x("p3"));
  QVERIFY(y("p0") < y("p1") && y("p1") < y("p2") && y("p2") < y("p3")); // port order kept
  QVERIFY(x("p0") < x("combine"));
  QVERIFY(x("combine") < x("head"));
  window_->undoStack()->undo();
  QCOMPARE(doc->text(), readTextFile(examplePath("fashion-patches")));
}

void TestEditor::saveAndReopen() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("fashion-tokens"))));
  // left and right are tied: one edit changes both.
  window_->undoStack()->push(commands::setParam(window_->document(), "left", "layers", Json(1)));
  QCOMPARE(window_->document()->graph().find("right")->params["layers"].get<int>(), 1);
  QTemporaryDir dir;
  const QString path = dir.filePath("saved.particle.json");
  QVERIFY(window_->files()->saveAs(path));
  QVERIFY(window_->undoStack()->isClean());
  MainWindow other;
  QVERIFY(other.files()->open(path));
  QCOMPARE(other.document()->text(), window_->document()->text());
  QCOMPARE(other.document()->graph().find("left")->params["layers"].get<int>(), 1);
}

void TestEditor::crashRecoveryOffersRestore() {
  // A project of the user's (an example opens as an unsaved template, with nowhere to go back to).
  QTemporaryDir dir;
  const QString own = dir.filePath("seed-two-halves.particle.json");
  QVERIFY(QFile::copy(QString::fromStdString(examplePath("seed-two-halves")), own));
  QVERIFY(window_->files()->open(own));
  window_->undoStack()->push(commands::setParam(window_->document(), "left", "out", Json(32)));
  const std::string edited = window_->document()->text();
  window_->files()->writeRecovery(); // what the autosave timer does
  // A crash: the window goes away without closing (no clean-exit removal of the backup).
  QVERIFY(QFile::exists(ProjectFiles::recoveryPath()));
  auto *next = new MainWindow;
  QMessageBox *box = next->files()->offerRecovery();
  QVERIFY(box);
  auto *restore = box->findChild<QPushButton *>("restoreButton");
  QVERIFY(restore);
  QTest::mouseClick(restore, Qt::LeftButton);
  QCOMPARE(next->document()->text(), edited);
  QVERIFY(!next->undoStack()->isClean()); // recovered work is unsaved
  QVERIFY(!QFile::exists(ProjectFiles::recoveryPath()));
  QVERIFY(next->document()->filePath().endsWith("seed-two-halves.particle.json"));
  next->undoStack()->setClean();
  delete next;
  // Nothing to recover, no prompt.
  MainWindow clean;
  QVERIFY(clean.files()->offerRecovery() == nullptr);
}

void TestEditor::aRestoredExampleFindsItsData() {
  // The weather example names its CSV relative to the examples folder. The app may start anywhere
  // (from a desktop menu: "/"); its working folder must not be what that path resolves against.
  const QString csv =
      QFileInfo(QString::fromStdString(examplePath("weather-parts"))).dir().filePath("../../data/seattle-weather.csv");
  if (!QFile::exists(csv))
    QSKIP("data/seattle-weather.csv is not there (scripts/fetch-data.sh fetches it)");
  QTemporaryDir elsewhere;
  const QString startFolder = QDir::currentPath();
  QVERIFY(QDir::setCurrent(elsewhere.path()));
  auto back = qScopeGuard([&] { QDir::setCurrent(startFolder); });

  auto opened = answerFileDialog(QString::fromStdString(examplePath("weather-parts")));
  QTest::keyClick(window_->view(), Qt::Key_O, Qt::ControlModifier);
  QVERIFY(QTest::qWaitFor([&] { return *opened; }, 30000));
  QVERIFY(QTest::qWaitFor([&] { return window_->document()->project().name == "weather-parts"; }, 5000));
  QVERIFY(window_->document()->isTemplate());
  auto *out = qobject_cast<QAbstractSpinBox *>(inspectorEditor(window_, "wet", "out"));
  QVERIFY(out);
  clickSpinArrow(out, true);
  QVERIFY(QTest::qWaitFor([&] { return !window_->undoStack()->isClean(); }, 3000));
  const std::string edited = window_->document()->text();
  window_->files()->writeRecovery(); // what the autosave timer does

  // A crash, then the next start: Restore.
  auto *next = new MainWindow;
  auto closeNext = qScopeGuard([&] {
    next->undoStack()->setClean();
    delete next;
  });
  next->resize(1400, 900);
  next->show();
  QVERIFY(QTest::qWaitForWindowExposed(next));
  QMessageBox *box = next->files()->offerRecovery();
  QVERIFY(box);
  auto *restore = box->findChild<QPushButton *>("restoreButton");
  QVERIFY(restore);
  QTest::mouseClick(restore, Qt::LeftButton);
  QCOMPARE(next->document()->text(), edited);
  // The data is found: no problem in the panel, the graph has its parameters.
  QStringList problems;
  for (int i = 0; i < next->problemsList()->count(); ++i)
    problems << next->problemsList()->item(i)->text();
  QVERIFY2(problems.isEmpty(), qPrintable(problems.join("\n")));
  QVERIFY2(next->validityLabel()->text().contains("valid"), qPrintable(next->validityLabel()->text()));
  QVERIFY(next->document()->validation().trainableParameters > 0);
  QVERIFY2(!next->paramsLabel()->text().startsWith("0 "), qPrintable(next->paramsLabel()->text()));
  // Still the example's unsaved copy: Save asks where, never over the example.
  QVERIFY(next->document()->isTemplate());
  QVERIFY(next->document()->filePath().isEmpty());
  QVERIFY(next->windowTitle().contains("example"));
}

void TestEditor::nodesWithoutPositionsAreLaidOut() {
  // The README's own example, the CLI and scripts write files without "pos".
  QTemporaryDir dir;
  Json doc = baseProject();
  const std::string path = writeFile(dir, "nopos.particle.json", doc.dump(2));
  QVERIFY(window_->files()->open(QString::fromStdString(path)));
  const Graph &g = window_->document()->graph();
  std::set<std::pair<double, double>> spots;
  for (const auto &n : g.nodes) {
    QVERIFY2(n.pos, n.id.c_str());
    spots.insert({(*n.pos)[0], (*n.pos)[1]});
  }
  QCOMPARE(spots.size(), g.nodes.size()); // nobody stacked on one spot
  for (const auto &e : g.edges)           // layered left to right
    QVERIFY((*g.find(e.from.node)->pos)[0] < (*g.find(e.to.node)->pos)[0]);
  // The layout is not an edit: nothing to undo, the file is not modified.
  QCOMPARE(window_->undoStack()->count(), 0);
  QVERIFY(window_->undoStack()->isClean());
  QVERIFY(!window_->isWindowModified());
}

void TestEditor::examplesOpenAsTemplates() {
  const QString example = QString::fromStdString(examplePath("seed-two-halves"));
  const std::string original = readTextFile(example.toStdString());
  QVERIFY(window_->files()->open(example));
  QVERIFY(window_->document()->isTemplate());
  QVERIFY(window_->document()->filePath().isEmpty());
  QVERIFY(window_->windowTitle().contains("example"));
  // Runs of an example never go into the source tree.
  QCOMPARE(window_->trainPanel()->runsFolder(), userRunsFolder());
  // Ctrl+S asks where to save; the example itself is never overwritten.
  window_->undoStack()->push(commands::setParam(window_->document(), "left", "out", Json(32)));
  QTemporaryDir dir;
  auto answered = answerFileDialog(dir.filePath("mine"));
  QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
  QVERIFY(*answered);
  QVERIFY(QFile::exists(dir.filePath("mine.particle.json")));
  QCOMPARE(readTextFile(example.toStdString()), original);
  QVERIFY(!window_->document()->isTemplate());
  QCOMPARE(window_->document()->filePath(), dir.filePath("mine.particle.json"));
}

// The fresh-eyes trial lost its model: trained in an untitled project, saved, reopened — the run
// history was empty and Explain had nothing, because the run stayed in the user's runs folder as
// "untitled-…" while the saved project looks for "<its name>-…" in runs/ beside itself. The first
// save takes the runs made so far with the project (moved: an unsaved project's runs are no one
// else's), and Checkpoint… opens in that runs folder.
void TestEditor::runsMadeBeforeTheFirstSaveComeWithTheProject() {
  TrainPanel *train = window_->trainPanel();
  const QString made = trainUntitled(window_);
  QVERIFY(!made.isEmpty());
  auto removeIfLeft = qScopeGuard([made] { QDir(made).removeRecursively(); }); // only if the save left it
  const QString stamp = QFileInfo(made).fileName().mid(QString("untitled-").size());
  const std::string hash = graphHash(loadProject((made + "/project.particle.json").toStdString()).graph);

  // The folder the project is saved in has runs of another project already, one under the very
  // name the run would take: it stays as it is, the run takes the next name.
  QTemporaryDir dir;
  const QString path = dir.filePath("bands.particle.json"), runs = dir.filePath("runs");
  const QString theirs = QDir(runs).filePath("bands-" + stamp), kept = theirs + "-2";
  QVERIFY(QDir().mkpath(theirs));
  writeFileAtomically((theirs + "/summary.json").toStdString(), R"({"name": "bands", "status": "completed"})");

  // Ctrl+S: the Save dialog asks where; the run goes to runs/ beside the file, named after it.
  QVERIFY(activate());
  auto saved = answerFileDialog(path);
  QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
  QTRY_VERIFY(*saved);
  QTRY_COMPARE(window_->document()->filePath(), path);
  QVERIFY2(!QFileInfo::exists(made), qPrintable(made + " is still there"));
  QCOMPARE(QDir(runs).entryList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden),
           QStringList({"bands-" + stamp, "bands-" + stamp + "-2"}));
  QCOMPARE(QString::fromStdString(readTextFile((theirs + "/summary.json").toStdString())),
           QString(R"({"name": "bands", "status": "completed"})"));
  QCOMPARE(QDir(theirs).entryList(QDir::Files | QDir::Hidden).size(), 1);
  QVERIFY(QFileInfo::exists(kept + "/checkpoint.pt"));
  QVERIFY2(window_->statusBar()->currentMessage() == "Saved bands.particle.json; 1 run moved to runs/ beside it",
           qPrintable(window_->statusBar()->currentMessage()));
  // The run is the project's now: its summary and its copy of the project name it, as a run made
  // after the save would; its graph, and so which checkpoints fit it, is the same.
  QCOMPARE(readRunSummary(kept.toStdString()).name, std::string("bands"));
  const Project copy = loadProject((kept + "/project.particle.json").toStdString());
  QCOMPARE(copy.name, std::string("bands"));
  QCOMPARE(graphHash(copy.graph), hash);
  // The Explain tab, which took the run's checkpoint when it ended, says so too.
  ExplainPanel *explain = window_->explainPanel();
  QCOMPARE(explain->checkpoint(), kept + "/checkpoint.pt");
  QVERIFY2(explain->statusLabel()->text().contains("bands-" + stamp + "-2 of project “bands”"),
           qPrintable(explain->statusLabel()->text()));

  // Another project (an example, as in the trial), then this one again: File → Open both.
  QVERIFY(activate());
  auto other = answerFileDialog(QString::fromStdString(examplePath("seed-two-halves")));
  QTest::keyClick(window_->view(), Qt::Key_O, Qt::ControlModifier);
  QTRY_VERIFY(*other);
  QTRY_VERIFY(window_->document()->isTemplate());
  QVERIFY(activate());
  auto opened = answerFileDialog(path);
  QTest::keyClick(window_->view(), Qt::Key_O, Qt::ControlModifier);
  QTRY_VERIFY(*opened);
  QTRY_COMPARE(window_->document()->filePath(), path);
  // The run is in the history (after the other "bands" run that was there: the history lists the
  // runs under the project's name), and its checkpoint on the Explain tab, which explains it.
  QTRY_COMPARE(train->historyList()->count(), 2);
  QVERIFY(train->historyList()->item(1)->toolTip().contains(kept));
  QTRY_COMPARE(explain->checkpoint(), kept + "/checkpoint.pt");
  QVERIFY2(explain->statusLabel()->text().contains("of project “bands”"), qPrintable(explain->statusLabel()->text()));
  window_->setCurrentTab("explain");
  QVERIFY(explain->computeButton()->isEnabled());
  // Checkpoint… starts in the project's runs folder.
  QString shown;
  std::function<void(int)> look = [&](int tries) {
    if (auto *dialog = qobject_cast<QFileDialog *>(QApplication::activeModalWidget())) {
      shown = dialog->directory().absolutePath();
      QTest::keyClick(dialog, Qt::Key_Escape);
    } else if (tries > 0) {
      QTimer::singleShot(50, [&look, tries] { look(tries - 1); });
    }
  };
  QTimer::singleShot(50, [&look] { look(200); });
  QTest::mouseClick(explain->checkpointButton(), Qt::LeftButton);
  QTRY_COMPARE(shown, QDir(runs).absolutePath());
  QSignalSpy ready(explain, &ExplainPanel::resultReady);
  QTest::mouseClick(explain->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QVERIFY2(explain->result().error.isEmpty(), qPrintable(explain->result().error));
  QVERIFY(explain->result().samples > 0);
}

// Attacks on keeping the runs: where they go cannot be made, then the disk fills during the copy
// of Save As. Each time the project is saved, nothing of the run is lost or left half-copied, a
// warning says what was not kept and where it still is, and a later save keeps it.
void TestEditor::aRunThatCannotBeKeptStaysWholeAndTheUserIsTold() {
  TrainPanel *train = window_->trainPanel();
  const QString made = trainUntitled(window_);
  QVERIFY(!made.isEmpty());
  auto removeIfLeft = qScopeGuard([made] { QDir(made).removeRecursively(); });
  const QString stamp = QFileInfo(made).fileName().mid(QString("untitled-").size());
  const QByteArray checkpoint = bytesOf(made + "/checkpoint.pt");
  QVERIFY(checkpoint.size() > 4096);

  // 1. Where the runs go is a file, not a folder: the project is saved, the run stays.
  QTemporaryDir first;
  const QString a = first.filePath("a.particle.json"), aRuns = first.filePath("runs");
  {
    QFile blocker(aRuns);
    QVERIFY(blocker.open(QIODevice::WriteOnly));
  }
  QVERIFY(activate());
  auto saved = answerFileDialog(a);
  auto warned = answerMessageBox();
  QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
  QTRY_VERIFY(*saved);
  QTRY_VERIFY_WITH_TIMEOUT(warned->shown, 10000);
  QCOMPARE(window_->document()->filePath(), a);
  QVERIFY2(warned->text.contains(aRuns + ": cannot create the folder") &&
               warned->text.contains("nothing of it was lost: it is still in " + QFileInfo(made).absolutePath()),
           qPrintable(warned->text));
  QCOMPARE(bytesOf(made + "/checkpoint.pt"), checkpoint);
  QCOMPARE(window_->explainPanel()->checkpoint(), made + "/checkpoint.pt");
  QVERIFY(window_->statusBar()->currentMessage().contains("still in"));

  // Once it can be made, the next save keeps the run.
  QVERIFY(QFile::remove(aRuns));
  QVERIFY(activate());
  QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
  const QString inA = aRuns + "/a-" + stamp;
  QTRY_VERIFY(QFileInfo::exists(inA + "/checkpoint.pt"));
  QVERIFY(!QFileInfo::exists(made));
  QCOMPARE(window_->explainPanel()->checkpoint(), inA + "/checkpoint.pt");

  // 2. Save As elsewhere, the disk full midway through the copy (writes beyond half the
  // checkpoint's size fail as on a full disk): no half copy is left, the run in a/ is whole.
  QTemporaryDir second;
  const QString b = second.filePath("b.particle.json"), bRuns = second.filePath("runs");
  rlimit before{};
  QVERIFY(getrlimit(RLIMIT_FSIZE, &before) == 0);
  auto restore = qScopeGuard([before] { setrlimit(RLIMIT_FSIZE, &before); });
  std::signal(SIGXFSZ, SIG_IGN); // a write past the limit fails (EFBIG) instead of ending the process
  rlimit full = before;
  full.rlim_cur = static_cast<rlim_t>(checkpoint.size() / 2);
  QVERIFY(activate());
  saved = answerFileDialog(b);
  warned = answerMessageBox();
  QVERIFY(setrlimit(RLIMIT_FSIZE, &full) == 0);
  QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier | Qt::ShiftModifier);
  QTRY_VERIFY(*saved);
  QTRY_VERIFY_WITH_TIMEOUT(warned->shown, 10000);
  QVERIFY(setrlimit(RLIMIT_FSIZE, &before) == 0);
  QCOMPARE(window_->document()->filePath(), b);
  QVERIFY2(warned->text.contains("was not copied to " + bRuns) &&
               warned->text.contains(" could not be copied (File too large)") &&
               warned->text.contains("nothing of it was lost: it is still in " + aRuns),
           qPrintable(warned->text));
  QCOMPARE(QDir(bRuns).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList());
  QCOMPARE(bytesOf(inA + "/checkpoint.pt"), checkpoint);
  QCOMPARE(train->lastRunFolder(), inA);

  // Room again: the next save copies it, and a/ keeps its own.
  QVERIFY(activate());
  QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
  const QString inB = bRuns + "/b-" + stamp;
  QTRY_VERIFY(QFileInfo::exists(inB + "/checkpoint.pt"));
  QCOMPARE(bytesOf(inB + "/checkpoint.pt"), checkpoint);
  QCOMPARE(bytesOf(inA + "/checkpoint.pt"), checkpoint);
  QCOMPARE(readRunSummary(inB.toStdString()).name, std::string("b"));
  QCOMPARE(readRunSummary(inA.toStdString()).name, std::string("a"));
  QCOMPARE(QFileInfo(inB + "/checkpoint.pt").lastModified(), QFileInfo(inA + "/checkpoint.pt").lastModified());
  QCOMPARE(train->lastRunFolder(), inB);
}

// Two windows (as two instances would: both make their runs in the user's runs folder), each with
// an untitled project it trained, save to the same file: each takes its own run along and only its
// own, and the second never replaces the first's.
void TestEditor::twoWindowsSaveTheirRunsToOneProject() {
  MainWindow other;
  other.resize(1400, 900);
  other.show();
  QVERIFY(QTest::qWaitForWindowExposed(&other));
  auto closeOther = qScopeGuard([&other] { other.undoStack()->setClean(); });
  const QString mine = trainUntitled(window_), theirs = trainUntitled(&other);
  QVERIFY(!mine.isEmpty() && !theirs.isEmpty());
  auto removeIfLeft = qScopeGuard([mine, theirs] {
    QDir(mine).removeRecursively();
    QDir(theirs).removeRecursively();
  });
  const QString stampMine = QFileInfo(mine).fileName().mid(9), stampTheirs = QFileInfo(theirs).fileName().mid(9);
  QVERIFY(stampMine != stampTheirs);

  QTemporaryDir dir;
  const QString path = dir.filePath("x.particle.json"), runs = dir.filePath("runs");
  QVERIFY(activate());
  auto saved = answerFileDialog(path);
  QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
  QTRY_VERIFY(*saved);
  QTRY_COMPARE(QDir(runs).entryList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden), QStringList{"x-" + stampMine});
  QVERIFY2(QFileInfo::exists(theirs + "/checkpoint.pt"), "the first window took the other window's run");

  QVERIFY(activateWindow(&other));
  saved = answerFileDialog(path);
  auto replaced = answerReplace();
  QTest::keyClick(other.view(), Qt::Key_S, Qt::ControlModifier);
  QTRY_VERIFY(*saved);
  QVERIFY(*replaced);
  QTRY_COMPARE(other.document()->filePath(), path);
  QTRY_COMPARE(QDir(runs).entryList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden),
               (QStringList{"x-" + stampMine, "x-" + stampTheirs}));
  QVERIFY(!QFileInfo::exists(mine) && !QFileInfo::exists(theirs));
  QCOMPARE(window_->trainPanel()->lastRunFolder(), runs + "/x-" + stampMine);
  QCOMPARE(other.trainPanel()->lastRunFolder(), runs + "/x-" + stampTheirs);
  for (const QString &stamp : {stampMine, stampTheirs})
    QVERIFY(QFileInfo::exists(runs + "/x-" + stamp + "/checkpoint.pt"));
}

// A copy into the runs folder killed midway (the app killed during Save As of a large run) leaves
// its hidden `.<name>.partial-<pid>` folder. The next save into that runs folder removes those whose
// process has ended or whose pid now runs another program; a live Particle Studio's copy (here
// this process's own pid) and everything else there stay.
void TestEditor::aCopyKilledMidwayIsClearedAtTheNextSave() {
  QTemporaryDir dir;
  const QString path = dir.filePath("bands.particle.json"), runs = dir.filePath("runs");
  // A pid that has ended, and one that runs another program (sleep) now.
  QProcess ended, other;
  ended.start("sleep", {"30"});
  other.start("sleep", {"60"});
  QVERIFY(ended.waitForStarted() && other.waitForStarted());
  auto stopOther = qScopeGuard([&other] {
    other.kill();
    other.waitForFinished();
  });
  const qint64 deadPid = ended.processId(), otherPid = other.processId();
  ended.kill();
  QVERIFY(ended.waitForFinished());
  const QString dead = runs + "/.bands-20261206-011500-001.partial-" + QString::number(deadPid);
  const QString reused = runs + "/.bands-20261206-011500-002.partial-" + QString::number(otherPid);
  const QString live =
      runs + "/.bands-20261206-011500-003.partial-" + QString::number(QCoreApplication::applicationPid());
  const QString theirs = runs + "/bands-20261206-011500-004", odd = runs + "/.notes.partial-x";
  for (const QString &folder : {dead, reused, live, theirs, odd}) {
    QVERIFY(QDir().mkpath(folder + "/trials"));
    writeFileAtomically((folder + "/trials/checkpoint.pt").toStdString(), "half a checkpoint");
  }

  QVERIFY(activate());
  auto saved = answerFileDialog(path);
  QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
  QTRY_VERIFY(*saved);
  QTRY_COMPARE(window_->document()->filePath(), path);
  QVERIFY2(!QFileInfo::exists(dead), "the partial copy of an ended process is still there");
  QVERIFY2(!QFileInfo::exists(reused), "the partial copy of a pid that runs another program is still there");
  QCOMPARE(QDir(runs).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
           (QStringList{".bands-20261206-011500-003.partial-" + QString::number(QCoreApplication::applicationPid()),
                        ".notes.partial-x", "bands-20261206-011500-004"}));
  for (const QString &folder : {live, theirs, odd})
    QVERIFY(QFileInfo::exists(folder + "/trials/checkpoint.pt"));
}

void TestEditor::theWindowNeverResizesItself() {
  // Every tab fits a 1024×700 screen, and what the inspector shows never pushes the window wider.
  window_->resize(1024, 700);
  QTest::qWait(50);
  QVERIFY2(
      window_->minimumSizeHint().width() <= 1024 && window_->minimumSizeHint().height() <= 700,
      qPrintable(
          QString("minimum %1×%2").arg(window_->minimumSizeHint().width()).arg(window_->minimumSizeHint().height())));
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("fashion-patches"))));
  const QSize size = window_->size();
  for (const char *id : {"split", "p0", "combine", "head", "input"}) {
    clickNode(window_->view(), window_->scene()->nodeItem(id));
    QTest::qWait(30);
    QCOMPARE(window_->size(), size);
  }
  for (int tab = 0; tab < 3; ++tab) {
    QTest::keyClick(window_, Qt::Key(Qt::Key_1 + tab), Qt::ControlModifier);
    QTest::qWait(30);
    QCOMPARE(window_->size(), size);
  }
}

// Delete, Backspace, Select All, Copy/Paste/Duplicate, Share and Auto-layout pressed on another
// tab leave the hidden canvas alone (Delete on a Train chart once removed the graph selected on
// Design); back on Design, Delete deletes. Undo stays the document's on every tab.
void TestEditor::canvasKeysActOnTheDesignTabOnly() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("seed-two-halves"))));
  QVERIFY(activate());
  GraphDocument *doc = window_->document();
  GraphView *view = window_->view();
  const auto centreOf = [&](const QString &id) {
    return view->mapFromScene(window_->scene()->nodeItem(id)->bodyRect().center());
  };
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, centreOf("left"));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier, centreOf("combine"));
  QCOMPARE(window_->scene()->selectedIds().size(), 2);
  const std::string before = doc->graphSnapshot();
  const auto focused = [this] { return QApplication::focusWidget() ? QApplication::focusWidget() : window_; };
  QTest::keyClick(focused(), Qt::Key_2, Qt::ControlModifier);
  QCOMPARE(window_->tabs()->currentIndex(), 1);
  QWidget *chart = window_->trainPanel()->lossPlot();
  QTest::mouseClick(chart, Qt::LeftButton, {}, chart->rect().center());
  QTest::keyClick(focused(), Qt::Key_Delete);
  QTest::keyClick(focused(), Qt::Key_Backspace);
  QTest::keyClick(focused(), Qt::Key_A, Qt::ControlModifier);
  QTest::keyClick(focused(), Qt::Key_D, Qt::ControlModifier);
  QTest::keyClick(focused(), Qt::Key_C, Qt::ControlModifier);
  QTest::keyClick(focused(), Qt::Key_V, Qt::ControlModifier);
  QTest::keyClick(focused(), Qt::Key_G, Qt::ControlModifier);
  QTest::keyClick(focused(), Qt::Key_L, Qt::ControlModifier);
  QCOMPARE(doc->graphSnapshot(), before);
  QCOMPARE(window_->undoStack()->count(), 0);
  QCOMPARE(window_->scene()->selectedIds(), (QStringList{"left", "combine"}));
  // Back on Design the selection is as the user left it, and Delete deletes it.
  QTest::keyClick(focused(), Qt::Key_1, Qt::ControlModifier);
  QCOMPARE(window_->tabs()->currentIndex(), 0);
  QTest::keyClick(focused(), Qt::Key_Delete);
  QCOMPARE(static_cast<int>(doc->graph().nodes.size()), 4);
  // Undo works from another tab.
  QTest::keyClick(focused(), Qt::Key_2, Qt::ControlModifier);
  QTest::mouseClick(chart, Qt::LeftButton, {}, chart->rect().center());
  QTest::keyClick(focused(), Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(doc->graphSnapshot(), before);
}

void TestEditor::wiresAreSelectedAndDeleted() {
  GraphDocument *doc = window_->document();
  doc->reset(projectFromJson(baseProject(), "wires.json"));
  GraphView *view = window_->view();
  view->resetTransform();
  const Edge edge{PortRef{"d", "0"}, PortRef{"combine", "3"}};
  QGraphicsPathItem *wire = window_->scene()->edgeItem(edge);
  QVERIFY(wire);
  const QPointF middle = wire->path().pointAtPercent(0.5);
  view->centerOn(middle);
  // A click on the wire selects it; Delete removes it (one undo step).
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->mapFromScene(middle));
  QCOMPARE(window_->scene()->selectedEdges().size(), std::size_t{1});
  QTest::keyClick(view, Qt::Key_Delete);
  QCOMPARE(static_cast<int>(doc->graph().edges.size()), 9);
  QVERIFY(std::find(doc->graph().edges.begin(), doc->graph().edges.end(), edge) == doc->graph().edges.end());
  QCOMPARE(static_cast<int>(doc->graph().nodes.size()), 8); // the nodes stay
  QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(static_cast<int>(doc->graph().edges.size()), 10);
}

void TestEditor::aWireIsPickedUpByItsInputEnd() {
  GraphDocument *doc = window_->document();
  doc->reset(projectFromJson(baseProject(), "wires.json"));
  GraphView *view = window_->view();
  view->resetTransform();
  auto item = [&](const char *id) { return window_->scene()->nodeItem(id); };
  // d's input end is taken from d and dropped on c's input... which is taken: refused, nothing changes.
  const std::string before = doc->text();
  dragOnView(view, item("d")->inputPortPos("0"), item("c")->inputPortPos("0"));
  QCOMPARE(doc->text(), before);
  // Dropped on empty canvas: disconnected.
  dragOnView(view, item("d")->inputPortPos("0"), item("d")->inputPortPos("0") + QPointF(-120, 90));
  QVERIFY(doc->graph().incoming("d").empty());
  QCOMPARE(doc->validation().has(ProblemCode::InputNotConnected), true);
  // And a wire moved from one input to a free one: split:3 now feeds d again via its free input.
  QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(doc->text(), before);
  dragOnView(view, item("combine")->inputPortPos("3"), item("combine")->inputPortPos("4"));
  bool moved = false;
  for (const auto &e : doc->graph().edges)
    moved |= e.from.node == "d" && e.to == PortRef{"combine", "4"};
  QVERIFY(moved);
  QCOMPARE(window_->undoStack()->undoText(), QString("Reconnect d → combine:4"));
}

QTEST_MAIN(TestEditor)
void TestEditor::anOpenedGraphFitsASmallWindow() {
  // Every node on screen when an example opens in a 1024×700 window, and while the window grows;
  // once the user zooms, the view is theirs and a resize leaves it alone.
  GraphView *view = window_->view();
  auto allInView = [&] {
    const QRect viewport = view->viewport()->rect();
    for (const auto &node : window_->document()->graph().nodes) {
      const QRect at =
          view->mapFromScene(window_->scene()->nodeItem(QString::fromStdString(node.id))->sceneBoundingRect())
              .boundingRect();
      if (!viewport.contains(at)) {
        qWarning() << node.id.c_str() << at << "outside" << viewport;
        return false;
      }
    }
    return true;
  };
  window_->resize(1024, 700);
  QTest::qWait(50);
  for (const char *example : {"weather-parts", "fashion-patches"}) {
    auto opened = answerFileDialog(QString::fromStdString(examplePath(example)));
    QTest::keyClick(view, Qt::Key_O, Qt::ControlModifier);
    QVERIFY(QTest::qWaitFor([&] { return *opened; }, 30000));
    QVERIFY(QTest::qWaitFor([&] { return window_->document()->project().name == example; }, 5000));
    QTest::qWait(50);
    QVERIFY2(allInView(), example);
    QVERIFY(view->zoom() <= 1.0);
  }
  window_->resize(1600, 1000);
  QTest::qWait(50);
  QVERIFY(allInView());
  QVERIFY(view->zoom() <= 1.0);
  const double fitted = view->zoom();
  QTest::keyClick(view, Qt::Key_Plus);
  const double zoomed = view->zoom();
  QVERIFY(zoomed > fitted);
  window_->resize(1024, 700);
  QTest::qWait(50);
  QCOMPARE(view->zoom(), zoomed);
  // F fits again, and the view follows the window once more.
  QTest::keyClick(view, Qt::Key_F);
  QVERIFY(allInView());
  window_->resize(1300, 800);
  QTest::qWait(50);
  QVERIFY(allInView());
}

// Nodes tied with Ctrl+G say that their parameters are shared, so that the figures on the nodes add
// up to the status bar's total: a later member of a share group runs the first member's module
// ("…, shared"), or with share_scope "trunk" only its last layer is its own. The Inspector names
// the member it shares with. (A trial's user saw four ConvNets with 57,000 each and a total of
// 58,000.)
void TestEditor::sharedNodesCountTheirParametersOnce() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("seed-two-halves"))));
  QVERIFY(activate());
  GraphView *view = window_->view();
  const auto centreOf = [&](const QString &id) {
    return view->mapFromScene(window_->scene()->nodeItem(id)->bodyRect().center());
  };
  const auto ownFigure = [](const QString &text) { // the leading figure of a node's line, commas out
    return text.section(' ', 0, 0).remove(',').toLongLong();
  };
  const auto count = [&](const QString &id) { return window_->scene()->nodeItem(id)->paramText(); };
  const QString alone = count("right");
  QVERIFY2(alone.endsWith(" params"), qPrintable(alone));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, centreOf("left"));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier, centreOf("right"));
  QCOMPARE(window_->scene()->selectedIds().size(), 2);
  QTest::keyClick(view, Qt::Key_G, Qt::ControlModifier);
  QTRY_VERIFY(!window_->document()->graph().find("right")->share.empty());
  // "right" runs "left"'s module: the same figure, marked shared, counted once in the total.
  QTRY_COMPARE(count("right"), alone + ", shared");
  QCOMPARE(count("left"), alone);
  const Validation v = validate(window_->document()->project());
  int64_t own = 0;
  for (const auto &n : window_->document()->graph().nodes) {
    const QString text = count(QString::fromStdString(n.id));
    own += text.contains("shared") && !text.contains(" own + ") ? 0 : ownFigure(text);
  }
  QCOMPARE(own, v.uniqueParameters);
  QVERIFY2(window_->paramsLabel()->text().startsWith(QLocale(QLocale::English).toString(qlonglong(own))),
           qPrintable(window_->paramsLabel()->text()));
  // The Inspector of "right" (clicked alone) names "left".
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, centreOf("right"));
  auto *label = window_->inspector()->findChild<QLabel *>("inspectorParameters");
  QVERIFY(label);
  QTRY_VERIFY2(label->text().contains("all shared with left"), qPrintable(label->text()));

  // fashion-patches' four ConvNets share their trunk: p0 holds it, p1–p3 only their last layer.
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("fashion-patches"))));
  const QString p1 = count("p1");
  QVERIFY2(p1.contains(" own + ") && p1.endsWith(" shared"), qPrintable(p1));
  QVERIFY2(count("p0").endsWith(" params"), qPrintable(count("p0")));
  const Validation patches = validate(window_->document()->project());
  own = 0;
  for (const auto &n : window_->document()->graph().nodes)
    own += ownFigure(count(QString::fromStdString(n.id)));
  QCOMPARE(own, patches.uniqueParameters);
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, centreOf("p2"));
  QTRY_VERIFY2(label->text().contains(QString("\n%1 its own\n").arg(p1.section(' ', 0, 0))) &&
                   label->text().endsWith(" shared with p0"),
               qPrintable(label->text()));
}

// Ctrl+G on members of a trunk-scoped group changes nothing and says they are tied (it made them a
// full tie in the trial, splitting the group: the other members turned red); a node brought into
// such a group takes its scope. A Split caught by a rubber band around two sub-models is left out
// (the status says so) instead of refusing the whole selection.
void TestEditor::ctrlGKeepsAGroupsScopeAndLeavesOutWhatCannotShare() {
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("fashion-patches"))));
  QVERIFY(activate());
  GraphDocument *doc = window_->document();
  GraphView *view = window_->view();
  const auto centreOf = [&](const QString &id) {
    return view->mapFromScene(window_->scene()->nodeItem(id)->bodyRect().center());
  };
  const std::string before = doc->graphSnapshot();
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, centreOf("p0"));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier, centreOf("p1"));
  QTest::keyClick(view, Qt::Key_G, Qt::ControlModifier);
  QCOMPARE(doc->graphSnapshot(), before);
  QCOMPARE(window_->undoStack()->count(), 0);
  QVERIFY2(window_->statusBar()->currentMessage().contains("already share"),
           qPrintable(window_->statusBar()->currentMessage()));
  QVERIFY(doc->validation().ok());

  // p3 out of the group (Ctrl+Shift+G), then p2 and p3 tied again: p3 rejoins with scope trunk.
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, centreOf("p3"));
  QTest::keyClick(view, Qt::Key_G, Qt::ControlModifier | Qt::ShiftModifier);
  QTRY_VERIFY(doc->graph().find("p3")->share.empty());
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, centreOf("p2"));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier, centreOf("p3"));
  QTest::keyClick(view, Qt::Key_G, Qt::ControlModifier);
  QTRY_COMPARE(doc->graph().find("p3")->share, std::string("patch"));
  QCOMPARE(doc->graph().find("p3")->shareScope, std::string("trunk"));
  QCOMPARE(doc->graphSnapshot(), before);
  QVERIFY(doc->validation().ok());

  // The Split with two sub-models: the two are tied, the Split left out and named.
  QVERIFY(window_->files()->open(QString::fromStdString(examplePath("seed-two-halves"))));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, centreOf("split"));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier, centreOf("left"));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier, centreOf("right"));
  QCOMPARE(window_->scene()->selectedIds().size(), 3);
  QTest::keyClick(view, Qt::Key_G, Qt::ControlModifier);
  QTRY_VERIFY(!window_->document()->graph().find("left")->share.empty());
  QCOMPARE(window_->document()->graph().find("right")->share, window_->document()->graph().find("left")->share);
  QVERIFY(window_->document()->graph().find("split")->share.empty());
  QVERIFY2(window_->statusBar()->currentMessage().contains("left out split"),
           qPrintable(window_->statusBar()->currentMessage()));
}

#include "tst_editor.moc"
