#include "explain/SampleView.h"

#include "charts/Spectrogram.h"

#include <QFileInfo>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSlider>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace particle::ui {

namespace {
constexpr int kSampleViewSide = 480; // the largest the sample is drawn

// Bounding box (in image pixels) of the flat indices of a [C, H, W] sample a branch reads.
QRect regionBox(const QVector<qint64> &region, int width, int height) {
  if (region.isEmpty() || width <= 0 || height <= 0)
    return {};
  int x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (qint64 i : region) {
    const qint64 pixel = i % (static_cast<qint64>(width) * height);
    const int y = static_cast<int>(pixel / width), x = static_cast<int>(pixel % width);
    x0 = std::min(x0, x);
    y0 = std::min(y0, y);
    x1 = std::max(x1, x);
    y1 = std::max(y1, y);
  }
  return QRect(QPoint(x0, y0), QPoint(x1, y1));
}

// A table row as HTML: the values each branch reads, under the branch and its φ; the features no
// branch reads last. A categorical column shows its category (the one-hot feature that is 1).
QString tableRowHtml(const ExplainResult &r, const CombineResult &c, int sample) {
  const int features = static_cast<int>(r.featureNames.size()), k = static_cast<int>(c.branches.size());
  auto cells = [&](const QVector<qint64> &indices) {
    QString html;
    for (qint64 i : indices) {
      if (i < 0 || i >= features)
        continue;
      const QString name = r.featureNames[static_cast<int>(i)];
      const double v = r.values.value(sample * features + static_cast<int>(i));
      const auto eq = name.indexOf('=');
      QString shown;
      if (eq > 0) {
        if (v < 0.5)
          continue; // another category of the column
        shown = name.left(eq).toHtmlEscaped() + " = <b>" + name.mid(eq + 1).toHtmlEscaped() + "</b>";
      } else {
        shown = name.toHtmlEscaped() + " = <b>" + QString::number(v, 'g', 5) + "</b>";
      }
      html += "<span style=\"white-space:nowrap\">" + shown + "</span> &nbsp; ";
    }
    return html;
  };
  QVector<bool> read(features, false);
  QString html;
  for (int b = 0; b < k; ++b) {
    QVector<qint64> indices = c.regions.value(b);
    if (indices.isEmpty())
      for (int i = 0; i < features; ++i)
        indices << i;
    for (qint64 i : indices)
      if (i >= 0 && i < features)
        read[static_cast<int>(i)] = true;
    html += QString("<p><b>%1</b> &nbsp; φ = %2<br>%3</p>")
                .arg(c.branches[b].toHtmlEscaped())
                .arg(c.phi.value(sample * k + b), 0, 'f', 3)
                .arg(cells(indices));
  }
  QVector<qint64> unread;
  for (int i = 0; i < features; ++i)
    if (!read[i])
      unread << i;
  if (!unread.isEmpty())
    html += "<p><i>" + QObject::tr("read by no branch:") + "</i><br>" + cells(unread) + "</p>";
  return html;
}
} // namespace

SampleView::SampleView(QWidget *parent) : QWidget(parent) {
  image_ = new QLabel(this);
  image_->setObjectName("sampleView");
  image_->setMinimumSize(160, 160);
  image_->setAlignment(Qt::AlignCenter);
  text_ = new QTextBrowser(this);
  text_->setObjectName("tokensView");
  text_->setMinimumSize(160, 160);
  text_->setOpenLinks(false);
  text_->hide();
  spectrogram_ = new SpectrogramView(this);
  spectrogram_->hide();
  // Audio: the saliency's opacity and scale are the user's to change (the spectrogram under it
  // alone at 0), and a caption says that the colours and the bands' % are different measures: a
  // band can decide much of the output while its gradients are faint.
  audioControls_ = new QWidget(this);
  auto *controls = new QHBoxLayout(audioControls_);
  controls->setContentsMargins(0, 0, 0, 0);
  auto *opacityLabel = new QLabel(tr("saliency"), audioControls_);
  opacity_ = new QSlider(Qt::Horizontal, audioControls_);
  opacity_->setObjectName("saliencyOpacity");
  opacity_->setRange(0, 100);
  opacity_->setValue(static_cast<int>(std::lround(100 * spectrogram_->overlayOpacity())));
  opacity_->setToolTip(tr("How opaque the saliency is over the spectrogram: at the left end the spectrogram alone"));
  opacityLabel->setBuddy(opacity_);
  perBand_ = new QCheckBox(tr("each band to its peak"), audioControls_);
  perBand_->setObjectName("saliencyPerBand");
  perBand_->setChecked(spectrogram_->overlayPerPart());
  perBand_->setToolTip(tr("Scale each band's saliency to its own peak, so that a band with faint gradients still "
                          "shows where they lie; unticked, one scale for the whole sample compares the bands"));
  controls->addWidget(opacityLabel);
  controls->addWidget(opacity_, 1);
  controls->addWidget(perBand_);
  caption_ = new QLabel(this);
  caption_->setObjectName("saliencyCaption");
  caption_->setWordWrap(true);
  caption_->setStyleSheet("color: palette(placeholder-text)");
  audioControls_->hide();
  caption_->hide();
  connect(opacity_, &QSlider::valueChanged, this, [this](int v) { spectrogram_->setOverlayOpacity(v / 100.0); });
  connect(perBand_, &QCheckBox::toggled, spectrogram_, &SpectrogramView::setOverlayPerPart);
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(image_);
  layout->addWidget(text_);
  layout->addWidget(spectrogram_, 1);
  layout->addWidget(audioControls_);
  layout->addWidget(caption_);
}

void SampleView::show(const ExplainResult &result, int combine, int sample, int branch, const SampleDetail &detail) {
  result_ = result;
  combine_ = combine;
  sample_ = sample;
  branch_ = branch;
  detail_ = detail;
  draw();
}

void SampleView::clear() {
  result_ = ExplainResult{};
  detail_ = SampleDetail{};
  combine_ = sample_ = branch_ = -1;
  image_->clear();
  text_->clear();
  spectrogram_->clear();
  audioControls_->hide();
  caption_->hide();
}

void SampleView::draw() {
  const CombineResult *c = combine_ >= 0 && combine_ < result_.combines.size() ? &result_.combines[combine_] : nullptr;
  if (sample_ < 0 || !c) {
    image_->clear();
    return;
  }
  const bool right = result_.labels[sample_] == result_.predictions[sample_];
  // The sample's file, when the data has one per sample ("#3  two, predicted four ✗ · en-029-m3.wav"):
  // the clip to listen to, the image to open.
  const QString file = QFileInfo(result_.sampleName(sample_)).fileName();
  const QString title =
      (right ? tr("#%1  %2 ✓").arg(sample_).arg(result_.className(result_.labels[sample_]))
             : tr("#%1  %2, predicted %3 ✗")
                   .arg(sample_)
                   .arg(result_.className(result_.labels[sample_]), result_.className(result_.predictions[sample_]))) +
      (file.isEmpty() ? QString() : QString(" · ") + file);
  image_->setVisible(!result_.isText && !result_.isTable && !result_.isAudio);
  text_->setVisible(result_.isText || result_.isTable);
  spectrogram_->setVisible(result_.isAudio);
  audioControls_->setVisible(result_.isAudio);
  caption_->setVisible(result_.isAudio);
  caption_->setText(tr("Colour: integrated-gradient saliency, where in the clip each band's output is sensitive. "
                       "%: the band's share of this decision (%1), − where it argued against it. Different "
                       "measures: a band can decide much with faint gradients.")
                        .arg(result_.method == "shapley"    ? tr("Shapley values")
                             : result_.method == "ablation" ? tr("ablation")
                                                            : tr("gradient × activation")));
  if (result_.isAudio) {
    // The spectrogram under the saliency of every branch, each on its own band (stitched), and the
    // bands outlined with their share of this decision: which bands decided.
    spectrogram_->setSample(result_.audioValues.value(sample_), result_.audioRows, result_.audioCols, result_.audio,
                            title, right ? QColor() : QColor(0xd0, 0x30, 0x30));
    if (detail_.index == sample_)
      spectrogram_->setOverlay(detail_.audioSaliency, tr("saliency"));
    const int k = static_cast<int>(c->branches.size());
    double total = 0;
    for (int b = 0; b < k; ++b)
      total += std::abs(c->phi.value(sample_ * k + b));
    QVector<SpectrogramView::Part> parts;
    for (int b = 0; b < c->regions.size(); ++b) {
      const QRect box = regionBox(c->regions[b], result_.audioCols, result_.audioRows);
      if (box.isNull())
        continue;
      // Signed as φ is: a band that argued against the decision (the waterfall's red step) says so.
      const double phi = c->phi.value(sample_ * k + b), share = total > 0 ? std::abs(phi) / total : 0;
      parts << SpectrogramView::Part{box.top(),
                                     box.bottom() + 1,
                                     box.left(),
                                     box.right() + 1,
                                     QString("%1 · %2%3%")
                                         .arg(c->branches.value(b), phi < 0 ? QString("−") : QString())
                                         .arg(std::lround(100 * share)),
                                     b == branch_};
    }
    spectrogram_->setParts(parts);
    return;
  }
  if (result_.isTable) {
    // The row's values, grouped by the branch that reads them, beside each branch's φ.
    text_->setHtml("<p><b>" + title.toHtmlEscaped() + "</b> &nbsp; " +
                   tr("explained class: %1").arg(result_.className(result_.targets.value(sample_)).toHtmlEscaped()) +
                   "</p>" + tableRowHtml(result_, *c, sample_));
    return;
  }
  if (result_.isText) {
    // The words of the text, each coloured by how much it pushed towards the explained class.
    QString html = "<p><b>" + title.toHtmlEscaped() + "</b> &nbsp; " +
                   tr("explained class: %1").arg(result_.className(result_.targets.value(sample_)).toHtmlEscaped()) +
                   "</p>";
    html += detail_.index == sample_ && !detail_.tokensHtml.isEmpty()
                ? "<p>" + detail_.tokensLegend + "</p><p style=\"line-height:160%\">" + detail_.tokensHtml + "</p>"
                : "<p>" + tr("computing the words' attributions…") + "</p>";
    text_->setHtml(html);
    return;
  }
  if (!result_.isImage) {
    image_->setText(title + "\n\n" + tr("(vector data: the contributions are in the charts)"));
    return;
  }
  const int side = std::max(160, std::min(kSampleViewSide, std::min(image_->width(), image_->height())));
  QImage canvas(side, side, QImage::Format_ARGB32);
  canvas.fill(Qt::black);
  QPainter p(&canvas);
  p.drawImage(canvas.rect(), result_.images[sample_]);
  const int branch = branch_;
  if (detail_.index == sample_ && branch >= 0 && branch < detail_.saliency.size())
    p.drawImage(canvas.rect(), detail_.saliency[branch]);
  // The part each branch reads; the selected one stands out.
  const double sx = static_cast<double>(side) / std::max(1, result_.imageWidth);
  const double sy = static_cast<double>(side) / std::max(1, result_.imageHeight);
  for (int b = 0; b < c->regions.size(); ++b) {
    const QRect box = regionBox(c->regions[b], result_.imageWidth, result_.imageHeight);
    if (box.isNull())
      continue;
    const QRectF scaled(box.x() * sx, box.y() * sy, (box.width()) * sx, (box.height()) * sy);
    p.setPen(QPen(b == branch ? QColor(255, 210, 0) : QColor(255, 255, 255, 150), b == branch ? 2 : 1,
                  b == branch ? Qt::SolidLine : Qt::DashLine));
    p.setBrush(Qt::NoBrush);
    p.drawRect(scaled.adjusted(1, 1, -1, -1));
  }
  p.fillRect(QRect(0, 0, side, 20), QColor(0, 0, 0, 150));
  p.setPen(right ? Qt::white : QColor(0xff, 0x90, 0x90));
  p.drawText(QRect(6, 2, side - 12, 18), Qt::AlignLeft | Qt::AlignVCenter,
             p.fontMetrics().elidedText(title, Qt::ElideRight, side - 12));
  p.end();
  image_->setPixmap(QPixmap::fromImage(canvas));
}

void SampleView::resizeEvent(QResizeEvent *event) {
  QWidget::resizeEvent(event);
  draw(); // the sample follows the room it has
}

} // namespace particle::ui
