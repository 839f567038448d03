#pragma once
// ExportWorker: writes File → Export to PyTorch / ONNX on a thread of its own, so the window stays
// responsive while the reference samples are computed and Python checks the ONNX file.
// ExportController owns the thread; an export can be cancelled (it stops at its next stage) and
// reports its stages as it goes.

#include "project/Project.h"

#include <QObject>
#include <QStringList>

#include <atomic>
#include <memory>

class QThread;

namespace particle::ui {

struct ExportRequest {
  Project project;
  QString dir, checkpoint; // checkpoint: empty for the initial weights
  bool onnx = false;
  std::shared_ptr<std::atomic<bool>> cancel;
};

class ExportWorker : public QObject {
  Q_OBJECT

public:
  void run(const ExportRequest &request);

Q_SIGNALS:
  void progress(const QString &stage);
  // The files written (names only); `error` empty on success; `cancelled` when stopped by cancel();
  // `check`: for ONNX, what ONNX Runtime said of model.onnx (the figure, or that it was skipped).
  void finished(const QStringList &files, const QString &error, bool cancelled, const QString &check);
};

class ExportController : public QObject {
  Q_OBJECT

public:
  explicit ExportController(QObject *parent = nullptr);
  // Waits for an export in progress: it writes its files to the end.
  ~ExportController() override;

  bool running() const { return running_; }
  void start(ExportRequest request);
  // The export stops at its next stage and reports cancelled.
  void cancel();

Q_SIGNALS:
  void progress(const QString &stage);
  void finished(const QStringList &files, const QString &error, bool cancelled, const QString &check);

private:
  QThread *thread_;
  ExportWorker *worker_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool running_ = false;
};

} // namespace particle::ui
