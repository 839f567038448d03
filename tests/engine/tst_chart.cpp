// The chart code (engine/explain/Chart.h) without a display: SVG that parses and names its axes,
// ticks, legend and colour scale, escaped text, powers of ten on a log axis, PNGs of the asked size
// that show something (decoded here), the same bytes for the same input, and empty charts that
// say so; spectrograms with time in s, frequency in Hz upward and the bands outlined.

#include "TestSupport.h"
#include "base/Error.h"
#include "base/Files.h"
#include "explain/Chart.h"
#include "project/ProjectCheck.h"

#include <QXmlStreamReader>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <set>
#include <zlib.h>

using namespace particle;
using namespace particle::test;

namespace {

// Every <text> element's content, after parsing the whole document (fails on malformed XML).
QStringList svgTexts(const std::string &svg) {
  QXmlStreamReader xml(QByteArray::fromStdString(svg));
  QStringList texts;
  int depth = 0;
  bool root = false;
  while (!xml.atEnd()) {
    xml.readNext();
    if (xml.isStartElement()) {
      if (depth == 0)
        root = xml.name() == QLatin1String("svg");
      ++depth;
      if (xml.name() == QLatin1String("text")) {
        texts << xml.readElementText(); // reads through its end element
        --depth;
      }
    } else if (xml.isEndElement()) {
      --depth;
    }
  }
  if (xml.hasError())
    qWarning() << xml.errorString() << "at line" << xml.lineNumber();
  return xml.hasError() || !root || depth != 0 ? QStringList{"<malformed>"} : texts;
}

// Nothing an HTML page would fetch: no links, no external fonts or images, no shared ids.
bool selfContained(const std::string &svg) {
  const QString s = QString::fromStdString(svg);
  return s.count("http") == 1 && s.contains("xmlns=\"http://www.w3.org/2000/svg\"") && !s.contains("href") &&
         !s.contains("url(") && !s.contains(" id=") && !s.contains("@import");
}

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// The test's own PNG reader: 8-bit RGB, the five filter types.
Image readPng(const std::string &path) {
  const std::string file = readTextFile(path);
  Image img;
  if (file.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
    return img;
  std::string idat;
  int depth = 0, colour = 0;
  for (std::size_t at = 8; at + 8 <= file.size();) {
    auto be32 = [&](std::size_t i) {
      return static_cast<uint32_t>(static_cast<uint8_t>(file[i])) << 24 |
             static_cast<uint32_t>(static_cast<uint8_t>(file[i + 1])) << 16 |
             static_cast<uint32_t>(static_cast<uint8_t>(file[i + 2])) << 8 | static_cast<uint8_t>(file[i + 3]);
    };
    const uint32_t length = be32(at);
    const std::string type = file.substr(at + 4, 4);
    if (type == "IHDR") {
      img.width = static_cast<int>(be32(at + 8));
      img.height = static_cast<int>(be32(at + 12));
      depth = static_cast<uint8_t>(file[at + 16]);
      colour = static_cast<uint8_t>(file[at + 17]);
    } else if (type == "IDAT") {
      idat += file.substr(at + 8, length);
    }
    at += 12 + length;
  }
  if (depth != 8 || colour != 2)
    return {};
  const std::size_t stride = 3 * static_cast<std::size_t>(img.width);
  std::vector<uint8_t> raw((stride + 1) * img.height);
  uLongf size = raw.size();
  if (uncompress(raw.data(), &size, reinterpret_cast<const Bytef *>(idat.data()), idat.size()) != Z_OK ||
      size != raw.size())
    return {};
  img.rgb.assign(stride * img.height, 0);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t *in = &raw[y * (stride + 1) + 1];
    uint8_t *out = &img.rgb[y * stride];
    const uint8_t *up = y ? &img.rgb[(y - 1) * stride] : nullptr;
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= 3 ? out[i - 3] : 0, b = up ? up[i] : 0, c = up && i >= 3 ? up[i - 3] : 0;
      int predicted = 0;
      if (filter == 1)
        predicted = a;
      else if (filter == 2)
        predicted = b;
      else if (filter == 3)
        predicted = (a + b) / 2;
      else if (filter == 4) {
        const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
        predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[i] = static_cast<uint8_t>(in[i] + predicted);
    }
  }
  return img;
}

// Distinct colours and the share of pixels that are not the white background.
std::pair<std::size_t, double> variety(const Image &img) {
  std::set<uint32_t> colours;
  std::size_t ink = 0;
  for (std::size_t i = 0; i + 2 < img.rgb.size(); i += 3) {
    colours.insert(img.rgb[i] << 16 | img.rgb[i + 1] << 8 | img.rgb[i + 2]);
    ink += img.rgb[i] != 255 || img.rgb[i + 1] != 255 || img.rgb[i + 2] != 255;
  }
  return {colours.size(), img.rgb.empty() ? 0.0 : static_cast<double>(ink) / (img.rgb.size() / 3.0)};
}

chart::XYChart learningCurve() {
  chart::XYChart c;
  c.title = "Test accuracy against training samples";
  c.xLabel = "Training samples";
  c.yLabel = "Test accuracy";
  c.logX = true;
  chart::Series graph;
  graph.name = "graph <&> \"parts\"";
  graph.x = {100, 300, 1000, 3000};
  graph.y = {0.62, 0.71, 0.80, 0.84};
  graph.low = {0.58, 0.69, 0.79, 0.83};
  graph.high = {0.66, 0.73, 0.81, 0.85};
  chart::Series baseline;
  baseline.name = "monolithic baseline";
  baseline.x = graph.x;
  baseline.y = {0.55, 0.68, 0.79, 0.85};
  baseline.line = true;
  baseline.points = false;
  baseline.low = {0.50, 0.65, 0.78, 0.84};
  baseline.high = {0.60, 0.71, 0.80, 0.86};
  c.series = {graph, baseline};
  return c;
}

chart::HeatMap confusion() {
  chart::HeatMap h;
  h.title = "Confusion matrix";
  h.xLabel = "Predicted";
  h.yLabel = "True class";
  h.scaleLabel = "Test samples";
  h.rowLabels = {"T-shirt/top", "Trouser", "A class name far too long to fit beside the matrix"};
  h.colLabels = h.rowLabels;
  h.values = {{47, 2, 1}, {3, 44, 3}, {0, 5, 45}};
  h.annotate = true;
  return h;
}

} // namespace

class TestChart : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void xyChartNamesItsAxesTicksAndLegend();
  void logAxisTicksArePowersOfTen();
  void heatMapHasItsColourScaleAndLabels();
  void signedHeatMapIsCentredOnZero();
  void barChartHasLabelsAndWhiskers();
  void pointSizesHaveANote();
  void pngsHaveTheAskedSizeAndShowSomething();
  void sameInputSameBytes();
  void emptyChartsSaySo();
  void unwritablePngNamesTheFile();
  void graphIsDrawnInLayers();
  void spectrogramHasAxesInSecondsAndHertz();
};

void TestChart::xyChartNamesItsAxesTicksAndLegend() {
  const std::string svg = chart::toSvg(learningCurve(), 720, 420);
  const QStringList texts = svgTexts(svg);
  QVERIFY2(!texts.contains("<malformed>"), svg.c_str());
  QVERIFY(selfContained(svg));
  QVERIFY(svg.find("font-family=\"sans-serif\"") != std::string::npos);
  QVERIFY(texts.contains("Test accuracy against training samples"));
  QVERIFY(texts.contains("Training samples"));
  QVERIFY(texts.contains("Test accuracy"));
  // The legend, with the name escaped in the file and read back as written.
  QVERIFY(texts.contains("graph <&> \"parts\""));
  QVERIFY(svg.find("graph &lt;&amp;&gt; &quot;parts&quot;") != std::string::npos);
  QVERIFY(texts.contains("monolithic baseline"));
  // A name that is not UTF-8 (Latin-1 "café", a cut sequence) still gives well-formed XML.
  chart::XYChart latin = learningCurve();
  latin.series[1].name = "caf\xe9 \xe2\x82";
  QVERIFY(svgTexts(chart::toSvg(latin, 720, 420)).contains("caf? ??"));
  // y ticks at a nice step (0.05, so two decimals each) over the data's range (0.50 … 0.86).
  for (const char *t : {"0.50", "0.55", "0.70", "0.90"})
    QVERIFY2(texts.contains(t), t);
  // Error bars for the points, a band for the line without points.
  QVERIFY(svg.find("<polygon") != std::string::npos);
  QVERIFY(svg.find("fill-opacity") != std::string::npos);
}

void TestChart::logAxisTicksArePowersOfTen() {
  // Every number of 10 or more in the figure is an x tick (the y ticks are accuracies).
  auto xTicks = [](const QStringList &texts) {
    QList<double> ticks;
    for (const QString &t : texts) {
      bool ok = false;
      const double v = t.toDouble(&ok);
      if (ok && v >= 10)
        ticks << v;
    }
    return ticks;
  };
  auto powersOfTen = [](const QList<double> &ticks) {
    return std::all_of(ticks.begin(), ticks.end(),
                       [](double v) { return std::abs(std::log10(v) - std::round(std::log10(v))) < 1e-12; });
  };
  // 100 … 3000: the axis spans the data, labelled at 100 and 1000.
  const QList<double> wide = xTicks(svgTexts(chart::toSvg(learningCurve(), 720, 420)));
  QCOMPARE(wide, (QList<double>{100, 1000}));
  // 100 … 300 holds one power of ten: the axis widens to the decade, 100 and 1000.
  chart::XYChart narrow = learningCurve();
  for (auto &s : narrow.series) {
    s.x = {100, 200, 250, 300};
  }
  const QList<double> decade = xTicks(svgTexts(chart::toSvg(narrow, 720, 420)));
  QCOMPARE(decade, (QList<double>{100, 1000}));
  // 3 … 200000: every power between.
  chart::XYChart many = learningCurve();
  many.series[0].x = {3, 40, 5000, 200000};
  const QList<double> decades = xTicks(svgTexts(chart::toSvg(many, 720, 420)));
  QVERIFY(powersOfTen(decades));
  QCOMPARE(decades.size(), 5); // 10 … 100000
  // A linear axis over the same data has ticks between them.
  chart::XYChart linear = learningCurve();
  linear.logX = false;
  const QStringList lin = svgTexts(chart::toSvg(linear, 720, 420));
  QVERIFY(lin.contains("1000") && lin.contains("2000"));
}

void TestChart::heatMapHasItsColourScaleAndLabels() {
  const std::string svg = chart::toSvg(confusion(), 640, 520);
  const QStringList texts = svgTexts(svg);
  QVERIFY2(!texts.contains("<malformed>"), svg.c_str());
  QVERIFY(selfContained(svg));
  QVERIFY(texts.contains("Confusion matrix"));
  QVERIFY(texts.contains("Predicted"));
  QVERIFY(texts.contains("True class"));
  QVERIFY(texts.contains("Test samples")); // the colour bar's title
  QVERIFY(texts.contains("T-shirt/top"));
  QVERIFY(texts.contains("Trouser"));
  // The long class name is cut with an ellipsis, as a row and as a column.
  QCOMPARE(texts.filter(QString::fromUtf8("A class name far \u2026")).size(), 2);
  // Annotated cells: every count is written.
  for (const char *v : {"47", "44", "45", "5"})
    QVERIFY2(texts.contains(v), v);
  // The colour bar's numbers: 0 … 47 at a step of 10.
  for (const char *v : {"0", "10", "20", "30", "40"})
    QVERIFY2(texts.contains(v), v);

  // Fractions to two significant digits of the largest, in every cell.
  chart::HeatMap features;
  features.rowLabels = {"wet", "temp"};
  features.colLabels = {"precipitation", "wind"};
  features.values = {{0.0123, 0.0004}, {0.0003, 0.0087}};
  features.annotate = true;
  const QStringList cells = svgTexts(chart::toSvg(features, 500, 300));
  for (const char *v : {"0.012", "0.000", "0.009"})
    QVERIFY2(cells.contains(v), v);

  // Without names: numeric pixel axes.
  chart::HeatMap image;
  image.values.assign(28, std::vector<double>(28, 0.0));
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 28; ++c)
      image.values[r][c] = 0.001 * (r + c);
  image.scaleLabel = "mean |attribution|";
  const QStringList pixels = svgTexts(chart::toSvg(image, 480, 400));
  QVERIFY(pixels.contains("0") && pixels.contains("10") && pixels.contains("20"));
  QVERIFY(pixels.contains("0.05")); // the colour bar over 0 … 0.054
  QVERIFY(pixels.contains("mean |attribution|"));
}

void TestChart::signedHeatMapIsCentredOnZero() {
  chart::HeatMap h;
  h.values = {{-0.2, 0.1}, {0.4, 0.0}};
  h.rowLabels = {"a", "b"};
  h.colLabels = {"x", "y"};
  h.signedValues = true;
  h.scaleLabel = "contribution";
  const QStringList texts = svgTexts(chart::toSvg(h, 400, 300));
  for (const char *t : {"-0.4", "-0.2", "0.0", "0.2", "0.4"})
    QVERIFY2(texts.contains(t), t);
}

void TestChart::barChartHasLabelsAndWhiskers() {
  chart::BarChart b;
  b.title = "Share of the decision per branch";
  b.valueLabel = "Share";
  b.labels = {"top-left", "top-right", "a <branch> & more"};
  b.values = {0.5, 0.3, 0.2};
  b.low = {0.45, 0.25, 0.1};
  b.high = {0.55, 0.35, 0.3};
  const std::string svg = chart::toSvg(b, 600, 260);
  const QStringList texts = svgTexts(svg);
  QVERIFY2(!texts.contains("<malformed>"), svg.c_str());
  QVERIFY(texts.contains("Share"));
  QVERIFY(texts.contains("top-left"));
  QVERIFY(texts.contains("a <branch> & more"));
  QVERIFY(texts.contains("0.5"));
  QVERIFY(texts.contains("0.6")); // the axis reaches past the highest whisker
  // Three bars, each with a whisker and two caps.
  QCOMPARE(QString::fromStdString(svg).count("<rect") - 1, 3);
  QVERIFY(QString::fromStdString(svg).count("<line") >= 9);
}

void TestChart::pointSizesHaveANote() {
  chart::XYChart c;
  c.xLabel = "Unique parameters";
  c.yLabel = "Validation accuracy";
  c.sizeLabel = "FLOPs per sample";
  chart::Series s;
  s.name = "variants";
  s.line = false;
  s.x = {1000, 5000, 20000};
  s.y = {0.5, 0.6, 0.62};
  s.size = {2e4, 1e5, 4e5};
  s.labels = {"own", "w2", "w4"};
  c.series = {s};
  const std::string svg = chart::toSvg(c, 640, 400);
  const QStringList texts = svgTexts(svg);
  QVERIFY(texts.contains("Point size: FLOPs per sample"));
  QVERIFY(texts.contains("20000") && texts.contains("400000"));
  QVERIFY(texts.contains("own") && texts.contains("w4"));
  QVERIFY(texts.contains("20k")); // x ticks in thousands
  // Radii grow with the size value.
  QVERIFY(svg.find("r=\"2.5\"") != std::string::npos);
  QVERIFY(svg.find("r=\"10\"") != std::string::npos);
}

void TestChart::pngsHaveTheAskedSizeAndShowSomething() {
  QTemporaryDir dir;
  const std::string xy = dir.filePath("xy.png").toStdString(), heat = dir.filePath("heat.png").toStdString(),
                    bar = dir.filePath("bar.png").toStdString();
  chart::writePng(learningCurve(), xy, 640, 400);
  chart::writePng(confusion(), heat, 500, 420);
  chart::BarChart b;
  b.labels = {"a", "b"};
  b.values = {0.7, 0.3};
  b.valueLabel = "Share";
  chart::writePng(b, bar, 300, 160);
  // Colours at least: the curves' anti-aliased edges; the map's ramp; ink, grid, bars.
  for (const auto &[path, w, h, least] : {std::tuple{xy, 640, 400, 50}, {heat, 500, 420, 50}, {bar, 300, 160, 3}}) {
    const Image img = readPng(path);
    QCOMPARE(img.width, w);
    QCOMPARE(img.height, h);
    QCOMPARE(img.rgb.size(), static_cast<std::size_t>(w) * h * 3);
    const auto [colours, ink] = variety(img);
    QVERIFY2(colours > static_cast<std::size_t>(least), path.c_str());
    QVERIFY2(ink > 0.02 && ink < 0.9, path.c_str());
  }
  // The heat map's cells: its darkest (sequential map's 0) and brightest colours are both there.
  const Image img = readPng(heat);
  bool dark = false, yellow = false;
  for (std::size_t i = 0; i + 2 < img.rgb.size(); i += 3) {
    dark = dark || (img.rgb[i] == 68 && img.rgb[i + 1] == 1 && img.rgb[i + 2] == 84);
    yellow = yellow || (img.rgb[i] > 240 && img.rgb[i + 1] > 220 && img.rgb[i + 2] < 60);
  }
  QVERIFY(dark && yellow);
}

void TestChart::sameInputSameBytes() {
  QTemporaryDir dir;
  const std::string a = dir.filePath("a.png").toStdString(), b = dir.filePath("b.png").toStdString();
  chart::writePng(confusion(), a, 400, 360);
  chart::writePng(confusion(), b, 400, 360);
  QCOMPARE(readTextFile(a), readTextFile(b));
  QCOMPARE(chart::toSvg(learningCurve(), 700, 400), chart::toSvg(learningCurve(), 700, 400));
}

void TestChart::emptyChartsSaySo() {
  QTemporaryDir dir;
  chart::XYChart xy;
  xy.title = "Nothing yet";
  chart::Series empty;
  empty.name = "graph";
  xy.series = {empty};
  QVERIFY(svgTexts(chart::toSvg(xy, 400, 300)).contains("No data to plot"));
  QVERIFY(svgTexts(chart::toSvg(chart::HeatMap{}, 400, 300)).contains("No data to plot"));
  QVERIFY(svgTexts(chart::toSvg(chart::BarChart{}, 400, 300)).contains("No data to plot"));
  chart::writePng(xy, dir.filePath("empty.png").toStdString(), 400, 300);
  QCOMPARE(readPng(dir.filePath("empty.png").toStdString()).width, 400);
  // An interval with an end that is not a number is left out; no coordinate is "nan".
  chart::XYChart gaps = learningCurve();
  gaps.series[0].low[1] = std::nan("");
  gaps.series[1].high[2] = INFINITY;
  const std::string gapSvg = chart::toSvg(gaps, 500, 300);
  QVERIFY(!svgTexts(gapSvg).contains("<malformed>"));
  QVERIFY(gapSvg.find("nan") == std::string::npos && gapSvg.find("inf") == std::string::npos);
  // Values that are not numbers: no bar, no whisker, "n/a", and the rest drawn.
  chart::BarChart odd;
  odd.labels = {"lost", "kept"};
  odd.values = {std::nan(""), 0.5};
  odd.low = {0.1, -INFINITY};
  odd.high = {0.2, 0.6};
  const QStringList oddTexts = svgTexts(chart::toSvg(odd, 400, 200));
  QVERIFY(oddTexts.contains("n/a") && oddTexts.contains("kept") && oddTexts.contains("0.5"));
  // Too small a figure says so too, rather than drawing axes over each other.
  QVERIFY(svgTexts(chart::toSvg(learningCurve(), 60, 50)).contains("Too small to draw"));
}

void TestChart::unwritablePngNamesTheFile() {
  QTemporaryDir dir;
  const std::string empty = dir.filePath("empty.png").toStdString();
  QVERIFY_THROWS_EXCEPTION(Error, chart::writePng(confusion(), empty, 0, 200));
  QVERIFY(!QFile::exists(QString::fromStdString(empty)));
  const std::string path = "/nonexistent-folder/figure.png";
  try {
    chart::writePng(confusion(), path, 300, 200);
    QFAIL("no error");
  } catch (const Error &e) {
    QCOMPARE(e.kind(), ErrorKind::File);
    QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
  }
}

void TestChart::graphIsDrawnInLayers() {
  const Project p = projectFromJson(baseProject(), "base.json");
  const Validation v = validate(p);
  const std::string svg = chart::graphSvg(p.graph, v, 900);
  const QStringList texts = svgTexts(svg);
  QVERIFY2(!texts.contains("<malformed>"), svg.c_str());
  QVERIFY(selfContained(svg));
  for (const char *t : {"Input", "Split", "MLP", "Combine", "Classifier", "input", "split", "a", "d", "head"})
    QVERIFY2(texts.contains(t), t);
  QVERIFY(texts.contains("out [32]")); // combine's output shape
  QVERIFY(texts.filter("parameters").size() >= 4);
  // b runs a's module (share group g): it holds none of the weights it uses.
  QCOMPARE(texts.filter("280 parameters").size(), 4); // a, c, d and b
  QVERIFY(texts.contains("shares 280 parameters"));
  QVERIFY(texts.contains("Share group g: a, b use one set of weights"));
  // One arrow per edge.
  QCOMPARE(QString::fromStdString(svg).count("<line"), static_cast<int>(p.graph.edges.size()));
  // Layers from the input: input above split above the branches above combine above head.
  auto yOf = [&](const char *id) {
    const QString s = QString::fromStdString(svg);
    const int at = s.indexOf(QString(">%1</text>").arg(id));
    const int y = s.lastIndexOf(" y=\"", at);
    return s.mid(y + 4, s.indexOf('"', y + 4) - y - 4).toDouble();
  };
  QVERIFY(yOf("input") < yOf("split"));
  QVERIFY(yOf("split") < yOf("a"));
  QCOMPARE(yOf("a"), yOf("d"));
  QVERIFY(yOf("a") < yOf("combine"));
  QVERIFY(yOf("combine") < yOf("head"));
  // Wider than allowed: scaled to fit.
  QVERIFY(chart::graphSvg(p.graph, v, 300).find("width=\"300\"") != std::string::npos);
}

void TestChart::spectrogramHasAxesInSecondsAndHertz() {
  // A constructed logmel sample: 64 mel bands (HTK centres up to 8 kHz), 101 frames 10 ms apart, a
  // tone in band 6 (about 300 Hz) and silence elsewhere.
  DataInfo::Audio audio;
  audio.features = "logmel";
  audio.sampleRate = 16000;
  audio.seconds = 1.0;
  audio.hopSeconds = 0.01;
  const auto mel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
  for (int m = 1; m <= 64; ++m)
    audio.bandHz.push_back(700 * (std::pow(10.0, mel(8000) * m / 65 / 2595) - 1));
  std::vector<std::vector<double>> values(64, std::vector<double>(101, -8.0));
  for (int f = 20; f < 80; ++f)
    values[6][f] = 2.0;
  chart::HeatMap h = chart::spectrogram(values, audio);
  h.title = "Test sample 0";
  for (int b = 0; b < 4; ++b)
    h.outlines.push_back(
        {16 * b, 16 * (b + 1), 0, 101, "split:" + std::to_string(b) + " " + std::to_string(10 * b) + "%"});
  const std::string svg = chart::toSvg(h, 640, 420);
  const QStringList texts = svgTexts(svg);
  QVERIFY2(!texts.contains("<malformed>"), svg.c_str());
  QVERIFY(selfContained(svg));
  QVERIFY(texts.contains("Time (s)") && texts.contains("Frequency (Hz)") && texts.contains("Log mel energy"));
  // Seconds at a 1-2-5 step across the clip; hertz at round values up the uneven mel axis.
  QVERIFY2(texts.contains("0.0") && texts.contains("1.0"), qPrintable(texts.join('|')));
  QVERIFY2(texts.contains("1000") && texts.contains("5000") && texts.contains("500"), qPrintable(texts.join('|')));
  for (const char *band : {"split:0 0%", "split:3 30%"})
    QVERIFY2(texts.contains(band), band);

  // The ticks themselves: in order, no two nearer than asked, each where its value lies between
  // the bands' centres (1000 Hz between the bands on either side of it).
  const auto hz = chart::valueTicks(audio.bandHz, 5.0, 24);
  QVERIFY(hz.size() >= 4);
  for (std::size_t i = 1; i < hz.size(); ++i)
    QVERIFY((hz[i].at - hz[i - 1].at) * 5.0 >= 24 - 1e-9);
  const auto k = std::find_if(hz.begin(), hz.end(), [](const chart::AxisTick &t) { return t.text == "1000"; });
  QVERIFY(k != hz.end());
  const auto above = std::upper_bound(audio.bandHz.begin(), audio.bandHz.end(), 1000.0) - audio.bandHz.begin();
  QVERIFY(k->at > above - 0.5 && k->at < above + 0.5);

  // Row 0 at the bottom: the tone in band 6 is drawn in the plot's lowest tenth, as a band across
  // the middle 60% of the clip.
  QTemporaryDir dir;
  const std::string path = dir.filePath("spectrogram.png").toStdString();
  chart::writePng(h, path, 640, 420);
  const Image img = readPng(path);
  QCOMPARE(img.width, 640);
  int lowest = img.height, highest = -1, left = img.width, right = -1;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const uint8_t *px = &img.rgb[(static_cast<std::size_t>(y) * img.width + x) * 3];
      if (px[0] > 240 && px[1] > 220 && px[2] < 60 && x < 520) { // the map's top (yellow), left of the colour bar
        lowest = std::min(lowest, y);
        highest = std::max(highest, y);
        left = std::min(left, x);
        right = std::max(right, x);
      }
    }
  QVERIFY2(highest > 0 && lowest > 0.8 * img.height - 80 && highest - lowest < 12,
           qPrintable(QString("tone rows %1–%2 of %3").arg(lowest).arg(highest).arg(img.height)));
  QVERIFY2(right - left > 200, qPrintable(QString("tone columns %1–%2").arg(left).arg(right)));
}

QTEST_GUILESS_MAIN(TestChart)
#include "tst_chart.moc"
