#pragma once
// Small value types that cross from the engine thread to the GUI thread (registered metatypes).
// The engine's own step and epoch events (train/Events.h) cross as they are.

#include "train/Events.h"

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include <memory>
#include <vector>

namespace particle {
class ControlToken;
}

namespace particle::ui {

struct RunFinished {
  QString status, message, checkpoint, outDir;
  QStringList classNames;
  double testAccuracy = 0, testLoss = 0;
  qint64 steps = 0;
  int epochs = 0;
  bool failed = false;
  // Training's speed, time and work (summary.json's samples_per_second, train_seconds,
  // achieved_gflops) and the cached matmul peak for the run's precision and threads (0: not
  // measured yet, or not a CPU run).
  double samplesPerSecond = 0, trainSeconds = 0, achievedGflops = 0, peakGflops = 0;
  QString precision;
  int threads = 0;
  bool onCpu = false;
  // The test split's confusion matrix (true × predicted counts, row-major; empty when none).
  std::vector<int64_t> testConfusion;
};

// What the Train tab asks the engine thread to run.
struct RunRequest {
  QString projectText, projectPath, outDir;
  std::shared_ptr<particle::ControlToken> control; // this run's pause/stop token
  QString resumeFrom;                              // a checkpoint to continue from (empty: initial weights)
};

// What can change while a run is paused.
struct LiveSettings {
  double lr = 0;
  QString schedule;
  QStringList frozen; // node ids whose modules get no gradient
};

} // namespace particle::ui

Q_DECLARE_METATYPE(particle::StepEvent)
Q_DECLARE_METATYPE(particle::EpochEvent)
Q_DECLARE_METATYPE(std::vector<particle::StepEvent>)
Q_DECLARE_METATYPE(particle::ui::RunFinished)
Q_DECLARE_METATYPE(particle::ui::LiveSettings)
Q_DECLARE_METATYPE(particle::ui::RunRequest)
