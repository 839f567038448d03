#include "training/EngineWorker.h"

#include "train/Trainer.h"

#include <QElapsedTimer>
#include <QEventLoop>

namespace particle::ui {

namespace {
// Collects engine events on the engine thread and forwards them, throttling steps.
class Forwarder : public TrainObserver {
public:
  Forwarder(EngineWorker *worker, qint64 *stepCounter) : worker_(worker), step_(stepCounter) { clock_.start(); }

  void onStep(const StepEvent &e) override {
    StepPoint p;
    p.step = e.step;
    p.totalSteps = e.totalSteps;
    p.epoch = e.epoch;
    p.loss = e.loss;
    p.accuracy = e.accuracy;
    p.lr = e.lr;
    p.samplesPerSecond = e.samplesPerSecond;
    p.etaSeconds = e.etaSeconds;
    *step_ = e.step;
    pending_.push_back(p);
    if (clock_.elapsed() >= EngineWorker::kStepIntervalMs || e.step == e.totalSteps)
      flush();
  }
  void onEpoch(const EpochEvent &e) override {
    flush();
    EpochPoint p;
    p.epoch = e.epoch;
    p.epochs = e.epochs;
    p.step = e.step;
    p.trainLoss = e.trainLoss;
    p.trainAccuracy = e.trainAccuracy;
    p.valLoss = e.valLoss;
    p.valAccuracy = e.valAccuracy;
    p.lr = e.lr;
    p.seconds = e.seconds;
    p.samplesPerSecond = e.samplesPerSecond;
    for (const auto &s : e.shares) {
      p.shareBranches << QString::fromStdString(s.combine + "/" + s.branch);
      p.shares << s.share;
    }
    for (auto c : e.confusion)
      p.confusion << c;
    p.classes = static_cast<int>(e.classes);
    Q_EMIT worker_->epoch(p);
  }
  void onLog(const std::string &message) override { Q_EMIT worker_->log(QString::fromStdString(message)); }
  void flush() {
    if (!pending_.isEmpty())
      Q_EMIT worker_->steps(pending_);
    pending_.clear();
    clock_.restart();
  }

private:
  EngineWorker *worker_;
  qint64 *step_;
  QVector<StepPoint> pending_;
  QElapsedTimer clock_;
};
} // namespace

EngineWorker::EngineWorker(std::shared_ptr<ControlToken> control) : control_(std::move(control)) {}
EngineWorker::~EngineWorker() = default;

QStringList EngineWorker::availableDevices() {
  QStringList out = {"cpu"};
  const int n = static_cast<int>(torch::cuda::device_count());
  for (int i = 0; i < n; ++i)
    out << QString("cuda:%1").arg(i);
  return out;
}

void EngineWorker::run(const QString &projectText, const QString &projectPath, const QString &settings,
                       const QString &outDir) {
  RunFinished result;
  result.outDir = outDir;
  try {
    Project project = projectFromText(projectText.toStdString(), projectPath.toStdString());
    project.path = projectPath.toStdString();
    const Json overrides = settings.isEmpty() ? Json::object() : Json::parse(settings.toStdString());
    for (auto it = overrides.begin(); it != overrides.end(); ++it)
      project.training[it.key()] = it.value();
    TrainOptions options;
    options.outDir = outDir.toStdString();
    options.reportEverySteps = 1;
    trainer_ = std::make_unique<Trainer>(project, options);
    step_ = 0;
    Forwarder forward(this, &step_);
    const RunSummary s = trainer_->run(&forward, control_.get());
    forward.flush();
    result.status = statusName(s.status);
    result.message = QString::fromStdString(s.message);
    result.checkpoint = QString::fromStdString(s.checkpoint);
    result.testAccuracy = s.testAccuracy;
    result.testLoss = s.testLoss;
    result.steps = s.steps;
    result.epochs = s.epochs;
    result.failed = s.status == RunSummary::Status::Diverged || s.status == RunSummary::Status::Failed;
  } catch (const Error &e) {
    result.status = "failed";
    result.message = QString::fromStdString(e.what());
    result.failed = true;
  } catch (const std::exception &e) {
    result.status = "failed";
    result.message = QString::fromStdString(e.what());
    result.failed = true;
  }
  trainer_.reset(); // the model and tensors are freed on the thread that made them
  Q_EMIT finished(result);
}

void EngineWorker::applyLive(const LiveSettings &settings) {
  if (!trainer_)
    return;
  if (settings.lr > 0)
    trainer_->setLearningRate(settings.lr);
  if (!settings.schedule.isEmpty())
    trainer_->setSchedule(settings.schedule.toStdString());
  std::vector<std::string> frozen;
  for (const auto &id : settings.frozen)
    frozen.push_back(id.toStdString());
  trainer_->setFrozen(frozen);
  Q_EMIT settingsApplied(settings, step_);
}

TrainingController::TrainingController(QObject *parent) : QObject(parent) {
  qRegisterMetaType<StepPoint>();
  qRegisterMetaType<EpochPoint>();
  qRegisterMetaType<RunFinished>();
  qRegisterMetaType<LiveSettings>();
  qRegisterMetaType<QVector<StepPoint>>();
  control_ = std::make_shared<ControlToken>();
  worker_ = new EngineWorker(control_);
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(this, &TrainingController::requestRun, worker_, &EngineWorker::run, Qt::QueuedConnection);
  connect(worker_, &EngineWorker::finished, this, [this] {
    running_ = false;
    Q_EMIT runningChanged(false);
  });
  thread_.setObjectName("engine");
  thread_.start();
}

TrainingController::~TrainingController() {
  stopAndWait();
  thread_.quit();
  thread_.wait();
}

bool TrainingController::paused() const {
  return control_->paused();
}

void TrainingController::start(const QString &projectText, const QString &projectPath, const QString &settings,
                               const QString &outDir) {
  if (running_)
    return;
  control_ = std::make_shared<ControlToken>();
  // The worker reads the token only inside run(), which has not started yet.
  worker_->control_ = control_;
  running_ = true;
  Q_EMIT runningChanged(true);
  Q_EMIT requestRun(projectText, projectPath, settings, outDir);
}

void TrainingController::pause() {
  control_->pause();
}
void TrainingController::resume() {
  control_->resume();
}
void TrainingController::stop() {
  control_->requestStop();
}

void TrainingController::applyLive(const LiveSettings &settings) {
  EngineWorker *worker = worker_;
  control_->post([worker, settings] { worker->applyLive(settings); });
}

void TrainingController::stopAndWait() {
  if (!running_)
    return;
  control_->requestStop();
  QEventLoop loop;
  connect(worker_, &EngineWorker::finished, &loop, &QEventLoop::quit);
  if (running_)
    loop.exec();
}

} // namespace particle::ui
