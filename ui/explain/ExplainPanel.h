#pragma once
// The Explain tab: sample browser (image with the Split's patch grid, true/predicted class),
// per-sample waterfall of branch contributions, class × branch heat map, combiner weights,
// attention maps per layer/head with rollout, per-branch saliency over the image; method,
// baseline and target selectors; clicking a branch selects its node in the editor.

#include "explain/ExplainWorker.h"

#include <QWidget>

class QComboBox;
class QCustomPlot;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace particle::ui {

class GraphDocument;

class ExplainPanel : public QWidget {
  Q_OBJECT

public:
  ExplainPanel(GraphDocument *doc, QWidget *parent = nullptr);

  void setCheckpoint(const QString &path);
  QString checkpoint() const { return checkpoint_; }
  void compute();
  void selectSample(int index);
  bool exportTo(const QString &path); // .png (the tab) or .csv (per-sample φ)

  QPushButton *computeButton() const { return compute_; }
  QComboBox *methodBox() const { return method_; }
  QListWidget *sampleList() const { return samples_; }
  QListWidget *branchList() const { return branches_; }
  QCustomPlot *waterfall() const { return waterfall_; }
  QCustomPlot *heatmap() const { return heatmap_; }
  QLabel *sampleView() const { return sampleView_; }
  const ExplainResult &result() const { return result_; }
  const SampleDetail &detail() const { return detail_; }

Q_SIGNALS:
  void branchActivated(const QString &nodeId);
  void resultReady();
  void detailReady();

private:
  void onComputed(const ExplainResult &r);
  void onDetail(const SampleDetail &d);
  void drawSample();
  void drawWaterfall();
  void drawHeatmap();
  void drawAttention();

  GraphDocument *doc_;
  ExplainController *controller_;
  QComboBox *method_, *target_, *baseline_, *attentionPick_;
  QSpinBox *count_;
  QPushButton *compute_, *load_, *export_;
  QProgressBar *progress_;
  QLabel *status_, *sampleView_, *attentionView_, *rolloutView_;
  QListWidget *samples_, *branches_;
  QCustomPlot *waterfall_, *weights_, *heatmap_;
  QString checkpoint_;
  ExplainResult result_;
  SampleDetail detail_;
  int current_ = -1;
};

} // namespace particle::ui
