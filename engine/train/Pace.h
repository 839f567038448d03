#pragma once
// The time a training run has left, from its mean pace — one estimate for the Train tab's status
// and `particle train`'s progress line. Torch-free: the app and the CLI feed it the run's events.
//
// The steps left go at the mean seconds per step since the run's first few steps (its warm-up):
// the recent rate followed every hiccup of a busy machine, and an estimate that followed it jumped
// (2 min → 15 min → 6 min). Each epoch still to end adds its validation (and the epoch hooks, such
// as the branch shares), at the mean time measured once one has run: counting steps only, the
// estimate ran short by a validation per epoch.

#include "train/Events.h"

#include <cstdint>

namespace particle {

class RunPace {
public:
  // Steps of a run (from its first reported step, a resumed run's past its checkpoint) before the
  // pace counts: the first steps allocate and pick kernels, several times slower than the rest.
  static constexpr int64_t kWarmupSteps = 5;

  void step(const StepEvent &e);
  void epoch(const EpochEvent &e);
  // Seconds per training step after the warm-up; 0 before.
  double stepSeconds() const { return paceSteps_ > 0 ? paceSeconds_ / static_cast<double>(paceSteps_) : 0; }
  // Seconds an epoch's end takes (its validation and epoch hooks), the mean of those measured; 0 before the
  // first.
  double epochEndSeconds() const { return ends_ > 0 ? endSeconds_ / ends_ : 0; }
  // The time left after `last`: its steps left at the mean pace, plus an epoch end for every epoch
  // not yet ended (the one in progress included). Before the warm-up is over, the engine's own
  // figure from its latest steps (last.etaSeconds).
  double secondsLeft(const StepEvent &last) const;

private:
  int64_t firstStep_ = -1, lastStep_ = -1;
  int64_t paceSteps_ = 0; // steps after the warm-up, and their seconds
  double paceSeconds_ = 0;
  int ends_ = 0; // epoch ends measured, and their seconds
  double endSeconds_ = 0;
  int epochsEnded_ = 0, epochs_ = 0; // the latest epoch event's epoch (1-based) and epochs
};

} // namespace particle
