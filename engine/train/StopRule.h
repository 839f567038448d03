#pragma once
// Whether a run ends with the epoch in progress, and how: a stop asked for, a loss that is not
// finite during the steps or that exploded by validation, early stopping, or — on the other
// workers of a data-parallel run — rank 0's decision. The trainer asks it once per epoch; every
// early end of a run is a Stop made here, with its status and its message. Torch-free.

#include "train/Events.h"

#include <cstdint>
#include <optional>
#include <string>

namespace particle {

struct Stop {
  RunSummary::Status status = RunSummary::Status::Stopped;
  std::string message;
  bool epochCounts = false; // the epoch was trained to its end (rank 0 validated it)
};

class StopRule {
public:
  // `patience`: training.early_stopping_patience (0: never); `classes` sets what an exploded loss
  // is; `checkpointKept`: the run writes a checkpoint (its messages say the last good one is kept).
  StopRule(int patience, int64_t classes, bool checkpointKept);

  // A stop asked for during `epoch` (1-based): the epoch does not count; resuming repeats it.
  Stop stopped(int epoch) const;
  // A loss that is not finite at `step` (1-based) of `epoch`; `where` names the worker, if any.
  Stop lossNotFinite(double loss, const std::string &where, int64_t step, int epoch, double lr) const;
  // After the epoch's validation (rank 0, or a run alone): a divergence, else early stopping when
  // the validation loss did not improve for `patience` epochs. Asked once per epoch, in order.
  std::optional<Stop> afterValidation(const EpochEvent &epoch, int64_t step, double lr);

  // Data-parallel: rank 0's verdict as the number every worker receives (0 go on, 1 diverged,
  // 2 early stop), and what the other workers make of it after `epoch` (1-based).
  static int code(const std::optional<Stop> &stop);
  static std::optional<Stop> fromRankZero(int code, int epoch);

private:
  std::string lossAdvice() const;

  int patience_;
  double explodedLoss_;
  bool checkpointKept_;
  double bestVal_;
  int sinceBest_ = 0;
};

} // namespace particle
