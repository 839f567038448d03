#pragma once
// An audio sample as it is read: a logmel spectrogram (time across in s, frequency up in Hz, low
// bands at the bottom, a colour scale) or a waveform (amplitude over time in s), optionally with a
// saliency map over it and the part each branch reads outlined and named. The Data preview and the
// Explain tab draw audio with it; its ticks are the CLI figures' (chart::valueTicks).

#include "explain/Chart.h"
#include "graph/Shape.h"

#include <QImage>
#include <QWidget>

namespace particle::ui {

// A logmel sample (rows × cols, row 0 the lowest band) as an image with row 0 at the bottom, in the
// figures' colour map; a waveform (rows 1) as its outline. For thumbnails and the view below.
QImage audioImage(const QVector<float> &values, int rows, int cols, QSize waveformSize = QSize(120, 60));

class SpectrogramView : public QWidget {
  Q_OBJECT

public:
  struct Part {                                 // cells a branch reads, outlined
    int row0 = 0, row1 = 0, col0 = 0, col1 = 0; // [row0, row1) × [col0, col1)
    QString label;
    bool selected = false;
  };

  explicit SpectrogramView(QWidget *parent = nullptr);

  // A logmel sample (rows × cols, row 0 the lowest band) or a waveform (rows 1, cols samples) on
  // `audio`'s axes, under `title` (in `titleColor`).
  void setSample(const QVector<float> &values, int rows, int cols, const DataInfo::Audio &audio, const QString &title,
                 const QColor &titleColor = QColor());
  // Magnitudes over the sample (rows × cols; empty: none), drawn in heat colours over a grey
  // spectrogram; the colour scale then measures them under `label`.
  void setOverlay(const QVector<float> &magnitudes, const QString &label);
  // How opaque the overlay's strongest cells are (0: the spectrogram alone, 1: the heat alone).
  void setOverlayOpacity(double opacity);
  double overlayOpacity() const { return overlayOpacity_; }
  // Each part's overlay scaled to its own peak (a band with faint magnitudes still shows where they
  // lie), or all of it to the sample's peak (bands compared); the colour scale says which.
  void setOverlayPerPart(bool perPart);
  bool overlayPerPart() const { return overlayPerPart_; }
  void setParts(const QVector<Part> &parts);
  void clear();

  bool hasSample() const { return rows_ > 0 && cols_ > 0; }
  bool isWaveform() const { return rows_ == 1; }
  const QString &title() const { return title_; }
  const QVector<Part> &parts() const { return parts_; }
  // Where the cells are drawn, in the widget's coordinates.
  QRect plotRect() const { return frame().plot; }

  QSize minimumSizeHint() const override { return {240, 180}; }
  QSize sizeHint() const override { return {480, 320}; }

protected:
  void paintEvent(QPaintEvent *event) override;

private:
  QVector<float> values_, overlay_;
  int rows_ = 0, cols_ = 0;
  DataInfo::Audio audio_;
  QString title_, overlayLabel_;
  QColor titleColor_;
  QVector<Part> parts_;
  double overlayOpacity_ = 0.75;
  bool overlayPerPart_ = true;
  QImage image_; // the cells as drawn (row 0 at the bottom), rebuilt when the sample or overlay change
  // The layout at the widget's size: the plot, the frequency (or amplitude) ticks, the colour bar.
  struct Frame {
    QRect plot;
    std::vector<chart::AxisTick> yTicks;
    std::vector<double> times; // each column's time in s
    int yTextW = 0, barW = 0, right = 0;
    QString barLo, barHi;
  };
  Frame frame() const;
  // The overlay in [0, 1]: each part's cells over the part's peak, or all over the sample's.
  QVector<float> scaledOverlay() const;
  void render();
};

} // namespace particle::ui
