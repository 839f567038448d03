#pragma once
// The contribution shares a training run reports per epoch (EpochEvent::shares, the Train tab's
// share chart): Shapley values over a few validation samples, taken by the Trainer as an epoch
// hook, so that training needs no explanation code of its own.

#include "model/Model.h"
#include "train/Trainer.h"

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace particle {

// Per-branch contribution shares on a sample subset: exact Shapley with the subset's own mean as
// baseline, for every Combine.
std::vector<std::pair<std::string, std::pair<std::string, double>>> contributionShares(ParticleModel &model,
                                                                                       const torch::Tensor &x);

// The trainer's per-epoch hook that fills EpochEvent::shares from the first
// `contribution_samples` validation samples (training.contribution_samples; 0 turns it off). It
// keeps to a quarter of an epoch's time (fewer samples when it took longer; none below 8) and
// skips graphs of more than 64 branches in all.
EpochHook contributionSharesHook();

} // namespace particle
