#include "charts/Spectrogram.h"

#include "explain/Chart.h"
#include "explain/Png.h"

#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace particle::ui {

namespace {
QColor mapColor(double t) {
  const Rgb c = sequentialColor(std::clamp(t, 0.0, 1.0));
  return {c.r, c.g, c.b};
}

// Saliency in heat colours, transparent where there is none (as the images' overlays are drawn);
// `opacity` is the strongest cells' alpha. Over a spectrogram the alpha grows as √t: gradients are
// spiky, and in proportion only the few strongest cells would show.
QColor heatColor(double t, double opacity = 0.85, bool gentle = false) {
  t = std::clamp(t, 0.0, 1.0);
  QColor c = QColor::fromHsvF(0.66 * (1.0 - t), 1.0, 1.0);
  c.setAlphaF(std::clamp(opacity, 0.0, 1.0) * (gentle ? std::sqrt(t) : t));
  return c;
}

// The values' 2nd and 98th percentiles: a grey spectrogram stretched between them keeps its
// contrast where a few loud or silent cells would squeeze the rest into mid-grey.
std::pair<float, float> spreadOf(QVector<float> v) {
  if (v.isEmpty())
    return {0.0f, 1.0f};
  const auto at = [&](double q) {
    auto nth = v.begin() + static_cast<qsizetype>(q * (v.size() - 1));
    std::nth_element(v.begin(), nth, v.end());
    return *nth;
  };
  const float lo = at(0.02), hi = at(0.98);
  return {lo, hi > lo ? hi : lo + 1.0f};
}

std::pair<float, float> rangeOf(const QVector<float> &v) {
  if (v.isEmpty())
    return {0.0f, 1.0f};
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {*lo, *hi > *lo ? *hi : *lo + 1.0f};
}

// A waveform's outline: per pixel column the lowest and highest sample under it.
void drawWaveform(QPainter &p, const QVector<float> &values, const QRectF &r, float peak, const QColor &ink) {
  const int n = static_cast<int>(values.size());
  const int w = std::max(1, static_cast<int>(r.width()));
  p.setPen(QPen(ink, 1));
  for (int x = 0; x < w; ++x) {
    const int a = static_cast<int>(static_cast<int64_t>(x) * n / w),
              b = std::max(a + 1, static_cast<int>(static_cast<int64_t>(x + 1) * n / w));
    float lo = values[a], hi = values[a];
    for (int i = a; i < b && i < n; ++i) {
      lo = std::min(lo, values[i]);
      hi = std::max(hi, values[i]);
    }
    const double mid = r.center().y(), half = r.height() / 2 / std::max(peak, 1e-6f);
    p.drawLine(QPointF(r.left() + x + 0.5, mid - hi * half), QPointF(r.left() + x + 0.5, mid - lo * half));
  }
}
} // namespace

QImage audioImage(const QVector<float> &values, int rows, int cols, QSize waveformSize) {
  if (rows <= 0 || cols <= 0 || values.size() < static_cast<qsizetype>(rows) * cols)
    return {};
  if (rows == 1) {
    QImage img(waveformSize, QImage::Format_ARGB32);
    img.fill(Qt::white);
    QPainter p(&img);
    const auto [lo, hi] = rangeOf(values);
    drawWaveform(p, values, QRectF(0, 0, img.width(), img.height()), std::max(std::abs(lo), std::abs(hi)),
                 QColor(0x1f, 0x77, 0xb4));
    return img;
  }
  const auto [lo, hi] = rangeOf(values);
  QImage img(cols, rows, QImage::Format_RGB32);
  for (int r = 0; r < rows; ++r) {
    auto *line = reinterpret_cast<QRgb *>(img.scanLine(rows - 1 - r)); // row 0, the lowest band, at the bottom
    for (int c = 0; c < cols; ++c)
      line[c] = mapColor((values[r * cols + c] - lo) / (hi - lo)).rgb();
  }
  return img;
}

SpectrogramView::SpectrogramView(QWidget *parent) : QWidget(parent) {
  setObjectName("spectrogramView");
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void SpectrogramView::setSample(const QVector<float> &values, int rows, int cols, const DataInfo::Audio &audio,
                                const QString &title, const QColor &titleColor) {
  values_ = values;
  rows_ = values.size() >= static_cast<qsizetype>(rows) * cols ? rows : 0;
  cols_ = rows_ > 0 ? cols : 0;
  audio_ = audio;
  title_ = title;
  titleColor_ = titleColor;
  overlay_.clear();
  parts_.clear();
  render();
}

void SpectrogramView::setOverlay(const QVector<float> &magnitudes, const QString &label) {
  overlay_ = magnitudes.size() == static_cast<qsizetype>(rows_) * cols_ ? magnitudes : QVector<float>{};
  overlayLabel_ = label;
  render();
}

void SpectrogramView::setOverlayOpacity(double opacity) {
  overlayOpacity_ = std::clamp(opacity, 0.0, 1.0);
  render();
}

void SpectrogramView::setOverlayPerPart(bool perPart) {
  overlayPerPart_ = perPart;
  render();
}

void SpectrogramView::setParts(const QVector<Part> &parts) {
  parts_ = parts;
  render(); // a part's overlay may be scaled to its own peak
}

QVector<float> SpectrogramView::scaledOverlay() const {
  QVector<float> out = overlay_;
  if (out.isEmpty())
    return out;
  const float peak = std::max(*std::max_element(out.begin(), out.end()), 1e-12f);
  QVector<float> scale(out.size(), peak);
  if (overlayPerPart_)
    for (const auto &part : parts_) {
      float top = 0;
      for (int r = std::max(0, part.row0); r < std::min(rows_, part.row1); ++r)
        for (int c = std::max(0, part.col0); c < std::min(cols_, part.col1); ++c)
          top = std::max(top, overlay_[r * cols_ + c]);
      for (int r = std::max(0, part.row0); r < std::min(rows_, part.row1); ++r)
        for (int c = std::max(0, part.col0); c < std::min(cols_, part.col1); ++c)
          scale[r * cols_ + c] = std::max(top, 1e-12f);
    }
  for (qsizetype i = 0; i < out.size(); ++i)
    out[i] /= scale[i];
  return out;
}

void SpectrogramView::clear() {
  values_.clear();
  overlay_.clear();
  parts_.clear();
  rows_ = cols_ = 0;
  title_.clear();
  image_ = {};
  update();
}

void SpectrogramView::render() {
  image_ = {};
  if (hasSample() && !isWaveform()) {
    if (overlay_.isEmpty()) {
      image_ = audioImage(values_, rows_, cols_);
    } else {
      // The spectrogram in grey under the saliency, so that the heat reads as the saliency alone;
      // stretched over its 2nd–98th percentiles, near black to light grey (not white, where the
      // heat's yellows would vanish), so its shapes stay readable.
      const auto [lo, hi] = spreadOf(values_);
      const QVector<float> heats = scaledOverlay();
      image_ = QImage(cols_, rows_, QImage::Format_RGB32);
      for (int r = 0; r < rows_; ++r)
        for (int c = 0; c < cols_; ++c) {
          const int grey = static_cast<int>(
              std::lround(10 + 190 * std::clamp((values_[r * cols_ + c] - lo) / (hi - lo), 0.0f, 1.0f)));
          const QColor heat = heatColor(heats[r * cols_ + c], overlayOpacity_, true);
          const double a = heat.alphaF();
          image_.setPixel(c, rows_ - 1 - r,
                          qRgb(static_cast<int>(grey * (1 - a) + heat.red() * a),
                               static_cast<int>(grey * (1 - a) + heat.green() * a),
                               static_cast<int>(grey * (1 - a) + heat.blue() * a)));
        }
    }
  }
  update();
}

SpectrogramView::Frame SpectrogramView::frame() const {
  Frame f;
  if (!hasSample())
    return f;
  const QFontMetrics fm = fontMetrics();
  const int line = fm.height();
  const bool waveform = isWaveform();
  const auto [lo, hi] = rangeOf(values_);
  // The axes' values: each frame's (or sample's) time, each band's centre frequency.
  f.times.resize(static_cast<std::size_t>(cols_));
  const double step = waveform ? (audio_.sampleRate > 0 ? 1.0 / audio_.sampleRate : 0) : audio_.hopSeconds;
  for (int c = 0; c < cols_; ++c)
    f.times[static_cast<std::size_t>(c)] = step > 0 ? c * step : c;
  std::vector<double> bands = audio_.bandHz;
  if (bands.size() != static_cast<std::size_t>(rows_)) {
    bands.resize(static_cast<std::size_t>(rows_));
    for (int r = 0; r < rows_; ++r)
      bands[static_cast<std::size_t>(r)] = r;
  }
  const int top = (title_.isEmpty() ? 4 : line + 8);
  const int bottom = 2 * line + 10;
  const int plotH = std::max(20, height() - top - bottom);
  if (waveform) {
    const std::string a = QString::number(std::max(std::abs(lo), std::abs(hi)), 'g', 2).toStdString();
    f.yTicks = {{0.0, "-" + a}, {0.5, "0"}, {1.0, a}};
  } else {
    f.yTicks = chart::valueTicks(bands, static_cast<double>(plotH) / rows_, 1.6 * line);
  }
  for (const auto &t : f.yTicks)
    f.yTextW = std::max(f.yTextW, fm.horizontalAdvance(QString::fromStdString(t.text)));
  f.barLo = overlay_.isEmpty() ? QString::number(lo, 'g', 3) : "0";
  f.barHi = overlay_.isEmpty() ? QString::number(hi, 'g', 3)
            : overlayPerPart_ && !parts_.isEmpty()
                ? tr("peak")
                : QString::number(*std::max_element(overlay_.begin(), overlay_.end()), 'g', 2);
  const bool bar = !waveform || !overlay_.isEmpty();
  f.barW = bar ? 12 + 4 + std::max(fm.horizontalAdvance(f.barLo), fm.horizontalAdvance(f.barHi)) + 6 + line : 0;
  const int left = 4 + line + 4 + f.yTextW + 6;
  f.right = width() - 8 - f.barW;
  f.plot = QRect(left, top, std::max(20, f.right - left), plotH);
  return f;
}

void SpectrogramView::paintEvent(QPaintEvent *) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  if (!hasSample())
    return;
  const QColor ink = palette().color(QPalette::Text);
  const QFontMetrics fm = fontMetrics();
  const int line = fm.height();
  const bool waveform = isWaveform();
  const bool bar = !waveform || !overlay_.isEmpty();
  const QString yLabel = waveform ? tr("Amplitude") : tr("Frequency (Hz)");
  const QString barLabel = overlay_.isEmpty()                     ? tr("log mel energy")
                           : overlayPerPart_ && !parts_.isEmpty() ? tr("%1, each band to its peak").arg(overlayLabel_)
                                                                  : tr("%1, one scale").arg(overlayLabel_);
  const auto [lo, hi] = rangeOf(values_);
  const float peak = std::max(std::abs(lo), std::abs(hi));
  const Frame f = frame();
  const auto &yTicks = f.yTicks;
  const int yTextW = f.yTextW, barW = f.barW, right = f.right;
  const int left = f.plot.left();
  const QString &barLo = f.barLo, &barHi = f.barHi;
  const std::vector<double> &times = f.times;
  const QRectF plot(f.plot);
  const double cw = plot.width() / cols_, ch = plot.height() / (waveform ? 1 : rows_);

  if (!title_.isEmpty()) {
    p.setPen(titleColor_.isValid() ? titleColor_ : ink);
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.drawText(QRect(left, 2, width() - left - 4, line + 4), Qt::AlignLeft | Qt::AlignVCenter,
               QFontMetrics(bold).elidedText(title_, Qt::ElideRight, width() - left - 4));
    p.setFont(font());
  }
  // The cells (or the waveform over its saliency strip).
  if (waveform) {
    p.fillRect(plot, Qt::white);
    if (!overlay_.isEmpty()) {
      const QVector<float> heats = scaledOverlay();
      const int w = std::max(1, f.plot.width());
      for (int x = 0; x < w; ++x) {
        const int a = static_cast<int>(static_cast<int64_t>(x) * cols_ / w),
                  b = std::max(a + 1, static_cast<int>(static_cast<int64_t>(x + 1) * cols_ / w));
        float m = 0;
        for (int i = a; i < b && i < cols_; ++i)
          m = std::max(m, heats[i]);
        p.fillRect(QRectF(plot.left() + x, plot.top(), 1, plot.height()), heatColor(m, overlayOpacity_));
      }
    }
    drawWaveform(p, values_, plot, peak, QColor(0x1f, 0x77, 0xb4));
  } else {
    p.drawImage(plot, image_);
  }
  p.setPen(QPen(ink, 1));
  p.setBrush(Qt::NoBrush);
  p.drawRect(plot.adjusted(-0.5, -0.5, 0.5, 0.5));

  // The parts branches read; the selected one stands out.
  for (const auto &part : parts_) {
    const double y0 = waveform ? plot.top() : plot.bottom() - part.row1 * ch;
    const double y1 = waveform ? plot.bottom() : plot.bottom() - part.row0 * ch;
    const QRectF box(plot.left() + part.col0 * cw, y0, (part.col1 - part.col0) * cw, y1 - y0);
    p.setPen(QPen(part.selected ? QColor(255, 210, 0) : QColor(255, 255, 255, 190), part.selected ? 2 : 1,
                  part.selected ? Qt::SolidLine : Qt::DashLine));
    p.setBrush(Qt::NoBrush);
    p.drawRect(box.adjusted(1, 1, -1, -1));
    if (!part.label.isEmpty() && box.height() >= line + 2) {
      const QString text = fm.elidedText(part.label, Qt::ElideRight, static_cast<int>(box.width()) - 8);
      const QRectF tab(box.left() + 2, box.top() + 2, fm.horizontalAdvance(text) + 6, line);
      p.fillRect(tab, QColor(0, 0, 0, 160));
      p.setPen(part.selected ? QColor(255, 210, 0) : Qt::white);
      p.drawText(tab, Qt::AlignCenter, text);
    }
  }

  // Axes: ticks at readable times and frequencies.
  p.setPen(ink);
  for (const auto &t : yTicks) {
    const double y = waveform ? plot.bottom() - t.at * plot.height() : plot.bottom() - t.at * ch;
    p.drawLine(QPointF(plot.left() - 4, y), QPointF(plot.left(), y));
    p.drawText(QRectF(plot.left() - 6 - yTextW, y - line / 2.0, yTextW, line), Qt::AlignRight | Qt::AlignVCenter,
               QString::fromStdString(t.text));
  }
  const auto xTicks = chart::valueTicks(times, cw, fm.horizontalAdvance("0.00") + 24);
  for (const auto &t : xTicks) {
    const double x = plot.left() + t.at * cw;
    p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 4));
    p.drawText(QRectF(x - 40, plot.bottom() + 5, 80, line), Qt::AlignHCenter | Qt::AlignTop,
               QString::fromStdString(t.text));
  }
  p.drawText(QRectF(plot.left(), plot.bottom() + 5 + line, plot.width(), line + 2), Qt::AlignCenter, tr("Time (s)"));
  p.save();
  p.translate(4 + line / 2.0, plot.center().y());
  p.rotate(-90);
  p.drawText(QRectF(-plot.height() / 2, -line / 2.0, plot.height(), line), Qt::AlignCenter, yLabel);
  p.restore();

  // The colour scale: the spectrogram's energies, or the saliency over it.
  if (bar) {
    const QRectF scale(right + 8, plot.top(), 12, plot.height());
    const int steps = std::max(2, static_cast<int>(scale.height()));
    for (int i = 0; i < steps; ++i) {
      const double t = 1.0 - (i + 0.5) / steps;
      const QRectF band(scale.left(), scale.top() + scale.height() * i / steps, scale.width(),
                        scale.height() / steps + 1);
      if (overlay_.isEmpty()) {
        p.fillRect(band, mapColor(t));
      } else {
        p.fillRect(band, QColor(110, 110, 110));
        p.fillRect(band, heatColor(t, overlayOpacity_, !waveform));
      }
    }
    p.setPen(ink);
    p.drawRect(scale);
    p.drawText(QRectF(scale.right() + 4, scale.top() - 2, barW, line), Qt::AlignLeft | Qt::AlignTop, barHi);
    p.drawText(QRectF(scale.right() + 4, scale.bottom() - line + 2, barW, line), Qt::AlignLeft | Qt::AlignBottom,
               barLo);
    p.save();
    p.translate(width() - 4 - line / 2.0, plot.center().y());
    p.rotate(-90);
    p.drawText(QRectF(-plot.height() / 2, -line / 2.0, plot.height(), line), Qt::AlignCenter,
               fm.elidedText(barLabel, Qt::ElideRight, static_cast<int>(plot.height())));
    p.restore();
  }
}

} // namespace particle::ui
