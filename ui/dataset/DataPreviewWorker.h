#pragma once
// Loads the data set on a thread of its own for the Data panel's preview: split sizes, sample
// shape, classes with their names, and a few samples (thumbnails for images and audio, rows for
// tables).
// Requests coalesce: a newer one makes the worker skip the older ones it has not started.

#include "graph/Shape.h"

#include <QImage>
#include <QMetaType>
#include <QObject>
#include <QStringList>
#include <QThread>
#include <QVector>

#include <atomic>
#include <memory>

namespace particle::ui {

struct DataPreview {
  QString error;
  qint64 train = 0, validation = 0, test = 0;
  QString shape;
  QStringList classNames;
  QVector<QImage> thumbnails; // image and audio data
  QVector<int> thumbnailLabels;
  // Audio: the axes and the values of the samples shown (logmel mels × frames, row 0 the lowest
  // band; waveform 1 × samples), which the panel draws as spectrograms.
  particle::DataInfo::Audio audio;
  QVector<QVector<float>> audioValues;
  int audioRows = 0, audioCols = 0;
  QStringList rowHeader;     // table data: feature names (or indices) of the columns shown
  QVector<QStringList> rows; // a few samples: label name, then feature values
  // Text: the training texts' tokens (median, 95th percentile, longest, how many max_tokens cuts)
  // with a suggested max_tokens, one line per text field; plain text.
  QStringList tokenLengths;
  double seconds = 0;
};

class DataPreviewWorker : public QObject {
  Q_OBJECT

public Q_SLOTS:
  void preview(const QString &datasetJson, const QString &baseDir, const std::shared_ptr<std::atomic<bool>> &stale);

Q_SIGNALS:
  void previewed(const particle::ui::DataPreview &preview);
};

class DataPreviewController : public QObject {
  Q_OBJECT

public:
  explicit DataPreviewController(QObject *parent = nullptr);
  ~DataPreviewController() override;
  DataPreviewWorker *worker() const { return worker_; }
  void request(const QString &datasetJson, const QString &baseDir);

Q_SIGNALS:
  void requestPreview(const QString &datasetJson, const QString &baseDir,
                      const std::shared_ptr<std::atomic<bool>> &stale);

private:
  QThread thread_;
  DataPreviewWorker *worker_;
  std::shared_ptr<std::atomic<bool>> stale_;
};

} // namespace particle::ui

Q_DECLARE_METATYPE(particle::ui::DataPreview)
Q_DECLARE_METATYPE(std::shared_ptr<std::atomic<bool>>)
