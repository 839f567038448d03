#pragma once
// The project's "training" section: its schema (which the Train tab's form is generated from) and
// the parsed values. Torch-free: parsed and checked when a project loads.

#include "base/Json.h"
#include "graph/Problem.h"
#include "schema/Schema.h"

#include <string>

namespace particle {

struct TrainingSpec {
  std::string optimizer = "adam"; // sgd | adam | adamw
  double lr = 1e-3;
  double momentum = 0.9; // sgd
  bool nesterov = false; // sgd
  double weightDecay = 0.0;
  double labelSmoothing = 0.0; // the training loss's targets: 1 − this on the class, the rest spread evenly
  int64_t batchSize = 128;
  int epochs = 5;
  uint64_t seed = 0;
  std::string device = "auto";       // auto | cpu | cuda | cuda:N
  int threads = 0;                   // 0: all cores
  int workers = 1;                   // data-parallel processes on this machine (train --nproc, the app)
  std::string schedule = "constant"; // constant | step | cosine
  int stepSize = 1;                  // step: epochs between decays
  double gamma = 0.1;                // step: decay factor
  int64_t warmupSteps = 0;
  double gradClip = 0.0;             // max global grad norm (0: off)
  int earlyStoppingPatience = 0;     // epochs without val-loss improvement (0: off)
  int64_t contributionSamples = 256; // validation samples used for the per-epoch branch shares
  // fp32 | bf16 | fp16: the precision of the forward and backward passes (autocast); master weights,
  // checkpoints, explanations and exports stay float32. engine/project/Precision.h says where each
  // one can run.
  std::string precision = "fp32";
};

// Every key of the section, with defaults, ranges and docs.
const Schema &trainingSchema();

// Unknown keys and bad values throw a KeyError (code bad-training) naming "training.<key>".
TrainingSpec parseTrainingSpec(const Json &section);
// The learning rate at optimiser step `step` (0-based) of a run with `stepsPerEpoch` steps.
double scheduledLr(const TrainingSpec &spec, int64_t step, int64_t stepsPerEpoch);

} // namespace particle
