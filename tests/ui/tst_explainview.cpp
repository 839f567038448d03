// The Explain tab on a trained checkpoint: computed on its own engine thread, driven through
// the tab's widgets.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "ProjectFiles.h"
#include "TestSupport.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"
#include "explain/ContributionCharts.h"
#include "explain/ExplainPanel.h"
#include "explain/SampleView.h"
#include "train/Trainer.h"
#include "charts/CustomPlot.h"

#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTextBrowser>
#include <QToolTip>
#include <QUndoStack>
#include <QtTest>

#include <filesystem>
#include <fstream>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

class TestExplainView : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void explainsATrainedModel();
  void heatmapSaysWhichClassAndIsClearedWithTheProject();
  void attentionMapsForAttentionSubModels();
  void wordsOfATextSample();
  void tableRowByBranch();
  void samplesOutOfRangeAreRefusedAndSaid();
  void completenessErrorIsExplainedForAGate();
};

namespace {
QString trainCheckpoint(const Project &project, const QTemporaryDir &dir) {
  TrainOptions options;
  options.outDir = dir.path().toStdString();
  Trainer trainer(project, options);
  trainer.run();
  return dir.filePath("checkpoint.pt");
}

// `doc` written as p.particle.json in `dir` and trained there: the file's path and the checkpoint.
std::pair<std::string, QString> writeAndTrain(const Json &doc, const QTemporaryDir &dir) {
  std::string path = writeFile(dir, "p.particle.json", doc.dump());
  QString checkpoint = trainCheckpoint(loadProject(path), dir);
  return {std::move(path), std::move(checkpoint)};
}

// `path` opened in `window`, shown on the Explain tab with `checkpoint` picked; false when the
// project did not open or the window was not shown.
bool openOnExplain(MainWindow &window, const std::string &path, const QString &checkpoint) {
  if (!window.files()->open(QString::fromStdString(path)))
    return false;
  window.setCurrentTab("explain");
  window.show();
  if (!QTest::qWaitForWindowExposed(&window))
    return false;
  window.explainPanel()->setCheckpoint(checkpoint);
  return true;
}
} // namespace

void TestExplainView::explainsATrainedModel() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 2}, {"threads", 1}};
  QTemporaryDir dir;
  const auto [path, checkpoint] = writeAndTrain(doc, dir);

  MainWindow window;
  QVERIFY(openOnExplain(window, path, checkpoint));
  ExplainPanel *panel = window.explainPanel();
  // Before the first Explain no empty "Combiner weights" chart (it showed, then went for a concat).
  auto *weightsPlot = panel->findChild<QCustomPlot *>("weightsPlot");
  QVERIFY(weightsPlot);
  QVERIFY(!weightsPlot->isVisible());
  QVERIFY(panel->findChild<QCustomPlot *>("waterfallPlot")->isVisible());
  QSignalSpy ready(panel, &ExplainPanel::resultReady);
  QSignalSpy detail(panel, &ExplainPanel::detailReady);
  QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  const ExplainResult &r = panel->result();
  QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
  QVERIFY(!weightsPlot->isVisible()); // concat: no weights
  QCOMPARE(r.samples, 80);            // the synthetic test split (20% of 400)
  // The status says which samples were explained.
  QTRY_VERIFY2(panel->statusLabel()->text().contains("over all 80 test samples, drawn across the 4 classes"),
               qPrintable(panel->statusLabel()->text()));
  QCOMPARE(r.combines.size(), 1);
  const CombineResult &c = r.combines[0];
  QCOMPARE(c.branches, (QStringList{"a", "b", "c", "d"}));
  QCOMPARE(panel->sampleList()->count(), r.samples);
  // The waterfall walks from f(baseline) to f(x): completeness per sample.
  for (int i = 0; i < r.samples; ++i) {
    double sum = 0;
    for (int b = 0; b < 4; ++b)
      sum += c.phi[i * 4 + b];
    QVERIFY(std::abs(sum - (c.fx[i] - c.fBaseline[i])) <= 1e-4 * (1 + std::abs(c.fx[i])));
  }
  int steps = 0; // one step per branch
  for (int i = 0; i < panel->charts()->waterfall()->itemCount(); ++i)
    steps += qobject_cast<QCPItemRect *>(panel->charts()->waterfall()->item(i)) != nullptr;
  QCOMPARE(steps, 4);
  QCOMPARE(panel->charts()->heatmap()->plottableCount(), 1); // class × branch map
  QTRY_VERIFY_WITH_TIMEOUT(detail.count() > 0, 60000);       // saliency of the first sample
  QCOMPARE(panel->detail().saliency.size(), 4);
  for (double delta : panel->detail().saliencyDelta)
    QVERIFY(delta < 1e-2);
  // Another sample.
  panel->sampleList()->setCurrentRow(5);
  QVERIFY(detail.wait(60000));
  QCOMPARE(panel->detail().index, 5);
  // Clicking a branch selects its node in the editor.
  QListWidget *branches = panel->branchList();
  QTest::mouseClick(branches->viewport(), Qt::LeftButton, {}, branches->visualItemRect(branches->item(2)).center());
  QCOMPARE(window.scene()->selectedIds(), QStringList{"c"});
  // Method selector: ablation.
  panel->methodBox()->setCurrentIndex(panel->methodBox()->findData("ablation"));
  QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QCOMPARE(panel->result().method, QString("ablation"));
  // Export.
  QVERIFY(panel->exportTo(dir.filePath("phi.csv")));
  QFile csv(dir.filePath("phi.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly));
  QCOMPARE(csv.readAll().count('\n'), 81);
  QVERIFY(panel->exportTo(dir.filePath("tab.png")));
  window.undoStack()->setClean();
}

// The class × branch map says which class it groups by (the explained one: predicted, or true), a
// cell hovered tells its value, class and branch, and another project leaves it empty, without the
// old colour scale (the fresh-eyes trial saw it stay).
void TestExplainView::heatmapSaysWhichClassAndIsClearedWithTheProject() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"threads", 1}};
  QTemporaryDir dir;
  const auto [path, checkpoint] = writeAndTrain(doc, dir);

  MainWindow window;
  QVERIFY(window.files()->open(QString::fromStdString(path)));
  window.resize(1600, 1000);
  window.setCurrentTab("explain");
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  ExplainPanel *panel = window.explainPanel();
  panel->setCheckpoint(checkpoint);
  QSignalSpy ready(panel, &ExplainPanel::resultReady);
  QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QVERIFY2(panel->result().error.isEmpty(), qPrintable(panel->result().error));
  QCustomPlot *heatmap = panel->charts()->heatmap();
  QCOMPARE(heatmap->yAxis->label(), QString("predicted class"));
  // The cell of the third class (rows top down) and the second branch, hovered.
  const CombineResult &c = panel->result().combines[0];
  QTest::qWait(100);
  const QPoint cell(qRound(heatmap->xAxis->coordToPixel(1)), qRound(heatmap->yAxis->coordToPixel(2)));
  QTest::mouseMove(heatmap, cell);
  QTRY_VERIFY(QToolTip::isVisible());
  const QString tip = QToolTip::text();
  for (const QString &part : {QString::number(c.perClass[2 * 4 + 1], 'f', 3),
                              "predicted class " + panel->result().className(2), "branch " + c.branchLabel(1)})
    QVERIFY2(tip.contains(part), qPrintable(part + " not in: " + tip));
  // The true class explained: the map groups by it, and says so.
  QComboBox *target = nullptr;
  for (QComboBox *box : panel->findChildren<QComboBox *>())
    if (box->findData("true") >= 0)
      target = box;
  QVERIFY(target);
  QVERIFY(chooseWithMouse(target, "true class"));
  QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QCOMPARE(heatmap->yAxis->label(), QString("true class"));
  window.undoStack()->setClean();

  // Another project (File → New): the map is empty, and so is the strip its colour scale was in.
  QTest::keyClick(&window, Qt::Key_N, Qt::ControlModifier);
  QTRY_COMPARE(heatmap->plottableCount(), 0);
  QTest::qWait(100);
  const QImage image = heatmap->grab().toImage();
  int coloured = 0; // saturated pixels: the scale's gradient (the empty plot is grey on white)
  for (int y = 0; y < image.height(); ++y)
    for (int x = image.width() * 4 / 5; x < image.width(); ++x)
      coloured += image.pixelColor(x, y).hsvSaturation() > 80;
  QVERIFY2(coloured == 0, qPrintable(QString("%1 coloured pixels where the colour scale was").arg(coloured)));
  window.undoStack()->setClean();
}

void TestExplainView::attentionMapsForAttentionSubModels() {
  Project project = loadProject(examplePath("fashion-tokens"));
  project.dataset["limit"] = 256; // a quick checkpoint: the maps need weights, not accuracy
  project.training["epochs"] = 1;
  QTemporaryDir dir;
  saveProject(project, dir.filePath("tokens.particle.json").toStdString());
  project.path = dir.filePath("tokens.particle.json").toStdString();
  const QString checkpoint = trainCheckpoint(project, dir);
  MainWindow window;
  QVERIFY(window.files()->open(dir.filePath("tokens.particle.json")));
  ExplainPanel *panel = window.explainPanel();
  panel->setCheckpoint(checkpoint);
  QSignalSpy detail(panel, &ExplainPanel::detailReady);
  panel->compute();
  QVERIFY(detail.wait(120000));
  const SampleDetail &d = panel->detail();
  QCOMPARE(d.attentionNodes, (QStringList{"left", "right"}));
  QCOMPARE(d.attention[0].size(), 2 * 4);          // layers × heads
  QCOMPARE(d.attention[0][0].size(), QSize(8, 8)); // T × T
  QCOMPARE(d.rollout.size(), 2);
  // Each half's region: the 28×14 pixels it reads.
  QCOMPARE(panel->result().combines[0].regions.size(), 2);
  QCOMPARE(panel->result().combines[0].regions[0].size(), 28 * 14);
  QVERIFY(!panel->sampleView()->image()->pixmap().isNull());
  window.undoStack()->setClean();
}

// Text data: the sample view shows the text's words coloured by attribution, with the sub-model
// that read each part marked; the data lie beside the project (relative path) as in the examples.
void TestExplainView::wordsOfATextSample() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  const char *filler[] = {"the", "meeting", "is", "at", "noon", "please", "read", "notes"};
  for (int i = 0; i < 120; ++i) {
    const bool spam = i % 2 == 0;
    std::filesystem::create_directories(d + "/mail/" + (spam ? "spam" : "ham"));
    std::ofstream out(d + "/mail/" + (spam ? "spam" : "ham") + "/" + std::to_string(i) + ".txt");
    for (int w = 0; w < 8; ++w)
      out << (spam && w == i % 8 ? "winner" : filler[(i * 7 + w * 3) % 8]) << " ";
  }
  Json doc = Json::parse(R"({
    "format": "particle-studio", "version": 1, "name": "words",
    "dataset": {"kind": "text", "path": "mail", "max_tokens": 8, "min_count": 1},
    "nodes": [
      {"id": "input", "type": "Input"},
      {"id": "split", "type": "Split", "params": {"mode": "chunks", "parts": 2}},
      {"id": "e0", "type": "Embedding", "params": {"dim": 8}, "share": "w"},
      {"id": "e1", "type": "Embedding", "params": {"dim": 8}, "share": "w"},
      {"id": "p0", "type": "Pool"}, {"id": "p1", "type": "Pool"},
      {"id": "first", "type": "MLP", "params": {"hidden": [8], "out": 4}},
      {"id": "second", "type": "MLP", "params": {"hidden": [8], "out": 4}},
      {"id": "combine", "type": "Combine", "params": {"mode": "max"}},
      {"id": "head", "type": "Classifier"}
    ],
    "edges": [
      {"from": "input", "to": "split"}, {"from": "split", "to": "e0"}, {"from": "split:1", "to": "e1"},
      {"from": "e0", "to": "p0"}, {"from": "e1", "to": "p1"}, {"from": "p0", "to": "first"},
      {"from": "p1", "to": "second"}, {"from": "first", "to": "combine"}, {"from": "second", "to": "combine:1"},
      {"from": "combine", "to": "head"}
    ],
    "training": {"epochs": 3, "threads": 1, "batch_size": 16}
  })");
  const std::string path = writeFile(dir, "words.particle.json", doc.dump());
  QTemporaryDir runDir;
  const QString checkpoint = trainCheckpoint(loadProject(path), runDir);
  MainWindow window;
  QVERIFY(window.files()->open(QString::fromStdString(path)));
  // The canvas names the token axis: the ids, the halves and the embedded halves.
  QCOMPARE(window.scene()->nodeItem("input")->shapeText(), QString("[T=8]"));
  QCOMPARE(window.scene()->nodeItem("split")->shapeText(), QString("2 × [T=4]"));
  QCOMPARE(window.scene()->nodeItem("e0")->shapeText(), QString("[T=4,8]"));
  QCOMPARE(window.scene()->nodeItem("p0")->shapeText(), QString("[8]"));
  QCOMPARE(window.scene()->edgeLabel(PortRef{"p1", "0"}), QString("[T=4,8]"));
  window.setCurrentTab("explain");
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  ExplainPanel *panel = window.explainPanel();
  panel->setCheckpoint(checkpoint);
  QSignalSpy ready(panel, &ExplainPanel::resultReady);
  QSignalSpy detail(panel, &ExplainPanel::detailReady);
  QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QVERIFY2(panel->result().error.isEmpty(), qPrintable(panel->result().error));
  QVERIFY(panel->result().isText);
  QTRY_VERIFY_WITH_TIMEOUT(detail.count() > 0, 60000);
  QTextBrowser *view = panel->sampleView()->text();
  QVERIFY(view->isVisible());
  QVERIFY(!panel->sampleView()->image()->isVisible());
  // Another sample, clicked in the list: its words, coloured, with the sub-models marked.
  QListWidget *list = panel->sampleList();
  QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(list->item(3)).center());
  QTRY_COMPARE_WITH_TIMEOUT(panel->detail().index, 3, 60000);
  QTRY_VERIFY_WITH_TIMEOUT(view->toHtml().contains("background-color:#"), 10000);
  const QString words = view->toPlainText();
  QVERIFY2(words.contains("first") && words.contains("second"), qPrintable(words));
  int known = 0;
  for (const char *w : {"the", "meeting", "is", "at", "noon", "please", "read", "notes", "winner"})
    known += words.contains(QString(" %1 ").arg(w)) ? 1 : 0;
  QVERIFY2(known >= 3, qPrintable(words));
  window.undoStack()->setClean();
}

// #21 item 19: a table's sample is shown as its values, grouped by the branch that reads them
// beside each branch's φ; the branches are labelled by their columns (groups given by name).
void TestExplainView::tableRowByBranch() {
  QTemporaryDir dir;
  // Row i: a = i (unique, so a shown row can be checked), b = i % 7, c = i % 5, city by i % 3.
  const char *cities[] = {"Lima", "Oslo", "Rome"};
  std::string csv = "a,b,c,city,label\n";
  for (int i = 0; i < 120; ++i)
    csv += std::to_string(i) + "," + std::to_string(i % 7) + "," + std::to_string(i % 5) + "," + cities[i % 3] + "," +
           (i % 7 < 3 ? "low" : "high") + "\n";
  writeFile(dir, "t.csv", csv);
  Json doc = Json::parse(R"({
    "format": "particle-studio", "version": 1, "name": "table",
    "dataset": {"kind": "csv", "path": "t.csv", "label_column": "label", "categorical_columns": ["city"]},
    "nodes": [
      {"id": "input", "type": "Input"},
      {"id": "split", "type": "Split", "params": {"mode": "columns", "groups": [["a", "b"], ["c", "city"]]}},
      {"id": "left", "type": "MLP", "params": {"hidden": [8], "out": 4}},
      {"id": "right", "type": "MLP", "params": {"hidden": [8], "out": 4}},
      {"id": "combine", "type": "Combine", "params": {"mode": "concat"}},
      {"id": "head", "type": "Classifier"}
    ],
    "edges": [
      {"from": "input", "to": "split"}, {"from": "split", "to": "left"}, {"from": "split:1", "to": "right"},
      {"from": "left", "to": "combine"}, {"from": "right", "to": "combine:1"}, {"from": "combine", "to": "head"}
    ],
    "training": {"epochs": 2, "threads": 1, "batch_size": 16}
  })");
  const std::string path = writeFile(dir, "table.particle.json", doc.dump());
  QTemporaryDir runDir;
  const QString checkpoint = trainCheckpoint(loadProject(path), runDir);
  MainWindow window;
  QVERIFY(openOnExplain(window, path, checkpoint));
  ExplainPanel *panel = window.explainPanel();
  QSignalSpy ready(panel, &ExplainPanel::resultReady);
  QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QVERIFY2(panel->result().error.isEmpty(), qPrintable(panel->result().error));
  QVERIFY(panel->result().isTable);
  // The branches, labelled by their columns (a categorical column once, not per category).
  QListWidget *branches = panel->branchList();
  QTRY_COMPARE(branches->count(), 2);
  QVERIFY2(branches->item(0)->text().startsWith("left (a, b)   φ = "), qPrintable(branches->item(0)->text()));
  QVERIFY2(branches->item(1)->text().startsWith("right (c, city)   φ = "), qPrintable(branches->item(1)->text()));
  // Another sample, clicked in the list: its row, each value under the branch that reads it.
  QListWidget *list = panel->sampleList();
  QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(list->item(3)).center());
  QTextBrowser *view = panel->sampleView()->text();
  QTRY_VERIFY(view->isVisible());
  QVERIFY(!panel->sampleView()->image()->isVisible());
  QTRY_VERIFY(view->toPlainText().startsWith("#3 "));
  const QString text = view->toPlainText();
  const QRegularExpressionMatch m = QRegularExpression("a = (\\d+)").match(text);
  QVERIFY2(m.hasMatch(), qPrintable(text));
  const int row = m.captured(1).toInt();
  const int leftAt = static_cast<int>(text.indexOf("left")), rightAt = static_cast<int>(text.indexOf("right"));
  QVERIFY2(leftAt >= 0 && rightAt > leftAt, qPrintable(text));
  const QString left = text.mid(leftAt, rightAt - leftAt), right = text.mid(rightAt);
  QVERIFY2(left.contains(QRegularExpression("φ = -?\\d")), qPrintable(left));
  QVERIFY2(left.contains(QString("a = %1").arg(row)) && left.contains(QString("b = %1").arg(row % 7)),
           qPrintable(text));
  QVERIFY2(right.contains(QString("c = %1").arg(row % 5)) && right.contains(QString("city = %1").arg(cities[row % 3])),
           qPrintable(text));
  QVERIFY2(!right.contains("a = ") && !left.contains("city"), qPrintable(text));
  // The waterfall's steps carry the same labels.
  auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(panel->charts()->waterfall()->xAxis->ticker());
  QVERIFY(ticker);
  QVERIFY2(ticker->ticks().values().contains("left (a, b)") && ticker->ticks().values().contains("right (c, city)"),
           qPrintable(QStringList(ticker->ticks().values()).join(" | ")));
  // The φ shown beside a branch is the one in its list item.
  const QString phi = branches->item(1)->text().section("φ = ", 1).section(' ', 0, 0);
  QVERIFY2(right.contains("φ = " + phi), qPrintable(text + " / " + phi));
  window.undoStack()->setClean();
}

// Fresh-eyes trial: the samples field turned 0 back into 200 and cut 99999 to 9999 without a
// word. A number outside [1, 10000] is refused beside the field, saying what was kept; a number in
// range is taken and the note goes.
void TestExplainView::samplesOutOfRangeAreRefusedAndSaid() {
  MainWindow window;
  window.setCurrentTab("explain");
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  ExplainPanel *panel = window.explainPanel();
  auto *samples = panel->findChild<QSpinBox *>("samplesBox");
  QVERIFY(samples);
  QCOMPARE(samples->value(), 200);
  QVERIFY2(samples->toolTip().contains("1 … 10000"), qPrintable(samples->toolTip()));
  auto *note = panel->findChild<QLabel *>("samplesProblem");
  QVERIFY(note);
  QVERIFY(!note->isVisible());
  typeInto(samples, "0");
  QCOMPARE(samples->value(), 200);
  QTRY_VERIFY(note->isVisible());
  QVERIFY2(note->text() == "samples 0 is outside the allowed range [1, 10000]; kept 200", qPrintable(note->text()));
  typeInto(samples, "99999");
  QCOMPARE(samples->value(), 200); // not 9999
  QVERIFY2(note->text() == "samples 99999 is outside the allowed range [1, 10000]; kept 200", qPrintable(note->text()));
  typeInto(samples, "480");
  QCOMPARE(samples->value(), 480);
  QTRY_VERIFY(!note->isVisible());
}

QTEST_MAIN(TestExplainView)
// With a gate Combine the branches interact: gradient × activation's φ do not add up to
// f(x) − f(baseline), and the status says why instead of leaving "completeness error 0.4" bare;
// Shapley values on the same checkpoint add up, and say nothing more.
void TestExplainView::completenessErrorIsExplainedForAGate() {
  Json doc = baseProject();
  doc["nodes"][6]["params"] = {{"mode", "gate"}};
  doc["training"] = {{"epochs", 2}, {"threads", 1}};
  QTemporaryDir dir;
  const auto [path, checkpoint] = writeAndTrain(doc, dir);

  MainWindow window;
  QVERIFY(openOnExplain(window, path, checkpoint));
  ExplainPanel *panel = window.explainPanel();
  QSignalSpy ready(panel, &ExplainPanel::resultReady);
  QComboBox *method = panel->methodBox();
  auto explainWith = [&](const QString &which) {
    method->setFocus();
    const Qt::Key toward = method->findData(which) < method->currentIndex() ? Qt::Key_Up : Qt::Key_Down;
    for (int i = 0; i < method->count() && method->currentData().toString() != which; ++i)
      QTest::keyClick(method, toward);
    QCOMPARE(method->currentData().toString(), which);
    const int before = static_cast<int>(ready.count());
    QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() > before, 60000);
    QVERIFY2(panel->result().error.isEmpty(), qPrintable(panel->result().error));
  };
  explainWith("gradxact");
  const CombineResult &c = panel->result().combines.at(0);
  QVERIFY2(c.completenessMaxError > 1e-3, qPrintable(QString::number(c.completenessMaxError)));
  QTRY_VERIFY2(panel->statusLabel()->text().contains("only where the branches do not interact (a gate"),
               qPrintable(panel->statusLabel()->text()));
  QVERIFY(panel->statusLabel()->toolTip().contains("|Σφ − (f(x) − f(baseline))|"));
  // The branches' heading says what δ is, and why the baseline does not move it.
  const QList<QLabel *> labels = panel->findChildren<QLabel *>();
  const auto heading = std::find_if(labels.begin(), labels.end(), [](const QLabel *l) {
    return l->text().startsWith("Branches: φ for this sample");
  });
  QVERIFY(heading != labels.end());
  QVERIFY2((*heading)->toolTip().contains("integrated gradients") &&
               (*heading)->toolTip().contains("whatever the baseline"),
           qPrintable((*heading)->toolTip()));
  explainWith("shapley");
  QVERIFY(panel->result().combines.at(0).completenessMaxError < 1e-3);
  QTRY_VERIFY2(panel->statusLabel()->text().contains("completeness error") &&
                   !panel->statusLabel()->text().contains("do not interact"),
               qPrintable(panel->statusLabel()->text()));
  QVERIFY(!panel->statusLabel()->text().contains("changed since"));
  // Another method chosen and not computed yet: the status says the charts are the old choice's;
  // back to the method shown, it says nothing more.
  method->setFocus();
  QTest::keyClick(method, Qt::Key_Down);
  QCOMPARE(method->currentData().toString(), QString("ablation"));
  QVERIFY2(panel->statusLabel()->text().startsWith("Shapley values over") &&
               panel->statusLabel()->text().contains("The choices above have changed since"),
           qPrintable(panel->statusLabel()->text()));
  QTest::keyClick(method, Qt::Key_Up);
  QVERIFY2(!panel->statusLabel()->text().contains("changed since"), qPrintable(panel->statusLabel()->text()));
  window.undoStack()->setClean();
}

#include "tst_explainview.moc"
