#pragma once
// EngineWorker: lives on the engine thread and alone owns the model, optimiser and tensors.
// Commands arrive as queued signals (start) or through the thread-safe control token (pause,
// resume, stop, live settings); events leave as value structs, steps in batches of ≤ 4 a second.
// TrainingController owns the thread: its destructor stops the run and joins.

#include "training/TrainingTypes.h"

#include <QObject>
#include <QThread>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace particle {
class ControlToken;
class Trainer;
} // namespace particle

namespace particle::ui {

class StepForwarder;

class EngineWorker : public QObject {
  Q_OBJECT

public:
  EngineWorker();
  ~EngineWorker() override;

  // Devices LibTorch can use here: "cpu", then "cuda:0"…
  static QStringList availableDevices();
  // "cuda:0 — NVIDIA H200, 139.8 GiB", "cpu — CPU, 2 cores".
  static QString deviceLabel(const QString &device);
  // The `particle` program that a run with several workers starts them with: PARTICLE_CLI, else
  // the one next to the app, else the one on PATH; empty when none is found.
  static QString commandLineProgram();
  // Minimum interval between step emissions: the Train tab updates its progress and status once
  // per batch and draws its loss curve with every second one, so each batch is one wake-up of the
  // GUI thread (which takes a core from training on a machine whose cores all train). A run's
  // first and last steps, and the last of a paused run, are sent at once.
  static constexpr int kStepIntervalMs = 250;

  // Whether a run is in progress on the engine thread (safe from any thread).
  bool busy() const;
  // Blocks until no run is in progress.
  void waitUntilIdle();

public Q_SLOTS:
  // Trains the project; `outDir` receives checkpoint and metrics. The request carries the control
  // token of this run, so the GUI thread never writes the worker's state.
  void run(const particle::ui::RunRequest &request);

Q_SIGNALS:
  void started(qint64 totalSteps);
  void steps(const std::vector<particle::StepEvent> &points);
  void epoch(const particle::EpochEvent &point);
  void log(const QString &message);
  void finished(const particle::ui::RunFinished &result);
  // The machine's matmul peak for the run in `outDir`, measured after it finished (its summary had
  // none cached, or the run came within 10% of the cached one or above it: the higher kept).
  void peakMeasured(const QString &outDir, double gflops);
  void settingsApplied(const particle::ui::LiveSettings &settings, qint64 atStep);

private:
  friend class TrainingController;
  void applyLive(const LiveSettings &settings); // engine thread only
  void flushSteps();                            // engine thread only: the steps not sent yet, now

  std::unique_ptr<Trainer> trainer_;
  StepForwarder *forwarder_ = nullptr; // the run's, while it runs
  qint64 step_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  bool busy_ = false;
};

class TrainingController : public QObject {
  Q_OBJECT

public:
  explicit TrainingController(QObject *parent = nullptr);
  ~TrainingController() override; // stops a run, then quit() + wait()

  EngineWorker *worker() const { return worker_; }
  bool running() const { return running_; }
  bool paused() const;
  void start(const QString &projectText, const QString &projectPath, const QString &outDir,
             const QString &resumeFrom = QString());
  void pause();
  void resume();
  void stop();
  // Applied at the next batch boundary (immediately while paused).
  void applyLive(const LiveSettings &settings);
  // Stops a run and blocks until it has ended (used when closing); returns at once when idle.
  void stopAndWait();

Q_SIGNALS:
  void requestRun(const particle::ui::RunRequest &request);
  void runningChanged(bool running);

private:
  QThread thread_;
  EngineWorker *worker_;
  std::shared_ptr<ControlToken> control_;
  bool running_ = false;
};

} // namespace particle::ui
