#pragma once
// The write-up's claims, measured for one trained model (`particle robustness`, the Experiments
// tab's claims lab): accuracy on the test split under Gaussian input noise at several σ (in units
// of the training data's standard deviation; not for token ids), and with each input part
// occluded in turn (set to the training mean; padding for tokens); unique vs total parameters; the
// generalisation gap (train − validation accuracy) per epoch from the run's metrics.csv.
// The parts are the project's own Split's, or those of another project's Split (`partsFrom`), so
// that a monolithic baseline is occluded over the same regions as the model it is compared with.

#include "project/Project.h"

#include <optional>
#include <string>
#include <vector>

namespace particle {

struct RobustnessOptions {
  std::vector<double> sigmas = {0.0, 0.1, 0.25, 0.5, 1.0};
  int64_t samples = 0; // test samples (0: all)
  uint64_t seed = 0;   // of the noise
  std::optional<Project> partsFrom;
};

struct RobustnessReport {
  std::string project, checkpoint, partsSource; // partsSource: the Split the parts come from
  int64_t samples = 0;
  double cleanAccuracy = 0;
  bool noiseApplies = true;                              // false for token ids
  std::vector<std::pair<double, double>> noise;          // σ → accuracy
  std::vector<std::pair<std::string, double>> occlusion; // part → accuracy with it occluded
  int64_t uniqueParameters = 0, totalParameters = 0;
  struct Epoch {
    int epoch = 0;
    double train = 0, val = 0;
  };
  std::vector<Epoch> epochs; // from metrics.csv next to the checkpoint (empty when there is none)
  std::string notes;
};

// Throws Error (File for an unreadable or foreign checkpoint, Invalid for parts that do not fit).
RobustnessReport measureRobustness(const Project &project, const std::string &checkpoint,
                                   const RobustnessOptions &options);
// robustness.json's body, and the CSV rows ("kind,key,accuracy" plus the gap rows).
Json robustnessJson(const RobustnessReport &r);
std::string robustnessCsv(const RobustnessReport &r);

} // namespace particle
