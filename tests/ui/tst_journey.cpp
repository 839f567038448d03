// A person's first session, end to end, through input events only: mouse clicks, drags and keys
// at positions read from the widgets and the view. The app's own slots and setters are never
// called; state is read only to aim and to check.
//
// From an empty project: add Input, Split, two MLPs, Combine and Classifier from the palette;
// choose a synthetic data set in the Data panel; set the Split to 2 chunks; connect everything by
// dragging; share the two MLPs; change an MLP's hidden, out and activation and the Input's
// normalize, by mouse and by keys; undo and redo with Ctrl+Z, Ctrl+Shift+Z and Ctrl+Y; Save As
// with a name typed without suffix; train one epoch with Start, Pause, change the learning rate,
// Resume; explain; export the contributions as CSV with the CSV filter and no typed suffix.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "dataset/DataPanel.h"
#include "document/GraphDocument.h"
#include "editor/InspectorWidget.h"
#include "editor/PaletteWidget.h"
#include "explain/ExplainPanel.h"
#include "forms/SchemaForm.h"
#include "training/TrainPanel.h"

#include <QCheckBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QUndoStack>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

class TestJourney : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void firstSession();

private:
  QWidget *editorOf(const QString &node, const QString &param) { return inspectorEditor(window_, node, param); }
  const Node *node(const QString &id) const { return window_->document()->graph().find(id.toStdString()); }
  MainWindow *window_ = nullptr;
};

void TestJourney::firstSession() {
  MainWindow window;
  window_ = &window;
  window.resize(1400, 900);
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  QTemporaryDir dir;
  GraphDocument *doc = window.document();
  GraphView *view = window.view();

  // ---- a new, empty project ----
  QTest::keyClick(&window, Qt::Key_N, Qt::ControlModifier);
  QVERIFY(doc->graph().nodes.empty());

  // ---- nodes from the palette (double-click adds at a free spot) ----
  auto *tree = window.palette()->tree();
  for (const char *type : {"Input", "Split", "MLP", "MLP", "Combine", "Classifier"})
    QVERIFY2(doubleClickPaletteType(tree, type), type);
  const QStringList ids = {"input1", "split1", "mlp1", "mlp2", "combine1", "classifier1"};
  for (const auto &id : ids)
    QVERIFY2(window.scene()->nodeItem(id), qPrintable(id));
  // Added nodes never land on top of each other.
  for (int i = 0; i < ids.size(); ++i)
    for (int j = i + 1; j < ids.size(); ++j)
      QVERIFY(!window.scene()->nodeItem(ids[i])->bodyRect().intersects(window.scene()->nodeItem(ids[j])->bodyRect()));

  // ---- the data set, chosen in the Data panel ----
  QTest::keyClick(view, Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
  DataPanel *data = window.dataPanel();
  QTRY_VERIFY(data->isVisible());
  QVERIFY(chooseWithMouse(data->kindBox(), "synthetic"));
  QCOMPARE(doc->project().dataset["kind"], Json("synthetic"));
  QTRY_VERIFY(data->form()->editor("samples") && data->form()->editor("samples")->isVisible());
  // Enough samples that one epoch at batch size 1 outlasts the pause below: the engine makes
  // thousands of steps a second here, and the Train tab hears of them four times a second.
  typeInto(data->form()->editor("samples"), "12000");
  QCOMPARE(doc->project().dataset["samples"].get<int>(), 12000);
  QTRY_VERIFY_WITH_TIMEOUT(data->previewReady(), 20000);
  QVERIFY2(data->summaryLabel()->text().contains("classes"), qPrintable(data->summaryLabel()->text()));
  QVERIFY(data->rows()->isVisible()); // vectors: a few rows of the table

  // ---- the Split: 2 chunks ----
  auto *mode = qobject_cast<QComboBox *>(editorOf("split1", "mode"));
  QVERIFY(mode);
  QVERIFY(chooseWithMouse(mode, "chunks"));
  auto *parts = window.inspector()->editorFor("parts");
  QTRY_VERIFY(parts && parts->isVisible());
  typeInto(parts, "3"); // typed, then stepped back down with the arrow key
  QCOMPARE(node("split1")->params["parts"].get<int>(), 3);
  QTest::keyClick(QApplication::focusWidget(), Qt::Key_Down);
  QCOMPARE(node("split1")->params["mode"], Json("chunks"));
  QCOMPARE(node("split1")->params["parts"].get<int>(), 2);
  QCOMPARE(window.scene()->nodeItem("split1")->outputSlots(), 2);

  // ---- connections, dragged from output ports to input ports ----
  auto item = [&](const char *id) { return window.scene()->nodeItem(id); };
  dragOnView(view, item("input1")->outputPortPos(0), item("split1")->inputPortPos("0"));
  dragOnView(view, item("split1")->outputPortPos(0), item("mlp1")->inputPortPos("0"));
  dragOnView(view, item("split1")->outputPortPos(1), item("mlp2")->inputPortPos("0"));
  dragOnView(view, item("mlp1")->outputPortPos(0), item("combine1")->inputPortPos("0"));
  dragOnView(view, item("mlp2")->outputPortPos(0), item("combine1")->inputPortPos("1"));
  dragOnView(view, item("combine1")->outputPortPos(0), item("classifier1")->inputPortPos("0"));
  QCOMPARE(static_cast<int>(doc->graph().edges.size()), 6);
  QVERIFY(doc->validation().ok());

  // ---- share the two MLPs: click one, Ctrl+click the other, Ctrl+G ----
  clickNode(view, item("mlp1"));
  clickNode(view, item("mlp2"), Qt::ControlModifier);
  QCOMPARE(window.scene()->selectedIds(), (QStringList{"mlp1", "mlp2"}));
  QTest::keyClick(view, Qt::Key_G, Qt::ControlModifier);
  QVERIFY(!node("mlp1")->share.empty());
  QCOMPARE(node("mlp1")->share, node("mlp2")->share);

  // ---- an MLP's params: hidden typed, Tab to out, arrow key, Tab to activation, Down ----
  QWidget *hidden = editorOf("mlp1", "hidden");
  QVERIFY(hidden);
  typeInto(hidden, "32, 16", Qt::Key_Tab);
  QCOMPARE(node("mlp1")->params["hidden"], Json::array({32, 16}));
  QWidget *out = window.inspector()->editorFor("out");
  QTRY_VERIFY(hasFocusWithin(out)); // Tab went on to the next field
  QTest::keyClick(QApplication::focusWidget(), Qt::Key_Up);
  QCOMPARE(node("mlp1")->params["out"].get<int>(), 65);
  QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
  QWidget *activation = window.inspector()->editorFor("activation");
  QTRY_VERIFY(hasFocusWithin(activation));
  QTest::keyClick(activation, Qt::Key_Down);
  QCOMPARE(node("mlp1")->params["activation"], Json("gelu"));
  // ... and with the mouse: the spin box's arrow, a choice from the list.
  clickSpinArrow(qobject_cast<QAbstractSpinBox *>(out), false);
  QCOMPARE(node("mlp1")->params["out"].get<int>(), 64);
  QVERIFY(chooseWithMouse(qobject_cast<QComboBox *>(activation), "tanh"));
  QCOMPARE(node("mlp1")->params["activation"], Json("tanh"));
  // Tied members are one module: mlp2 follows.
  QCOMPARE(node("mlp2")->params, node("mlp1")->params);
  QVERIFY(doc->validation().ok());

  // ---- Input normalize: a click, then Space ----
  auto *normalize = qobject_cast<QCheckBox *>(editorOf("input1", "normalize"));
  QVERIFY(normalize);
  QTest::mouseClick(normalize, Qt::LeftButton, {}, QPoint(8, normalize->height() / 2));
  QCOMPARE(node("input1")->params["normalize"], Json(false));
  QTest::keyClick(normalize, Qt::Key_Space);
  QCOMPARE(node("input1")->params["normalize"], Json(true));
  QVERIFY(hasFocusWithin(normalize));

  // ---- undo and redo from the keyboard ----
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, QPoint(12, 12)); // the canvas takes the keys
  const std::string edited = doc->text();
  QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(node("input1")->params["normalize"], Json(false));
  QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  QCOMPARE(doc->text(), edited);
  QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
  QTest::keyClick(view, Qt::Key_Y, Qt::ControlModifier);
  QCOMPARE(doc->text(), edited);

  // ---- Save As, a name typed without suffix ----
  auto saved = answerFileDialog(dir.filePath("journey"));
  QTest::keyClick(view, Qt::Key_S, Qt::ControlModifier | Qt::ShiftModifier);
  QVERIFY(*saved);
  const QString file = dir.filePath("journey.particle.json");
  QTRY_VERIFY(QFile::exists(file));
  QVERIFY(window.undoStack()->isClean());
  QCOMPARE(doc->project().name, std::string("journey")); // runs are named after it
  QCOMPARE(loadProject(file.toStdString()).graph.nodes.size(), std::size_t{6});
  // The window manager gives the focus back to the window once the dialog is gone; the offscreen
  // platform has none, so the test plays its part.
  if (!window.isActiveWindow())
    window.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&window));

  // ---- train one epoch: Start, Pause, a new learning rate, Resume ----
  QTest::keyClick(view, Qt::Key_2, Qt::ControlModifier);
  TrainPanel *train = window.trainPanel();
  QTRY_VERIFY(train->isVisible());
  typeInto(train->settingsForm()->editor("epochs"), "1");
  typeInto(train->settingsForm()->editor("batch_size"), "1"); // many small steps: time to pause
  QCOMPARE(doc->project().training["epochs"].get<int>(), 1);
  QSignalSpy finished(train, &TrainPanel::runFinished);
  QTest::mouseClick(train->startButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(train->lastStep() > 0, 60000); // the first step is reported at once
  QTest::mouseClick(train->pauseButton(), Qt::LeftButton);
  QCOMPARE(train->pauseButton()->text(), QString("Resume"));
  auto *lr = qobject_cast<QDoubleSpinBox *>(train->settingsForm()->editor("lr"));
  QVERIFY(lr && lr->isEnabled());
  typeInto(lr, "0.005");
  QCOMPARE(doc->project().training["lr"].get<double>(), 0.005);
  QTest::mouseClick(train->pauseButton(), Qt::LeftButton); // Resume: the new rate applies
  QVERIFY(finished.wait(120000));
  const auto run = finished.at(0).at(0).value<RunFinished>();
  QVERIFY2(!run.failed, qPrintable(run.message));
  QCOMPARE(run.epochs, 1);
  QCOMPARE(train->lastLr(), 0.005);
  QVERIFY(QFile::exists(run.checkpoint));
  QVERIFY2(run.outDir.startsWith(dir.filePath("runs")), qPrintable(run.outDir)); // beside the project
  QVERIFY(QFileInfo(run.outDir).fileName().startsWith("journey-"));

  // ---- explain, then export the contributions as CSV (filter chosen, no suffix typed) ----
  QTest::keyClick(train, Qt::Key_3, Qt::ControlModifier);
  ExplainPanel *explain = window.explainPanel();
  QTRY_VERIFY(explain->isVisible());
  QSignalSpy ready(explain, &ExplainPanel::resultReady);
  QTRY_VERIFY(explain->computeButton()->isEnabled()); // the run's checkpoint was handed over
  QTest::mouseClick(explain->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QCOMPARE(explain->result().combines.size(), 1);
  QCOMPARE(explain->result().combines[0].branches, (QStringList{"mlp1", "mlp2"}));
  auto exported = answerFileDialog(dir.filePath("phi"), "CSV");
  QTest::mouseClick(explain->exportButton(), Qt::LeftButton);
  QVERIFY(*exported);
  QTRY_VERIFY(QFile::exists(dir.filePath("phi.csv")));
  QFile csv(dir.filePath("phi.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly));
  QCOMPARE(csv.readAll().count('\n'), explain->result().samples + 1);
  window_ = nullptr;
}

QTEST_MAIN(TestJourney)
#include "tst_journey.moc"
