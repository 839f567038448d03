#pragma once
// The training section's augmentation keys (training.augment_*, in trainingSchema()): what
// train/Augment.h does to each training batch. Torch-free; apart from TrainingSpec so that the
// many files including that one do not depend on it.

#include "base/Json.h"

#include <cstdint>

namespace particle {

struct AugmentSpec {
  // A sample [C, H, W]: H is a spectrogram's frequency rows (an image's rows), W its time frames
  // (an image's columns). 0 is off.
  int64_t timeShift = 0; // circular shift along W by up to ± this many positions
  double freqWarp = 0.0; // stretch along H from row 0 by a factor in [1 − warp, 1 + warp]
  int timeMasks = 0;     // masks (set to 0) of up to timeMaskWidth positions along W
  int64_t timeMaskWidth = 10;
  int freqMasks = 0; // masks of up to freqMaskWidth rows along H
  int64_t freqMaskWidth = 8;

  bool on() const { return timeShift > 0 || freqWarp > 0 || timeMasks > 0 || freqMasks > 0; }
  // The first key that is on ("augment_freq_warp", …), for messages; empty when none is.
  const char *firstKey() const;
};

// The augmentation of a training section that parseTrainingSpec accepts (defaults for keys not
// given); throws like it on a bad value.
AugmentSpec parseAugmentSpec(const Json &section);

} // namespace particle
