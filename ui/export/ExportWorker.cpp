#include "export/ExportWorker.h"

#include "ThreadHandoff.h"
#include "export/PythonExport.h"

#include <QFileInfo>
#include <QThread>

namespace particle::ui {

namespace {
// Thrown from the progress callback: the export stops between two of its stages.
struct Cancelled {};
} // namespace

void ExportWorker::run(const ExportRequest &request) {
  handoffAcquire();
  QStringList files;
  QString error, check;
  bool cancelled = false;
  try {
    ExportOptions options;
    options.checkpoint = request.checkpoint.toStdString();
    options.outDir = request.dir.toStdString();
    const ExportResult result = exportPyTorch(request.project, options, [&](const std::string &stage) {
      if (*request.cancel)
        throw Cancelled{};
      handoffRelease();
      Q_EMIT progress(QString::fromStdString(stage));
    });
    for (const auto &f : result.files)
      files << QFileInfo(QString::fromStdString(f)).fileName();
    if (request.onnx) {
      if (*request.cancel)
        throw Cancelled{};
      // model.py's ONNX Runtime line: the figure, or why the logits were not compared.
      for (const QString &line : QString::fromStdString(exportOnnx(options.outDir)).split('\n'))
        if (line.startsWith("onnx: ") && (line.contains("max |Δlogit|") || line.contains("SKIPPED")))
          check = line.mid(6);
      files << "model.onnx";
    }
  } catch (const Cancelled &) {
    cancelled = true;
  } catch (const std::exception &e) {
    error = QString::fromStdString(e.what());
  }
  handoffRelease();
  Q_EMIT finished(files, error, cancelled, check);
}

ExportController::ExportController(QObject *parent) : QObject(parent) {
  installHandoffFilter();
  thread_ = new QThread(this);
  worker_ = new ExportWorker;
  worker_->moveToThread(thread_);
  connect(worker_, &ExportWorker::progress, this, &ExportController::progress);
  connect(worker_, &ExportWorker::finished, this,
          [this](const QStringList &files, const QString &error, bool cancelled, const QString &check) {
            running_ = false;
            Q_EMIT finished(files, error, cancelled, check);
          });
  thread_->start();
}

ExportController::~ExportController() {
  thread_->quit();
  thread_->wait();
  handoffAcquire();
  delete worker_;
}

void ExportController::start(ExportRequest request) {
  if (running_)
    return;
  running_ = true;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  request.cancel = cancel_;
  ExportWorker *worker = worker_;
  handoffRelease();
  QMetaObject::invokeMethod(
      worker_, [worker, request] { worker->run(request); }, Qt::QueuedConnection);
}

void ExportController::cancel() {
  if (running_ && cancel_)
    *cancel_ = true;
}

} // namespace particle::ui
