#include "train/Trainer.h"

#include "base/Folders.h"
#include "data/SplitCache.h"
#include "train/Augment.h"
#include "train/FusedAdam.h"
#include "train/Peak.h"
#include "train/Runtime.h"
#include "base/JsonFields.h"
#include "project/Checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef PARTICLE_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <sstream>

namespace particle {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {
// Evaluation batch: large enough to keep the cores busy, small enough for a modest GPU.
constexpr int64_t kEvalBatch = 1024;
// The largest confusion matrix computed (classes², on the device); above it, none is kept.
constexpr int64_t kMaxConfusionClasses = 256;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string fixed(double v, int digits) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << v;
  return out.str();
}
} // namespace

// ---- ControlToken ----------------------------------------------------------------------------

void ControlToken::requestStop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stop_ = true;
  cv_.notify_all();
}

void ControlToken::pause() {
  std::lock_guard<std::mutex> lock(mutex_);
  pause_ = true;
}

void ControlToken::resume() {
  std::lock_guard<std::mutex> lock(mutex_);
  pause_ = false;
  cv_.notify_all();
}

void ControlToken::post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  posted_.push_back(std::move(fn));
  cv_.notify_all();
}

void ControlToken::checkpoint() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    while (!posted_.empty()) {
      auto work = std::move(posted_);
      posted_.clear();
      lock.unlock();
      for (auto &fn : work)
        fn();
      lock.lock();
    }
    if (!pause_ || stop_)
      return;
    cv_.wait(lock, [&] { return !pause_ || stop_ || !posted_.empty(); });
  }
}

// ---- memory ------------------------------------------------------------------------------------

namespace {
// The estimate (graph/Validator.h) against a CUDA device's memory, before anything is allocated
// there; the machine's memory is checked by validation.
void checkDeviceMemory(const Validation &v, const torch::Device &device) {
#ifdef PARTICLE_WITH_CUDA
  if (!device.is_cuda())
    return;
  const auto *props = at::cuda::getDeviceProperties(device.index());
  const int64_t needs = v.memory.total(), has = props ? static_cast<int64_t>(props->totalGlobalMem) : 0;
  if (has > 0 && needs > has)
    throw Error(ErrorKind::Training, "training needs about " + memoryText(needs) + " of memory (" +
                                         memoryBreakdown(v.memory) + "), more than the " + memoryText(has) + " of " +
                                         device.str() + ": make the model narrower or lower training.batch_size");
#else
  (void)v;
  (void)device;
#endif
}

// An allocation that failed, in the app's words: where, when, what the run needs and what there is.
std::string outOfMemory(const Validation &v, const torch::Device &device, int64_t step) {
  std::string out = "out of memory on " + device.str() + " at step " + std::to_string(step);
  if (v.memory.total() > 0)
    out += ": training needs about " + memoryText(v.memory.total()) + " (" + memoryBreakdown(v.memory) + ")";
  if (!device.is_cuda())
    out += "; this machine has " + memoryText(machineMemoryBytes()) + ", " + memoryText(availableMemoryBytes()) +
           " of it free now";
  return out + ". Make the model narrower, lower training.batch_size or the data set's limit";
}
} // namespace

// ---- checkpoints -----------------------------------------------------------------------------

namespace {
// Opens a checkpoint, checks its header, that it was trained on this graph, and hands the
// archive to LibTorch; returns its header.
CheckpointFile openCheckpoint(torch::serialize::InputArchive &archive, const std::string &path, const Graph &graph,
                              const torch::Device &device) {
  CheckpointFile file = readCheckpointFile(path);
  if (!checkpointFitsGraph(file.graphHash, graph))
    throw Error(ErrorKind::File, path + ": this checkpoint was trained on a different graph (nodes, params or edges "
                                        "changed since); it does not fit this project");
  try {
    std::istringstream in(file.payload);
    archive.load_from(in, device);
  } catch (const c10::Error &e) {
    throw Error(ErrorKind::File, path + ": damaged checkpoint (" + std::string(e.what_without_backtrace()) + ")");
  }
  file.payload.clear();
  return file;
}

} // namespace

void Trainer::loadWeights(ParticleModel &model, const std::string &path, const Project &project) {
  torch::serialize::InputArchive archive;
  openCheckpoint(archive, path, project.graph, torch::kCPU);
  try {
    torch::serialize::InputArchive modelArchive;
    archive.read("model", modelArchive);
    model->load(modelArchive);
  } catch (const c10::Error &e) {
    throw Error(ErrorKind::File,
                path + ": checkpoint does not match the model (" + std::string(e.what_without_backtrace()) + ")");
  }
}

void Trainer::saveCheckpoint(const std::string &path, int epochsDone, int64_t step) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive modelArchive;
  model_->save(modelArchive);
  archive.write("model", modelArchive);
  torch::serialize::OutputArchive optimizerArchive;
  optimizer_->save(optimizerArchive);
  archive.write("optimizer", optimizerArchive);
  Json meta = {{"format", "particle-studio-checkpoint"},
               {"version", kCheckpointVersion},
               {"graph_hash", graphHash(project_.graph)},
               {"epoch", epochsDone},
               {"step", step},
               {"target_epochs", spec_.epochs},
               {"early_stopped", earlyStopped_},
               {"lr", spec_.lr},
               {"metrics", Json::array()}};
  for (const RunEpoch &e : metrics_)
    meta["metrics"].push_back(runEpochJson(e));
  archive.write("meta", c10::IValue(meta.dump()));
  // Into memory first: LibTorch's file writer cannot report a full disk without aborting.
  std::ostringstream bytes;
  archive.save_to(bytes);
  meta.erase("metrics");
  writeCheckpointFile(path, meta, bytes.str());
}

void Trainer::loadCheckpoint(const std::string &path) {
  torch::serialize::InputArchive archive;
  const CheckpointFile header = openCheckpoint(archive, path, project_.graph, device_);
  Json meta;
  try {
    torch::serialize::InputArchive modelArchive, optimizerArchive;
    archive.read("model", modelArchive);
    model_->load(modelArchive);
    archive.read("optimizer", optimizerArchive);
    optimizer_->load(optimizerArchive);
    c10::IValue metaValue;
    archive.read("meta", metaValue);
    meta = Json::parse(metaValue.toStringRef());
  } catch (const c10::Error &e) {
    throw Error(ErrorKind::File,
                path + ": checkpoint does not match the model (" + std::string(e.what_without_backtrace()) + ")");
  } catch (const Json::exception &) {
    throw Error(ErrorKind::File, path + ": damaged checkpoint (unreadable metadata)");
  }
  startEpoch_ = header.epoch;
  step_ = header.step;
  resumedTargetEpochs_ = header.targetEpochs;
  resumedEarlyStopped_ = header.earlyStopped;
  earlyStopped_ = header.earlyStopped;
  // The metrics rows the checkpoint carries, each field type-checked (they become metrics.csv).
  const JsonFields fields(meta, path, "metadata");
  const Json &rows = fields.array("metrics", true);
  metrics_.clear();
  for (std::size_t i = 0; i < rows.size(); ++i)
    metrics_.push_back(runEpochFromJson(rows[i], path, "metadata.metrics[" + std::to_string(i) + "]"));
  if (static_cast<int>(metrics_.size()) != header.epoch)
    throw Error(ErrorKind::File, path + ": damaged checkpoint: its header says " + std::to_string(header.epoch) +
                                     " epoch(s) done, its metrics hold " + std::to_string(metrics_.size()));
  // The time and samples of the epochs before, so the summary's throughput covers the whole run.
  for (const RunEpoch &e : metrics_) {
    trainSeconds_ += e.seconds;
    trainSamples_ += static_cast<int64_t>(std::llround(e.seconds * e.samplesPerSecond));
  }
}

void writeStateDict(torch::nn::Module &module, const std::string &path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto &item : module.named_parameters())
    dict.insert(item.key(), item.value().detach().cpu());
  for (const auto &item : module.named_buffers())
    dict.insert(item.key(), item.value().detach().cpu());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  writeFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

// ---- Trainer ---------------------------------------------------------------------------------

// The epoch's summed loss and correct count. On a GPU they stay on the device, read on report steps
// only; on the CPU each step has read its loss already and its logits are in memory, so they are
// host arithmetic: the eight tensor operations a step they took were 5% of a small model's step
// (docs/BENCHMARKS.md, the seed model).
struct Trainer::EpochTotals {
  torch::Tensor lossSum, correctSum;
  float hostLossSum = 0; // float, summed in the order the device would: the same train loss
  int64_t hostCorrect = 0;
  int64_t seen = 0;
  Clock::time_point start;
  double seconds = 0;
  double loss() const { return lossSum.item<double>() + hostLossSum; }
  int64_t correct() const { return correctSum.item<int64_t>() + hostCorrect; }
};

namespace {
// logits.argmax(1).eq(labels).sum() for CPU tensors, without a tensor operation: the first of equal
// maxima wins, and nan counts as the largest, as argmax has it.
int64_t correctOnCpu(const torch::Tensor &logits, const torch::Tensor &labels) {
  const torch::Tensor l = logits.contiguous(), y = labels.contiguous();
  const float *row = l.data_ptr<float>();
  const int64_t *label = y.data_ptr<int64_t>();
  const int64_t rows = l.size(0), classes = l.size(1);
  int64_t correct = 0;
  for (int64_t r = 0; r < rows; ++r, row += classes) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes && !std::isnan(row[best]); ++c)
      if (row[c] > row[best] || std::isnan(row[c]))
        best = c;
    correct += best == label[r];
  }
  return correct;
}
} // namespace

Trainer::Trainer(Project project, TrainOptions options) : project_(std::move(project)), options_(std::move(options)) {
  // Parsing errors surface from run(), through its one error path.
  try {
    spec_ = parseTrainingSpec(project_.training);
  } catch (const Error &) {
  }
  applyOverrides();
  currentLr_ = spec_.lr;
  // The nodes the file freezes are the frozen list's start (the Train tab's list is the same).
  for (const auto &n : project_.graph.nodes)
    if (n.freeze)
      frozen_.push_back(n.id);
}

Trainer::~Trainer() = default;

// The command line's (or the caller's) settings win over the file's.
void Trainer::applyOverrides() {
  if (options_.epochs)
    spec_.epochs = *options_.epochs;
  if (options_.device)
    spec_.device = *options_.device;
  if (options_.seed)
    spec_.seed = *options_.seed;
  if (options_.threads)
    spec_.threads = *options_.threads;
  if (options_.precision)
    spec_.precision = *options_.precision;
}

void Trainer::makeOptimizer() {
  // What may train: not an adapted layer's own weights, nor a module's that its type keeps fixed.
  // A frozen node's weights stay in (it may be unfrozen while paused); with no gradient they are
  // skipped by every step, weight decay and momentum included.
  std::vector<torch::Tensor> params;
  for (const auto &p : distinctParameters(*model_))
    if (p.requires_grad())
      params.push_back(p);
  if (spec_.optimizer == "sgd")
    optimizer_ = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(spec_.lr)
                                                                 .momentum(spec_.momentum)
                                                                 .nesterov(spec_.nesterov && spec_.momentum > 0)
                                                                 .weight_decay(spec_.weightDecay));
  // Adam and AdamW are LibTorch's with a fused step of our own (FusedAdam.h): same state and
  // checkpoints, LibTorch's step where ours does not apply.
  else if (spec_.optimizer == "adamw")
    optimizer_ =
        std::make_unique<FusedAdamW>(params, torch::optim::AdamWOptions(spec_.lr).weight_decay(spec_.weightDecay));
  else
    optimizer_ =
        std::make_unique<FusedAdam>(params, torch::optim::AdamOptions(spec_.lr).weight_decay(spec_.weightDecay));
}

void Trainer::prepare() {
  if (prepared_)
    return;
  const double lr = spec_.lr; // a value set before the run (setLearningRate) wins over the file's
  spec_ = parseTrainingSpec(project_.training);
  spec_.lr = lr;
  applyOverrides();
  Json dataset = project_.dataset;
  if (!options_.resumeFrom.empty())
    useRunData(dataset, options_.resumeFrom);
  dataSpec_ = parseDatasetSpec(dataset, project_.baseDir());
  device_ = resolveDevice(spec_.device);
  // Data-parallel workers on one machine share its GPUs by LOCAL_RANK, unless the project names one.
  if (options_.distributed && device_.is_cuda() && spec_.device.find(':') == std::string::npos)
    device_ =
        torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(options_.distributed->localRank %
                                                                  std::max<int64_t>(1, torch::cuda::device_count())));
  // Before anything loads: `particle train` and `particle check` said so already where they could
  // tell the device; "auto" on a CUDA build is only known here.
  if (const std::string why = precisionUnsupportedOn(spec_.precision, device_); !why.empty())
    throw Error(ErrorKind::Training, "training.precision: " + why);
  if (spec_.precision == "fp16")
    scaler_.emplace();
  threads_ = configureThreads(spec_.threads);
  checkDeviceMemory(validation(), device_);
  if (options_.dataCache.empty()) {
    data_ = loadDataset(dataSpec_);
  } else {
    CachedLoad cached = loadDatasetCached(dataSpec_, options_.dataCache);
    data_ = std::move(cached.data);
    dataSource_ = std::move(cached.how);
  }
  {
    std::lock_guard<std::mutex> rng(rngMutex());
    torch::manual_seed(spec_.seed);
    model_ = ParticleModel(project_, &validation());
  }
  model_->fitNormalization(data_.trainX);
  if (options_.resumeFrom.empty())
    model_->loadInitWeights(); // a resumed run's checkpoint holds them, as trained since
  model_->to(device_);
  data_.to(device_);
  makeOptimizer();
  if (!options_.resumeFrom.empty())
    loadCheckpoint(options_.resumeFrom);
  setFrozen(frozen_);
  if (options_.distributed) {
    parallel_ = std::make_unique<DataParallel>(*options_.distributed, device_);
    parallel_->broadcastFromRankZero(*model_); // every worker starts from rank 0's weights
  }
  prepared_ = true;
}

void Trainer::setLearningRate(double lr) {
  spec_.lr = lr;
}

void Trainer::setSchedule(const std::string &schedule) {
  spec_.schedule = schedule;
}

void Trainer::setFrozen(const std::vector<std::string> &nodeIds) {
  frozen_ = nodeIds;
  if (!model_ || !optimizer_)
    return;
  for (auto &group : optimizer_->param_groups())
    for (auto &p : group.params())
      p.set_requires_grad(true);
  for (const auto &id : nodeIds)
    if (auto m = model_->nodeModule(id))
      for (auto &p : m->parameters()) {
        p.set_requires_grad(false);
        // A gradient left from before (zeroed, not gone) would still move it: optimisers skip only
        // parameters without one.
        p.mutable_grad() = torch::Tensor();
      }
  if (model_->is_training())
    trainMode();
}

void Trainer::trainMode() {
  model_->train();
  // A frozen node computes as the particle it is: dropout off, normalisation statistics its own.
  for (const auto &id : frozen_)
    if (auto m = model_->nodeModule(id))
      m->eval();
}

Trainer::Evaluation Trainer::evaluate(const torch::Tensor &x, const torch::Tensor &y, bool confusion) {
  Evaluation ev;
  const int64_t n = x.size(0);
  if (n == 0)
    return ev;
  torch::NoGradGuard noGrad;
  model_->eval();
  auto lossSum = torch::zeros({}, torch::TensorOptions().device(device_));
  auto correct = torch::zeros({}, torch::TensorOptions().device(device_).dtype(torch::kLong));
  const int64_t classes = model_->classes();
  confusion = confusion && classes <= kMaxConfusionClasses; // classes² cells: none beyond a size one can read
  torch::Tensor matrix;
  if (confusion)
    matrix = torch::zeros({classes * classes}, torch::TensorOptions().device(device_).dtype(torch::kLong));
  // Never a larger batch than training uses: a model that trains must also evaluate.
  const int64_t evalBatch = std::max<int64_t>(1, std::min(kEvalBatch, spec_.batchSize));
  for (int64_t start = 0; start < n; start += evalBatch) {
    const int64_t len = std::min(evalBatch, n - start);
    auto xb = x.narrow(0, start, len), yb = y.narrow(0, start, len);
    auto logits = model_->forward(xb).logits;
    lossSum += torch::cross_entropy_loss(logits, yb, {}, at::Reduction::Sum);
    auto pred = logits.argmax(1);
    correct += pred.eq(yb).sum();
    if (confusion)
      matrix.index_add_(0, yb * classes + pred, torch::ones_like(yb));
  }
  trainMode();
  ev.loss = lossSum.item<double>() / static_cast<double>(n);
  ev.accuracy = static_cast<double>(correct.item<int64_t>()) / static_cast<double>(n);
  if (confusion) {
    auto cpu = matrix.cpu();
    ev.confusion.assign(cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + cpu.numel());
  }
  return ev;
}

std::optional<Stop> Trainer::trainSteps(const StopRule &rule, EpochTotals &totals, TrainObserver &obs,
                                        ControlToken *control) {
  const int epoch = epoch_;
  const int64_t n = data_.trainX.size(0), stepsPerEpoch = stepsPerEpoch_, batch = batch_;
  const int64_t totalSteps = stepsPerEpoch * spec_.epochs;
  // Data-parallel: each step takes the next world × batch samples of the one permutation every
  // worker draws alike; this worker computes the gradient of its `batch` of them.
  const int64_t world = parallel_ ? parallel_->worldSize() : 1, rank = parallel_ ? parallel_->rank() : 0;
  const int64_t globalBatch = batch * world;
  std::vector<torch::Tensor> trained;
  if (parallel_)
    for (const auto &p : distinctParameters(*model_))
      if (p.requires_grad())
        trained.push_back(p);
  totals.start = Clock::now();
  // Every epoch draws from its own seed, so a resumed run repeats exactly what an uninterrupted
  // one would have done.
  const uint64_t epochSeed = spec_.seed * 1000003ull + static_cast<uint64_t>(epoch) + 1;
  {
    std::lock_guard<std::mutex> rng(rngMutex());
    torch::manual_seed(epochSeed + static_cast<uint64_t>(rank)); // each worker its own dropout draws
  }
  auto gen = at::detail::createCPUGenerator(epochSeed);
  auto perm = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong)).to(device_);
  // The training batches' augmentation (training.augment_*), drawn from its own generator of the
  // seed and the epoch: a resumed epoch repeats it.
  const AugmentSpec augment = parseAugmentSpec(project_.training);
  auto augmentGen = augmentGenerator(spec_.seed, epoch, rank);
  totals.lossSum = torch::zeros({}, torch::TensorOptions().device(device_));
  totals.correctSum = torch::zeros({}, torch::TensorOptions().device(device_).dtype(torch::kLong));
  int64_t reportSeen = 0;
  auto reportStart = Clock::now();
  auto diverged = [&](double value, const std::string &where) {
    return rule.lossNotFinite(value, where, step_ + 1, epoch + 1, currentLr_);
  };
  for (int64_t b = 0; b < stepsPerEpoch; ++b) {
    bool stop = false;
    if (control) {
      const auto waitStart = Clock::now();
      control->checkpoint();
      reportStart += Clock::now() - waitStart; // time paused is no training time (samples/s)
      stop = control->stopRequested();
      if (stop && !parallel_)
        return rule.stopped(epoch + 1);
    }
    // Dropout draws from the global generator: no other thread may move it mid-step (RngIsolation).
    std::unique_lock<std::mutex> rng(rngMutex());
    const int64_t globalStart = b * globalBatch, globalLen = std::min(globalBatch, n - globalStart);
    const int64_t start = globalStart + rank * batch;
    const int64_t len = std::max<int64_t>(0, std::min(batch, globalStart + globalLen - start));
    currentLr_ = scheduledLr(spec_, step_, stepsPerEpoch);
    for (auto &group : optimizer_->param_groups())
      group.options().set_lr(currentLr_);
    optimizer_->zero_grad();
    const bool report = (b + 1) % std::max(1, options_.reportEverySteps) == 0 || b + 1 == stepsPerEpoch;
    double value = 0;
    torch::Tensor loss, logits, yb;
    if (len > 0) {
      auto idx = perm.narrow(0, start, len);
      auto xb = data_.trainX.index_select(0, idx);
      if (augment.on())
        xb = augmentBatch(xb, augment, augmentGen);
      yb = data_.trainY.index_select(0, idx);
      {
        // The forward pass and the loss in the run's precision; the backward pass follows the
        // types autocast chose, outside it. The loss's softmax is taken in float32.
        const AutocastGuard autocast(spec_.precision, device_);
        auto out = model_->forward(xb);
        logits = out.logits.to(torch::kFloat);
        loss = torch::cross_entropy_loss(logits, yb, {}, at::Reduction::Mean, -100, spec_.labelSmoothing) + out.auxLoss;
      }
      // Reading the loss synchronises with the device: only on report steps, plus a cheap
      // finiteness check folded into that read (every CPU step, where it is free).
      if (report || device_.is_cpu()) {
        value = loss.item<double>();
        if (!std::isfinite(value) && !parallel_)
          return diverged(value, "");
      }
      // Workers weigh their share so that the sum over workers is the gradient of the global batch.
      torch::Tensor objective = parallel_ ? loss * (static_cast<double>(len) / static_cast<double>(globalLen)) : loss;
      (scaler_ ? scaler_->scale(objective) : objective).backward();
    }
    if (parallel_) {
      // One collective per step: the gradients, plus whether any worker saw a bad loss or a stop.
      auto flags = torch::tensor({std::isfinite(value) ? 0.0f : 1.0f, stop ? 1.0f : 0.0f});
      parallel_->sumGradients(trained, flags);
      if (flags[1].item<float>() > 0)
        return rule.stopped(epoch + 1);
      if (flags[0].item<float>() > 0)
        return diverged(std::isfinite(value) ? std::nan("") : value, " on one of the workers");
    }
    // fp16: the gradients back to their size before clipping sees them; a step whose gradients
    // overflowed is skipped (every worker alike: they hold the same summed gradients).
    const bool apply = !scaler_ || scaler_->unscale(optimizer_->param_groups().front().params());
    if (apply && spec_.gradClip > 0)
      torch::nn::utils::clip_grad_norm_(optimizer_->param_groups().front().params(), spec_.gradClip);
    if (apply)
      optimizer_->step();
    rng.unlock();
    ++step_;
    if (len > 0 && device_.is_cpu()) {
      totals.hostLossSum += static_cast<float>(value) * static_cast<float>(len);
      totals.hostCorrect += correctOnCpu(logits, yb);
    } else if (len > 0) {
      totals.lossSum += loss.detach() * len;
      totals.correctSum += logits.detach().argmax(1).eq(yb).sum();
    }
    totals.seen += len;
    reportSeen += globalLen;
    if (report && rank == 0) {
      const auto now = Clock::now();
      StepEvent ev;
      ev.step = step_;
      ev.totalSteps = totalSteps;
      ev.epoch = epoch;
      ev.loss = value;
      ev.accuracy = static_cast<double>(totals.correct()) / static_cast<double>(std::max<int64_t>(1, totals.seen));
      ev.lr = currentLr_;
      const double dt = seconds(reportStart, now);
      ev.samples = reportSeen;
      ev.seconds = dt;
      ev.samplesPerSecond = dt > 0 ? static_cast<double>(reportSeen) / dt : 0;
      ev.etaSeconds =
          ev.samplesPerSecond > 0 ? static_cast<double>((totalSteps - step_) * globalBatch) / ev.samplesPerSecond : 0;
      reportStart = now;
      reportSeen = 0;
      obs.onStep(ev);
    }
  }
  totals.seconds = seconds(totals.start, Clock::now());
  if (parallel_) { // the epoch's loss, accuracy and samples over every worker
    auto sums = torch::tensor({totals.loss(), static_cast<double>(totals.correct()), static_cast<double>(totals.seen)},
                              torch::kDouble);
    parallel_->sum(sums);
    totals.lossSum = sums[0].to(device_, torch::kFloat);
    totals.correctSum = sums[1].to(device_, torch::kLong);
    totals.hostLossSum = 0;
    totals.hostCorrect = 0;
    totals.seen = static_cast<int64_t>(sums[2].item<double>());
  }
  return std::nullopt;
}

EpochEvent Trainer::evaluateEpoch(const EpochTotals &totals) {
  EpochEvent ev;
  ev.epoch = epoch_ + 1;
  ev.epochs = spec_.epochs;
  ev.step = step_;
  const double seen = static_cast<double>(std::max<int64_t>(1, totals.seen));
  ev.trainLoss = totals.loss() / seen;
  ev.trainAccuracy = static_cast<double>(totals.correct()) / seen;
  const auto validationStart = Clock::now();
  const Evaluation val = evaluate(data_.valX, data_.valY, true);
  ev.validationSeconds = seconds(validationStart, Clock::now());
  ev.valLoss = val.loss;
  ev.valAccuracy = val.accuracy;
  ev.confusion = val.confusion;
  ev.classes = model_->classes();
  for (int64_t c = 0; c < ev.classes; ++c)
    ev.classNames.push_back(className(data_.info, c));
  ev.lr = currentLr_;
  ev.seconds = totals.seconds;
  ev.samplesPerSecond = totals.seconds > 0 ? static_cast<double>(totals.seen) / totals.seconds : 0;
  for (const auto &hook : options_.epochHooks) {
    hook(*this, ev);
    trainMode();
  }
  return ev;
}

void Trainer::recordEpoch(const EpochEvent &ev, TrainObserver &obs) {
  metrics_.push_back(toRunEpoch(ev));
  if (!folder_.empty())
    saveCheckpoint(folder_.checkpoint(), ev.epoch, step_);
  obs.onLog("epoch " + std::to_string(ev.epoch) + "/" + std::to_string(ev.epochs) + ": train loss " +
            fixed(ev.trainLoss, 4) + ", val loss " + fixed(ev.valLoss, 4) + ", val accuracy " +
            fixed(100 * ev.valAccuracy, 2) + "%, " + fixed(ev.samplesPerSecond, 0) + " samples/s" +
            (ev.shares.empty() ? std::string() : ", branch shares in " + fixed(ev.sharesSeconds, 2) + " s"));
  obs.onEpoch(ev);
}

void Trainer::finishRun(RunSummary &summary, int epoch) {
  summary.epochs = std::min(epoch, spec_.epochs);
  summary.steps = step_;
  summary.trainSeconds = trainSeconds_;
  summary.samplesPerSecond = trainSeconds_ > 0 ? static_cast<double>(trainSamples_) / trainSeconds_ : 0;
  // A trained sample is a forward pass and a backward pass, and the backward computes two products
  // for each of the forward's (the gradient of the input and of the weight): ≈ 3 × forward FLOPs.
  summary.achievedGflops = 3 * summary.flopsPerSample * summary.samplesPerSecond / 1e9;
  summary.checkpoint = folder_.checkpoint();
  if (summary.failed())
    return;
  if (summary.status == RunSummary::Status::Stopped && !folder_.empty())
    saveCheckpoint(folder_.checkpoint(), epoch, step_);
  if (parallel_ && parallel_->rank() != 0)
    return; // rank 0 tests and writes the outputs
  const Evaluation test = evaluate(data_.testX, data_.testY, true);
  summary.testConfusion = test.confusion;
  // Inference time per sample: the median of kInferencePasses passes over up to 1024 test samples
  // at the run's thread count, after the test pass above warmed the allocations and kernel choices.
  // One pass on a shared machine can be slowed tenfold by a neighbour; the median of five is not.
  // The processor time the passes used is kept beside it: a machine busy throughout all five
  // passes still slows the clock, and wall time far above processor time / threads shows it.
  constexpr int kInferencePasses = 5;
  const int64_t timed = std::min<int64_t>(1024, data_.testX.size(0));
  if (timed > 0 && options_.timeInference) {
    const torch::Tensor x = data_.testX.narrow(0, 0, timed), y = data_.testY.narrow(0, 0, timed);
    std::vector<double> wall, cpu;
    for (int pass = 0; pass < kInferencePasses; ++pass) {
      const auto start = std::chrono::steady_clock::now();
      const std::clock_t cpuStart = std::clock();
      evaluate(x, y);
      cpu.push_back(1e6 * static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC / static_cast<double>(timed));
      wall.push_back(1e6 * std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                     static_cast<double>(timed));
    }
    auto median = [](std::vector<double> &v) {
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
      return v[v.size() / 2];
    };
    summary.inferenceUsPerSample = median(wall);
    summary.inferenceCpuUsPerSample = median(cpu);
    summary.inferencePasses = kInferencePasses;
  }
  summary.testLoss = test.loss;
  summary.testAccuracy = test.accuracy;
  if (!folder_.empty())
    writeStateDict(*model_, folder_.weights());
}

void Trainer::writeOutputs(const RunSummary &summary) {
  if (!prepared_)
    return;
  folder_.writeMetrics(metrics_);
  RunRecord record;
  record.summary = summary;
  record.name = project_.name;
  // The project file it came from; a project never saved trains from its copy in the run folder,
  // which names no project.
  if (!project_.path.empty()) {
    std::error_code ec;
    const fs::path file = fs::absolute(project_.path, ec).lexically_normal();
    if (!ec && !fs::equivalent(file.parent_path(), folder_.dir(), ec))
      record.projectFile = file.string();
  }
  record.workers = parallel_ ? parallel_->worldSize() : 1;
  record.seed = spec_.seed;
  record.graphHash = graphHash(project_.graph);
  record.dataset = data_.description;
  for (int64_t c = 0; c < data_.info.classes; ++c)
    record.classNames.push_back(className(data_.info, c));
  folder_.writeSummary(record);
}

void Trainer::begin(RunSummary &summary, TrainObserver &obs) {
  epoch_ = startEpoch_;
  const RunFolder folder(options_.outDir);
  folder.writeProject(project_, data_);
  folder_ = folder;
  summary.device = device_.str();
  summary.threads = threads_;
  summary.precision = spec_.precision;
  summary.totalParameters = model_->validation().totalParameters;
  summary.uniqueParameters = model_->validation().uniqueParameters;
  summary.flopsPerSample = model_->validation().flopsKnown ? model_->validation().flopsPerSample : 0;
  // From the cache only: a measurement here would take a second of the run's cores (`particle
  // info` or the app measures it while nothing trains). The peak is the CPU's.
  summary.peakGflops = device_.is_cpu() ? matmulPeakGflops(spec_.precision, threads_, false) : 0;
  obs.onLog("dataset " + data_.description);
  if (!dataSource_.empty())
    obs.onLog("data: " + dataSource_);
  // What trains, as `particle check` counts it: frozen nodes and adapted nodes' own weights do not.
  const int64_t trained = model_->validation().trainableParameters;
  obs.onLog("model: " + std::to_string(summary.uniqueParameters) + " parameters, " + std::to_string(trained) +
            " trained (" + std::to_string(summary.totalParameters) + " unshared), device " + summary.device + ", " +
            std::to_string(threads_) + " thread(s)" +
            (spec_.precision == "fp32" ? std::string() : ", precision " + spec_.precision));
  if (spec_.threads > threads_)
    obs.onLog("note: training.threads " + std::to_string(spec_.threads) + " is more than this machine's " +
              std::to_string(threads_) + " cores; using " + std::to_string(threads_));

  const int64_t n = data_.trainX.size(0);
  batch_ = std::min<int64_t>(spec_.batchSize, n);
  const int64_t world = parallel_ ? parallel_->worldSize() : 1;
  stepsPerEpoch_ = (n + batch_ * world - 1) / (batch_ * world);
  if (parallel_)
    obs.onLog("data-parallel: " + std::to_string(world) + " workers (c10d, " + parallel_->backend() + "), " +
              std::to_string(batch_) + " samples per worker and step, " + std::to_string(batch_ * world) + " per step");
  // A checkpoint exists from the start, so a run that diverges in its first epoch still leaves the
  // last good (initial) state.
  if (!folder_.empty() && !fs::exists(folder_.checkpoint()))
    saveCheckpoint(folder_.checkpoint(), startEpoch_, step_);
}

// Resuming a run that had finished (every epoch, or stopped early at the epochs it was set to)
// trains nothing: its results are kept and its summary written again from the checkpoint.
bool Trainer::resumedRunFinished() const {
  return !options_.resumeFrom.empty() &&
         (startEpoch_ >= spec_.epochs || (resumedEarlyStopped_ && resumedTargetEpochs_ == spec_.epochs));
}

void Trainer::keepFinishedRun(RunSummary &summary, TrainObserver &obs) {
  epoch_ = spec_.epochs; // no epoch to train
  summary.status = resumedEarlyStopped_ ? RunSummary::Status::EarlyStopped : RunSummary::Status::Completed;
  summary.message = "nothing to resume: " + options_.resumeFrom +
                    (resumedEarlyStopped_ ? " holds a run that stopped early after epoch " + std::to_string(startEpoch_)
                                          : " holds all " + std::to_string(startEpoch_) + " epoch(s)") +
                    "; its results are kept (set more epochs to train longer)";
  if (!metrics_.empty()) {
    summary.valLoss = metrics_.back().valLoss;
    summary.valAccuracy = metrics_.back().valAccuracy;
  }
  finishRun(summary, startEpoch_);
  summary.epochs = startEpoch_; // every epoch the checkpoint holds, even past this project's count
  obs.onLog(summary.message);
}

void Trainer::trainEpochs(RunSummary &summary, TrainObserver &obs, ControlToken *control) {
  StopRule rule(spec_.earlyStoppingPatience, model_->classes(), !folder_.empty());
  trainMode();
  for (; epoch_ < spec_.epochs; ++epoch_)
    if (const std::optional<Stop> stop = runEpoch(rule, summary, obs, control)) {
      summary.status = stop->status;
      summary.message = stop->message;
      if (stop->epochCounts)
        ++epoch_;
      return;
    }
}

std::optional<Stop> Trainer::runEpoch(StopRule &rule, RunSummary &summary, TrainObserver &obs, ControlToken *control) {
  EpochTotals totals;
  const std::optional<Stop> steps = trainSteps(rule, totals, obs, control);
  if (steps && steps->status == RunSummary::Status::Diverged)
    return steps;
  trainSeconds_ += totals.seconds > 0 ? totals.seconds : seconds(totals.start, Clock::now());
  trainSamples_ += totals.seen;
  if (steps)
    return steps; // stopped by request
  if (parallel_ && parallel_->rank() != 0)
    return shareStop(std::nullopt); // rank 0 validates and decides for every worker
  const EpochEvent ev = evaluateEpoch(totals);
  const std::optional<Stop> stop = rule.afterValidation(ev, step_, currentLr_);
  if (!stop || stop->status != RunSummary::Status::Diverged) { // only an epoch that did not blow up
    // Early stopping is decided before the checkpoint is written, so the checkpoint says so.
    earlyStopped_ = stop.has_value();
    recordEpoch(ev, obs);
    summary.valLoss = ev.valLoss;
    summary.valAccuracy = ev.valAccuracy;
  }
  return shareStop(stop);
}

std::optional<Stop> Trainer::shareStop(std::optional<Stop> stop) {
  if (!parallel_)
    return stop;
  auto code = torch::tensor({static_cast<int64_t>(StopRule::code(stop))}, torch::kLong);
  parallel_->broadcast(code);
  return parallel_->rank() == 0 ? stop : StopRule::fromRankZero(static_cast<int>(code.item<int64_t>()), epoch_ + 1);
}

const Validation &Trainer::validation() {
  if (!options_.validation)
    options_.validation = validate(project_);
  return *options_.validation;
}

void Trainer::fail(RunSummary &summary, std::exception_ptr error) {
  auto failed = [&](ErrorKind kind, const std::string &message) {
    summary.status = RunSummary::Status::Failed;
    summary.errorKind = kind;
    summary.message = message;
  };
  try {
    std::rethrow_exception(error);
  } catch (const Error &e) {
    failed(e.kind() == ErrorKind::Training ? ErrorKind::Training : ErrorKind::File, e.what());
  } catch (const c10::Error &e) {
    const std::string what = e.what_without_backtrace();
    // LibTorch's own text (allocator names, byte counts, a stack of frames) is not the message.
    if (what.find("out of memory") != std::string::npos || what.find("alloc") != std::string::npos)
      failed(ErrorKind::Training, outOfMemory(validation(), device_, step_ + 1));
    else
      failed(ErrorKind::Training, "training failed at step " + std::to_string(step_ + 1) + ": " + what);
  } catch (const std::bad_alloc &) {
    failed(ErrorKind::Training, outOfMemory(validation(), device_, step_ + 1));
  } catch (const std::exception &e) {
    failed(ErrorKind::File, std::string("training failed: ") + e.what());
  }
}

namespace {
// A run keeps the memory its steps free for the next step, on whichever thread it trains.
// configureAllocator's thresholds do that for the main thread's heap, which `particle train`
// trains on; any other thread (the app's engine thread, a test's) allocates from an arena of
// 64 MiB heaps that glibc unmaps as soon as one is empty, whatever the thresholds, unless the heap
// before it has less free room at its end than the top pad. A step that needed a second heap gave
// it back at its end and faulted fresh zeroed pages in at the next: fashion-patches in the app took
// ~27,000 page faults per second of its engine thread, none on the CLI's (docs/BENCHMARKS.md, "The
// app's own processor time"). A top pad of a whole heap keeps such heaps while a run
// lasts; after the last run the pad is glibc's default again (mallopt(3): 128 KiB) and
// malloc_trim hands the free pages back, as the app then waits for its user.
class HeapsKept {
public:
  HeapsKept() {
#ifdef __GLIBC__
    if (runs().fetch_add(1) == 0)
      mallopt(M_TOP_PAD, 64 << 20);
#endif
  }
  ~HeapsKept() {
#ifdef __GLIBC__
    if (runs().fetch_sub(1) == 1) {
      mallopt(M_TOP_PAD, 128 << 10);
      malloc_trim(0);
    }
#endif
  }
  HeapsKept(const HeapsKept &) = delete;
  HeapsKept &operator=(const HeapsKept &) = delete;

private:
  static std::atomic<int> &runs() { // runs in progress in this process
    static std::atomic<int> n{0};
    return n;
  }
};
} // namespace

// The steps of a run, each its own function above; whatever is thrown (project, data, device,
// disk, LibTorch) ends the run through fail(), as Failed with its message and kind, and observers
// hear onFinished like any other end.
RunSummary Trainer::run(TrainObserver *observer, ControlToken *control) {
  const HeapsKept heaps;
  TrainObserver silent;
  TrainObserver &obs = observer ? *observer : silent;
  RunSummary summary;
  std::shared_ptr<FolderClaim> claim; // the run folder is this run's for its whole life
  try {
    if (!options_.outDir.empty())
      claim = claimFolder(options_.outDir, "run");
    prepare();
    begin(summary, obs);
    if (resumedRunFinished()) {
      keepFinishedRun(summary, obs);
    } else {
      trainEpochs(summary, obs, control);
      finishRun(summary, epoch_);
    }
  } catch (...) {
    fail(summary, std::current_exception());
  }
  if (summary.failed() && summary.epochs == 0) {
    summary.epochs = std::min(epoch_, spec_.epochs);
    summary.steps = step_;
    summary.checkpoint = folder_.checkpoint();
  }
  try {
    writeOutputs(summary);
  } catch (const std::exception &e) {
    if (!summary.failed()) {
      summary.status = RunSummary::Status::Failed;
      summary.errorKind = ErrorKind::File;
      summary.message = e.what();
    }
  }
  obs.onFinished(summary);
  return summary;
}

} // namespace particle
