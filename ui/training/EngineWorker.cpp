#include "training/EngineWorker.h"

#include "train/RunFolder.h"
#include "train/Runtime.h"
#include "project/ProjectPaths.h"
#include "explain/ContributionHook.h"
#include "recipes/WorkerGroup.h"
#include "train/Peak.h"
#include "train/Trainer.h"

#include "ThreadHandoff.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QFileInfo>
#include <QStandardPaths>

#include <filesystem>

namespace particle::ui {

// Collects engine events on the engine thread and forwards them, throttling steps.
class StepForwarder : public TrainObserver {
public:
  StepForwarder(EngineWorker *worker, qint64 *stepCounter) : worker_(worker), step_(stepCounter) {}

  void onStep(const StepEvent &e) override {
    *step_ = e.step;
    pending_.push_back(e);
    // The first step at once (the Train tab stops saying "loading data…"), then a batch at a time.
    if (!clock_.isValid() || clock_.elapsed() >= EngineWorker::kStepIntervalMs || e.step == e.totalSteps)
      flush();
  }
  void onEpoch(const EpochEvent &e) override {
    flush();
    handoffRelease();
    Q_EMIT worker_->epoch(e);
  }
  void onLog(const std::string &message) override {
    handoffRelease();
    Q_EMIT worker_->log(QString::fromStdString(message));
  }
  void flush() {
    if (!pending_.empty()) {
      // Hand the batch over whole; the next steps go to a new buffer, never to one the GUI reads.
      std::vector<StepEvent> batch;
      batch.swap(pending_);
      handoffRelease();
      Q_EMIT worker_->steps(batch);
    }
    clock_.restart();
  }

private:
  EngineWorker *worker_;
  qint64 *step_;
  std::vector<StepEvent> pending_;
  QElapsedTimer clock_;
};

namespace {
// The other workers of a data-parallel run: `particle train` processes that join rank 0, which is
// this engine thread. They train on the project as the run folder keeps it (data paths absolute)
// and write nothing but their log; the run's stop reaches them through the gradient sum.
class HelperWorkers {
public:
  HelperWorkers(const Project &project, const TrainingSpec &spec, const std::string &outDir, TrainOptions &options) {
    const std::string program = EngineWorker::commandLineProgram().toStdString();
    if (program.empty())
      throw Error(ErrorKind::Training, "training with " + std::to_string(spec.workers) +
                                           " workers needs the `particle` command-line program, which is "
                                           "neither next to the app nor on PATH (set PARTICLE_CLI to it)");
    std::filesystem::create_directories(outDir);
    const std::string file = outDir + "/workers.particle.json";
    saveProject(projectWithAbsolutePaths(project), file);
    WorkerGroupSpec group;
    group.program = program;
    group.args = {"train", file};
    group.world = spec.workers;
    group.firstRank = 1;
    group.threads = workerThreads(spec.threads, spec.workers);
    group.logFolder = outDir;
    options.threads = group.threads;
    group_ = std::make_unique<WorkerGroup>(group);
    DistConfig config;
    config.worldSize = spec.workers;
    config.masterPort = group_->port();
    config.timeout = distTimeoutFromEnvironment();
    options.distributed = config;
    timeout_ = config.timeout;
  }
  ~HelperWorkers() { finish(false); }
  HelperWorkers(const HelperWorkers &) = delete;
  HelperWorkers &operator=(const HelperWorkers &) = delete;

  // Waits for the workers (briefly when rank 0 failed: they are killed), and returns what the
  // first one that failed wrote last, "" when all ended well.
  std::string finish(bool ok) {
    if (!group_)
      return {};
    const auto grace = ok ? timeout_ + std::chrono::seconds(10) : std::chrono::milliseconds(2000);
    const std::string problem = group_->wait(grace, std::chrono::steady_clock::now() + grace).problem();
    group_.reset();
    return problem;
  }

private:
  std::unique_ptr<WorkerGroup> group_;
  std::chrono::milliseconds timeout_{0};
};
} // namespace

EngineWorker::EngineWorker() = default;
EngineWorker::~EngineWorker() = default;

QStringList EngineWorker::availableDevices() {
  QStringList out;
  for (const auto &d : particle::availableDevices())
    out << QString::fromStdString(d.id);
  return out;
}

QString EngineWorker::deviceLabel(const QString &device) {
  for (const auto &d : particle::availableDevices())
    if (QString::fromStdString(d.id) == device)
      return QString::fromStdString(d.id + " — " + d.description);
  return device;
}

QString EngineWorker::commandLineProgram() {
  const QString given = qEnvironmentVariable("PARTICLE_CLI");
  if (!given.isEmpty())
    return given;
  const QString beside = QCoreApplication::applicationDirPath() + "/particle";
  if (QFileInfo(beside).isExecutable())
    return beside;
  return QStandardPaths::findExecutable("particle");
}

bool EngineWorker::busy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return busy_;
}

void EngineWorker::waitUntilIdle() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return !busy_; });
}

void EngineWorker::run(const RunRequest &request) {
  handoffAcquire();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    busy_ = true;
  }
  RunFinished result;
  result.outDir = request.outDir;
  try {
    Project project = projectFromText(request.projectText.toStdString(), request.projectPath.toStdString());
    project.path = request.projectPath.toStdString();
    TrainOptions options;
    options.outDir = request.outDir.toStdString();
    options.reportEverySteps = 1;
    options.resumeFrom = request.resumeFrom.toStdString();
    options.epochHooks.push_back(contributionSharesHook());
    const TrainingSpec spec = parseTrainingSpec(project.training);
    std::unique_ptr<HelperWorkers> helpers;
    if (spec.workers > 1)
      helpers = std::make_unique<HelperWorkers>(project, spec, options.outDir, options);
    trainer_ = std::make_unique<Trainer>(project, options);
    step_ = 0;
    StepForwarder forward(this, &step_);
    forwarder_ = &forward;
    const RunSummary s = trainer_->run(&forward, request.control.get());
    forwarder_ = nullptr;
    forward.flush();
    const std::string helperProblem = helpers ? helpers->finish(!s.failed()) : std::string();
    result.status = statusName(s.status);
    result.message = QString::fromStdString(s.message);
    if (!helperProblem.empty())
      result.message += (result.message.isEmpty() ? "" : " — ") + QString::fromStdString(helperProblem);
    result.checkpoint = QString::fromStdString(s.checkpoint);
    result.testAccuracy = s.testAccuracy;
    result.testLoss = s.testLoss;
    result.steps = s.steps;
    result.epochs = s.epochs;
    result.failed = s.failed();
    result.samplesPerSecond = s.samplesPerSecond;
    result.trainSeconds = s.trainSeconds;
    result.achievedGflops = s.achievedGflops;
    result.peakGflops = s.peakGflops;
    result.precision = QString::fromStdString(s.precision);
    result.threads = s.threads;
    result.onCpu = s.device == "cpu";
    result.testConfusion = s.testConfusion;
    for (int64_t c = 0; c < trainer_->data().info.classes; ++c)
      result.classNames << QString::fromStdString(className(trainer_->data().info, c));
  } catch (const std::exception &e) {
    forwarder_ = nullptr;
    result.status = "failed";
    result.message = QString::fromUtf8(e.what());
    result.failed = true;
  }
  trainer_.reset(); // the model and tensors are freed on the thread that made them
  {
    std::lock_guard<std::mutex> lock(mutex_);
    busy_ = false;
  }
  idle_.notify_all();
  handoffRelease();
  Q_EMIT finished(result);
  // The peak the achieved GFLOP/s is a fraction of, measured once (about a second, then cached)
  // when the run found none, and again when the run came within 10% of it or above it (a peak
  // measured on a busy machine; the cache keeps the higher figure): here on the engine thread,
  // after the run, so never on the GUI thread and never beside training (a run started meanwhile
  // waits for this in the thread's queue).
  if (!result.failed && result.onCpu && peakWantsMeasuring(result.achievedGflops, result.peakGflops)) {
    const std::string precision = result.precision.toStdString();
    const double peak = result.peakGflops > 0 ? remeasureMatmulPeak(precision, result.threads).gflops
                                              : matmulPeakGflops(precision, result.threads, true);
    // The run's summary.json keeps the peak its fraction is shown against (it had none, or the
    // stale one): a first bf16 run wrote 0 there while the tab showed its share of the peak.
    if (peak > 0 && !result.outDir.isEmpty()) {
      try {
        writeRunPeak(result.outDir.toStdString(), peak);
      } catch (const std::exception &) { // a folder removed meanwhile: the tab still shows the figure
      }
    }
    handoffRelease();
    Q_EMIT peakMeasured(result.outDir, peak);
  }
}

void EngineWorker::flushSteps() {
  if (forwarder_)
    forwarder_->flush();
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
  handoffRelease();
  Q_EMIT settingsApplied(settings, step_);
}

namespace {
// Queued calls delivered to the GUI thread pass here first (see ThreadHandoff.h).
class HandoffFilter : public QObject {
public:
  using QObject::QObject;
  bool eventFilter(QObject *, QEvent *event) override {
    if (event->type() == QEvent::MetaCall)
      handoffAcquire();
    return false;
  }
};
} // namespace

void installHandoffFilter() {
  static bool installed = false;
  if (installed || !QCoreApplication::instance())
    return;
  installed = true;
  QCoreApplication::instance()->installEventFilter(new HandoffFilter(QCoreApplication::instance()));
}

TrainingController::TrainingController(QObject *parent) : QObject(parent) {
  installHandoffFilter();
  qRegisterMetaType<StepEvent>();
  qRegisterMetaType<EpochEvent>();
  qRegisterMetaType<RunFinished>();
  qRegisterMetaType<LiveSettings>();
  qRegisterMetaType<RunRequest>();
  qRegisterMetaType<std::vector<StepEvent>>();
  control_ = std::make_shared<ControlToken>();
  worker_ = new EngineWorker;
  worker_->moveToThread(&thread_);
  // The worker's last act on its thread; the destructor deletes it after the join (ThreadHandoff.h).
  connect(
      &thread_, &QThread::finished, this, [] { handoffRelease(); }, Qt::DirectConnection);
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
  handoffAcquire();
  delete worker_;
}

bool TrainingController::paused() const {
  return control_->paused();
}

void TrainingController::start(const QString &projectText, const QString &projectPath, const QString &outDir,
                               const QString &resumeFrom) {
  if (running_)
    return;
  control_ = std::make_shared<ControlToken>();
  running_ = true;
  Q_EMIT runningChanged(true);
  handoffRelease();
  Q_EMIT requestRun(RunRequest{projectText, projectPath, outDir, control_, resumeFrom});
}

void TrainingController::pause() {
  control_->pause();
  // The run stops at its next batch, which runs this first: the steps it made since its last batch
  // was sent reach the Train tab now, not after the resume (it says which step the run paused at).
  EngineWorker *worker = worker_;
  control_->post([worker] { worker->flushSteps(); });
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
  // The run may not have started yet (its request is queued) or may have ended already (its
  // `finished` is queued to this thread): wait for the engine thread to be idle and to have taken
  // the request, then deliver what it sent.
  while (running_) {
    worker_->waitUntilIdle();
    QCoreApplication::sendPostedEvents(this);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::MetaCall);
    if (running_)
      QThread::msleep(5);
  }
}

} // namespace particle::ui
