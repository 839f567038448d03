// Trained particles in the app, through input events only: before any run, the canvas's right-click
// menu offers Save as particle… disabled, saying why; after a run (the Train tab's Start button),
// the same menu item saves the node into the project's particles/ folder, and the Library panel
// lists it with its provenance. Dragged from the panel onto the canvas, the particle becomes a node
// that starts from it (init naming the file relative to the project, and the node in it); the
// Inspector's freeze box, clicked, freezes a node (its badge, its "(frozen)" parameter line) and
// Ctrl+Z undoes it; the Inspector's Clear empties the init.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "library/LibraryPanel.h"
#include "training/TrainPanel.h"

#include <QCheckBox>
#include <QDir>
#include <QDockWidget>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTreeWidget>
#include <QScrollBar>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {

// What the right-click menu showed for one item, and whether it was chosen.
struct MenuAnswer {
  bool shown = false, found = false, enabled = false;
  QString toolTip;
};

// Answers the next context menu: clicks the item `text` when it is enabled and `choose` is set,
// otherwise closes the menu with Escape. Call it before the right-click.
std::shared_ptr<MenuAnswer> answerMenu(const QString &text, bool choose) {
  auto answer = std::make_shared<MenuAnswer>();
  auto attempt = std::make_shared<std::function<void(int)>>();
  std::weak_ptr<std::function<void(int)>> self = attempt;
  *attempt = [answer, self, text, choose](int tries) {
    auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
    if (!menu || !menu->isVisible()) {
      if (auto again = self.lock(); again && tries > 0)
        QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
      return;
    }
    answer->shown = true;
    for (QAction *a : menu->actions())
      if (a->text() == text) {
        answer->found = true;
        answer->enabled = a->isEnabled();
        answer->toolTip = a->toolTip();
        if (choose && a->isEnabled()) {
          QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(a).center());
          return;
        }
      }
    QTest::keyClick(menu, Qt::Key_Escape);
  };
  QTimer::singleShot(50, [attempt] { (*attempt)(600); });
  return answer;
}

// Right-clicks a node's header on the canvas. Through the window, as the platform delivers it: a
// widget's own mouse events make no context menu event.
void rightClickNode(GraphView *view, NodeItem *node) {
  view->ensureVisible(node);
  const QPoint at = view->mapFromScene(node->mapToScene(QPointF(60, 10)));
  QWidget *top = view->window();
  QTest::mouseClick(top->windowHandle(), Qt::RightButton, {}, view->viewport()->mapTo(top, at));
}

// Drags a Library item onto the canvas at `at` (viewport coordinates). The offscreen platform runs
// no drag loop, so the drop events a drag delivers are sent to the canvas, carrying what the
// panel's list gives a drag of that item.
void dragToCanvas(QTreeWidget *tree, QTreeWidgetItem *item, GraphView *view, QPoint at) {
  tree->scrollToItem(item);
  QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, tree->visualItemRect(item).center());
  const QModelIndex index = tree->currentIndex();
  std::unique_ptr<QMimeData> mime(tree->model()->mimeData({index}));
  QVERIFY(mime);
  QDragEnterEvent enter(at, Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(view->viewport(), &enter);
  QVERIFY(enter.isAccepted());
  QDragMoveEvent move(at, Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(view->viewport(), &move);
  QDropEvent drop(QPointF(at), Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(view->viewport(), &drop);
}

// Right-clicks a Library item where it is drawn.
void rightClickItem(QTreeWidget *tree, QTreeWidgetItem *item) {
  tree->scrollToItem(item);
  QWidget *top = tree->window();
  QTest::mouseClick(top->windowHandle(), Qt::RightButton, {},
                    tree->viewport()->mapTo(top, tree->visualItemRect(item).center()));
}

// The window active again (after a menu or a dialog), so that its shortcuts answer.
bool activate(QWidget &window) {
  // Always asked: after a menu closes, QApplication may call the window active while the
  // platform's focus window is not yet (seen under ASan), and then only a request brings it back.
  window.activateWindow();
  return QTest::qWaitForWindowActive(&window);
}

// Answers the next Save as particle dialog with Enter (its defaults).
std::shared_ptr<bool> acceptSaveDialog() {
  auto done = std::make_shared<bool>(false);
  auto attempt = std::make_shared<std::function<void(int)>>();
  std::weak_ptr<std::function<void(int)>> self = attempt;
  *attempt = [done, self](int tries) {
    QWidget *dialog = QApplication::activeModalWidget();
    if (!dialog || dialog->objectName() != "savePartDialog") {
      if (auto again = self.lock(); again && tries > 0)
        QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
      return;
    }
    if (QApplication::activeWindow() != dialog)
      QApplication::setActiveWindow(dialog);
    auto *file = dialog->findChild<QLineEdit *>("partFileEdit");
    QTest::mouseClick(file, Qt::LeftButton);
    QTest::keyClick(file, Qt::Key_Return);
    *done = true;
  };
  QTimer::singleShot(50, [attempt] { (*attempt)(600); });
  return done;
}

} // namespace

class TestLibrary : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    // The user's library starts empty: what it lists below is what this test saved.
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/particles").removeRecursively();
  }
  void saveDragFreeze();
  void openLibraryFolderSaysWhere();
};

// Fresh eyes #7: with no file manager (this platform has none), Open Library Folder says where the
// folder is, in a box whose text can be selected and copied.
void TestLibrary::openLibraryFolderSaysWhere() {
  MainWindow window;
  window.resize(1024, 700);
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  QTest::keyClick(window.view(), Qt::Key_L, Qt::ControlModifier | Qt::ShiftModifier);
  auto *open = window.library()->findChild<QPushButton *>("openLibraryButton");
  QTRY_VERIFY(open && open->isVisible());
  auto answer = answerMessageBox();
  QTest::mouseClick(open, Qt::LeftButton);
  QTRY_VERIFY(answer->shown);
  const QString folder =
      QDir::toNativeSeparators(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/particles");
  QVERIFY2(answer->text.contains(folder.toHtmlEscaped()), qPrintable(answer->text));
}

void TestLibrary::saveDragFreeze() {
  QTemporaryDir dir;
  Json source = baseProject();
  source["name"] = "source";
  const QString project = QString::fromStdString(writeFile(dir, "source.particle.json", source.dump(2)));
  MainWindow window;
  window.resize(1400, 900);
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  auto opened = answerFileDialog(project);
  QTest::keyClick(window.view(), Qt::Key_O, Qt::ControlModifier);
  QVERIFY(*opened);
  QTRY_COMPARE(window.document()->filePath(), project);

  // No run yet: the item is there, disabled, and says why.
  NodeItem *c = window.scene()->nodeItem("c");
  QVERIFY(c);
  auto menu = answerMenu("Save as particle…", true);
  rightClickNode(window.view(), c);
  QTRY_VERIFY(menu->shown);
  QVERIFY(menu->found);
  QVERIFY(!menu->enabled);
  QVERIFY2(menu->toolTip.contains("train", Qt::CaseInsensitive), qPrintable(menu->toolTip));

  // A run, with the Train tab's button.
  QVERIFY(activate(window));
  QTest::keyClick(window.view(), Qt::Key_2, Qt::ControlModifier);
  TrainPanel *panel = window.trainPanel();
  QTRY_VERIFY(panel->startButton()->isVisible() && panel->startButton()->isEnabled());
  QTest::mouseClick(panel->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(!panel->lastCheckpoint().isEmpty() && panel->startButton()->isEnabled(), 120000);
  QVERIFY(activate(window));
  QTest::keyClick(window.view(), Qt::Key_1, Qt::ControlModifier);

  // Save as particle…: the dialog's defaults put it in the project's particles/ folder.
  const QString saved = QDir(dir.path()).filePath("particles/source-c.particle-part");
  auto dialog = acceptSaveDialog();
  menu = answerMenu("Save as particle…", true);
  rightClickNode(window.view(), c);
  QTRY_VERIFY(menu->shown);
  QVERIFY2(menu->enabled, qPrintable(menu->toolTip));
  QTRY_VERIFY(*dialog);
  QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(saved), 60000);
  QTRY_VERIFY(window.statusBar()->currentMessage().contains(saved));
  // The closed dialog gives the keyboard back to the window: its shortcuts work without a click.
  QTRY_COMPARE(QApplication::activeWindow(), &window);

  // The Library lists it, with where it came from.
  QVERIFY(activate(window));
  QTest::keyClick(window.view(), Qt::Key_L, Qt::ControlModifier | Qt::ShiftModifier);
  QTRY_VERIFY(window.dock("library")->isVisible());
  LibraryPanel *library = window.library();
  QTreeWidgetItem *item = nullptr;
  QTRY_VERIFY((item = library->itemFor(saved)) != nullptr);
  QVERIFY2(item->flags() & Qt::ItemIsDragEnabled, qPrintable(item->text(0)));
  // Fresh eyes #12: its name, then its size and accuracy, on two lines within the dock's width.
  QVERIFY2(item->text(0).startsWith("source-c\n") && item->text(0).contains("params · "), qPrintable(item->text(0)));
  const QRect row = library->tree()->visualItemRect(item);
  QVERIFY(row.height() >= 2 * library->tree()->fontMetrics().lineSpacing());
  QVERIFY(row.right() <= library->tree()->viewport()->width());
  QVERIFY(!library->tree()->horizontalScrollBar()->isVisible());
  const QString provenance = item->toolTip(0);
  for (const char *words : {"from project", "source", "data set", "synthetic", "test accuracy", "parameters", "shapes"})
    QVERIFY2(provenance.contains(words), qPrintable(provenance));

  // Dragged onto the canvas: a node that starts from the particle (named relative to the project).
  const int before = static_cast<int>(window.document()->graph().nodes.size());
  const QPoint drop = window.view()->mapFromScene(c->bodyRect().bottomLeft() + QPointF(0, 200));
  dragToCanvas(library->tree(), item, window.view(), drop);
  QTRY_COMPARE(static_cast<int>(window.document()->graph().nodes.size()), before + 1);
  const Node added = window.document()->graph().nodes.back();
  QVERIFY(added.init);
  QCOMPARE(QString::fromStdString(added.init->from), QString("particles/source-c.particle-part"));
  QCOMPARE(QString::fromStdString(added.init->node), QString("c"));
  QCOMPARE(added.type, std::string("MLP"));
  // Fresh eyes #8: the canvas marks it as starting from trained weights (a chip in its header).
  QTRY_VERIFY(window.scene()->nodeItem(QString::fromStdString(added.id))->startsTrained());
  QVERIFY(!c->startsTrained());

  // Its Inspector says where it starts from; freeze is a click, and the canvas shows it.
  const QString addedId = QString::fromStdString(added.id);
  auto *freeze = qobject_cast<QCheckBox *>(inspectorEditor(&window, addedId, "freeze"));
  QVERIFY(freeze);
  QCOMPARE(window.inspector()->nodeId(), addedId);
  auto *initLabel = window.inspector()->findChild<QLabel *>("initLabel");
  QVERIFY(initLabel && initLabel->isVisible());
  QVERIFY2(initLabel->text().contains("source-c.particle-part"), qPrintable(initLabel->text()));
  QTest::mouseClick(freeze, Qt::LeftButton, {}, QPoint(8, freeze->height() / 2));
  QTRY_VERIFY(window.document()->graph().find(added.id)->freeze);
  QTRY_VERIFY(window.scene()->nodeItem(addedId)->frozen());

  // A connected node frozen the same way: its parameter line says so; Ctrl+Z gives it back.
  freeze = qobject_cast<QCheckBox *>(inspectorEditor(&window, "c", "freeze"));
  QVERIFY(freeze);
  QCOMPARE(window.inspector()->nodeId(), QString("c"));
  QTest::mouseClick(freeze, Qt::LeftButton, {}, QPoint(8, freeze->height() / 2));
  QTRY_VERIFY(c->paramText().contains("(frozen)"));
  QVERIFY(c->frozen());
  QVERIFY(activate(window));
  QTest::keyClick(window.view(), Qt::Key_Z, Qt::ControlModifier);
  QTRY_VERIFY(!c->frozen());
  QVERIFY2(!c->paramText().contains("frozen"), qPrintable(c->paramText()));

  // Clear: the dropped node starts from fresh weights again.
  QWidget *clear = inspectorEditor(&window, addedId, "init_clear");
  QVERIFY(clear && clear->isVisible());
  QTest::mouseClick(clear, Qt::LeftButton);
  QTRY_VERIFY(!window.document()->graph().find(added.id)->init);
  QTRY_VERIFY(!window.scene()->nodeItem(addedId)->startsTrained());

  // Fresh eyes #6: right-click → Copy to My Library lists it under "Your library" too; right-click
  // the copy → Delete…, asked first (Yes), removes it.
  QVERIFY(activate(window));
  QTest::keyClick(window.view(), Qt::Key_L, Qt::ControlModifier | Qt::ShiftModifier);
  QTRY_VERIFY((item = library->itemFor(saved)) != nullptr);
  menu = answerMenu("Copy to My Library", true);
  rightClickItem(library->tree(), item);
  QTRY_VERIFY(menu->shown);
  QVERIFY(menu->found && menu->enabled);
  const QString mine =
      QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/particles/source-c.particle-part";
  QTRY_VERIFY(QFile::exists(mine));
  QTreeWidgetItem *copy = nullptr;
  QTRY_VERIFY((copy = library->itemFor(mine)) != nullptr);
  QCOMPARE(copy->parent(), library->tree()->topLevelItem(0)); // "Your library"
  QVERIFY(QFile::exists(saved));
  auto yes = std::make_shared<bool>(false);
  auto clickYes = std::make_shared<std::function<void(int)>>();
  std::weak_ptr<std::function<void(int)>> self = clickYes;
  *clickYes = [yes, self](int tries) {
    auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
    if (!box) {
      if (auto again = self.lock(); again && tries > 0)
        QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
      return;
    }
    if (box->text().contains("source-c.particle-part") && box->button(QMessageBox::Yes)) {
      QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
      *yes = true;
    } else
      QTest::keyClick(box, Qt::Key_Escape);
  };
  QTimer::singleShot(50, [clickYes] { (*clickYes)(600); });
  menu = answerMenu("Delete…", true);
  rightClickItem(library->tree(), copy);
  QTRY_VERIFY(menu->shown && *yes);
  QTRY_VERIFY(!QFile::exists(mine));
  QTRY_VERIFY(library->itemFor(mine) == nullptr);
  QVERIFY(QFile::exists(saved));
}

QTEST_MAIN(TestLibrary)
#include "tst_library.moc"
