#pragma once
// The Explain tab's contribution charts: the waterfall from the baseline output to f(x) for one
// sample (a step per branch, the branches' interactions as a step of their own), the combiner's
// weights for it, the class × branch map of mean |φ| with each branch's share, and the attention
// maps per layer and head with their rollout.

#include "explain/ExplainWorker.h"

#include <QWidget>

class QComboBox;
class QCustomPlot;
class QGridLayout;
class QGroupBox;
class QLabel;

namespace particle::ui {

class ContributionCharts : public QWidget {
  Q_OBJECT

public:
  explicit ContributionCharts(QWidget *parent = nullptr);

  // The class × branch map of Combine `combine` (an index into result.combines).
  void showCombine(const ExplainResult &result, int combine);
  // The waterfall and the combiner's weights of one sample under that Combine.
  void showSample(const ExplainResult &result, int combine, int sample);
  // The attention maps of a sample's detail (the box is hidden without Attention nodes).
  void showDetail(const SampleDetail &detail);
  // Empty charts, without the previous project's names.
  void clear();

  QCustomPlot *waterfall() const { return waterfall_; }
  QCustomPlot *heatmap() const { return heatmap_; }
  QGroupBox *attentionBox() const { return attentionBox_; }

protected:
  bool eventFilter(QObject *watched, QEvent *event) override;

private:
  void drawWaterfall();
  void drawHeatmap();
  void drawAttention();
  void removeColorScale();
  const CombineResult *combineResult() const;

  QCustomPlot *waterfall_, *weights_, *heatmap_;
  QComboBox *attentionPick_;
  QLabel *attentionView_, *rolloutView_;
  QGroupBox *attentionBox_;
  QGridLayout *grid_;
  ExplainResult result_; // implicitly shared with the tab's
  SampleDetail detail_;
  int combine_ = -1, sample_ = -1;
};

} // namespace particle::ui
