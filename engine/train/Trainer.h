#pragma once
// The training loop: optimisers, schedules, metrics, checkpoints, pause/resume/stop, observer.
// Runs on whichever thread calls run(); only that thread touches the model and tensors.

#include "data/Dataset.h"
#include "dist/DataParallel.h"
#include "project/Project.h"
#include "model/Model.h"
#include "project/TrainingSpec.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace particle {

struct StepEvent {
  int64_t step = 0; // optimiser steps done
  int64_t totalSteps = 0;
  int epoch = 0; // 0-based epoch in progress
  double loss = 0, accuracy = 0, lr = 0, samplesPerSecond = 0, etaSeconds = 0;
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
  double inferenceUsPerSample = 0; // the test split's evaluation time per sample (batched, eval mode)
  std::string device;
  int threads = 0;
  std::string checkpoint; // path of the kept checkpoint, if any
  bool failed() const { return status == Status::Diverged || status == Status::Failed; }
};
const char *statusName(RunSummary::Status status);

class TrainObserver {
public:
  virtual ~TrainObserver() = default;
  virtual void onStep(const StepEvent &) {}
  virtual void onEpoch(const EpochEvent &) {}
  virtual void onLog(const std::string &) {}
  virtual void onFinished(const RunSummary &) {}
};

// Pause/resume/stop from any thread; the trainer checks it every batch.
class ControlToken {
public:
  void requestStop();
  // Async-signal-safe variant for a SIGINT handler (no lock, no wake-up).
  void requestStopFromSignal() { stop_.store(true); }
  void pause();
  void resume();
  bool stopRequested() const { return stop_.load(); }
  bool paused() const { return pause_.load(); }
  // Runs `fn` on the training thread at the next batch boundary (also while paused).
  void post(std::function<void()> fn);
  // Called by the trainer: runs posted work; blocks while paused (returns early on stop).
  void checkpoint();

private:
  std::atomic<bool> stop_{false}, pause_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> posted_;
};

class Trainer;

// Writes a module's parameters and buffers as a torch.load-readable state dict (name → tensor,
// the names Python's nn.Module would give them), atomically.
void writeStateDict(torch::nn::Module &module, const std::string &path);
// Extra per-epoch work on the training thread, after validation (e.g. the contribution shares,
// explain/Explainer.h); it may fill the event before observers see it.
using EpochHook = std::function<void(Trainer &, EpochEvent &)>;

struct TrainOptions {
  std::string outDir;        // where metrics/checkpoint/weights go; empty: write nothing
  std::optional<int> epochs; // overrides of the project's training section
  std::optional<std::string> device;
  std::optional<uint64_t> seed;
  std::optional<int> threads;
  std::string resumeFrom;    // checkpoint to continue from
  int reportEverySteps = 10; // how often a StepEvent is sent (reading the loss syncs the device)
  std::vector<EpochHook> epochHooks;
  // Data-parallel: this process is one worker of the group (dist/DataParallel.h). Each optimiser
  // step takes worldSize × batch_size samples, batch_size per worker; rank 0 evaluates, writes
  // the checkpoint and the outputs (the other workers have no outDir).
  std::optional<DistConfig> distributed;
};

class Trainer {
public:
  Trainer(Project project, TrainOptions options);
  ~Trainer();

  // Trains to the end, a stop, early stopping or divergence. Never throws: every error (project,
  // data, device, disk, LibTorch) ends the run through one path, as a Failed summary with its
  // message and kind, reported to the observer's onFinished like any other end.
  RunSummary run(TrainObserver *observer = nullptr, ControlToken *control = nullptr);

  // Training-thread only (use ControlToken::post from elsewhere).
  void setLearningRate(double lr); // base lr; the schedule still applies
  void setSchedule(const std::string &schedule);
  void setFrozen(const std::vector<std::string> &nodeIds); // no gradient for these nodes' modules
  double currentLr() const { return currentLr_; }
  const TrainingSpec &spec() const { return spec_; }

  ParticleModel model() const { return model_; }
  const Dataset &data() const { return data_; }
  torch::Device device() const { return device_; }

  // Evaluation on a split: loss, accuracy and (optionally) the confusion matrix.
  struct Evaluation {
    double loss = 0, accuracy = 0;
    std::vector<int64_t> confusion;
  };
  Evaluation evaluate(const torch::Tensor &x, const torch::Tensor &y, bool confusion = false);

  // Loads the weights (and normalisation buffers) of a checkpoint into `model`; refuses a
  // damaged checkpoint or one of another graph. Throws Error(File).
  static void loadWeights(ParticleModel &model, const std::string &path, const Project &project);

private:
  struct EpochTotals; // running loss/accuracy of the epoch in progress
  enum class EpochEnd { Completed, Stopped, Diverged };

  void prepare();
  void applyOverrides();
  void makeOptimizer();
  EpochEnd trainEpoch(int epoch, int64_t stepsPerEpoch, int64_t batch, EpochTotals &totals, TrainObserver &obs,
                      ControlToken *control, RunSummary &summary);
  EpochEvent evaluateEpoch(int epoch, const EpochTotals &totals); // validation and epoch hooks
  void recordEpoch(const EpochEvent &ev, TrainObserver &obs);     // metrics, checkpoint, events
  void finishRun(RunSummary &summary, int epoch);
  void saveCheckpoint(const std::string &path, int epochsDone, int64_t step);
  void loadCheckpoint(const std::string &path);
  void writeWeights(const std::string &path);
  void writeOutputs(const RunSummary &summary);

  Project project_;
  TrainOptions options_;
  TrainingSpec spec_;
  DatasetSpec dataSpec_;
  Dataset data_;
  ParticleModel model_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<DataParallel> parallel_; // set when options_.distributed
  torch::Device device_{torch::kCPU};
  int threads_ = 1;
  int startEpoch_ = 0;
  int64_t step_ = 0;
  // From a resumed checkpoint: the epochs its run was set to and whether it stopped early.
  int resumedTargetEpochs_ = 0;
  bool resumedEarlyStopped_ = false;
  bool earlyStopped_ = false; // the epoch being recorded ends the run by early stopping
  double currentLr_ = 0;
  std::vector<std::string> frozen_;
  std::vector<Json> metrics_; // one row per epoch (kept across resume)
  std::string checkpointPath_;
  int64_t trainSamples_ = 0;
  double trainSeconds_ = 0;
  bool prepared_ = false;
};

} // namespace particle
