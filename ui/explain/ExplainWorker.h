#pragma once
// ExplainWorker: computes explanations on its own engine thread (an ExplainSession: the data and a
// model of its own, loaded from a checkpoint) and hands the GUI plain values and QImages.
// ExplainController owns the thread; requests coalesce to the latest (a newer request cancels the
// one before it) and every request can be cancelled, so closing never waits for queued work.

#include "graph/Shape.h"

#include <QImage>
#include <QMetaType>
#include <QObject>
#include <QStringList>
#include <QThread>
#include <QVector>

#include <memory>

namespace particle {
struct CancelFlag;
}

namespace particle::ui {

struct ExplainRequest {
  QString projectText, projectPath, checkpoint;
  QString method = "shapley", baseline = "mean", target = "predicted";
  int samples = 200;
  std::shared_ptr<particle::CancelFlag> cancel;
};

// One Combine's attributions.
struct CombineResult {
  QString combine;
  QStringList branches;                   // node (or node:port) feeding each Combine port
  QStringList branchNodes;                // the node id of each branch (for selection in the editor)
  QVector<double> phi;                    // samples × branches
  QVector<double> fx, fBaseline, weights; // weights: samples × branches, empty when none
  QVector<double> perClass;               // classes × branches, mean |φ|
  QVector<double> shares;                 // per branch
  QVector<QVector<qint64>> regions;       // per branch: flat input indices it reads (empty: all)
  // Per branch, what it reads, shown beside its name: a table's columns ("a, b"), an audio sample's
  // band or time window ("120–560 Hz"); else empty.
  QStringList branchColumns;
  double completenessMaxError = 0;
  bool exact = true;
  // A branch's name, with the columns it reads for a table ("split:0 (age, height)").
  QString branchLabel(int b) const {
    const QString columns = branchColumns.value(b);
    return columns.isEmpty() ? branches.value(b) : QString("%1 (%2)").arg(branches.value(b), columns);
  }
};

struct ExplainResult {
  QString method, error;
  QString target = "predicted"; // the class each sample's φ explains: "predicted" or "true"
  bool cancelled = false;
  int samples = 0, classes = 0;
  QString drawn; // which samples: "200 of 480 test samples, drawn across the 10 classes"
  QStringList classNames;
  QVector<int> targets, labels, predictions;
  QStringList sampleNames; // each sample's file (image and audio folders), else empty
  QVector<CombineResult> combines;
  QVector<QImage> images; // the samples (image data; audio: their spectrograms, for the list's icons)
  bool isImage = false;
  // Audio: the axes and each sample's values (logmel mels × frames, row 0 the lowest band;
  // waveform 1 × samples), drawn as spectrograms (charts/Spectrogram.h).
  bool isAudio = false;
  particle::DataInfo::Audio audio;
  QVector<QVector<float>> audioValues;
  int audioRows = 0, audioCols = 0;
  bool isText = false; // token ids: the sample is shown as its words
  // Tables: the feature names and each sample's values as read (samples × features; a categorical
  // column's one-hot features are 0 or 1), shown grouped by the branch that reads them.
  bool isTable = false;
  QStringList featureNames;
  QVector<double> values;
  int imageWidth = 0, imageHeight = 0, channels = 0;
  // A class's name, or its index when the data names none.
  QString className(int index) const { return classNames.value(index, QString::number(index)); }
  // A sample's file, or empty when the data names none.
  QString sampleName(int index) const { return sampleNames.value(index); }
};

struct SampleDetail {
  int index = -1;
  QString combine;
  QVector<QImage> saliency;      // per branch, |IG| over the image, same size as the sample
  QVector<float> audioSaliency;  // audio: every branch's |IG| stitched into one map, as audioValues
  QVector<double> saliencyDelta; // per branch
  QStringList attentionNodes;
  QVector<QVector<QImage>> attention;  // per Attention node: layer × head maps [T×T]
  QVector<QStringList> attentionNames; // per Attention node: "layer 1 · head 2"…
  QVector<QImage> rollout;             // per Attention node: rollout per token drawn over its grid
  QString tokensHtml;                  // text data: the words coloured by attribution (TokenReport.h)
  QString tokensLegend;                // and what the colours mean
};

class ExplainWorker : public QObject {
  Q_OBJECT

public:
  ExplainWorker();
  ~ExplainWorker() override;

public Q_SLOTS:
  void compute(const particle::ui::ExplainRequest &request);
  void detail(int index, const QString &combine, const std::shared_ptr<particle::CancelFlag> &cancel);

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
  ~ExplainController() override; // cancels what is queued or running, then joins
  ExplainWorker *worker() const { return worker_; }

  // Queues a request, cancelling the previous one (only the latest is computed).
  void compute(ExplainRequest request);
  // Queues per-sample details, cancelling a previous detail request.
  void detail(int index, const QString &combine);
  void cancel();

Q_SIGNALS:
  void requestCompute(const particle::ui::ExplainRequest &request);
  void requestDetail(int index, const QString &combine, const std::shared_ptr<particle::CancelFlag> &cancel);

private:
  QThread thread_;
  ExplainWorker *worker_;
  std::shared_ptr<particle::CancelFlag> computeCancel_, detailCancel_;
};

} // namespace particle::ui

Q_DECLARE_METATYPE(particle::ui::ExplainRequest)
Q_DECLARE_METATYPE(particle::ui::ExplainResult)
Q_DECLARE_METATYPE(particle::ui::SampleDetail)
Q_DECLARE_METATYPE(std::shared_ptr<particle::CancelFlag>)
