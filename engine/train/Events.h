#pragma once
// What a training run reports as it goes: a step, an epoch, a log line, its end. Torch-free
// value types, so that the app's Train tab takes them across threads as they are (registered as
// Qt metatypes in ui/) and the run folder's writer and reader need no LibTorch.

#include "base/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace particle {

struct StepEvent {
  int64_t step = 0; // optimiser steps done
  int64_t totalSteps = 0;
  int epoch = 0; // 0-based epoch in progress
  double loss = 0, accuracy = 0, lr = 0, samplesPerSecond = 0, etaSeconds = 0;
  // Since the previous step event: samples trained and seconds taken (samplesPerSecond is their
  // ratio). A tiny batch takes well under a millisecond, so one interval's rate is noise: a reader
  // that averages sums these.
  int64_t samples = 0;
  double seconds = 0;
};

struct BranchShare {
  std::string combine, branch;
  double share = 0;
};

struct EpochEvent {
  int epoch = 0; // 1-based: epochs completed
  int epochs = 0;
  int64_t step = 0;
  double trainLoss = 0, trainAccuracy = 0, valLoss = 0, valAccuracy = 0, lr = 0, seconds = 0, samplesPerSecond = 0;
  std::vector<BranchShare> shares; // empty when no epoch hook computed them
  double sharesSeconds = 0;        // what computing them cost
  double validationSeconds = 0;    // what evaluating the validation split took (a time left counts it)
  // classes × classes on the validation set, row = true class; empty above 256 classes
  std::vector<int64_t> confusion;
  int64_t classes = 0;
  std::vector<std::string> classNames; // the data set's names, or the indices as text
};

struct RunSummary {
  enum class Status { Completed, Stopped, EarlyStopped, Diverged, Failed } status = Status::Completed;
  std::string message;
  // For a failed run: File when data or disk failed (exit 3), else Training (exit 4).
  ErrorKind errorKind = ErrorKind::Training;
  int epochs = 0;
  int64_t steps = 0;
  double testAccuracy = 0, testLoss = 0, valAccuracy = 0, valLoss = 0, samplesPerSecond = 0, trainSeconds = 0;
  int64_t totalParameters = 0, uniqueParameters = 0;
  double inferenceUsPerSample = 0;    // median of the timed test passes, per sample (batched, eval mode)
  int inferencePasses = 0;            // how many passes that median is of (0: not measured)
  double inferenceCpuUsPerSample = 0; // the processor time of those passes (all threads), median
  double flopsPerSample = 0;          // forward FLOPs of one sample, 0 when unknown (Validation::flopsPerSample)
  // Training's GFLOP/s (3 × flopsPerSample × samplesPerSecond: a trained sample is a forward and a
  // backward pass) and the machine's cached matmul peak at this precision and threads; 0: unknown.
  double achievedGflops = 0, peakGflops = 0;
  std::string precision = "fp32"; // training.precision the run trained in (fp32, bf16, fp16)
  std::string device;
  int threads = 0;
  std::string checkpoint; // path of the kept checkpoint, if any
  // The test split's confusion matrix, true class × predicted class, row-major (classes² counts;
  // empty when the run did not test or has more classes than a matrix shows).
  std::vector<int64_t> testConfusion;
  bool failed() const { return status == Status::Diverged || status == Status::Failed; }
};

// "completed", "stopped", "early-stopped", "diverged", "failed": the words summary.json uses.
inline const char *statusName(RunSummary::Status status) {
  switch (status) {
  case RunSummary::Status::Completed: return "completed";
  case RunSummary::Status::Stopped: return "stopped";
  case RunSummary::Status::EarlyStopped: return "early-stopped";
  case RunSummary::Status::Diverged: return "diverged";
  case RunSummary::Status::Failed: return "failed";
  }
  return "?";
}

class TrainObserver {
public:
  virtual ~TrainObserver() = default;
  virtual void onStep(const StepEvent &) {}
  virtual void onEpoch(const EpochEvent &) {}
  virtual void onLog(const std::string &) {}
  virtual void onFinished(const RunSummary &) {}
};

} // namespace particle
