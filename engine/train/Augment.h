#pragma once
// Data augmentation of training batches (training.augment_*): each sample of a batch [B, C, H, W]
// (a spectrogram: H its frequency rows, W its time frames; an image: its rows and columns) is
// warped along H, shifted along W and masked, with draws from a generator of the run's seed and
// the epoch, so that every epoch sees other variants and a run with the same seed the same ones.
// Validation and test data are never augmented.

#include "project/AugmentSpec.h"

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace particle {

// The generator of epoch `epoch` (0-based) of a run with `seed`; `rank` tells data-parallel workers
// apart (each augments its own share of the global batch).
at::Generator augmentGenerator(uint64_t seed, int epoch, int64_t rank = 0);

// `x` [B, C, H, W] augmented as `spec` says (x itself when it is all off), on x's device and dtype; x is left as it is.
// Draws, in this order, per sample: the warp factor, the shift, then for each time mask its width
// and start and for each frequency mask its width and start (the exported train.py draws the same).
// Throws Error(Invalid) naming the training key when x is not [B, C, H, W] or a mask is wider than its axis.
torch::Tensor augmentBatch(const torch::Tensor &x, const AugmentSpec &spec, at::Generator &gen);

} // namespace particle
