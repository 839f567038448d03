#pragma once
// The training loop: optimisers, schedules, metrics, checkpoints, pause/resume/stop, observer.
// Runs on whichever thread calls run(); only that thread touches the model and tensors.

#include "data/Dataset.h"
#include "dist/DataParallel.h"
#include "project/Project.h"
#include "model/Model.h"
#include "project/TrainingSpec.h"
#include "train/Events.h"
#include "train/MixedPrecision.h"
#include "train/RunFolder.h"
#include "train/StopRule.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace particle {

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
  std::optional<std::string> precision; // fp32 | bf16 | fp16
  std::string resumeFrom;               // checkpoint to continue from
  int reportEverySteps = 10;            // how often a StepEvent is sent (reading the loss syncs the device)
  std::vector<EpochHook> epochHooks;
  // Data-parallel: this process is one worker of the group (dist/DataParallel.h). Each optimiser
  // step takes worldSize × batch_size samples, batch_size per worker; rank 0 evaluates, writes
  // the checkpoint and the outputs (the other workers have no outDir).
  std::optional<DistConfig> distributed;
  // The project's validation when the caller has checked it already (`particle train`): the
  // trainer uses it instead of validating again.
  std::optional<Validation> validation;
  // A folder of split data caches (data/SplitCache.h): the data set is read from its file there
  // when one holds it, else loaded and written there for the next process (a search's trials).
  // Empty: loaded.
  std::string dataCache;
  // The inference time per sample (RunSummary::inferenceUsPerSample): off in a search's trial of
  // a variant that an earlier trial has timed, whose model it is (`particle train --no-timing`).
  bool timeInference = true;
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
  // No gradient for these nodes' modules, which stay in evaluation mode; starts as the nodes the
  // project freezes.
  void setFrozen(const std::vector<std::string> &nodeIds);
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

  void prepare();
  void applyOverrides();
  void makeOptimizer();
  void trainMode(); // the model in training mode, its frozen nodes in evaluation mode
  void begin(RunSummary &summary, TrainObserver &obs); // the run folder, the first checkpoint, the log
  bool resumedRunFinished() const;
  void keepFinishedRun(RunSummary &summary, TrainObserver &obs);
  void trainEpochs(RunSummary &summary, TrainObserver &obs, ControlToken *control);
  // One epoch: its steps, validation, the stop rule's verdict (shared with every worker), records.
  std::optional<Stop> runEpoch(StopRule &rule, RunSummary &summary, TrainObserver &obs, ControlToken *control);
  std::optional<Stop> trainSteps(const StopRule &rule, EpochTotals &totals, TrainObserver &obs, ControlToken *control);
  EpochEvent evaluateEpoch(const EpochTotals &totals);        // validation and epoch hooks
  void recordEpoch(const EpochEvent &ev, TrainObserver &obs); // metrics, checkpoint, events
  std::optional<Stop> shareStop(std::optional<Stop> stop);    // rank 0's verdict, for every worker
  void finishRun(RunSummary &summary, int epoch);
  void fail(RunSummary &summary, std::exception_ptr error); // the one error path
  const Validation &validation();                           // the project's, validated once
  void saveCheckpoint(const std::string &path, int epochsDone, int64_t step);
  void loadCheckpoint(const std::string &path);
  void writeOutputs(const RunSummary &summary);

  Project project_;
  TrainOptions options_;
  TrainingSpec spec_;
  DatasetSpec dataSpec_;
  std::string dataSource_; // with a data cache: whether it was read or written, for the log
  Dataset data_;
  ParticleModel model_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<DataParallel> parallel_; // set when options_.distributed
  std::optional<LossScaler> scaler_;       // fp16 only
  torch::Device device_{torch::kCPU};
  int threads_ = 1;
  int startEpoch_ = 0;
  int epoch_ = 0; // the epoch in progress (0-based): the epochs done
  int64_t step_ = 0;
  int64_t batch_ = 0, stepsPerEpoch_ = 0; // per worker; every worker's batches make a step
  // From a resumed checkpoint: the epochs its run was set to and whether it stopped early.
  int resumedTargetEpochs_ = 0;
  bool resumedEarlyStopped_ = false;
  bool earlyStopped_ = false; // the epoch being recorded ends the run by early stopping
  double currentLr_ = 0;
  std::vector<std::string> frozen_;
  std::vector<RunEpoch> metrics_; // one row per epoch (kept across resume)
  RunFolder folder_;              // set once prepared: none before, nor without an output folder
  int64_t trainSamples_ = 0;
  double trainSeconds_ = 0;
  bool prepared_ = false;
};

} // namespace particle
