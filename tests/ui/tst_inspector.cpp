// Every kind of inspector editor, edited as a person does — by mouse and by keyboard — on the real
// widgets: the app lives, the value lands in the project, the field keeps the focus and is the
// same widget as before (an edit never destroys the editor in use).

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"
#include "editor/InspectorWidget.h"
#include "editor/NodeItem.h"
#include "forms/SchemaForm.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QPointer>
#include <QSpinBox>
#include <QStandardPaths>
#include <QUndoStack>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

class TestInspector : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void init();
  void cleanup();
  void enumBox();
  void enumBoxChangesWhichFieldsApply();
  void integer();
  void floatingPoint();
  void boolean();
  void list();
  void shareGroup();
  void shareScope();
  void editsOfATiedMemberReachTheWholeGroup();
  void splitOfUnequalPartsShowsEachOnTheCanvas();

private:
  // Clicks the node on the canvas and waits for its editors; returns the editor of `param`.
  QWidget *select(const QString &node, const QString &param) { return inspectorEditor(window_, node, param); }
  const Node &node(const char *id) const { return *window_->document()->graph().find(id); }
  void verifyStillThere(const QPointer<QWidget> &editor, const QString &param);
  MainWindow *window_ = nullptr;
};

void TestInspector::init() {
  window_ = new MainWindow;
  window_->resize(1400, 900);
  window_->show();
  QVERIFY(QTest::qWaitForWindowActive(window_));
  window_->document()->reset(projectFromJson(baseProject(), "inspector.json"));
  QTest::qWait(20);
}

void TestInspector::cleanup() {
  window_->undoStack()->setClean();
  delete window_;
  window_ = nullptr;
}

void TestInspector::verifyStillThere(const QPointer<QWidget> &editor, const QString &param) {
  QVERIFY2(editor, "the editor in use was destroyed by its own edit");
  QCOMPARE(window_->inspector()->editorFor(param), editor.data());
  QVERIFY(window_->isVisible());
}

void TestInspector::enumBox() {
  QPointer<QWidget> editor = select("c", "activation");
  auto *combo = qobject_cast<QComboBox *>(editor.data());
  QVERIFY(combo);
  // Mouse: open the list, click an item.
  QVERIFY(chooseWithMouse(combo, "gelu"));
  QCOMPARE(node("c").params["activation"], Json("gelu"));
  verifyStillThere(editor, "activation");
  QVERIFY(hasFocusWithin(combo));
  // Keyboard: the Down key picks the next choice, and the field keeps the focus.
  QTest::keyClick(combo, Qt::Key_Down);
  QCOMPARE(node("c").params["activation"], Json("tanh"));
  verifyStillThere(editor, "activation");
  QVERIFY(hasFocusWithin(combo));
  QTest::keyClick(combo, Qt::Key_Up);
  QCOMPARE(node("c").params["activation"], Json("gelu"));
  QVERIFY(hasFocusWithin(combo));
}

void TestInspector::enumBoxChangesWhichFieldsApply() {
  // The report that started it all: picking another Split mode crashed the app.
  QPointer<QWidget> editor = select("split", "mode");
  auto *combo = qobject_cast<QComboBox *>(editor.data());
  QVERIFY(combo);
  auto *form = window_->inspector()->form();
  QVERIFY(form->fieldVisible("parts"));
  QVERIFY(!form->fieldVisible("rows"));
  QVERIFY(chooseWithMouse(combo, "patches"));
  QCOMPARE(node("split").params["mode"], Json("patches"));
  verifyStillThere(editor, "mode");
  QVERIFY(form->fieldVisible("rows"));
  QVERIFY(!form->fieldVisible("parts"));
  // Patches on vector data: the problem is shown beside the field.
  QVERIFY(form->problemText("mode").contains("image"));
  QTest::keyClick(combo, Qt::Key_Down); // chunks
  QCOMPARE(node("split").params["mode"], Json("chunks"));
  verifyStillThere(editor, "mode");
  QVERIFY(hasFocusWithin(combo));
  QVERIFY(form->fieldVisible("parts"));
  QVERIFY(form->problemText("mode").isEmpty());
  QVERIFY(window_->document()->validation().ok());
}

void TestInspector::integer() {
  QPointer<QWidget> editor = select("c", "out");
  auto *spin = qobject_cast<QSpinBox *>(editor.data());
  QVERIFY(spin);
  // Keyboard: type a value, Enter.
  typeInto(spin, "12");
  QCOMPARE(node("c").params["out"].get<int>(), 12);
  verifyStillThere(editor, "out");
  QVERIFY(hasFocusWithin(spin));
  // Keyboard: the arrow keys step it.
  QTest::keyClick(QApplication::focusWidget(), Qt::Key_Up);
  QCOMPARE(node("c").params["out"].get<int>(), 13);
  QVERIFY(hasFocusWithin(spin));
  // Mouse: the spin box's own arrows.
  clickSpinArrow(spin, true);
  QCOMPARE(node("c").params["out"].get<int>(), 14);
  clickSpinArrow(spin, false);
  QCOMPARE(node("c").params["out"].get<int>(), 13);
  verifyStillThere(editor, "out");
  QVERIFY(hasFocusWithin(spin));
  // Undo puts the field back, in place.
  QTest::keyClick(window_->view(), Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(node("c").params["out"].get<int>(), 14);
  QCOMPARE(spin->value(), 14);
}

void TestInspector::floatingPoint() {
  QPointer<QWidget> editor = select("c", "dropout");
  auto *box = qobject_cast<QDoubleSpinBox *>(editor.data());
  QVERIFY(box);
  typeInto(box, "0.25");
  QCOMPARE(node("c").params["dropout"].get<double>(), 0.25);
  verifyStillThere(editor, "dropout");
  QVERIFY(hasFocusWithin(box));
  // The steps follow the value's magnitude: 0.25 → 0.26.
  QTest::keyClick(QApplication::focusWidget(), Qt::Key_Up);
  QVERIFY(std::abs(node("c").params["dropout"].get<double>() - 0.26) < 1e-9);
  clickSpinArrow(box, false);
  QVERIFY(std::abs(node("c").params["dropout"].get<double>() - 0.25) < 1e-9);
  verifyStillThere(editor, "dropout");
  QVERIFY(hasFocusWithin(box));
  // Out of range is not taken: the box keeps its bounds.
  typeInto(box, "7");
  QVERIFY(node("c").params["dropout"].get<double>() <= 0.95);
}

void TestInspector::boolean() {
  QPointer<QWidget> editor = select("input", "normalize");
  auto *box = qobject_cast<QCheckBox *>(editor.data());
  QVERIFY(box);
  QVERIFY(box->isChecked());
  QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(8, box->height() / 2));
  QCOMPARE(node("input").params["normalize"], Json(false));
  verifyStillThere(editor, "normalize");
  QVERIFY(hasFocusWithin(box));
  QTest::keyClick(box, Qt::Key_Space);
  QCOMPARE(node("input").params["normalize"], Json(true));
  verifyStillThere(editor, "normalize");
  QVERIFY(hasFocusWithin(box));
}

void TestInspector::list() {
  QPointer<QWidget> editor = select("c", "hidden");
  auto *line = qobject_cast<QLineEdit *>(editor.data());
  QVERIFY(line);
  typeInto(line, "24, 12");
  QCOMPARE(node("c").params["hidden"], Json::array({24, 12}));
  verifyStillThere(editor, "hidden");
  QVERIFY(hasFocusWithin(line));
  // Something unreadable is not stored: the field says why and keeps the text.
  typeInto(line, "24, x");
  QCOMPARE(node("c").params["hidden"], Json::array({24, 12}));
  QVERIFY(!window_->inspector()->form()->problemText("hidden").isEmpty());
  QCOMPARE(line->text(), QString("24, x"));
  // Tab out of the field commits, like Enter.
  typeInto(line, "8", Qt::Key_Tab);
  QCOMPARE(node("c").params["hidden"], Json::array({8}));
  verifyStillThere(editor, "hidden");
  QVERIFY(window_->inspector()->form()->problemText("hidden").isEmpty());
}

void TestInspector::shareGroup() {
  QPointer<QWidget> editor = select("c", "share");
  auto *combo = qobject_cast<QComboBox *>(editor.data());
  QVERIFY(combo);
  // Keyboard: a new group's name, typed.
  typeInto(combo, "mine");
  QCOMPARE(node("c").share, std::string("mine"));
  verifyStillThere(editor, "share");
  QVERIFY(hasFocusWithin(combo));
  // Mouse: an existing group from the list (c has a's and b's params, so it may join).
  QVERIFY(chooseWithMouse(combo, "g"));
  QCOMPARE(node("c").share, std::string("g"));
  verifyStillThere(editor, "share");
  QVERIFY(window_->document()->validation().ok());
  // The empty choice leaves the group.
  QVERIFY(chooseWithMouse(combo, ""));
  QCOMPARE(node("c").share, std::string());
}

void TestInspector::shareScope() {
  QPointer<QWidget> editor = select("a", "share_scope");
  auto *combo = qobject_cast<QComboBox *>(editor.data());
  QVERIFY(combo);
  QVERIFY(chooseWithMouse(combo, "trunk"));
  // The whole group changes scope together.
  QCOMPARE(node("a").shareScope, std::string("trunk"));
  QCOMPARE(node("b").shareScope, std::string("trunk"));
  verifyStillThere(editor, "share_scope");
  QVERIFY(hasFocusWithin(combo));
  QTest::keyClick(combo, Qt::Key_Up);
  QCOMPARE(node("a").shareScope, std::string());
  QCOMPARE(node("b").shareScope, std::string());
  verifyStillThere(editor, "share_scope");
  QVERIFY(hasFocusWithin(combo));
}

void TestInspector::editsOfATiedMemberReachTheWholeGroup() {
  QWidget *editor = select("a", "hidden");
  typeInto(editor, "20");
  QCOMPARE(node("a").params["hidden"], Json::array({20}));
  QCOMPARE(node("b").params["hidden"], Json::array({20})); // tied: one module
  QVERIFY(window_->document()->validation().ok());
  QCOMPARE(window_->undoStack()->count(), 1); // one undo step for the group
}

QTEST_MAIN(TestInspector)
// Split sizes typed in the Inspector: the node on the canvas lists each part's shape, not
// "4 × [first part]".
void TestInspector::splitOfUnequalPartsShowsEachOnTheCanvas() {
  QCOMPARE(window_->scene()->nodeItem("split")->shapeText(), QString("4 × [8]"));
  QPointer<QWidget> editor = select("split", "sizes");
  auto *line = qobject_cast<QLineEdit *>(editor.data());
  QVERIFY(line);
  typeInto(line, "16, 8, 4, 4");
  QCOMPARE(node("split").params["sizes"], Json::array({16, 8, 4, 4}));
  QTRY_COMPARE(window_->scene()->nodeItem("split")->shapeText(), QString("[16] [8] [4] [4]"));
}

#include "tst_inspector.moc"
