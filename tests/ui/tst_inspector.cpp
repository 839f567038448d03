// Every kind of inspector editor, edited as a person does — by mouse and by keyboard — on the real
// widgets: the app lives, the value lands in the project, the field keeps the focus and is the
// same widget as before (an edit never destroys the editor in use).

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "dataset/DataPanel.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"
#include "editor/GraphView.h"
#include "editor/InspectorWidget.h"
#include "editor/NodeItem.h"
#include "forms/SchemaForm.h"
#include "project/ProjectCheck.h"

#include <QCheckBox>
#include <QLabel>
#include <QDoubleSpinBox>
#include <QTemporaryDir>
#include <QImage>
#include <QDir>
#include <QDockWidget>
#include <QPointer>
#include <QScrollArea>
#include <QScrollBar>
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
  void shareGroupTypedWithReturnStays();
  void shareScope();
  void editsOfATiedMemberReachTheWholeGroup();
  void splitOfUnequalPartsShowsEachOnTheCanvas();
  void splitGroupsTypedByColumnName();
  void dataPanelWarnsAboutRareClasses();
  void testFractionGreyedForAnOwnTestFolder();
  void startsFromFitsTheDock();
  void eachNodeShowsItsFlops();

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

void TestInspector::shareGroupTypedWithReturnStays() {
  QPointer<QWidget> editor = select("c", "share");
  auto *combo = qobject_cast<QComboBox *>(editor.data());
  QVERIFY(combo);
  typeInto(combo, "band", Qt::Key_Return);
  QCOMPARE(node("c").share, std::string("band"));
  // The field keeps showing the group it just committed...
  QCOMPARE(combo->currentText(), QString("band"));
  // ...so the next click elsewhere (an empty spot of the canvas) leaves the node in it.
  GraphView *view = window_->view();
  QPoint empty(4, 4);
  for (int y = 4; y < view->viewport()->height() && view->itemAt(empty); y += 8)
    empty = QPoint(4, y);
  QVERIFY(!view->itemAt(empty));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, empty);
  QTRY_VERIFY(!combo->hasFocus());
  QCOMPARE(node("c").share, std::string("band"));
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

namespace {
// A table (numbers a, b, c; categorical city; label sun/rain) and `extra` rows; a project reading it
// through a Split in mode columns (four untied MLPs: the parts differ in width).
std::string writeTable(const QTemporaryDir &dir, const std::string &name, const std::string &extra = {}) {
  std::string csv = "a,b,c,city,label\n";
  const char *cities[] = {"Oslo", "Rome", "Lima"};
  for (int i = 0; i < 30; ++i)
    csv += std::to_string(i) + "," + std::to_string(i % 7) + "," + std::to_string(i % 5) + "," + cities[i % 3] + "," +
           (i % 2 ? "rain" : "sun") + "\n";
  return writeFile(dir, name, csv + extra);
}

Project tableProject(const std::string &csv) {
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "csv"}, {"path", csv}, {"label_column", "label"}, {"categorical_columns", {"city"}}};
  doc["nodes"][1]["params"] = Json::parse(R"({"mode": "columns", "groups": [[0], [1], [2], [3, 4, 5]]})");
  doc["nodes"][2].erase("share");
  doc["nodes"][3].erase("share");
  return projectFromJson(doc, "table.json");
}
} // namespace

// #21 item 19: groups typed by column name in the Inspector ("a, b; c; city; a"): stored as names,
// the canvas shows the resolved widths, and the overlap and the unused column are said under the
// field; a partition of the columns clears them.
void TestInspector::splitGroupsTypedByColumnName() {
  QTemporaryDir dir;
  window_->document()->reset(tableProject(writeTable(dir, "t.csv")));
  QTRY_COMPARE(window_->scene()->nodeItem("split")->shapeText(), QString("[1] [1] [1] [3]"));
  QPointer<QWidget> editor = select("split", "groups");
  auto *line = qobject_cast<QLineEdit *>(editor.data());
  QVERIFY(line);
  typeInto(line, "a, b; a; city; 0");
  QCOMPARE(node("split").params["groups"], Json::parse(R"([["a", "b"], ["a"], ["city"], [0]])"));
  verifyStillThere(editor, "groups");
  QTRY_COMPARE(window_->scene()->nodeItem("split")->shapeText(), QString("[2] [1] [3] [1]"));
  const QString problem = window_->inspector()->form()->problemText("groups");
  QVERIFY2(problem.contains("parts overlap: \"a\" is in parts 0, 1 and 3"), qPrintable(problem));
  QVERIFY2(problem.contains("1 of 6 features are in no part, so never read: \"c\""), qPrintable(problem));
  // A name the data does not have: said under the field, nothing inferred.
  typeInto(line, "a; b; wind; city");
  QTRY_VERIFY(window_->inspector()->form()->problemText("groups").contains("no feature column named \"wind\""));
  // Each column in one part: nothing to say.
  typeInto(line, "a; b; c; city");
  QTRY_COMPARE(window_->scene()->nodeItem("split")->shapeText(), QString("[1] [1] [1] [3]"));
  QVERIFY2(window_->inspector()->form()->problemText("groups").isEmpty(),
           qPrintable(window_->inspector()->form()->problemText("groups")));
}

// #21 item 8: the Data panel says when a class has very few samples (a CSV cut inside its last
// label); the path typed in the panel's field, as a person would.
void TestInspector::dataPanelWarnsAboutRareClasses() {
  QTemporaryDir dir;
  const std::string good = writeTable(dir, "good.csv");
  const std::string cut = writeTable(dir, "cut.csv", "3,4,0,Rome,rai");
  window_->document()->reset(tableProject(good));
  QTest::keyClick(window_->view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
  DataPanel *data = window_->dataPanel();
  QTRY_VERIFY(data->isVisible());
  auto *warnings = data->findChild<QLabel *>("datasetWarnings");
  QVERIFY(warnings);
  QVERIFY(!warnings->isVisible());
  QWidget *path = data->form()->editor("path");
  QTRY_VERIFY(path && path->isVisible());
  typeInto(path, QString::fromStdString(cut));
  QVERIFY(
      QString::fromStdString(window_->document()->project().dataset["path"].get<std::string>()).endsWith("cut.csv"));
  QTRY_VERIFY(warnings->isVisible());
  QVERIFY2(warnings->text().contains("class \"rai\" has 1 sample of 31"), qPrintable(warnings->text()));
  typeInto(path, QString::fromStdString(good));
  QTRY_VERIFY(!warnings->isVisible());
}

// Fresh eyes #10: a node starting from a particle of a long name, frozen and adapted (a problem
// message), fits the Inspector's dock at 1024×700 and 1600×1000: nothing scrolls sideways, Clear is
// in view, the file name is elided (the tooltip has it whole) and the node has a line of its own.
void TestInspector::testFractionGreyedForAnOwnTestFolder() {
  // Two tiny image folders: one of classes only, one with train/ and test/ of its own.
  QTemporaryDir dir;
  const QString flat = dir.filePath("flat"), split = dir.filePath("split");
  const auto writeImages = [](const QString &folder) {
    for (const char *cls : {"a", "b"}) {
      QVERIFY(QDir().mkpath(folder + "/" + cls));
      QImage image(4, 4, QImage::Format_Grayscale8);
      image.fill(cls[0] == 'a' ? 0 : 255);
      QVERIFY(image.save(folder + "/" + cls + "/0.png"));
    }
  };
  writeImages(flat);
  writeImages(split + "/train");
  writeImages(split + "/test");
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "image_folder"}, {"path", flat.toStdString()}};
  window_->document()->reset(projectFromJson(doc, "images.json"));
  QTest::keyClick(window_->view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
  DataPanel *data = window_->dataPanel();
  QTRY_VERIFY(data->isVisible());
  QWidget *fraction = data->form()->editor("test_fraction");
  QTRY_VERIFY(fraction && fraction->isVisible());
  QVERIFY(fraction->isEnabled());
  QVERIFY(!fraction->toolTip().contains("test/ folder is the test split"));
  QWidget *path = data->form()->editor("path");
  typeInto(path, split);
  QTRY_VERIFY(!data->form()->editor("test_fraction")->isEnabled());
  QVERIFY2(data->form()->editor("test_fraction")->toolTip().contains("test/ folder is the test split"),
           qPrintable(data->form()->editor("test_fraction")->toolTip()));
  // Back to the folder without one: editable again, with the field's own tooltip.
  typeInto(path, flat);
  QTRY_VERIFY(data->form()->editor("test_fraction")->isEnabled());
  QVERIFY(!data->form()->editor("test_fraction")->toolTip().contains("test/ folder is the test split"));
}

void TestInspector::startsFromFitsTheDock() {
  Json project = baseProject();
  const std::string from = "particles/a-particle-with-a-rather-long-name-from-another-project.particle-part";
  for (Json &n : project["nodes"])
    if (n["id"] == "c") {
      n["init"] = {{"from", from}, {"node", "c"}};
      n["freeze"] = true;
      n["adapter"] = {{"kind", "lora"}, {"rank", 2}, {"alpha", 4}};
    }
  window_->document()->reset(projectFromJson(project, "inspector.json"));
  for (const QSize size : {QSize(1024, 700), QSize(1600, 1000)}) {
    window_->resize(size);
    QWidget *clear = select("c", "init_clear");
    QVERIFY(clear);
    auto *scroll = qobject_cast<QScrollArea *>(window_->dock("inspector")->widget());
    QVERIFY(scroll);
    QTRY_VERIFY(clear->isVisible());
    QTest::qWait(50); // the layout settles
    QVERIFY2(!scroll->horizontalScrollBar()->isVisible(),
             qPrintable(QString("%1×%2: the Inspector scrolls sideways (%3 px wide in %4)")
                            .arg(size.width())
                            .arg(size.height())
                            .arg(scroll->widget()->width())
                            .arg(scroll->viewport()->width())));
    const QRect inView(clear->mapTo(scroll->viewport(), QPoint(0, 0)), clear->size());
    QVERIFY2(scroll->viewport()->rect().contains(inView), qPrintable(QString("Clear at %1").arg(inView.right())));
    auto *label = window_->inspector()->findChild<QLabel *>("initLabel");
    QCOMPARE(label->toolTip(), QString::fromStdString(from));
    QVERIFY2(label->text().contains("…"), qPrintable(label->text()));
    QVERIFY(label->fontMetrics().horizontalAdvance(label->text()) <= label->width());
    QCOMPARE(window_->inspector()->findChild<QLabel *>("initNodeLabel")->text(), QString("node c"));
    // Fresh eyes #13e: the adapter's choice box lies inside the window, so its list opens there (it
    // opened past the window's edge under a box that did). The box is checked, not the list: the
    // offscreen screen is 800 px wide and keeps any list on it.
    auto *adapter = qobject_cast<QComboBox *>(window_->inspector()->editorFor("adapter"));
    QVERIFY(adapter && adapter->isVisible());
    QVERIFY2(adapter->mapTo(window_, QPoint(adapter->width(), 0)).x() <= window_->width(),
             qPrintable(QString("the adapter box ends at x %1 of %2")
                            .arg(adapter->mapTo(window_, QPoint(adapter->width(), 0)).x())
                            .arg(window_->width())));
  }
}

QTEST_MAIN(TestInspector)

// FLOPs in view: a node clicked on the canvas shows one sample's forward FLOPs through it, as the
// engine counts them; the nodes' figures add up to the status bar's (each member of a share group
// at its own application).
void TestInspector::eachNodeShowsItsFlops() {
  window_->document()->reset(loadProject(examplePath("fashion-patches")));
  const Validation v = validate(window_->document()->project());
  QVERIFY(v.flopsKnown);
  double sum = 0;
  for (const auto &n : window_->document()->graph().nodes) {
    const QString id = QString::fromStdString(n.id);
    clickNode(window_->view(), window_->scene()->nodeItem(id));
    QTRY_COMPARE(window_->inspector()->nodeId(), id);
    auto *label = window_->inspector()->findChild<QLabel *>("inspectorFlops");
    QVERIFY(label && label->isVisible());
    const NodeInfo *info = v.info(n.id);
    QVERIFY(info && info->flopsKnown);
    QCOMPARE(label->text(), QString::fromStdString(flopsText(info->flops)) + " per sample");
    sum += info->flops;
  }
  QCOMPARE(sum, v.flopsPerSample);
  const QString total = QString::fromStdString(flopsText(sum)) + " FLOPs per sample";
  QVERIFY2(window_->paramsLabel()->text().contains(total), qPrintable(window_->paramsLabel()->text()));
}

#include "tst_inspector.moc"
