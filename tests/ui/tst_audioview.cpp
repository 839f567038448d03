// Audio in the app, driven through its widgets: the Data panel draws a sample of an audio folder as
// a spectrogram (a low tone low, a high tone high, another thumbnail clicked shows another), and
// the Explain tab draws the explained sample as a spectrogram with the saliency over it and each
// frequency band outlined with its share.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "ProjectFiles.h"
#include "TestSupport.h"
#include "charts/Spectrogram.h"
#include "dataset/DataPanel.h"
#include "explain/ExplainPanel.h"
#include "explain/SampleView.h"
#include "train/Trainer.h"

#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QUndoStack>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <random>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {

constexpr int kRate = 8000;

// A mono 16-bit WAV of a `hz` tone, `seconds` long, at a random phase with a little noise.
void writeTone(const std::string &path, double hz, double seconds, std::mt19937 &rng) {
  const int n = static_cast<int>(seconds * kRate);
  std::uniform_real_distribution<double> phase(0, 6.28), noise(-0.02, 0.02);
  const double p = phase(rng);
  std::string pcm;
  for (int i = 0; i < n; ++i) {
    const auto v =
        static_cast<int16_t>(std::lround(32767 * (0.5 * std::sin(p + 6.283185307 * hz * i / kRate) + noise(rng))));
    pcm.push_back(static_cast<char>(v & 0xff));
    pcm.push_back(static_cast<char>((v >> 8) & 0xff));
  }
  auto le = [](uint32_t v, int bytes) {
    std::string s;
    for (int b = 0; b < bytes; ++b)
      s.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
    return s;
  };
  const std::string wav = "RIFF" + le(36 + static_cast<uint32_t>(pcm.size()), 4) + "WAVEfmt " + le(16, 4) + le(1, 2) +
                          le(1, 2) + le(kRate, 4) + le(2 * kRate, 4) + le(2, 2) + le(16, 2) + "data" +
                          le(static_cast<uint32_t>(pcm.size()), 4) + pcm;
  std::ofstream(path, std::ios::binary) << wav;
}

// Class folders "high" (2500 Hz) and "low" (250 Hz), 16 half-second clips each.
void writeTones(const QTemporaryDir &dir) {
  std::mt19937 rng(7);
  for (const auto &[name, hz] : {std::pair{"high", 2500.0}, {"low", 250.0}}) {
    QDir(dir.path()).mkpath(QString("tones/%1").arg(name));
    for (int i = 0; i < 16; ++i)
      writeTone(dir.filePath(QString("tones/%1/%2.wav").arg(name).arg(i)).toStdString(), hz, 0.5, rng);
  }
}

// The spectrogram in two frequency bands (Split patches of 2 rows × 1 column), one shared ConvNet.
Json audioProject() {
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "audio_folder"}, {"path", "tones"}, {"sample_rate", kRate},
                    {"seconds", 0.5},         {"mels", 16},      {"hop_ms", 20},
                    {"test_fraction", 0.25}};
  doc["nodes"] = Json::parse(R"([
    {"id": "input", "type": "Input", "pos": [0, 100]},
    {"id": "split", "type": "Split", "pos": [220, 100], "params": {"mode": "patches", "rows": 2, "cols": 1}},
    {"id": "low", "type": "ConvNet", "pos": [440, 0], "params": {"channels": [4], "kernel": 3, "pool": true, "out": 8}, "share": "band"},
    {"id": "high", "type": "ConvNet", "pos": [440, 220], "params": {"channels": [4], "kernel": 3, "pool": true, "out": 8}, "share": "band"},
    {"id": "combine", "type": "Combine", "pos": [660, 100], "params": {"mode": "concat"}},
    {"id": "head", "type": "Classifier", "pos": [880, 100]}
  ])");
  doc["edges"] = Json::parse(R"([
    {"from": "input", "to": "split"}, {"from": "split", "to": "low"}, {"from": "split:1", "to": "high"},
    {"from": "low", "to": "combine"}, {"from": "high", "to": "combine:1"}, {"from": "combine", "to": "head"}
  ])");
  doc["training"] = {{"epochs", 4}, {"batch_size", 8}, {"threads", 1}, {"lr", 0.01}};
  return doc;
}

// Where the spectrogram is brightest down the plot's middle column, as a share of the plot's
// height from its bottom (0: the lowest band, 1: the highest), and how many colours that column has.
std::pair<double, int> brightest(SpectrogramView *view) {
  const QImage img = view->grab().toImage();
  const QRect plot = view->plotRect();
  const int x = plot.center().x();
  int best = -1, bestY = -1;
  QSet<QRgb> colours;
  for (int y = plot.top() + 2; y < plot.bottom() - 1; ++y) {
    const QColor c = img.pixelColor(x, y);
    colours.insert(c.rgb());
    const int luma = 299 * c.red() + 587 * c.green() + 114 * c.blue();
    if (luma > best) {
      best = luma;
      bestY = y;
    }
  }
  return {static_cast<double>(plot.bottom() - bestY) / plot.height(), static_cast<int>(colours.size())};
}
} // namespace

class TestAudioView : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void dataPanelDrawsSpectrograms();
  void explainTabStitchesSaliencyAcrossBands();
};

void TestAudioView::dataPanelDrawsSpectrograms() {
  QTemporaryDir dir;
  writeTones(dir);
  const std::string path = writeFile(dir, "p.particle.json", audioProject().dump());
  MainWindow window;
  QVERIFY(window.files()->open(QString::fromStdString(path)));
  window.resize(1280, 900);
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  QTest::keyClick(window.view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
  DataPanel *data = window.dataPanel();
  QTRY_VERIFY(data->isVisible());
  QTRY_VERIFY_WITH_TIMEOUT(data->previewReady(), 30000);
  QListWidget *thumbs = data->thumbnails();
  QVERIFY2(thumbs->isVisible(), qPrintable(data->summaryLabel()->text()));
  QVERIFY(thumbs->count() >= 2);
  SpectrogramView *view = data->spectrogram();
  QTRY_VERIFY2(view->isVisible() && view->hasSample() && view->plotRect().height() > 40,
               qPrintable(QString("visible %1, sample %2, plot %3 px high, view %4 px high")
                              .arg(view->isVisible())
                              .arg(view->hasSample())
                              .arg(view->plotRect().height())
                              .arg(view->height())));
  // The first thumbnail, drawn large: its class named, its tone a bright line at its frequency.
  auto lowOrHigh = [&](int row) { return thumbs->item(row)->text(); };
  QVERIFY2(view->title().endsWith(lowOrHigh(0)), qPrintable(view->title()));
  const auto [first, colours] = brightest(view);
  QVERIFY2(colours > 5, qPrintable(QString::number(colours))); // colours differ along frequency
  QVERIFY2(lowOrHigh(0) == "low" ? first < 0.4 : first > 0.6,
           qPrintable(QString("%1 at %2").arg(lowOrHigh(0)).arg(first)));
  // A thumbnail of the other class, clicked: the line moves to the other end of the frequency axis.
  int other = 1;
  while (other < thumbs->count() && lowOrHigh(other) == lowOrHigh(0))
    ++other;
  QVERIFY(other < thumbs->count());
  QTest::mouseClick(thumbs->viewport(), Qt::LeftButton, {}, thumbs->visualItemRect(thumbs->item(other)).center());
  QTRY_VERIFY(view->title().startsWith(QString("training sample %1:").arg(other)));
  QTest::qWait(50);
  const double second = brightest(view).first;
  QVERIFY2(lowOrHigh(other) == "low" ? second < 0.4 : second > 0.6,
           qPrintable(QString("%1 at %2").arg(lowOrHigh(other)).arg(second)));
  window.undoStack()->setClean();
}

void TestAudioView::explainTabStitchesSaliencyAcrossBands() {
  QTemporaryDir dir;
  writeTones(dir);
  const std::string path = writeFile(dir, "p.particle.json", audioProject().dump());
  TrainOptions options;
  options.outDir = dir.path().toStdString();
  Trainer(loadProject(path), options).run();

  MainWindow window;
  QVERIFY(window.files()->open(QString::fromStdString(path)));
  window.resize(1280, 900);
  window.setCurrentTab("explain");
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  ExplainPanel *panel = window.explainPanel();
  panel->setCheckpoint(dir.filePath("checkpoint.pt"));
  QSignalSpy ready(panel, &ExplainPanel::resultReady);
  QSignalSpy detail(panel, &ExplainPanel::detailReady);
  QTest::mouseClick(panel->computeButton(), Qt::LeftButton);
  QVERIFY(ready.wait(60000));
  QVERIFY2(panel->result().error.isEmpty(), qPrintable(panel->result().error));
  QVERIFY(panel->result().isAudio && !panel->result().isImage);
  QTRY_VERIFY_WITH_TIMEOUT(detail.count() > 0, 60000);
  SpectrogramView *view = panel->sampleView()->spectrogram();
  QTRY_VERIFY(view->isVisible() && view->plotRect().height() > 40);
  // The branches say which band they read, in Hz; each band is outlined with its share.
  QListWidget *branches = panel->branchList();
  QCOMPARE(branches->count(), 2);
  QVERIFY2(branches->item(0)->text().contains(" Hz)"), qPrintable(branches->item(0)->text()));
  QCOMPARE(view->parts().size(), 2);
  QVERIFY(view->parts()[0].row0 == 0 && view->parts()[0].row1 == 8 && view->parts()[1].row0 == 8);
  QVERIFY2(view->parts()[1].label.endsWith("%"), qPrintable(view->parts()[1].label));
  QVERIFY(view->parts()[0].selected && !view->parts()[1].selected);
  // The stitched saliency covers the whole sample: both bands have some.
  const QVector<float> &saliency = panel->detail().audioSaliency;
  const auto &r = panel->result();
  QCOMPARE(saliency.size(), r.audioRows * r.audioCols);
  double lowBand = 0, highBand = 0;
  for (int row = 0; row < r.audioRows; ++row)
    for (int col = 0; col < r.audioCols; ++col)
      (row < r.audioRows / 2 ? lowBand : highBand) += saliency[row * r.audioCols + col];
  QVERIFY(lowBand > 0 && highBand > 0);
  // Drawn: colours vary along frequency down the middle of the clip.
  QVERIFY2(brightest(view).second > 5, "one colour down the spectrogram");
  // Another branch clicked: its band is the one outlined as chosen.
  QTest::mouseClick(branches->viewport(), Qt::LeftButton, {}, branches->visualItemRect(branches->item(1)).center());
  QTRY_VERIFY(view->parts().size() == 2 && view->parts()[1].selected && !view->parts()[0].selected);
  window.undoStack()->setClean();
}

QTEST_MAIN(TestAudioView)
#include "tst_audioview.moc"
