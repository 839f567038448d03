#pragma once
// The training section's augmentation keys (training.augment_*, in trainingSchema()): what
// train/Augment.h does to each training batch. Torch-free; apart from TrainingSpec so that the
// many files including that one do not depend on it.

#include "base/Json.h"

#include <cstdint>
#include <string>
#include <vector>

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
  // Whether the section gives the widths (a width given is checked even while its masks are off).
  bool timeMaskWidthGiven = false, freqMaskWidthGiven = false;

  bool on() const { return timeShift > 0 || freqWarp > 0 || timeMasks > 0 || freqMasks > 0; }
  // The first key that is on ("augment_freq_warp", …), for messages; empty when none is.
  const char *firstKey() const;
  // A mask wider than the axis it masks, on samples [C, H, W] `sample`: "training.augment_freq_mask_width:
  // 100 is wider than the samples' 64 frequency rows (H of [1, 64, 101]); …". Empty when the widths
  // fit, or when `sample` is not [C, H, W]. Checked for a width given or whose masks are on.
  std::string widthProblem(const std::vector<int64_t> &sample) const;
};

// The augmentation of a training section that parseTrainingSpec accepts (defaults for keys not
// given); throws like it on a bad value.
AugmentSpec parseAugmentSpec(const Json &section);

} // namespace particle
