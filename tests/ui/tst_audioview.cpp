// Audio in the app, driven through its widgets: the Data panel draws a sample of an audio folder as
// a spectrogram (a low tone low, a high tone high, another thumbnail clicked shows another), and
// the Explain tab draws the explained sample as a spectrogram with the saliency over it and each
// frequency band outlined with its share.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "ProjectFiles.h"
#include "TestSupport.h"
#include "charts/CustomPlot.h"
#include "charts/Spectrogram.h"
#include "dataset/DataPanel.h"
#include "explain/ContributionCharts.h"
#include "explain/ExplainPanel.h"
#include "explain/SampleView.h"
#include "train/Trainer.h"

#include <QCheckBox>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSlider>
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

// A mono 16-bit WAV of a `hz` tone (and one of `hz2` as loud, when given), `seconds` long, at a
// random phase with a little noise.
void writeTone(const std::string &path, double hz, double seconds, std::mt19937 &rng, double hz2 = 0) {
  const int n = static_cast<int>(seconds * kRate);
  std::uniform_real_distribution<double> phase(0, 6.28), noise(-0.02, 0.02);
  const double p = phase(rng);
  std::string pcm;
  for (int i = 0; i < n; ++i) {
    const auto v = static_cast<int16_t>(
        std::lround(32767 * (0.4 * std::sin(p + 6.283185307 * hz * i / kRate) +
                             (hz2 > 0 ? 0.4 * std::sin(6.283185307 * hz2 * i / kRate) : 0) + noise(rng))));
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
// Writes the two-band project into `dir`, trains it, opens it in `window` at `size` on the Explain
// tab and explains its checkpoint with a click on the compute button, then waits for the result
// and for the first sample's detail. A failed step fails the test (check QTest::currentTestFailed).
void explainTrained(MainWindow &window, const QTemporaryDir &dir, QSize size) {
  const std::string path = writeFile(dir, "p.particle.json", audioProject().dump());
  TrainOptions options;
  options.outDir = dir.path().toStdString();
  Trainer(loadProject(path), options).run();
  QVERIFY(window.files()->open(QString::fromStdString(path)));
  window.resize(size);
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
  QTRY_VERIFY_WITH_TIMEOUT(detail.count() > 0, 60000);
}

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
// Two neighbouring x labels of a plot that overlap (upright ones side by side, slanted ones across
// their slant), named; empty when none do.
QString overlappingLabels(QCustomPlot *plot) {
  const auto ticker = plot->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
  if (!ticker)
    return "no text labels";
  const QFontMetrics metrics(plot->xAxis->tickLabelFont());
  const double rotation = plot->xAxis->tickLabelRotation() * M_PI / 180;
  const auto ticks = ticker->ticks();
  for (auto a = ticks.begin(), b = std::next(a); a != ticks.end() && b != ticks.end(); ++a, ++b) {
    const double gap = plot->xAxis->coordToPixel(b.key()) - plot->xAxis->coordToPixel(a.key());
    const bool overlap = rotation == 0
                             ? (metrics.horizontalAdvance(a.value()) + metrics.horizontalAdvance(b.value())) / 2.0 > gap
                             : gap * std::sin(rotation) < metrics.height();
    if (overlap)
      return QString("'%1' and '%2' %3 px apart at %4°")
          .arg(a.value(), b.value())
          .arg(gap)
          .arg(plot->xAxis->tickLabelRotation());
  }
  return {};
}

// The most coloured pixel (max − min of its red, green and blue) inside each part of the view,
// 4 px in from its outline (the chosen part's outline is yellow).
QVector<int> saturationPerPart(SpectrogramView *view) {
  const QImage img = view->grab().toImage();
  const QRectF plot(view->plotRect());
  const double ch = plot.height() / 16, cw = plot.width() / std::max(1, view->parts().value(0).col1);
  QVector<int> out;
  for (const auto &part : view->parts()) {
    const QRect box = QRectF(plot.left() + part.col0 * cw, plot.bottom() - part.row1 * ch, (part.col1 - part.col0) * cw,
                             (part.row1 - part.row0) * ch)
                          .toRect()
                          .adjusted(4, 4, -4, -4);
    int top = 0;
    for (int y = box.top(); y <= box.bottom(); ++y)
      for (int x = box.left(); x <= box.right(); ++x) {
        const QColor c = img.pixelColor(x, y);
        top = std::max(top, std::max({c.red(), c.green(), c.blue()}) - std::min({c.red(), c.green(), c.blue()}));
      }
    out << top;
  }
  return out;
}
} // namespace

class TestAudioView : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void dataPanelDrawsSpectrograms();
  void explainTabStitchesSaliencyAcrossBands();
  void aBandThatArguedAgainstTheDecisionSaysSo();
  void dataPanelSpectrogramInViewWithoutScrolling();
  void explainTabReadableAtBothSizes();
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
  MainWindow window;
  explainTrained(window, dir, QSize(1280, 900));
  if (QTest::currentTestFailed())
    return;
  ExplainPanel *panel = window.explainPanel();
  QVERIFY(panel->result().isAudio && !panel->result().isImage);
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
  // Each sample names its clip (the test split is drawn from the class folders here): in the
  // list's tooltip, in the spectrogram's title and in the exported CSV's file column.
  const QString file = r.sampleName(0);
  QVERIFY2(file.endsWith(".wav") && QFile::exists(dir.filePath("tones/" + file)), qPrintable(file));
  QCOMPARE(QFileInfo(file).dir().dirName(), r.className(r.labels[0]));
  QVERIFY2(panel->sampleList()->item(0)->toolTip().contains(file), qPrintable(panel->sampleList()->item(0)->toolTip()));
  QTest::mouseClick(panel->sampleList()->viewport(), Qt::LeftButton, {},
                    panel->sampleList()->visualItemRect(panel->sampleList()->item(0)).center());
  QTRY_VERIFY2(view->title().contains(QFileInfo(file).fileName()), qPrintable(view->title()));
  QVERIFY(panel->exportTo(dir.filePath("phi.csv")));
  QFile csv(dir.filePath("phi.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly | QIODevice::Text));
  const QStringList lines = QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts);
  QCOMPARE(lines.size(), r.samples + 1);
  QVERIFY2(lines[0].startsWith("sample,file,label,"), qPrintable(lines[0]));
  QVERIFY2(lines[1].startsWith("0,\"" + file + "\","), qPrintable(lines[1]));
  window.undoStack()->setClean();
}

// A band that argued against the decision (φ < 0: the waterfall's red step) says so on its label,
// not only its share. Test clips with both tones, which no training clip has: whichever class the
// model picks, the other tone's band argues against it.
void TestAudioView::aBandThatArguedAgainstTheDecisionSaysSo() {
  QTemporaryDir dir;
  std::mt19937 rng(11);
  for (const char *folder : {"train/high", "train/low", "test/high", "test/low"})
    QDir(dir.path()).mkpath(QString("tones/%1").arg(folder));
  for (int i = 0; i < 16; ++i) {
    writeTone(dir.filePath(QString("tones/train/high/%1.wav").arg(i)).toStdString(), 2500, 0.5, rng);
    writeTone(dir.filePath(QString("tones/train/low/%1.wav").arg(i)).toStdString(), 250, 0.5, rng);
  }
  for (int i = 0; i < 4; ++i) {
    writeTone(dir.filePath(QString("tones/test/high/%1.wav").arg(i)).toStdString(), 2500, 0.5, rng);
    writeTone(dir.filePath(QString("tones/test/low/%1.wav").arg(i)).toStdString(), 250, 0.5, rng, 2500);
  }
  MainWindow window;
  explainTrained(window, dir, QSize(1280, 900));
  if (QTest::currentTestFailed())
    return;
  ExplainPanel *panel = window.explainPanel();
  const ExplainResult &r = panel->result();
  const CombineResult &c = r.combines[0];
  int against = -1, band = -1;
  for (int i = 0; i < r.samples && against < 0; ++i)
    for (int b = 0; b < 2 && against < 0; ++b)
      if (c.phi[i * 2 + b] < 0) {
        against = i;
        band = b;
      }
  QVERIFY2(against >= 0, "no sample has a band with a negative φ");
  // That sample, clicked in the list: its band's label carries the minus, the other's its own sign.
  QListWidget *samples = panel->sampleList();
  samples->scrollToItem(samples->item(against));
  QTest::mouseClick(samples->viewport(), Qt::LeftButton, {}, samples->visualItemRect(samples->item(against)).center());
  SpectrogramView *view = panel->sampleView()->spectrogram();
  QTRY_VERIFY(view->title().startsWith(QString("#%1 ").arg(against)) && view->parts().size() == 2);
  const QString minus = QString::fromUtf8("−");
  QVERIFY2(view->parts()[band].label.contains(minus), qPrintable(view->parts()[band].label));
  QVERIFY2(view->parts()[1 - band].label.contains(minus) == (c.phi[against * 2 + 1 - band] < 0),
           qPrintable(view->parts()[1 - band].label));
  window.undoStack()->setClean();
}

// The Data panel's large spectrogram is in view as the panel opens at 1600×1000 (the fresh-eyes
// trial had to scroll the dock to find it), and at 1024×700 it is there, whole and readable, a
// scroll away.
void TestAudioView::dataPanelSpectrogramInViewWithoutScrolling() {
  QTemporaryDir dir;
  writeTones(dir);
  const std::string path = writeFile(dir, "p.particle.json", audioProject().dump());
  MainWindow window;
  QVERIFY(window.files()->open(QString::fromStdString(path)));
  window.resize(1600, 1000);
  window.show();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  QTest::keyClick(window.view(), Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
  DataPanel *data = window.dataPanel();
  QTRY_VERIFY(data->isVisible());
  QTRY_VERIFY_WITH_TIMEOUT(data->previewReady(), 30000);
  SpectrogramView *view = data->spectrogram();
  auto *scroll = qobject_cast<QScrollArea *>(data->parentWidget()->parentWidget());
  QVERIFY(scroll);
  auto plotInViewport = [&] {
    const QRect plot = view->plotRect();
    return QRect(view->mapTo(scroll->viewport(), plot.topLeft()), plot.size());
  };
  QTRY_VERIFY(view->isVisible() && view->hasSample());
  QTest::qWait(100); // the layout settles
  QCOMPARE(scroll->verticalScrollBar()->value(), 0);
  QVERIFY2(scroll->viewport()->rect().contains(plotInViewport()) && view->plotRect().height() >= 120,
           qPrintable(QString("1600×1000: plot at %1,%2 %3×%4 in a viewport %5 high")
                          .arg(plotInViewport().x())
                          .arg(plotInViewport().y())
                          .arg(plotInViewport().width())
                          .arg(plotInViewport().height())
                          .arg(scroll->viewport()->height())));
  window.resize(1024, 700);
  QTest::qWait(200);
  QVERIFY2(view->plotRect().height() >= 100 && view->plotRect().width() >= 100 &&
               view->height() <= scroll->viewport()->height(),
           qPrintable(QString("1024×700: plot %1×%2, view %3 high in a viewport %4 high")
                          .arg(view->plotRect().width())
                          .arg(view->plotRect().height())
                          .arg(view->height())
                          .arg(scroll->viewport()->height())));
  window.undoStack()->setClean();
}

// The Explain tab as the fresh-eyes trial found it wanting: the waterfall's labels overlapped in a
// narrower window; the spectrogram under the saliency was muddy; a band that decided a third of the
// output looked blank (its gradients faint beside another band's, on one scale) with nothing saying
// that the colours and the % are different measures.
void TestAudioView::explainTabReadableAtBothSizes() {
  QTemporaryDir dir;
  writeTones(dir);
  MainWindow window;
  explainTrained(window, dir, QSize(1600, 1000));
  if (QTest::currentTestFailed())
    return;
  ExplainPanel *panel = window.explainPanel();
  SampleView *sample = panel->sampleView();
  SpectrogramView *view = sample->spectrogram();
  QTRY_VERIFY(view->isVisible() && view->plotRect().height() > 40 && view->parts().size() == 2);
  QTest::qWait(100);

  // Where the user sees the bands' % and the colours, a caption says they measure different things.
  QLabel *caption = sample->audioCaption();
  QVERIFY(caption && caption->isVisible());
  QVERIFY2(caption->text().contains("saliency") && caption->text().contains("Shapley") &&
               caption->text().contains("Different measures"),
           qPrintable(caption->text()));
  // Each band's saliency scaled to its own peak: every band shows its strongest cells in colour.
  QVERIFY(sample->perBandBox()->isChecked());
  for (int s : saturationPerPart(view))
    QVERIFY2(s >= 120, qPrintable(QString("a band's strongest saliency drawn with saturation %1").arg(s)));

  // The opacity slider at its left end: the spectrogram alone, in greys stretched over its range.
  QSlider *opacity = sample->opacitySlider();
  QVERIFY(opacity->isVisible());
  QTest::mouseClick(opacity, Qt::LeftButton, {}, QPoint(opacity->width() / 2, opacity->height() / 2));
  QTest::keyClick(opacity, Qt::Key_Home);
  QTRY_COMPARE(view->overlayOpacity(), 0.0);
  {
    const QImage img = view->grab().toImage();
    const QRect plot = view->plotRect().adjusted(3, 3, -3, -3);
    QVector<int> greys;
    int coloured = 0, all = 0;
    for (int y = plot.top(); y <= plot.bottom(); y += 2)
      for (int x = plot.left(); x <= plot.right(); x += 2, ++all) {
        const QColor c = img.pixelColor(x, y);
        if (std::abs(c.red() - c.green()) > 2 || std::abs(c.green() - c.blue()) > 2)
          ++coloured; // the chosen part's yellow outline, no saliency
        else
          greys << c.red();
      }
    QVERIFY2(coloured < all / 20, qPrintable(QString("%1 of %2 pixels coloured").arg(coloured).arg(all)));
    std::sort(greys.begin(), greys.end());
    const int spread = greys[greys.size() * 9 / 10] - greys[greys.size() / 10];
    QVERIFY2(spread >= 60, qPrintable(QString("the grey spectrogram's 10th–90th percentile spread: %1").arg(spread)));
  }
  // One scale for the sample, ticked off by the user: the colour bar says so.
  QTest::keyClick(opacity, Qt::Key_End);
  QTest::mouseClick(sample->perBandBox(), Qt::LeftButton, {}, QPoint(8, sample->perBandBox()->height() / 2));
  QTRY_VERIFY(!view->overlayPerPart());

  // The waterfall's labels clear each other at 1600×1000 and after the window narrows to 1024×700.
  QCustomPlot *waterfall = panel->charts()->waterfall();
  QTRY_VERIFY2(overlappingLabels(waterfall).isEmpty(), qPrintable(overlappingLabels(waterfall)));
  window.resize(1024, 700);
  QTest::qWait(300); // laid out and replotted at the new size
  QVERIFY2(overlappingLabels(waterfall).isEmpty(), qPrintable(overlappingLabels(waterfall)));
  window.undoStack()->setClean();
}

QTEST_MAIN(TestAudioView)
#include "tst_audioview.moc"
