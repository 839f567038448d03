#pragma once
// EngineWorker: lives on the engine thread and alone owns the model, optimiser and tensors.
// Commands arrive as queued signals (start) or through the thread-safe control token (pause,
// resume, stop, live settings); events leave as value structs, steps throttled to ≤ 30/s.
// TrainingController owns the thread: its destructor stops the run and joins.

#include "training/TrainingTypes.h"

#include <QObject>
#include <QThread>

#include <memory>

namespace particle {
class ControlToken;
class Trainer;
} // namespace particle

namespace particle::ui {

class EngineWorker : public QObject {
  Q_OBJECT

public:
  explicit EngineWorker(std::shared_ptr<ControlToken> control);
  ~EngineWorker() override;

  // Devices LibTorch can use here: "cpu", then "cuda:0"…
  static QStringList availableDevices();
  // Minimum interval between step emissions.
  static constexpr int kStepIntervalMs = 33;

public Q_SLOTS:
  // `settings` overrides training keys (JSON object text); `outDir` receives checkpoint & metrics.
  void run(const QString &projectText, const QString &projectPath, const QString &settings, const QString &outDir);

Q_SIGNALS:
  void started(qint64 totalSteps);
  void steps(const QVector<particle::ui::StepPoint> &points);
  void epoch(const particle::ui::EpochPoint &point);
  void log(const QString &message);
  void finished(const particle::ui::RunFinished &result);
  void settingsApplied(const particle::ui::LiveSettings &settings, qint64 atStep);

private:
  friend class TrainingController;
  void applyLive(const LiveSettings &settings); // engine thread only

  std::shared_ptr<ControlToken> control_;
  std::unique_ptr<Trainer> trainer_;
  qint64 step_ = 0;
};

class TrainingController : public QObject {
  Q_OBJECT

public:
  explicit TrainingController(QObject *parent = nullptr);
  ~TrainingController() override; // stops a run, then quit() + wait()

  EngineWorker *worker() const { return worker_; }
  bool running() const { return running_; }
  bool paused() const;
  void start(const QString &projectText, const QString &projectPath, const QString &settings, const QString &outDir);
  void pause();
  void resume();
  void stop();
  // Applied at the next batch boundary (immediately while paused).
  void applyLive(const LiveSettings &settings);
  // Blocks until the current run has ended (used when closing).
  void stopAndWait();

Q_SIGNALS:
  void requestRun(const QString &projectText, const QString &projectPath, const QString &settings,
                  const QString &outDir);
  void runningChanged(bool running);

private:
  QThread thread_;
  EngineWorker *worker_;
  std::shared_ptr<ControlToken> control_;
  bool running_ = false;
};

} // namespace particle::ui
