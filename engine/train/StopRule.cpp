#include "train/StopRule.h"

#include "base/Json.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace particle {

namespace {
// A loss this many times a fresh classifier's (ln classes) is a divergence even when it is finite.
constexpr double kExplodedLossFactor = 1e4;
} // namespace

StopRule::StopRule(int patience, int64_t classes, bool checkpointKept)
    : patience_(patience),
      // A fresh classifier's loss is about ln(classes); far above that, training has blown up.
      explodedLoss_(kExplodedLossFactor * std::max(1.0, std::log(static_cast<double>(std::max<int64_t>(2, classes))))),
      checkpointKept_(checkpointKept), bestVal_(std::numeric_limits<double>::infinity()) {}

std::string StopRule::lossAdvice() const {
  return std::string("; lower the learning rate or set grad_clip") +
         (checkpointKept_ ? "; the last good checkpoint is kept" : "");
}

Stop StopRule::stopped(int epoch) const {
  return {RunSummary::Status::Stopped,
          "stopped by request during epoch " + std::to_string(epoch) +
              "; the checkpoint keeps the weights so far, and resuming repeats that epoch",
          false};
}

Stop StopRule::lossNotFinite(double loss, const std::string &where, int64_t step, int epoch, double lr) const {
  return {RunSummary::Status::Diverged,
          "training diverged: the loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") + where +
              " at step " + std::to_string(step) + " (epoch " + std::to_string(epoch) + ", lr " + Json(lr).dump() +
              ")" + lossAdvice(),
          false};
}

std::optional<Stop> StopRule::afterValidation(const EpochEvent &ev, int64_t step, double lr) {
  if (!std::isfinite(ev.valLoss) || ev.trainLoss > explodedLoss_ || ev.valLoss > explodedLoss_)
    return Stop{RunSummary::Status::Diverged,
                "training diverged: the loss exploded to " + Json(std::max(ev.trainLoss, ev.valLoss)).dump() +
                    " by step " + std::to_string(step) + " (epoch " + std::to_string(ev.epoch) + ", lr " +
                    Json(lr).dump() + ")" + lossAdvice(),
                true};
  if (ev.valLoss < bestVal_ - 1e-6) {
    bestVal_ = ev.valLoss;
    sinceBest_ = 0;
  } else if (patience_ > 0 && ++sinceBest_ >= patience_) {
    return Stop{RunSummary::Status::EarlyStopped,
                "early stopping: validation loss did not improve for " + std::to_string(patience_) + " epoch(s)", true};
  }
  return std::nullopt;
}

int StopRule::code(const std::optional<Stop> &stop) {
  if (!stop)
    return 0;
  return stop->status == RunSummary::Status::Diverged ? 1 : 2;
}

std::optional<Stop> StopRule::fromRankZero(int code, int epoch) {
  if (code == 1)
    return Stop{RunSummary::Status::Diverged,
                "training diverged (rank 0's losses exploded in epoch " + std::to_string(epoch) + ")", true};
  if (code == 2)
    return Stop{RunSummary::Status::EarlyStopped, "early stopping (rank 0's validation loss stopped improving)", true};
  return std::nullopt;
}

} // namespace particle
