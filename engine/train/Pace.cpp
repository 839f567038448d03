#include "train/Pace.h"

#include <algorithm>

namespace particle {

void RunPace::step(const StepEvent &e) {
  // A step's seconds are training only (validation and pauses left out), since the previous report.
  if (firstStep_ < 0)
    firstStep_ = e.step;
  else if (e.step - firstStep_ >= kWarmupSteps && e.step > lastStep_) {
    paceSteps_ += e.step - lastStep_;
    paceSeconds_ += e.seconds;
  }
  lastStep_ = e.step;
}

void RunPace::epoch(const EpochEvent &e) {
  ++ends_;
  endSeconds_ += e.validationSeconds + e.sharesSeconds;
  epochsEnded_ = e.epoch;
  epochs_ = e.epochs;
}

double RunPace::secondsLeft(const StepEvent &last) const {
  if (stepSeconds() <= 0)
    return last.etaSeconds;
  const double steps = stepSeconds() * static_cast<double>(std::max<int64_t>(0, last.totalSteps - last.step));
  // The epochs whose end is still to come: up to the last (its validation follows its last step).
  const int ends = epochs_ > 0 ? std::max(0, epochs_ - std::max(epochsEnded_, last.epoch)) : 0;
  return steps + epochEndSeconds() * ends;
}

} // namespace particle
