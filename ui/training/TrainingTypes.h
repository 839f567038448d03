#pragma once
// Small value types that cross from the engine thread to the GUI thread (registered metatypes).

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include <memory>

namespace particle {
class ControlToken;
}

namespace particle::ui {

struct StepPoint {
  qint64 step = 0, totalSteps = 0;
  int epoch = 0;
  double loss = 0, accuracy = 0, lr = 0, samplesPerSecond = 0, etaSeconds = 0;
};

struct EpochPoint {
  int epoch = 0, epochs = 0;
  qint64 step = 0;
  double trainLoss = 0, trainAccuracy = 0, valLoss = 0, valAccuracy = 0, lr = 0, seconds = 0, samplesPerSecond = 0;
  QStringList shareBranches; // "combine/branch"
  QVector<double> shares;
  QVector<qint64> confusion; // classes × classes, row = true class
  int classes = 0;
  QStringList classNames; // the data set's, or the indices
};

struct RunFinished {
  QString status, message, checkpoint, outDir;
  QStringList classNames;
  double testAccuracy = 0, testLoss = 0;
  qint64 steps = 0;
  int epochs = 0;
  bool failed = false;
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

Q_DECLARE_METATYPE(particle::ui::StepPoint)
Q_DECLARE_METATYPE(particle::ui::EpochPoint)
Q_DECLARE_METATYPE(particle::ui::RunFinished)
Q_DECLARE_METATYPE(particle::ui::LiveSettings)
Q_DECLARE_METATYPE(particle::ui::RunRequest)
