#pragma once
// ExplainWorker: computes explanations on its own engine thread (a model of its own, loaded from
// a checkpoint) and hands the GUI plain values and QImages. ExplainController owns the thread.

#include <QImage>
#include <QMetaType>
#include <QObject>
#include <QStringList>
#include <QThread>
#include <QVector>

namespace particle::ui {

struct ExplainRequest {
  QString projectText, projectPath, checkpoint;
  QString method = "shapley", baseline = "mean", target = "predicted";
  int samples = 200;
};

struct ExplainResult {
  QString combine, method, error;
  QStringList branches;    // node feeding each Combine port
  QStringList branchNodes; // the node id of each branch (for selection in the editor)
  int samples = 0, classes = 0, gridRows = 0, gridCols = 0;
  QVector<double> phi;                    // samples × branches
  QVector<double> fx, fBaseline, weights; // weights: samples × branches, empty when none
  QVector<int> targets, labels, predictions;
  QVector<double> perClass; // classes × branches, mean |φ|
  QVector<double> shares;   // per branch
  double completenessMaxError = 0;
  QVector<QImage> images; // the samples (image data only)
  bool isImage = false;
};

struct SampleDetail {
  int index = -1;
  QVector<QImage> saliency;      // per branch, |IG| over the image, same size as the sample
  QVector<double> saliencyDelta; // per branch
  QStringList attentionNodes;
  QVector<QVector<QImage>> attention; // per Attention node: layer × head maps [T×T]
  QVector<QImage> rollout;            // per Attention node: rollout per token drawn over the image
};

class ExplainWorker : public QObject {
  Q_OBJECT

public:
  ExplainWorker();
  ~ExplainWorker() override;

public Q_SLOTS:
  void compute(const particle::ui::ExplainRequest &request);
  void detail(int index);

Q_SIGNALS:
  void progress(int percent, const QString &stage);
  void computed(const particle::ui::ExplainResult &result);
  void detailed(const particle::ui::SampleDetail &detail);

private:
  struct State;
  std::unique_ptr<State> state_;
};

class ExplainController : public QObject {
  Q_OBJECT

public:
  explicit ExplainController(QObject *parent = nullptr);
  ~ExplainController() override;
  ExplainWorker *worker() const { return worker_; }

Q_SIGNALS:
  void requestCompute(const particle::ui::ExplainRequest &request);
  void requestDetail(int index);

private:
  QThread thread_;
  ExplainWorker *worker_;
};

} // namespace particle::ui

Q_DECLARE_METATYPE(particle::ui::ExplainRequest)
Q_DECLARE_METATYPE(particle::ui::ExplainResult)
Q_DECLARE_METATYPE(particle::ui::SampleDetail)
