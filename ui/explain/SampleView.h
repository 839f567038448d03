#pragma once
// The Explain tab's sample: an image with the part each branch reads outlined (the selected
// branch's in yellow) and that branch's saliency over it; a text as its words coloured by
// attribution; a table row as its values grouped by the branch that reads them; an audio sample as
// its spectrogram with every branch's saliency stitched over it and each band outlined with its
// share of the decision. The image follows the room the view has.

#include "explain/ExplainWorker.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QSlider;
class QTextBrowser;

namespace particle::ui {

class SpectrogramView;

class SampleView : public QWidget {
  Q_OBJECT

public:
  explicit SampleView(QWidget *parent = nullptr);

  // Sample `sample` of `result` under its Combine `combine` (an index into result.combines), with
  // the saliency of `branch` from `detail` when the detail is of this sample.
  void show(const ExplainResult &result, int combine, int sample, int branch, const SampleDetail &detail);
  void clear();

  QLabel *image() const { return image_; }                      // image and vector data
  QTextBrowser *text() const { return text_; }                  // text and table data
  SpectrogramView *spectrogram() const { return spectrogram_; } // audio data
  // Audio: how opaque the saliency is over the spectrogram, whether each band's saliency is scaled
  // to its own peak, and the caption saying what the colours and the bands' % measure.
  QSlider *opacitySlider() const { return opacity_; }
  QCheckBox *perBandBox() const { return perBand_; }
  QLabel *audioCaption() const { return caption_; }

private:
  void draw();
  void resizeEvent(QResizeEvent *event) override;

  QLabel *image_;
  QTextBrowser *text_;
  SpectrogramView *spectrogram_;
  QWidget *audioControls_;
  QSlider *opacity_;
  QCheckBox *perBand_;
  QLabel *caption_;
  ExplainResult result_; // implicitly shared with the tab's
  SampleDetail detail_;
  int combine_ = -1, sample_ = -1, branch_ = -1;
};

} // namespace particle::ui
