#include "train/Trainer.h"

#include "Runtime.h"
#include "explain/Explainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace particle {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {
// Evaluation batch: large enough to keep the cores busy, small enough for a modest GPU.
constexpr int64_t kEvalBatch = 1024;

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

const char *statusName(RunSummary::Status status) {
  switch (status) {
  case RunSummary::Status::Completed: return "completed";
  case RunSummary::Status::Stopped: return "stopped";
  case RunSummary::Status::EarlyStopped: return "early-stopped";
  case RunSummary::Status::Diverged: return "diverged";
  case RunSummary::Status::Failed: return "failed";
  }
  return "?";
}

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

// ---- Trainer ---------------------------------------------------------------------------------

namespace {
// Opens a checkpoint and checks that it was trained on this graph; returns its metadata.
Json openCheckpoint(torch::serialize::InputArchive &archive, const std::string &path, const Graph &graph,
                    const torch::Device &device) {
  if (!fs::exists(path))
    throw Error(ErrorKind::File, path + ": checkpoint not found");
  Json meta;
  try {
    archive.load_from(path, device);
    c10::IValue metaValue;
    archive.read("meta", metaValue);
    meta = Json::parse(metaValue.toStringRef());
  } catch (const c10::Error &e) {
    throw Error(ErrorKind::File,
                path + ": not a Particle Studio checkpoint (" + std::string(e.what_without_backtrace()) + ")");
  }
  if (meta.value("graph_hash", "") != graphHash(graph))
    throw Error(ErrorKind::File, path + ": this checkpoint was trained on a different graph (nodes, params or edges "
                                        "changed since); it does not fit this project");
  return meta;
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

Trainer::Trainer(Project project, TrainOptions options) : project_(std::move(project)), options_(std::move(options)) {
  spec_ = parseTrainingSpec(project_.training);
  if (options_.epochs)
    spec_.epochs = *options_.epochs;
  if (options_.device)
    spec_.device = *options_.device;
  if (options_.seed)
    spec_.seed = *options_.seed;
  if (options_.threads)
    spec_.threads = *options_.threads;
  dataSpec_ = parseDatasetSpec(project_.dataset, project_.baseDir());
  currentLr_ = spec_.lr;
}

Trainer::~Trainer() = default;

void Trainer::prepare() {
  if (prepared_)
    return;
  device_ = resolveDevice(spec_.device);
  threads_ = configureThreads(spec_.threads);
  data_ = loadDataset(dataSpec_);
  torch::manual_seed(spec_.seed);
  model_ = ParticleModel(project_);
  model_->fitNormalization(data_.trainX);
  model_->to(device_);
  data_.to(device_);
  auto params = distinctParameters(*model_);
  if (spec_.optimizer == "sgd")
    optimizer_ = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(spec_.lr)
                                                                 .momentum(spec_.momentum)
                                                                 .nesterov(spec_.nesterov && spec_.momentum > 0)
                                                                 .weight_decay(spec_.weightDecay));
  else if (spec_.optimizer == "adamw")
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(spec_.lr).weight_decay(spec_.weightDecay));
  else
    optimizer_ = std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(spec_.lr).weight_decay(spec_.weightDecay));
  if (!options_.resumeFrom.empty())
    loadCheckpoint(options_.resumeFrom);
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
  if (!model_)
    return;
  for (auto &p : model_->parameters())
    p.set_requires_grad(true);
  for (const auto &id : nodeIds)
    if (auto m = model_->nodeModule(id))
      for (auto &p : m->parameters())
        p.set_requires_grad(false);
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
  auto matrix = torch::zeros({classes * classes}, torch::TensorOptions().device(device_).dtype(torch::kLong));
  for (int64_t start = 0; start < n; start += kEvalBatch) {
    const int64_t len = std::min(kEvalBatch, n - start);
    auto xb = x.narrow(0, start, len), yb = y.narrow(0, start, len);
    auto logits = model_->forward(xb).logits;
    lossSum += torch::cross_entropy_loss(logits, yb, {}, at::Reduction::Sum);
    auto pred = logits.argmax(1);
    correct += pred.eq(yb).sum();
    if (confusion)
      matrix.index_add_(0, yb * classes + pred, torch::ones_like(yb));
  }
  model_->train();
  ev.loss = lossSum.item<double>() / static_cast<double>(n);
  ev.accuracy = static_cast<double>(correct.item<int64_t>()) / static_cast<double>(n);
  if (confusion) {
    auto cpu = matrix.cpu();
    ev.confusion.assign(cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + cpu.numel());
  }
  return ev;
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
               {"version", 1},
               {"graph_hash", graphHash(project_.graph)},
               {"epoch", epochsDone},
               {"step", step},
               {"lr", spec_.lr},
               {"metrics", metrics_}};
  archive.write("meta", c10::IValue(meta.dump()));
  const std::string temp = path + ".tmp";
  archive.save_to(temp);
  fs::rename(temp, path);
}

void Trainer::loadCheckpoint(const std::string &path) {
  torch::serialize::InputArchive archive;
  const Json meta = openCheckpoint(archive, path, project_.graph, device_);
  try {
    torch::serialize::InputArchive modelArchive, optimizerArchive;
    archive.read("model", modelArchive);
    model_->load(modelArchive);
    archive.read("optimizer", optimizerArchive);
    optimizer_->load(optimizerArchive);
  } catch (const c10::Error &e) {
    throw Error(ErrorKind::File,
                path + ": checkpoint does not match the model (" + std::string(e.what_without_backtrace()) + ")");
  }
  startEpoch_ = meta.value("epoch", 0);
  step_ = meta.value("step", int64_t{0});
  metrics_.clear();
  for (const auto &row : meta.value("metrics", Json::array()))
    metrics_.push_back(row);
}

void Trainer::writeWeights(const std::string &path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto &item : model_->named_parameters())
    dict.insert(item.key(), item.value().detach().cpu());
  for (const auto &item : model_->named_buffers())
    dict.insert(item.key(), item.value().detach().cpu());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  writeFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

void Trainer::writeOutputs(const RunSummary &summary) {
  if (options_.outDir.empty())
    return;
  std::string csv = "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second\n";
  for (const auto &row : metrics_) {
    csv += std::to_string(row.value("epoch", 0)) + "," + std::to_string(row.value("step", int64_t{0}));
    for (const char *k :
         {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_second"})
      csv += "," + Json(row.value(k, 0.0)).dump();
    csv += "\n";
  }
  writeFileAtomically(options_.outDir + "/metrics.csv", csv);
  Json s = {{"name", project_.name},
            {"status", statusName(summary.status)},
            {"message", summary.message},
            {"test_accuracy", summary.testAccuracy},
            {"test_loss", summary.testLoss},
            {"val_accuracy", summary.valAccuracy},
            {"val_loss", summary.valLoss},
            {"epochs", summary.epochs},
            {"steps", summary.steps},
            {"samples_per_second", summary.samplesPerSecond},
            {"train_seconds", summary.trainSeconds},
            {"parameters", {{"total", summary.totalParameters}, {"unique", summary.uniqueParameters}}},
            {"device", summary.device},
            {"threads", summary.threads},
            {"seed", spec_.seed},
            {"graph_hash", graphHash(project_.graph)},
            {"dataset", data_.description}};
  writeFileAtomically(options_.outDir + "/summary.json", s.dump(2) + "\n");
}

RunSummary Trainer::run(TrainObserver *observer, ControlToken *control) {
  TrainObserver silent;
  TrainObserver &obs = observer ? *observer : silent;
  prepare();
  if (!frozen_.empty())
    setFrozen(frozen_);
  if (!options_.outDir.empty())
    fs::create_directories(options_.outDir);
  const std::string checkpointPath = options_.outDir.empty() ? "" : options_.outDir + "/checkpoint.pt";

  RunSummary summary;
  summary.device = device_.str();
  summary.threads = threads_;
  summary.totalParameters = model_->validation().totalParameters;
  summary.uniqueParameters = model_->validation().uniqueParameters;
  obs.onLog("dataset " + data_.description);
  obs.onLog("model: " + std::to_string(summary.uniqueParameters) + " trained parameters (" +
            std::to_string(summary.totalParameters) + " unshared), device " + summary.device + ", " +
            std::to_string(threads_) + " thread(s)");

  const int64_t n = data_.trainX.size(0);
  const int64_t batch = std::min<int64_t>(spec_.batchSize, n);
  const int64_t stepsPerEpoch = (n + batch - 1) / batch;
  const int64_t totalSteps = stepsPerEpoch * spec_.epochs;
  // A checkpoint exists from the start, so a run that diverges in its first epoch still
  // leaves the last good (initial) state.
  if (!checkpointPath.empty() && !fs::exists(checkpointPath))
    saveCheckpoint(checkpointPath, startEpoch_, step_);

  double bestVal = std::numeric_limits<double>::infinity();
  int sinceBest = 0;
  int64_t samplesTrained = 0;
  double trainSeconds = 0;
  int epoch = startEpoch_;
  model_->train();
  try {
    for (; epoch < spec_.epochs; ++epoch) {
      const auto epochStart = Clock::now();
      // Every epoch draws from its own seed, so a resumed run repeats exactly what an
      // uninterrupted one would have done.
      const uint64_t epochSeed = spec_.seed * 1000003ull + static_cast<uint64_t>(epoch) + 1;
      torch::manual_seed(epochSeed);
      auto gen = at::detail::createCPUGenerator(epochSeed);
      auto perm = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong)).to(device_);
      auto lossSum = torch::zeros({}, torch::TensorOptions().device(device_));
      auto correctSum = torch::zeros({}, torch::TensorOptions().device(device_).dtype(torch::kLong));
      int64_t seen = 0, reportSeen = 0;
      auto reportStart = Clock::now();
      bool stopped = false;
      for (int64_t b = 0; b < stepsPerEpoch; ++b) {
        if (control) {
          control->checkpoint();
          if (control->stopRequested()) {
            stopped = true;
            break;
          }
        }
        const int64_t start = b * batch, len = std::min(batch, n - start);
        auto idx = perm.narrow(0, start, len);
        auto xb = data_.trainX.index_select(0, idx);
        auto yb = data_.trainY.index_select(0, idx);
        currentLr_ = scheduledLr(spec_, step_, stepsPerEpoch);
        for (auto &group : optimizer_->param_groups())
          group.options().set_lr(currentLr_);
        optimizer_->zero_grad();
        auto out = model_->forward(xb);
        auto loss = torch::cross_entropy_loss(out.logits, yb) + out.auxLoss;
        const bool report = (b + 1) % std::max(1, options_.reportEverySteps) == 0 || b + 1 == stepsPerEpoch;
        // Reading the loss synchronises with the device: only on report steps, plus a cheap
        // finiteness check folded into that read.
        double value = 0; // read on report steps (and every CPU step, where it is free)
        if (report || device_.is_cpu()) {
          value = loss.item<double>();
          if (!std::isfinite(value)) {
            summary.status = RunSummary::Status::Diverged;
            summary.message = "training diverged: the loss became " +
                              std::string(std::isnan(value) ? "NaN" : "infinite") + " at step " +
                              std::to_string(step_ + 1) + " (epoch " + std::to_string(epoch + 1) + ", lr " +
                              Json(currentLr_).dump() + "); lower the learning rate or set grad_clip" +
                              (checkpointPath.empty() ? "" : "; the last good checkpoint is kept");
            break;
          }
        }
        loss.backward();
        if (spec_.gradClip > 0)
          torch::nn::utils::clip_grad_norm_(optimizer_->param_groups().front().params(), spec_.gradClip);
        optimizer_->step();
        ++step_;
        lossSum += loss.detach() * len;
        correctSum += out.logits.detach().argmax(1).eq(yb).sum();
        seen += len;
        reportSeen += len;
        if (report) {
          const auto now = Clock::now();
          StepEvent ev;
          ev.step = step_;
          ev.totalSteps = totalSteps;
          ev.epoch = epoch;
          ev.loss = value;
          ev.accuracy = static_cast<double>(correctSum.item<int64_t>()) / static_cast<double>(seen);
          ev.lr = currentLr_;
          const double dt = seconds(reportStart, now);
          ev.samplesPerSecond = dt > 0 ? static_cast<double>(reportSeen) / dt : 0;
          ev.etaSeconds =
              ev.samplesPerSecond > 0 ? static_cast<double>((totalSteps - step_) * batch) / ev.samplesPerSecond : 0;
          reportStart = now;
          reportSeen = 0;
          obs.onStep(ev);
        }
      }
      if (summary.status == RunSummary::Status::Diverged)
        break;
      const double epochSeconds = seconds(epochStart, Clock::now());
      trainSeconds += epochSeconds;
      samplesTrained += seen;
      if (stopped) {
        summary.status = RunSummary::Status::Stopped;
        summary.message = "stopped by request during epoch " + std::to_string(epoch + 1) +
                          "; the checkpoint keeps the weights so far, and resuming repeats that epoch";
        break;
      }
      EpochEvent ev;
      ev.epoch = epoch + 1;
      ev.epochs = spec_.epochs;
      ev.step = step_;
      ev.trainLoss = lossSum.item<double>() / static_cast<double>(std::max<int64_t>(1, seen));
      ev.trainAccuracy =
          static_cast<double>(correctSum.item<int64_t>()) / static_cast<double>(std::max<int64_t>(1, seen));
      const Evaluation val = evaluate(data_.valX, data_.valY, true);
      ev.valLoss = val.loss;
      ev.valAccuracy = val.accuracy;
      ev.confusion = val.confusion;
      ev.classes = model_->classes();
      ev.lr = currentLr_;
      ev.seconds = epochSeconds;
      ev.samplesPerSecond = epochSeconds > 0 ? static_cast<double>(seen) / epochSeconds : 0;
      if (spec_.contributionSamples > 0 && data_.valX.size(0) > 0) {
        // Exact Shapley shares on a fixed validation subset (DESIGN.md §5): cheap next to an epoch.
        const int64_t m = std::min<int64_t>(spec_.contributionSamples, data_.valX.size(0));
        const auto sharesStart = Clock::now();
        for (const auto &[combine, share] : contributionShares(model_, data_.valX.narrow(0, 0, m)))
          ev.shares.push_back(BranchShare{combine, share.first, share.second});
        ev.sharesSeconds = seconds(sharesStart, Clock::now());
        model_->train();
      }
      Json row = {{"epoch", ev.epoch},
                  {"step", ev.step},
                  {"train_loss", ev.trainLoss},
                  {"train_accuracy", ev.trainAccuracy},
                  {"val_loss", ev.valLoss},
                  {"val_accuracy", ev.valAccuracy},
                  {"lr", ev.lr},
                  {"seconds", ev.seconds},
                  {"samples_per_second", ev.samplesPerSecond}};
      if (!ev.shares.empty()) {
        Json shares = Json::object();
        for (const auto &share : ev.shares)
          shares[share.combine + "/" + share.branch] = share.share;
        row["shares"] = shares;
      }
      metrics_.push_back(row);
      if (!checkpointPath.empty())
        saveCheckpoint(checkpointPath, epoch + 1, step_);
      obs.onLog("epoch " + std::to_string(ev.epoch) + "/" + std::to_string(ev.epochs) + ": train loss " +
                fixed(ev.trainLoss, 4) + ", val loss " + fixed(ev.valLoss, 4) + ", val accuracy " +
                fixed(100 * ev.valAccuracy, 2) + "%, " + fixed(ev.samplesPerSecond, 0) + " samples/s" +
                (ev.shares.empty() ? std::string() : ", branch shares in " + fixed(ev.sharesSeconds, 2) + " s"));
      obs.onEpoch(ev);
      summary.valLoss = ev.valLoss;
      summary.valAccuracy = ev.valAccuracy;
      if (ev.valLoss < bestVal - 1e-6) {
        bestVal = ev.valLoss;
        sinceBest = 0;
      } else if (spec_.earlyStoppingPatience > 0 && ++sinceBest >= spec_.earlyStoppingPatience) {
        ++epoch;
        summary.status = RunSummary::Status::EarlyStopped;
        summary.message = "early stopping: validation loss did not improve for " +
                          std::to_string(spec_.earlyStoppingPatience) + " epoch(s)";
        break;
      }
    }
  } catch (const c10::Error &e) {
    summary.status = RunSummary::Status::Failed;
    std::string what = e.what_without_backtrace();
    if (what.find("out of memory") != std::string::npos)
      what = "out of memory on " + device_.str() + " (lower the batch size or the model width): " + what;
    summary.message = "training failed at step " + std::to_string(step_ + 1) + ": " + what;
  }

  summary.epochs = std::min(epoch, spec_.epochs);
  summary.steps = step_;
  summary.trainSeconds = trainSeconds;
  summary.samplesPerSecond = trainSeconds > 0 ? static_cast<double>(samplesTrained) / trainSeconds : 0;
  summary.checkpoint = checkpointPath;
  if (summary.status != RunSummary::Status::Diverged && summary.status != RunSummary::Status::Failed) {
    if (summary.status == RunSummary::Status::Stopped && !checkpointPath.empty())
      saveCheckpoint(checkpointPath, epoch, step_);
    try {
      const Evaluation test = evaluate(data_.testX, data_.testY);
      summary.testLoss = test.loss;
      summary.testAccuracy = test.accuracy;
    } catch (const c10::Error &e) {
      summary.status = RunSummary::Status::Failed;
      summary.message = std::string("evaluation failed: ") + e.what_without_backtrace();
    }
    if (!options_.outDir.empty())
      writeWeights(options_.outDir + "/weights.pt");
  }
  writeOutputs(summary);
  obs.onFinished(summary);
  return summary;
}

} // namespace particle
