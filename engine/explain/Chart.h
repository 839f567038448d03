#pragma once
// Figures for the report and the CLI: line/point charts, heat maps, bar charts and the graph.
// Each figure is laid out once into drawing primitives that go to two back ends, SVG text (inline
// in the report, no external references) and a raster with a built-in pixel font (the CLI's PNGs),
// so both look the same and neither needs a display, Qt or a font file.

#include "graph/Graph.h"
#include "graph/Validator.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace particle::chart {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};
Color seriesColor(int i); // the app's palette (ui/charts/Charts.cpp seriesColor), same order
// The app's meaning of colours (ui/charts/Charts.cpp), so that a figure reads alike in the app, the
// report and the CLI's files: this graph ("graph") orange, its monolithic baseline ("baseline")
// red, anything else the palette without those two (`other` counts the others drawn so far).
Color roleColor(const std::string &role, int &other);

struct Series {
  std::string name; // legend entry ("" = not in the legend)
  std::vector<double> x, y;
  std::vector<double> low, high;   // optional: an error bar / band per point (same length as y)
  std::vector<double> size;        // optional: per-point size value (scaled to radii by the chart)
  std::vector<std::string> labels; // optional: per-point label drawn beside the point
  bool line = true, points = true;
  std::optional<Color> color; // default seriesColor(index)
};

struct XYChart {
  std::string title, xLabel, yLabel, sizeLabel; // sizeLabel: what point size means (legend note)
  bool logX = false;
  std::optional<double> yMin, yMax;
  std::vector<Series> series;
};

struct HeatMap {                                 // a matrix or an image's per-pixel values
  std::string title, xLabel, yLabel, scaleLabel; // scaleLabel: the colour bar's title
  std::vector<std::string> rowLabels, colLabels; // empty: numeric pixel axes
  std::vector<std::vector<double>> values;       // rows × cols
  bool signedValues = false;                     // diverging map around 0, else sequential
  bool annotate = false;                         // numbers in the cells (confusion matrices)
  // Numeric axes (a spectrogram: each column's time in s, each row's frequency in Hz): ticks at
  // readable values, placed by the cells' values, which need not be evenly spaced (mel bands are
  // not). Empty: named or pixel-index axes.
  std::vector<double> colValues, rowValues;
  bool rowsUpward = false;                      // row 0 at the bottom (low frequencies, as a spectrogram is read)
  bool stretch = false;                         // the cells fill the plot, wider than tall, instead of staying square
  struct Outline {                              // cells outlined and named: the band or time window a branch reads
    int row0 = 0, row1 = 0, col0 = 0, col1 = 0; // [row0, row1) × [col0, col1)
    std::string label;
  };
  std::vector<Outline> outlines;
};

// One tick of a numeric axis: `at` in cells from the axis's start (the first cell's outer edge).
struct AxisTick {
  double at = 0;
  std::string text;
};
// Readable ticks for cells whose centres carry `values` (increasing): evenly spaced values give
// 1-2-5 steps, others (mel bands) the roundest values first (1000 before 500 before 300 Hz), no two
// nearer than `minGap` pixels at `pixelsPerCell`. The app's spectrogram uses the same ticks.
std::vector<AxisTick> valueTicks(const std::vector<double> &values, double pixelsPerCell, double minGap);

// A logmel sample ([mels][frames], row 0 the lowest band) as a spectrogram: time in s across,
// frequency in Hz up, the cells stretched to the plot.
HeatMap spectrogram(std::vector<std::vector<double>> values, const DataInfo::Audio &audio);

struct BarChart { // horizontal bars (per-branch shares, claims)
  std::string title, valueLabel;
  std::vector<std::string> labels;
  std::vector<double> values, low, high; // low/high optional: interval whiskers
};

std::string toSvg(const XYChart &c, int width, int height); // a standalone <svg> element, no external refs
std::string toSvg(const HeatMap &c, int width, int height);
std::string toSvg(const BarChart &c, int width, int height);

// The same drawing rasterised (built-in pixel font), for the CLI's PNGs. Throws Error(File).
void writePng(const XYChart &c, const std::string &path, int width, int height);
void writePng(const HeatMap &c, const std::string &path, int width, int height);
void writePng(const BarChart &c, const std::string &path, int width, int height);

// The graph drawn as boxes (type, id, output shape, parameters) and arrows, share groups marked,
// laid out in layers from the input (positions saved in the project are not needed).
std::string graphSvg(const Graph &graph, const Validation &validation, int maxWidth);

} // namespace particle::chart
