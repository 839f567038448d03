// What a first-time user met with mouse and keys (issue 21, items 10–14, 17, 20), each driven
// through input events: the window keeps 1024×700 on every tab and in every state; one meaning per
// shortcut, and the README's table lists the menus' keys; the wheel scrolls a form and edits a field
// only with focus; an out-of-range number says why it is not taken; the run history lists each run
// once; the export dialog creates a typed folder and Save starts there; palette double-clicks place
// nodes in a row; a refusal leaves the status bar once an edit goes through; the confusion matrix
// shows percentages. From a first-time user trial: a minus typed where no negative number is
// allowed is shown and refused with its reason; a fixed budget clears its refusal as typed; another
// document clears the status bar; a past run of one epoch is drawn when ticked.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "ProjectFiles.h"
#include "TestSupport.h"
#include "dataset/DataPanel.h"
#include "document/GraphDocument.h"
#include "editor/PaletteWidget.h"
#include "experiments/ClaimsLab.h"
#include "experiments/ExperimentsPanel.h"
#include "explain/ExplainPanel.h"
#include "forms/SchemaForm.h"
#include "charts/CustomPlot.h"
#include "training/TrainPanel.h"
#include "training/TrainingTypes.h"

#include <QAbstractButton>
#include <QAction>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QFrame>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QScrollArea>
#include <QScrollBar>
#include <QShortcut>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabBar>
#include <QTableWidget>
#include <QUndoStack>
#include <QWheelEvent>
#include <QtTest>

// Delivers an event as the window system does (spontaneous): a wheel event sent this way to a
// window goes to the widget under the pointer, takes focus by the focus policies and is offered to
// the parents while ignored, exactly as a real wheel's. QtTest has no wheel events of its own;
// QCoreApplication names this function its friend for such senders.
bool qt_sendSpontaneousEvent(QObject *receiver, QEvent *event) {
  return QCoreApplication::sendSpontaneousEvent(receiver, event);
}

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {
const QSize kSmall(1024, 700);

void clickTab(QTabWidget *tabs, const QString &text) {
  for (int i = 0; i < tabs->count(); ++i)
    if (tabs->tabText(i) == text)
      QTest::mouseClick(tabs->tabBar(), Qt::LeftButton, {}, tabs->tabBar()->tabRect(i).center());
}

// One notch of the wheel (down: negative) over the middle of `target`, delivered to its window.
void wheelOver(QWidget *target, int notches) {
  QWidget *window = target->window();
  const QPoint local = target->rect().center();
  const QPoint inWindow = target->mapTo(window, local);
  QWheelEvent event(QPointF(inWindow), QPointF(target->mapToGlobal(local)), QPoint(), QPoint(0, 120 * notches),
                    Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
  qt_sendSpontaneousEvent(window->windowHandle(), &event);
  QApplication::processEvents();
}

// True when the middle of `w` lies in the visible part of `scroll`.
bool shownIn(QScrollArea *scroll, QWidget *w) {
  if (!w->isVisible())
    return false;
  const QPoint c = w->mapTo(scroll->viewport(), w->rect().center());
  return scroll->viewport()->rect().adjusted(0, 4, 0, -4).contains(c);
}

// A key that a shortcut answers to, where (the window, or the widget it is limited to) and what.
struct Binding {
  QKeySequence key;
  QWidget *scope = nullptr;
  QString what;
};

QString normalisedKey(const QKeySequence &key) {
  QString text = key.toString(QKeySequence::PortableText);
  if (text == "Del")
    text = "Delete";
  return text.replace("Return", "Enter");
}

// Runs `check` on the next modal dialog once it is up, then closes it with Escape; the returned
// title is set then. Once the caller lets the title go, a dialog that never came is no longer
// waited for (`check` may refer to the caller's locals).
std::shared_ptr<QString> inspectNextDialog(const std::function<void(QWidget *)> &check) {
  auto seen = std::make_shared<QString>();
  std::weak_ptr<QString> title = seen;
  auto attempt = std::make_shared<std::function<void(int)>>();
  std::weak_ptr<std::function<void(int)>> self = attempt;
  *attempt = [title, self, check](int tries) {
    if (title.expired())
      return;
    QWidget *dialog = QApplication::activeModalWidget();
    if (!dialog) {
      if (auto again = self.lock(); again && tries > 0)
        QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
      return;
    }
    QTest::qWait(100); // laid out and sized as it is shown
    if (auto shown = title.lock()) {
      *shown = dialog->windowTitle();
      check(dialog);
    }
    QTest::keyClick(dialog, Qt::Key_Escape);
  };
  QTimer::singleShot(50, [attempt] { (*attempt)(400); });
  return seen;
}

Project smallProject(int samples, int epochs) {
  Json doc = baseProject();
  doc["dataset"]["samples"] = samples;
  doc["training"] = {{"epochs", epochs}, {"batch_size", 32}, {"threads", 1}};
  return projectFromJson(doc, "t.json");
}
} // namespace

class TestPolish : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    qputenv("PARTICLE_CLI", PARTICLE_CLI);
  }
  void init() {
    runs_ = std::make_unique<QTemporaryDir>();
    window_ = new MainWindow;
    window_->trainPanel()->setRunsFolder(runs_->path());
    window_->experimentsPanel()->setRunsFolder(runs_->path());
    window_->resize(kSmall);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_));
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_));
  }
  void cleanup() {
    window_->undoStack()->setClean();
    delete window_;
    window_ = nullptr;
  }

  // Item 13: no two shortcuts that can be active together share a key; Ctrl+E is Export on every
  // tab; README's table names every menu shortcut.
  void shortcutsHaveOneMeaning() {
    std::vector<Binding> bindings;
    for (QAction *a : window_->findChildren<QAction *>()) {
      QWidget *scope = window_;
      if (a->shortcutContext() == Qt::WidgetShortcut || a->shortcutContext() == Qt::WidgetWithChildrenShortcut)
        for (QObject *o : a->associatedObjects())
          if (auto *w = qobject_cast<QWidget *>(o); w && !qobject_cast<QMenu *>(w))
            scope = w;
      for (const QKeySequence &k : a->shortcuts())
        bindings.push_back({k, scope, "action \"" + a->text() + "\""});
    }
    for (QShortcut *s : window_->findChildren<QShortcut *>())
      for (const QKeySequence &k : s->keys())
        bindings.push_back(
            {k,
             s->context() == Qt::WindowShortcut || s->context() == Qt::ApplicationShortcut
                 ? static_cast<QWidget *>(window_)
                 : qobject_cast<QWidget *>(s->parent()),
             "shortcut of " + s->parent()->objectName() + " (" + s->parent()->metaObject()->className() + ")"});
    for (QAbstractButton *b : window_->findChildren<QAbstractButton *>())
      if (!b->shortcut().isEmpty())
        bindings.push_back({b->shortcut(), window_, "button \"" + b->text() + "\""});
    QVERIFY(bindings.size() > 20);
    QStringList clashes;
    for (std::size_t i = 0; i < bindings.size(); ++i)
      for (std::size_t j = i + 1; j < bindings.size(); ++j) {
        const Binding &a = bindings[i], &b = bindings[j];
        const bool overlap = a.scope == b.scope || a.scope->isAncestorOf(b.scope) || b.scope->isAncestorOf(a.scope);
        if (a.key == b.key && overlap)
          clashes << a.key.toString() + ": " + a.what + " and " + b.what;
      }
    QVERIFY2(clashes.isEmpty(), qPrintable(clashes.join("\n")));

    // Ctrl+E on the Explain tab opens File → Export to PyTorch (before, both answered: neither ran).
    window_->document()->reset(smallProject(400, 1));
    clickTab(window_->tabs(), "Explain");
    QTRY_VERIFY(window_->explainPanel()->isVisible());
    auto seen = inspectNextDialog([](QWidget *) {});
    QTest::keyClick(window_->explainPanel()->computeButton(), Qt::Key_E, Qt::ControlModifier);
    QTRY_VERIFY2(seen->startsWith("Export to PyTorch"), qPrintable(*seen));

    // Every key of the menus is in README's table (or its text), in the menu's words.
    QFile readme(QString::fromStdString(sourceDir()) + "/README.md");
    QVERIFY(readme.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(readme.readAll());
    QStringList missing;
    for (QAction *menu : window_->menuBar()->actions())
      for (QAction *a : menu->menu()->actions())
        for (const QKeySequence &k : a->shortcuts())
          if (!text.contains(normalisedKey(k)))
            missing << normalisedKey(k) + " (" + a->text() + ")";
    QVERIFY2(missing.isEmpty(), qPrintable("README lacks: " + missing.join(", ")));
  }

  // Item 11: the wheel over an unfocused spin box or choice box scrolls the form; with the focus
  // it edits the field.
  void wheelScrollsFormsAndEditsOnlyWithFocus() {
    window_->document()->reset(smallProject(400, 1));
    QTest::keyClick(window_->view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier); // the Data panel
    DataPanel *data = window_->dataPanel();
    QTRY_VERIFY(data->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(data->previewReady(), 20000);
    QTest::qWait(100);
    auto *scroll = qobject_cast<QScrollArea *>(window_->dock("data")->widget());
    QVERIFY(scroll);
    QScrollBar *bar = scroll->verticalScrollBar();
    QVERIFY2(bar->maximum() > 0, "the Data panel does not scroll at 1024×700: nothing to prove");
    // Nothing in the form has the focus: a click on the canvas takes it.
    QTest::mouseClick(window_->view()->viewport(), Qt::LeftButton, {}, QPoint(10, 10));
    QComboBox *kind = data->kindBox();
    QVERIFY(shownIn(scroll, kind) && !kind->hasFocus());
    const QString kindBefore = kind->currentText();
    wheelOver(kind, -1);
    QCOMPARE(kind->currentText(), kindBefore);
    QVERIFY2(bar->value() > 0, "the wheel over the choice box did not scroll the form");
    QCOMPARE(QString::fromStdString(window_->document()->project().dataset["kind"].get<std::string>()),
             QString("synthetic"));

    // The first number box in view: the wheel scrolls past it and leaves it alone.
    QAbstractSpinBox *box = nullptr;
    double before = 0;
    for (int tries = 0; tries < 20 && !box; ++tries) {
      for (auto *b : data->form()->findChildren<QAbstractSpinBox *>())
        if (!box && shownIn(scroll, b))
          box = b;
      if (!box)
        wheelOver(scroll->viewport(), -1);
    }
    QVERIFY(box);
    auto valueOf = [](QAbstractSpinBox *b) {
      if (auto *s = qobject_cast<QSpinBox *>(b))
        return double(s->value());
      return qobject_cast<QDoubleSpinBox *>(b)->value();
    };
    before = valueOf(box);
    const Json datasetBefore = window_->document()->project().dataset;
    const int scrolled = bar->value();
    wheelOver(box, bar->value() < bar->maximum() ? -1 : 1);
    QCOMPARE(valueOf(box), before);
    QVERIFY(window_->document()->project().dataset == datasetBefore);
    QVERIFY2(bar->value() != scrolled, "the wheel over the number box did not scroll the form");
    QVERIFY(!box->hasFocus()); // the wheel does not take the focus either

    // With the focus (a click), the wheel steps the value, as before (on a box in view again).
    box = nullptr;
    for (int tries = 0; tries < 20 && !box; ++tries) {
      for (auto *b : data->form()->findChildren<QAbstractSpinBox *>())
        if (!box && shownIn(scroll, b))
          box = b;
      if (!box)
        wheelOver(scroll->viewport(), 1);
    }
    QVERIFY(box);
    before = valueOf(box);
    QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(8, box->height() / 2));
    QTRY_VERIFY(box->hasFocus());
    wheelOver(box, 1);
    QTRY_VERIFY(valueOf(box) != before);
  }

  // Item 12: an out-of-range number shows why under the field, while typed and after Enter.
  void outOfRangeNumberSaysWhy() {
    Json doc = baseProject();
    doc["nodes"].push_back(Json::parse(R"({"id": "conv", "type": "ConvNet"})"));
    window_->document()->reset(projectFromJson(doc, "t.json"));
    auto *spin = qobject_cast<QSpinBox *>(inspectorEditor(window_, "conv", "kernel"));
    QVERIFY(spin);
    const int before = spin->value();
    QVERIFY(before >= 1 && before <= 15);
    SchemaForm *form = window_->inspector()->form();
    QTest::mouseClick(spin, Qt::LeftButton, {}, QPoint(8, spin->height() / 2));
    QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(spin, "99");
    QCOMPARE(spin->text(), QString("99")); // the keystroke is not dropped
    QTRY_VERIFY2(form->problemText("kernel").contains("is 99, outside the allowed range"),
                 qPrintable(form->problemText("kernel")));
    QTest::keyClick(spin, Qt::Key_Return);
    QCOMPARE(spin->value(), before); // not taken…
    QCOMPARE(window_->document()->graph().find("conv")->params.value("kernel", Json()).is_null() ||
                 window_->document()->graph().find("conv")->params["kernel"] == Json(before),
             true);
    // …and the field says so, with the value kept.
    const QString after = form->problemText("kernel");
    QVERIFY2(after.contains("is 99, outside the allowed range") && after.contains(QString("kept %1").arg(before)),
             qPrintable(after));
    // A number in range is taken, and the message goes.
    QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(spin, "5");
    QTest::keyClick(spin, Qt::Key_Return);
    QTRY_COMPARE(window_->document()->graph().find("conv")->params.value("kernel", Json()), Json(5));
    QCOMPARE(form->problemText("kernel"), QString());

    // A decimal field alike (the Data panel's validation fraction, 0 … 0.9).
    QTest::keyClick(window_->view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
    auto *fraction = qobject_cast<QDoubleSpinBox *>(window_->dataPanel()->form()->editor("validation_fraction"));
    QVERIFY(fraction);
    QTRY_VERIFY(fraction->isVisible());
    auto *scroll = qobject_cast<QScrollArea *>(window_->dock("data")->widget());
    for (int tries = 0; tries < 30 && !shownIn(scroll, fraction); ++tries)
      wheelOver(scroll->viewport(), -1);
    QVERIFY(shownIn(scroll, fraction));
    typeInto(fraction, "2");
    const QString said = window_->dataPanel()->form()->problemText("validation_fraction");
    QVERIFY2(said.contains("is 2, outside the allowed range") && said.contains("kept 0.1"), qPrintable(said));
    QCOMPARE(window_->document()->project().dataset.value("validation_fraction", 0.1), 0.1);
  }

  // Trial, item 1: a minus typed into a field whose minimum is 0 or more is shown (not dropped,
  // "-5" read as 5), and the field says the number is outside the range; Enter keeps the value.
  // The same in a decimal field.
  void negativeNumberSaysWhy() {
    window_->document()->reset(smallProject(400, 1));
    QTest::qWait(50);
    auto *out = qobject_cast<QSpinBox *>(inspectorEditor(window_, "c", "out"));
    QVERIFY(out);
    QCOMPARE(out->value(), 8);
    SchemaForm *form = window_->inspector()->form();
    QTest::mouseClick(out, Qt::LeftButton, {}, QPoint(8, out->height() / 2));
    QTest::keyClick(out, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(out, "-5");
    QCOMPARE(out->text(), QString("-5")); // the minus is not dropped
    QTRY_VERIFY2(form->problemText("out").contains("is -5, outside the allowed range"),
                 qPrintable(form->problemText("out")));
    QTest::keyClick(out, Qt::Key_Return);
    QCOMPARE(out->value(), 8);
    QCOMPARE(window_->document()->graph().find("c")->params.value("out", Json()), Json(8));
    const QString kept = form->problemText("out");
    QVERIFY2(kept.contains("is -5, outside the allowed range") && kept.contains("kept 8"), qPrintable(kept));

    // A decimal field alike: the MLP's dropout (0 … 0.95).
    auto *dropout = qobject_cast<QDoubleSpinBox *>(window_->inspector()->editorFor("dropout"));
    QVERIFY(dropout);
    if (auto *scroll = qobject_cast<QScrollArea *>(window_->dock("inspector")->widget()))
      for (int tries = 0; tries < 30 && !shownIn(scroll, dropout); ++tries)
        wheelOver(scroll->viewport(), -1);
    QVERIFY(dropout->isVisible());
    const double dropoutBefore = dropout->value();
    QTest::mouseClick(dropout, Qt::LeftButton, {}, QPoint(8, dropout->height() / 2));
    QTest::keyClick(dropout, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(dropout, "-0.2");
    QCOMPARE(dropout->text(), QString("-0.2"));
    QTRY_VERIFY2(form->problemText("dropout").contains("is -0.2, outside the allowed range"),
                 qPrintable(form->problemText("dropout")));
    QTest::keyClick(dropout, Qt::Key_Return);
    QCOMPARE(dropout->value(), dropoutBefore);
    const Json stored = window_->document()->graph().find("c")->params.value("dropout", Json());
    QVERIFY2(stored.is_null() || stored == Json(dropoutBefore), stored.dump().c_str());
    const QString keptDropout = form->problemText("dropout");
    QVERIFY2(keptDropout.contains("is -0.2, outside the allowed range") &&
                 keptDropout.contains(QString("kept %1").arg(dropoutBefore)),
             qPrintable(keptDropout));
  }

  // Trial, item 2: a refused budget's message goes as soon as the budget typed is valid.
  void fixedBudgetClearsItsRefusal() {
    window_->document()->reset(smallProject(400, 1));
    clickTab(window_->tabs(), "Experiments");
    ExperimentsPanel *panel = window_->experimentsPanel();
    QLabel *status = panel->statusLabel();
    const QString before = status->text();
    typeInto(panel->budgetEdit(), "abc");
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY(!panel->running());
    QVERIFY2(status->text().contains("Budget \"abc\": give a time"), qPrintable(status->text()));
    QVERIFY(status->styleSheet().contains("#d03030"));
    // Still no budget ("3" has no unit): the refusal stays…
    QTest::mouseClick(panel->budgetEdit(), Qt::LeftButton, {}, QPoint(8, panel->budgetEdit()->height() / 2));
    QTest::keyClick(panel->budgetEdit(), Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(panel->budgetEdit(), "3");
    QVERIFY2(status->text().contains("Budget \"abc\""), qPrintable(status->text()));
    // …and goes once it is one, before any search starts.
    QTest::keyClicks(panel->budgetEdit(), "trials");
    QCOMPARE(panel->budgetEdit()->text(), QString("3trials"));
    QVERIFY2(!status->text().contains("Budget"), qPrintable(status->text()));
    QCOMPARE(status->text(), before);
    QVERIFY(!status->styleSheet().contains("#d03030"));
    QVERIFY(!panel->running());
  }

  // Trial, item 3: a status bar message about the document before ("Saved …") goes when another
  // document is opened (Ctrl+O) or created (Ctrl+N).
  void anotherDocumentClearsTheStatusBar() {
    QTemporaryDir dir;
    const QString other = QString::fromStdString(writeFile(dir, "other.particle.json", baseProject().dump(2)));
    window_->undoStack()->setClean();
    QTest::keyClick(window_->view(), Qt::Key_N, Qt::ControlModifier);
    QTRY_VERIFY(window_->document()->filePath().isEmpty());
    const QString first = dir.filePath("first.particle.json");
    auto saved = answerFileDialog(first);
    QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
    QVERIFY(*saved);
    QTRY_VERIFY(QFile::exists(first));
    QElapsedTimer clock; // "Saved …" would go by itself after 4 s: the check below must come sooner
    clock.start();
    QVERIFY2(window_->statusBar()->currentMessage().startsWith("Saved"),
             qPrintable(window_->statusBar()->currentMessage()));
    // Fresh eyes #13d: a line parts the message (cut at it) from the parameter count, and the
    // whole message is the bar's tooltip.
    QCOMPARE(window_->statusBar()->toolTip(), window_->statusBar()->currentMessage());
    auto *separator = window_->statusBar()->findChild<QFrame *>("statusSeparator");
    QVERIFY(separator && separator->isVisible());
    QVERIFY(separator->geometry().right() < window_->findChild<QLabel *>("paramsLabel")->geometry().left());
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    auto opened = answerFileDialog(other);
    QTest::keyClick(window_->view(), Qt::Key_O, Qt::ControlModifier);
    QVERIFY(*opened);
    QTRY_COMPARE(QFileInfo(window_->document()->filePath()).fileName(), QString("other.particle.json"));
    QVERIFY2(clock.elapsed() < 3500, "too slow to tell whether the message went by itself");
    QCOMPARE(window_->statusBar()->currentMessage(), QString());

    // Saved again (it has a path: no dialog), then a new document.
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
    QTRY_VERIFY2(window_->statusBar()->currentMessage().startsWith("Saved"),
                 qPrintable(window_->statusBar()->currentMessage()));
    QTest::keyClick(window_->view(), Qt::Key_N, Qt::ControlModifier);
    QTRY_VERIFY(window_->document()->filePath().isEmpty());
    QCOMPARE(window_->statusBar()->currentMessage(), QString());
  }

  // Trial, item 4: ticking a past run of one epoch draws its point (a line needs two).
  void oneEpochRunIsDrawnWhenTicked() {
    QDir(runs_->path()).mkpath("t-20260101-100000");
    writeFile(*runs_, "t-20260101-100000/summary.json", R"({"status": "completed", "test_accuracy": 0.5})");
    writeFile(*runs_, "t-20260101-100000/metrics.csv",
              "epoch,step,train_loss,val_loss,val_accuracy\n1,8,1.2,1.1,0.5\n");
    window_->document()->reset(smallProject(400, 1));
    clickTab(window_->tabs(), "Train");
    TrainPanel *panel = window_->trainPanel();
    QListWidget *history = panel->historyList();
    QTRY_COMPARE(history->count(), 1);
    const QColor color = history->item(0)->foreground().color();
    QCustomPlot *plot = panel->epochPlot();
    // Whether the run's colour is drawn around epoch 1, accuracy 0.5.
    auto drawn = [&] {
      const QImage image = plot->grab().toImage();
      const QPoint at(qRound(plot->xAxis->coordToPixel(1)), qRound(plot->yAxis2->coordToPixel(0.5)));
      for (int dx = -2; dx <= 2; ++dx)
        for (int dy = -2; dy <= 2; ++dy) {
          const QColor c = image.pixelColor(at + QPoint(dx, dy));
          if (std::abs(c.red() - color.red()) + std::abs(c.green() - color.green()) +
                  std::abs(c.blue() - color.blue()) <
              30)
            return true;
        }
      return false;
    };
    QTest::qWait(200);
    QVERIFY(!drawn()); // nothing there before it is ticked
    // Selected first (a run folder without its project copy: nothing to compare, and no crash).
    QTest::mouseClick(history->viewport(), Qt::LeftButton, {}, history->visualItemRect(history->item(0)).center());
    QCOMPARE(history->currentRow(), 0);
    QVERIFY2(panel->diffLabel()->text().startsWith("No graph of this run to compare"),
             qPrintable(panel->diffLabel()->text()));
    QTest::keyClick(history, Qt::Key_Space);
    QTRY_COMPARE(history->item(0)->checkState(), Qt::Checked);
    QTRY_VERIFY2(drawn(), "the one-epoch run ticked is not drawn on the epoch chart");
  }

  // Item 14: the app starts with a new project and then opens one (two resets before the event
  // loop): each earlier run is listed once; opening it again lists them once too.
  void historyListsEachRunOnce() {
    cleanup();
    QTemporaryDir dir;
    const QString project = QString::fromStdString(writeFile(dir, "t.particle.json", baseProject().dump(2)));
    for (const char *stamp : {"20260101-100000", "20260102-100000"}) {
      QDir(runs_->path()).mkpath(QString("t-%1").arg(stamp));
      writeFile(*runs_, QString("t-%1/summary.json").arg(stamp).toStdString(),
                R"({"status": "completed", "test_accuracy": 0.5})");
    }
    window_ = new MainWindow; // as main.cpp starts: the window, the project, then the event loop
    window_->trainPanel()->setRunsFolder(runs_->path());
    QVERIFY(window_->files()->open(project));
    window_->resize(kSmall);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_));
    clickTab(window_->tabs(), "Train");
    QListWidget *history = window_->trainPanel()->historyList();
    QTRY_COMPARE(history->count(), 2);
    QTest::qWait(200);
    QCOMPARE(history->count(), 2);
    // Named by their time, not the folder's digits, which pushed the rest out of the narrow list.
    QVERIFY2(history->item(0)->text().startsWith("#1, 1 Jan 10:00 — fp32 50.00%"),
             qPrintable(history->item(0)->text()));
    QVERIFY2(history->item(0)->toolTip().contains("t-20260101-100000"), qPrintable(history->item(0)->toolTip()));

    // Opened again with Ctrl+O and the dialog.
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    auto answered = answerFileDialog(project);
    QTest::keyClick(window_->trainPanel()->startButton(), Qt::Key_O, Qt::ControlModifier);
    QVERIFY(*answered);
    QTest::qWait(200);
    QCOMPARE(history->count(), 2);
  }

  // The history lists this project's runs only: not those of a project whose name starts with this
  // one's ("t-extra"), nor those of another project file of the same name in the same runs folder;
  // a run from before summary.json named its project, or whose project file was moved, is listed.
  void historyListsOnlyThisProjectsRuns() {
    QTemporaryDir dir;
    const QString project = QString::fromStdString(writeFile(dir, "t.particle.json", baseProject().dump(2)));
    const QString other = QString::fromStdString(writeFile(dir, "other.particle.json", baseProject().dump(2)));
    struct Folder {
      const char *name, *projectFile;
    };
    const QString gone = dir.filePath("moved-away.particle.json");
    const QByteArray projectUtf8 = project.toUtf8(), otherUtf8 = other.toUtf8(), goneUtf8 = gone.toUtf8();
    for (const Folder &f :
         {Folder{"t-20260101-100000", nullptr}, Folder{"t-20260102-100000-123", otherUtf8.data()},
          Folder{"t-20260103-100000-000-2", projectUtf8.data()}, Folder{"t-extra-20260104-100000-000", nullptr},
          Folder{"t-20260105-100000-000", goneUtf8.data()}}) {
      QDir(runs_->path()).mkpath(f.name);
      Json summary = {{"status", "completed"}, {"test_accuracy", 0.5}};
      if (f.projectFile)
        summary["project_file"] = f.projectFile;
      writeFile(*runs_, std::string(f.name) + "/summary.json", summary.dump());
    }
    QVERIFY(window_->files()->open(project));
    clickTab(window_->tabs(), "Train");
    TrainPanel *panel = window_->trainPanel();
    QListWidget *history = panel->historyList();
    QTRY_COMPARE(history->count(), 3);
    QStringList folders;
    for (int i = 0; i < history->count(); ++i)
      folders << history->item(i)->toolTip().section("Run folder: ", 1).section('/', -1);
    QCOMPARE(folders, QStringList({"t-20260101-100000", "t-20260103-100000-000-2", "t-20260105-100000-000"}));

    // A run started here names the project file it trained in its summary.
    QSignalSpy finished(panel, &TrainPanel::runFinished);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY(finished.wait(120000));
    const RunFinished run = finished.at(0).at(0).value<RunFinished>();
    const Json summary = Json::parse(readTextFile(run.outDir.toStdString() + "/summary.json"));
    QCOMPARE(QFileInfo(QString::fromStdString(summary["project_file"].get<std::string>())).canonicalFilePath(),
             QFileInfo(project).canonicalFilePath());
    QCOMPARE(history->count(), 4);
  }

  // Item 20: a run's confusion matrix says "87%", not "87".
  void confusionCellsArePercentages() {
    window_->document()->reset(smallProject(400, 1));
    clickTab(window_->tabs(), "Train");
    TrainPanel *panel = window_->trainPanel();
    QSignalSpy finished(panel, &TrainPanel::runFinished);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY(finished.wait(120000));
    QCustomPlot *plot = panel->confusionPlot();
    int cells = 0;
    for (int i = 0; i < plot->itemCount(); ++i)
      if (auto *t = qobject_cast<QCPItemText *>(plot->item(i)); t && t->objectName() != "placeholder") {
        QVERIFY2(QRegularExpression("^\\d+%$").match(t->text()).hasMatch(), qPrintable(t->text()));
        ++cells;
      }
    QVERIFY(cells >= 4); // 4 classes: the diagonal at least
    // The finished run's matrix is the test split's (the trial asked which digits the unseen accents
    // got wrong), and the title says so; its diagonal is the test accuracy the run reports.
    QString title;
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
      if (auto *heading = qobject_cast<QCPTextElement *>(plot->plotLayout()->elementAt(i)))
        title = heading->text();
    QCOMPARE(title, QString("Confusion matrix (test)"));
    const RunFinished run = finished.at(0).at(0).value<RunFinished>();
    QCOMPARE(run.testConfusion.size(), std::size_t(16));
    int64_t total = 0, right = 0;
    for (int t = 0; t < 4; ++t)
      for (int q = 0; q < 4; ++q) {
        total += run.testConfusion[static_cast<std::size_t>(4 * t + q)];
        right += t == q ? run.testConfusion[static_cast<std::size_t>(4 * t + q)] : 0;
      }
    QVERIFY(total > 0);
    QVERIFY(std::abs(static_cast<double>(right) / static_cast<double>(total) - run.testAccuracy) < 1e-9);
    QCOMPARE(panel->historyList()->count(), 1);
    QVERIFY(window_->size() == kSmall);
  }

  // Item 20: palette double-clicks put each new node beside the one added before, not under it.
  void paletteDoubleClicksPlaceNodesInARow() {
    QTreeWidget *tree = window_->palette()->tree();
    QVERIFY(doubleClickPaletteType(tree, "MLP"));
    QTRY_COMPARE(window_->scene()->selectedIds().size(), 1);
    const QString first = window_->scene()->selectedIds().front();
    QVERIFY(doubleClickPaletteType(tree, "MLP"));
    QTRY_VERIFY(window_->scene()->selectedIds().size() == 1 && window_->scene()->selectedIds().front() != first);
    const QString second = window_->scene()->selectedIds().front();
    QVERIFY(doubleClickPaletteType(tree, "Combine"));
    QTRY_VERIFY(window_->scene()->selectedIds().size() == 1 && window_->scene()->selectedIds().front() != second);
    const QString third = window_->scene()->selectedIds().front();
    const QRectF a = window_->scene()->nodeItem(first)->bodyRect(), b = window_->scene()->nodeItem(second)->bodyRect(),
                 c = window_->scene()->nodeItem(third)->bodyRect();
    QVERIFY2(b.left() > a.right() && c.left() > b.right(), "not placed left to right");
    QVERIFY2(std::abs(b.top() - a.top()) <= NodeItem::kGrid && std::abs(c.top() - b.top()) <= NodeItem::kGrid,
             "not in a row");
    QVERIFY(!a.intersects(b) && !b.intersects(c));
  }

  // Item 20: "Cannot share: …" goes once a share goes through.
  void refusalLeavesTheStatusBarOnceFixed() {
    window_->document()->reset(smallProject(400, 1));
    QTest::qWait(50);
    clickNode(window_->view(), window_->scene()->nodeItem("c"));
    clickNode(window_->view(), window_->scene()->nodeItem("combine"), Qt::ControlModifier);
    QCOMPARE(window_->scene()->selectedIds().size(), 2);
    QTest::keyClick(window_->view(), Qt::Key_G, Qt::ControlModifier);
    QVERIFY2(window_->statusBar()->currentMessage().startsWith("Cannot share"),
             qPrintable(window_->statusBar()->currentMessage()));
    clickNode(window_->view(), window_->scene()->nodeItem("c"));
    clickNode(window_->view(), window_->scene()->nodeItem("d"), Qt::ControlModifier);
    QTest::keyClick(window_->view(), Qt::Key_G, Qt::ControlModifier);
    QTRY_VERIFY(!window_->document()->graph().find("c")->share.empty());
    QVERIFY2(!window_->statusBar()->currentMessage().startsWith("Cannot share"),
             qPrintable(window_->statusBar()->currentMessage()));
  }

  // Items 17 and 20: the export dialog takes a folder that does not exist yet and creates it; the
  // next Save dialog starts in that folder (the one last used).
  void exportCreatesTheTypedFolderAndSaveStartsThere() {
    QTemporaryDir dir;
    window_->document()->reset(smallProject(400, 1));
    QVERIFY(window_->document()->validation().ok());
    const QString folder = dir.filePath("new/deeper");
    auto answered = answerFileDialog(folder);
    QTest::keyClick(window_->view(), Qt::Key_E, Qt::ControlModifier);
    QVERIFY(*answered);
    auto done = answerMessageBox();
    QTRY_VERIFY_WITH_TIMEOUT(done->shown, 60000);
    QVERIFY2(done->title == "Export to PyTorch", qPrintable(done->title + ": " + done->text));
    QVERIFY(QFile::exists(folder + "/model.py"));

    // A new project (Ctrl+N), then Ctrl+S: a bare name lands in the export folder.
    window_->undoStack()->setClean();
    window_->activateWindow(); // back from the message box
    QVERIFY(QTest::qWaitForWindowActive(window_));
    QTest::keyClick(window_->view(), Qt::Key_N, Qt::ControlModifier);
    QTRY_VERIFY(window_->document()->filePath().isEmpty());
    auto saved = answerFileDialog("mine");
    QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier);
    QVERIFY(*saved);
    QTRY_VERIFY2(QFile::exists(folder + "/mine.particle.json"), qPrintable(window_->document()->filePath()));
  }

  // Item 10: at 1024×700 every tab, in every state reached here, and every dialog keeps the window
  // at 1024×700, and nothing asks for more.
  void everyTabAndDialogFits1024x700() {
    QTemporaryDir dir;
    QStringList grew;
    auto activate = [&] {
      window_->activateWindow(); // back from a dialog: the keys go to the window again
      return QTest::qWaitForWindowActive(window_);
    };
    auto check = [&](const QString &where) {
      QTest::qWait(150); // layouts settle, a pending resize lands
      const QSize hint = window_->minimumSizeHint(), minimum = window_->minimumSize();
      if (window_->size() != kSmall || hint.width() > kSmall.width() || hint.height() > kSmall.height() ||
          minimum.width() > kSmall.width() || minimum.height() > kSmall.height())
        grew << QString("%1: window %2×%3, minimum size hint %4×%5, minimum %6×%7")
                    .arg(where)
                    .arg(window_->width())
                    .arg(window_->height())
                    .arg(hint.width())
                    .arg(hint.height())
                    .arg(minimum.width())
                    .arg(minimum.height());
      // The page shown fits as it is: its scroll area (there for smaller windows) does not scroll.
      if (auto *page = qobject_cast<QScrollArea *>(window_->tabs()->currentWidget());
          page && (page->horizontalScrollBar()->maximum() > 0 || page->verticalScrollBar()->maximum() > 0))
        grew << QString("%1: the page needs %2×%3, more than its %4×%5")
                    .arg(where)
                    .arg(page->widget()->minimumSizeHint().width())
                    .arg(page->widget()->minimumSizeHint().height())
                    .arg(page->viewport()->width())
                    .arg(page->viewport()->height());
    };
    auto dialogFits = [&](const QString &where, const std::function<void()> &open) {
      QVERIFY(activate());
      QSize size;
      auto seen = inspectNextDialog([&](QWidget *d) {
        size = d->size();
        check(where + " (open)");
      });
      open();
      QTRY_VERIFY2(!seen->isEmpty(), qPrintable(where));
      QTRY_VERIFY(!QApplication::activeModalWidget());
      if (size.width() > kSmall.width() || size.height() > kSmall.height())
        grew << QString("%1: the dialog is %2×%3").arg(where).arg(size.width()).arg(size.height());
      check(where + " (closed)");
      QVERIFY(activate());
    };
    Json doc = baseProject();
    doc["dataset"]["samples"] = 400;
    doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
    // Four branches named as in the speech example ("band0"…): three share-legend entries fit a
    // row at this size, and the fourth must go to a second row (all four stayed in one, cut to "ban").
    auto renamed = [](const std::string &end) {
      const std::string id = end.substr(0, end.find(':'));
      return id.size() == 1 && id[0] >= 'a' && id[0] <= 'd' ? "band" + std::to_string(id[0] - 'a') + end.substr(1)
                                                            : end;
    };
    for (auto &n : doc["nodes"])
      n["id"] = renamed(n["id"].get<std::string>());
    for (auto &e : doc["edges"]) {
      e["from"] = renamed(e["from"].get<std::string>());
      e["to"] = renamed(e["to"].get<std::string>());
    }
    const QString project = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump(2)));
    QVERIFY(QDir().mkpath(dir.filePath("a-folder-with-a-rather-long-name-for-the-searches-of-this-project")));
    const QString searchFolder =
        dir.filePath("a-folder-with-a-rather-long-name-for-the-searches-of-this-project/fashion-patches-search");
    const ProcessRun r = runProcess(PARTICLE_CLI, {"search", project, "--budget", "3trials", "--out", searchFolder});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    auto opened = answerFileDialog(project);
    QTest::keyClick(window_->view(), Qt::Key_O, Qt::ControlModifier);
    QVERIFY(*opened);
    QTRY_COMPARE(window_->document()->filePath(), project);
    QVERIFY(activate());
    check("Design");

    // Design: a node in the inspector, the Data panel, the dialogs.
    clickNode(window_->view(), window_->scene()->nodeItem("split"));
    check("Design, Split in the inspector");
    QTest::keyClick(window_->view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
    QTRY_VERIFY(window_->dataPanel()->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(window_->dataPanel()->previewReady(), 20000);
    check("Design, Data panel with the preview");
    dialogFits("Open", [&] { QTest::keyClick(window_->view(), Qt::Key_O, Qt::ControlModifier); });
    dialogFits("Save As",
               [&] { QTest::keyClick(window_->view(), Qt::Key_S, Qt::ControlModifier | Qt::ShiftModifier); });
    dialogFits("Export", [&] { QTest::keyClick(window_->view(), Qt::Key_E, Qt::ControlModifier); });

    // Train: a run to its end.
    clickTab(window_->tabs(), "Train");
    check("Train");
    TrainPanel *train = window_->trainPanel();
    // The charts' "once a run starts" / "after the first epoch": every line inside its axis rect
    // ("ter the first epoc" in the validation chart, whose two value axes leave it narrow).
    QTest::qWait(600); // a replot lays the charts out
    for (QCustomPlot *plot : train->findChildren<QCustomPlot *>())
      for (int i = 0; i < plot->itemCount(); ++i)
        if (auto *t = qobject_cast<QCPItemText *>(plot->item(i)); t && t->objectName() == "placeholder") {
          const QFontMetrics metrics(t->font());
          for (const QString &line : t->text().split('\n'))
            if (metrics.horizontalAdvance(line) > plot->axisRect()->width())
              grew << QString("Train: %1's placeholder line \"%2\" is %3 px wide in a %4 px chart")
                          .arg(plot->objectName(), line)
                          .arg(metrics.horizontalAdvance(line))
                          .arg(plot->axisRect()->width());
        }
    QSignalSpy finished(train, &TrainPanel::runFinished);
    QTest::mouseClick(train->startButton(), Qt::LeftButton);
    QVERIFY(finished.wait(120000));
    check("Train, a run finished");
    // Every legend entry whole: three to a row cut the names off in a narrow chart ("val lo"). The
    // charts redraw twice a second: the last epoch's may be pending.
    auto cutLegends = [&] {
      QStringList cut;
      for (QCustomPlot *plot : train->findChildren<QCustomPlot *>())
        for (int i = 0; plot->legend->visible() && i < plot->legend->itemCount(); ++i)
          if (QCPAbstractLegendItem *item = plot->legend->item(i);
              item && (item->outerRect().width() < item->minimumOuterSizeHint().width() ||
                       item->outerRect().right() > plot->width()))
            cut << QString("Train: %1's legend entry %2 is %3 px wide of %4, its right edge at %5 of %6")
                       .arg(plot->objectName())
                       .arg(i)
                       .arg(item->outerRect().width())
                       .arg(item->minimumOuterSizeHint().width())
                       .arg(item->outerRect().right())
                       .arg(plot->width());
      return cut;
    };
    QTRY_VERIFY2_WITH_TIMEOUT(cutLegends().isEmpty(), qPrintable(cutLegends().join("\n")), 3000);
    dialogFits("Export charts", [&] { QTest::mouseClick(train->exportButton(), Qt::LeftButton); });

    // Explain: the run's checkpoint explained (F9).
    clickTab(window_->tabs(), "Explain");
    check("Explain");
    ExplainPanel *explain = window_->explainPanel();
    QTRY_VERIFY(!explain->checkpoint().isEmpty() && explain->computeButton()->isEnabled());
    QSignalSpy explained(explain, &ExplainPanel::detailReady);
    QVERIFY(activate());
    QTest::keyClick(explain->computeButton(), Qt::Key_F9);
    QVERIFY(explained.wait(120000));
    check("Explain, explained");

    // Experiments: a search opened (a long folder name), then robustness measured.
    clickTab(window_->tabs(), "Experiments");
    check("Experiments");
    ExperimentsPanel *experiments = window_->experimentsPanel();
    auto searched = answerFileDialog(searchFolder);
    QTest::mouseClick(experiments->openButton(), Qt::LeftButton);
    QVERIFY(*searched);
    QVERIFY(activate());
    // The finalists (trained again with every seed), then the trials.
    const Json search = Json::parse(readTextFile((searchFolder + "/search.json").toStdString()));
    QTRY_COMPARE(experiments->table()->rowCount(),
                 static_cast<int>(search["finalists"].size() + search["trials"].size()));
    check("Experiments, a search opened");
    QSignalSpy claims(experiments->claimsLab(), &ClaimsLab::finished);
    QTest::mouseClick(experiments->claimsLab()->button(), Qt::LeftButton);
    QVERIFY(claims.wait(180000));
    check("Experiments, robustness measured");
    // Another document: the search says whose it is (with its folder).
    QTest::keyClick(experiments->table(), Qt::Key_N, Qt::ControlModifier);
    check("Experiments, the search of another document");

    // And back on every tab.
    for (const char *tab : {"Design", "Train", "Explain", "Experiments", "Design"}) {
      clickTab(window_->tabs(), tab);
      check(QString("back on ") + tab);
    }
    QVERIFY2(grew.isEmpty(), qPrintable(grew.join("\n")));
  }

private:
  MainWindow *window_ = nullptr;
  std::unique_ptr<QTemporaryDir> runs_;
};

QTEST_MAIN(TestPolish)
#include "tst_polish.moc"
