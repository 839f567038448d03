// Text data in the app (issue 21 item 18), driven as a person does: the Data panel's preview shows
// the texts' token lengths with a suggested max_tokens and follows an edit of max_tokens; a Split
// part that is only padding is a warning beside the Split's mode, gone with mode "proportional";
// the text and label columns are offered from the file's header; an Input over token ids offers no
// normalize; a Split whose mode was never chosen takes "chunks" when connected to a vector.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "dataset/DataPanel.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"
#include "editor/InspectorWidget.h"
#include "editor/NodeItem.h"
#include "forms/SchemaForm.h"

#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QUndoStack>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {

// 60 texts of 3 to 12 words, as JSON lines (fields body, kind) and as a CSV (id, body, kind).
void writeTexts(const QTemporaryDir &dir) {
  std::string jsonl, csv = "id,body,kind\n";
  for (int i = 0; i < 60; ++i) {
    std::string body;
    for (int w = 0; w < 3 + i % 10; ++w)
      body += (w ? " w" : "w") + std::to_string(w % 3 == 0 && i % 2 ? 99 : w);
    jsonl += Json{{"body", body}, {"kind", i % 2 ? "ham" : "spam"}}.dump() + "\n";
    csv += std::to_string(i) + "," + body + "," + (i % 2 ? "ham" : "spam") + "\n";
  }
  writeFile(dir, "t.jsonl", jsonl);
  writeFile(dir, "t.csv", csv);
}

// Input → Split (two parts) → an Embedding and a Pool per part → Combine → Classifier.
Json textProject(const Json &dataset) {
  Json doc = baseProject();
  doc["dataset"] = dataset;
  doc["nodes"] = Json::parse(R"([
    {"id": "input", "type": "Input", "pos": [0, 100]},
    {"id": "split", "type": "Split", "pos": [220, 100], "params": {"mode": "chunks", "parts": 2}},
    {"id": "e0", "type": "Embedding", "pos": [440, 0], "params": {"dim": 4}, "share": "words"},
    {"id": "e1", "type": "Embedding", "pos": [440, 220], "params": {"dim": 4}, "share": "words"},
    {"id": "p0", "type": "Pool", "pos": [660, 0]},
    {"id": "p1", "type": "Pool", "pos": [660, 220]},
    {"id": "combine", "type": "Combine", "pos": [880, 100], "params": {"mode": "concat"}},
    {"id": "head", "type": "Classifier", "pos": [1100, 100]}
  ])");
  doc["edges"] = Json::parse(R"([
    {"from": "input", "to": "split"}, {"from": "split", "to": "e0"}, {"from": "split:1", "to": "e1"},
    {"from": "e0", "to": "p0"}, {"from": "e1", "to": "p1"},
    {"from": "p0", "to": "combine"}, {"from": "p1", "to": "combine:1"}, {"from": "combine", "to": "head"}
  ])");
  return doc;
}

} // namespace

class TestTextData : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void init();
  void cleanup();
  void previewShowsTokenLengthsAndPaddingIsAProblem();
  void textColumnsOfferedFromTheHeader();
  void inputOverTokensOffersNoNormalize();
  void splitModeFollowsItsInput();

private:
  DataPanel *openDataPanel();
  void open(const Json &doc) {
    window_->document()->reset(projectFromJson(doc, dir_->filePath("p.particle.json").toStdString()));
  }
  const Node &node(const char *id) const { return *window_->document()->graph().find(id); }
  MainWindow *window_ = nullptr;
  QTemporaryDir *dir_ = nullptr;
};

void TestTextData::init() {
  dir_ = new QTemporaryDir;
  writeTexts(*dir_);
  window_ = new MainWindow;
  window_->resize(1400, 900);
  window_->show();
  QVERIFY(QTest::qWaitForWindowActive(window_));
}

void TestTextData::cleanup() {
  window_->undoStack()->setClean();
  delete window_;
  window_ = nullptr;
  delete dir_;
  dir_ = nullptr;
}

DataPanel *TestTextData::openDataPanel() {
  QTest::keyClick(window_->view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
  DataPanel *data = window_->dataPanel();
  return QTest::qWaitFor([&] { return data->isVisible(); }, 5000) ? data : nullptr;
}

void TestTextData::previewShowsTokenLengthsAndPaddingIsAProblem() {
  open(textProject({{"kind", "text"},
                    {"path", "t.jsonl"},
                    {"text_column", "body"},
                    {"label_column", "kind"},
                    {"max_tokens", 64},
                    {"min_count", 1}}));
  DataPanel *data = openDataPanel();
  QVERIFY(data);
  QTRY_VERIFY_WITH_TIMEOUT(data->previewReady(), 20000);
  // 3 to 12 words per text: nothing is cut at 64, and about 16 tokens would do.
  QString summary = data->summaryLabel()->text();
  QVERIFY2(summary.contains("tokens per training text:"), qPrintable(summary));
  QVERIFY2(summary.contains("none cut at max_tokens 64") && summary.contains("suggested max_tokens 16"),
           qPrintable(summary));
  QVERIFY2(summary.contains("longest 12"), qPrintable(summary));
  // The Split's second chunk (positions 32–63) is padding for every text: a warning at its mode.
  auto *mode = qobject_cast<QComboBox *>(inspectorEditor(window_, "split", "mode"));
  QVERIFY(mode);
  SchemaForm *form = window_->inspector()->form();
  QTRY_VERIFY(form->problemText("mode").contains("output 1 (token positions 32–63) is only padding for 100%"));
  // A max_tokens typed into the Data panel: the preview counts what it cuts.
  QTest::keyClick(window_->view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
  QTRY_VERIFY(data->isVisible());
  QWidget *maxTokens = data->form()->editor("max_tokens");
  QVERIFY(maxTokens);
  typeInto(maxTokens, "8");
  QCOMPARE(window_->document()->project().dataset["max_tokens"].get<int>(), 8);
  QTRY_VERIFY_WITH_TIMEOUT(data->previewReady() && data->summaryLabel()->text().contains("cut at max_tokens 8"), 20000);
  summary = data->summaryLabel()->text();
  QVERIFY2(summary.contains("% cut at max_tokens 8") && summary.contains("suggested max_tokens 16"),
           qPrintable(summary));
  // Back to 64, and each text cut at its own length instead: no part is padding.
  typeInto(data->form()->editor("max_tokens"), "64");
  mode = qobject_cast<QComboBox *>(inspectorEditor(window_, "split", "mode"));
  QVERIFY(mode);
  QTRY_VERIFY(window_->inspector()->form()->problemText("mode").contains("only padding"));
  QVERIFY(chooseWithMouse(mode, "proportional"));
  QCOMPARE(node("split").params["mode"], Json("proportional"));
  QTRY_VERIFY(window_->inspector()->form()->problemText("mode").isEmpty());
  QVERIFY(window_->document()->validation().ok());
  QCOMPARE(window_->scene()->nodeItem("split")->outputSlots(), 2);
  for (const auto &p : window_->document()->validation().problems)
    QVERIFY2(p.code != ProblemCode::PartMostlyPadding, p.message.c_str());
}

void TestTextData::textColumnsOfferedFromTheHeader() {
  // The CSV has no "text" or "label" column: the defaults are a problem until chosen from the header.
  open(textProject({{"kind", "text"}, {"path", "t.csv"}, {"max_tokens", 16}, {"min_count", 1}}));
  DataPanel *data = openDataPanel();
  QVERIFY(data);
  QTRY_VERIFY(!window_->document()->dataError().isEmpty());
  for (const char *key : {"text_column", "label_column"}) {
    QComboBox *box = nullptr;
    QTRY_VERIFY((box = qobject_cast<QComboBox *>(data->form()->editor(key))) != nullptr);
    QStringList offered;
    for (int i = 0; i < box->count(); ++i)
      offered << box->itemText(i);
    QCOMPARE(offered, (QStringList{"id", "body", "kind"}));
  }
  QVERIFY(chooseWithMouse(qobject_cast<QComboBox *>(data->form()->editor("text_column")), "body"));
  QCOMPARE(window_->document()->project().dataset["text_column"], Json("body"));
  QVERIFY(chooseWithMouse(qobject_cast<QComboBox *>(data->form()->editor("label_column")), "kind"));
  QCOMPARE(window_->document()->project().dataset["label_column"], Json("kind"));
  QTRY_VERIFY(window_->document()->dataError().isEmpty());
  QTRY_VERIFY_WITH_TIMEOUT(data->previewReady(), 20000);
  QVERIFY2(data->summaryLabel()->text().contains("2 classes"), qPrintable(data->summaryLabel()->text()));
}

void TestTextData::inputOverTokensOffersNoNormalize() {
  open(baseProject()); // vectors: an Input standardises them
  QVERIFY(inspectorEditor(window_, "input", "normalize"));
  QVERIFY(window_->inspector()->form()->fieldVisible("normalize"));
  open(textProject(
      {{"kind", "text"}, {"path", "t.jsonl"}, {"text_column", "body"}, {"label_column", "kind"}, {"max_tokens", 16}}));
  clickNode(window_->view(), window_->scene()->nodeItem("input"));
  QTRY_COMPARE(window_->inspector()->nodeId(), QString("input"));
  QTRY_VERIFY(!window_->inspector()->form()->fieldVisible("normalize"));
}

void TestTextData::splitModeFollowsItsInput() {
  // A Split whose mode was never chosen (four parts), not yet connected to the Input of vectors.
  Json doc = baseProject();
  doc["nodes"][0]["pos"] = {0, 100};
  doc["nodes"][1] = {{"id", "split"}, {"type", "Split"}, {"pos", {260, 100}}, {"params", {{"parts", 4}}}};
  doc["edges"].erase(0);
  open(doc);
  GraphView *view = window_->view();
  auto *input = window_->scene()->nodeItem("input");
  auto *split = window_->scene()->nodeItem("split");
  QVERIFY(input && split);
  // The wire is accepted (patches, the schema's default, would refuse a vector) and sets chunks.
  dragOnView(view, input->outputPortPos(0), split->inputPortPos("0"));
  QCOMPARE(static_cast<int>(window_->document()->graph().edges.size()), 10);
  QCOMPARE(node("split").params["mode"], Json("chunks"));
  QVERIFY(window_->document()->validation().ok());
  // One edit: undo takes back the wire and the mode together.
  QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(static_cast<int>(window_->document()->graph().edges.size()), 9);
  QVERIFY(!node("split").params.contains("mode"));
  // A mode chosen before connecting is kept.
  auto *mode = qobject_cast<QComboBox *>(inspectorEditor(window_, "split", "mode"));
  QVERIFY(mode);
  QVERIFY(chooseWithMouse(mode, "chunks"));
  QVERIFY(chooseWithMouse(mode, "patches"));
  QCOMPARE(node("split").params["mode"], Json("patches"));
  QSignalSpy refused(window_->scene(), &GraphScene::connectionRefused);
  dragOnView(view, window_->scene()->nodeItem("input")->outputPortPos(0),
             window_->scene()->nodeItem("split")->inputPortPos("0"));
  QCOMPARE(refused.count(), 1); // patches of a vector: refused, as before
  QCOMPARE(static_cast<int>(window_->document()->graph().edges.size()), 9);
  QCOMPARE(node("split").params["mode"], Json("patches"));
}

QTEST_MAIN(TestTextData)
#include "tst_textdata.moc"
