// `particle train`: train a project into a run folder, on this process, as one worker of a data-parallel
// group, or starting N workers on this machine (--nproc).

#include "Commands.h"
#include "Common.h"

#include "base/Folders.h"
#include "dist/DataParallel.h"
#include "explain/ContributionHook.h"
#include "project/ProjectCheck.h"
#include "project/TrainingSpec.h"
#include "recipes/RunPlan.h"
#include "recipes/WorkerGroup.h"
#include "train/MixedPrecision.h"
#include "train/Pace.h"
#include "train/Peak.h"
#include "train/Runtime.h"
#include "train/Trainer.h"

#include <chrono>
#include <csignal>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace particle::cli {

namespace {

ControlToken *gControl = nullptr;

void onInterrupt(int) {
  if (gControl)
    gControl->requestStopFromSignal();
}

class ProgressPrinter : public TrainObserver {
public:
  explicit ProgressPrinter(bool tty) : tty_(tty) {}

  void onStep(const StepEvent &e) override {
    pace_.step(e);
    const auto now = std::chrono::steady_clock::now();
    const double sinceLast = std::chrono::duration<double>(now - last_).count();
    // A terminal bar redraws ≤ 10×/s; plain output prints a line every 10 s.
    if (sinceLast < (tty_ ? 0.1 : 10.0) && e.step != e.totalSteps)
      return;
    last_ = now;
    const double frac = e.totalSteps ? static_cast<double>(e.step) / static_cast<double>(e.totalSteps) : 0;
    std::ostringstream s;
    s << std::fixed;
    if (tty_) {
      constexpr int kBar = 24;
      const int filled = static_cast<int>(frac * kBar);
      s << "\r[" << std::string(filled, '#') << std::string(kBar - filled, '.') << "] ";
    }
    s << "epoch " << e.epoch + 1 << " step " << e.step << "/" << e.totalSteps << " " << std::setprecision(0)
      << 100 * frac << "%  loss " << std::setprecision(4) << e.loss << "  acc " << std::setprecision(1)
      << 100 * e.accuracy << "%  " << std::setprecision(0) << e.samplesPerSecond << " samples/s  ETA "
      << duration(pace_.secondsLeft(e)); // the mean pace, as the Train tab's
    std::string text = s.str();
    if (tty_) {
      text += "\033[K";
      std::cout << text << std::flush;
      barShown_ = true;
    } else {
      std::cout << text << "\n" << std::flush;
    }
  }
  void onEpoch(const EpochEvent &e) override { pace_.epoch(e); }
  void onLog(const std::string &message) override {
    clearBar();
    std::cout << message << "\n" << std::flush;
  }
  void onFinished(const RunSummary &) override { clearBar(); }

private:
  void clearBar() {
    if (barShown_)
      std::cout << "\r\033[K";
    barShown_ = false;
  }
  bool tty_;
  bool barShown_ = false;
  RunPace pace_;
  std::chrono::steady_clock::time_point last_{};
};

// `particle train P --nproc N`: starts N workers of this program on this machine (a WorkerGroup);
// rank 0 prints and writes the run folder. When a worker fails, the others end on their own (their
// next collective fails, or times out) and are killed if they have not within the timeout; the
// first failure's exit code is this command's.
int launchWorkers(const std::vector<std::string> &line, int nproc, const std::string &outDir, int threads) {
  WorkerGroupSpec spec;
  spec.program = "/proc/self/exe";
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == "--nproc" || line[i] == "--out" || line[i] == "--threads") {
      ++i;
      continue;
    }
    if (line[i].rfind("--nproc=", 0) == 0 || line[i].rfind("--out=", 0) == 0 || line[i].rfind("--threads=", 0) == 0)
      continue;
    spec.args.push_back(line[i]);
  }
  spec.args.push_back("--out");
  spec.args.push_back(outDir);
  spec.world = nproc;
  spec.threads = threads;
  // Rank 0 writes into the folder this launcher claimed.
  spec.env.push_back(std::string(kClaimedByParentVariable) + "=" + std::to_string(::getpid()));
  std::signal(SIGINT, SIG_IGN); // the workers get the terminal's Ctrl+C and stop with a checkpoint
  WorkerGroup group(spec);
  const WorkerGroupEnd end = group.wait(distTimeoutFromEnvironment() + std::chrono::seconds(10));
  std::signal(SIGINT, SIG_DFL);
  return end.exitCode();
}

} // namespace

int runTrain(int argc, char **argv) {
  const Args args(
      argc, argv, 2,
      {"--out", "--epochs", "--device", "--seed", "--threads", "--resume", "--data-cache", "--nproc", "--precision"},
      {"--force", "--no-shares", "--no-timing"});
  if (args.positional.size() != 1)
    throw UsageError("train takes one project file");
  const std::string file = args.positional[0];
  Project project;
  Validation v;
  if (auto code = loadValid(file, project, v))
    return *code;
  TrainOptions options;
  options.validation = v; // the trainer does not validate the project again
  options.resumeFrom = args.get("--resume").value_or("");
  options.dataCache = args.get("--data-cache").value_or("");
  options.timeInference = !args.get("--no-timing");
  options.device = args.get("--device");
  if (options.device)
    (void)resolveDevice(*options.device); // a misspelt or missing device: exit 2 or 4 before any folder is made
  // Every number is checked before a folder is made.
  if (auto e = args.integer("--epochs", 1))
    options.epochs = static_cast<int>(*e);
  if (auto s = args.integer("--seed", 0, std::numeric_limits<int64_t>::max()))
    options.seed = static_cast<uint64_t>(*s);
  if (auto t = args.integer("--threads", 1))
    options.threads = static_cast<int>(*t);
  options.precision = args.get("--precision");
  if (options.precision && *options.precision != "fp32" && *options.precision != "bf16" && *options.precision != "fp16")
    throw UsageError("--precision: unknown precision \"" + *options.precision + "\" (use fp32, bf16 or fp16)");
  // A precision this device cannot train in is a bad project, refused before a folder is made.
  const TrainingSpec spec = parseTrainingSpec(project.training);
  const std::string precision = options.precision.value_or(spec.precision);
  if (precision != "fp32")
    if (const std::string why = precisionUnsupportedOn(precision, resolveDevice(options.device.value_or(spec.device)));
        !why.empty()) {
      std::cerr << file << ": training.precision: " << why << "\n";
      return static_cast<int>(ErrorKind::Invalid);
    }
  const auto nprocGiven = args.integer("--nproc", 1, 1024);
  options.distributed = distConfigFromEnvironment();
  // The project's training.workers, unless --nproc says otherwise or this process is a worker.
  const int64_t nproc = nprocGiven.value_or(options.distributed ? 1 : parseTrainingSpec(project.training).workers);
  if (nprocGiven && *nprocGiven > 1 && options.distributed)
    throw UsageError("--nproc starts workers on this machine, but this process already is one (WORLD_SIZE is set)");
  const bool worker = options.distributed && options.distributed->rank != 0;
  std::shared_ptr<FolderClaim> claim; // the run folder is this process's (and its workers') until it ends
  if (worker) {
    // Rank 0 writes the run folder; the other workers write nothing.
  } else if (auto out = args.get("--out")) {
    claim = prepareOutFolder(*out, args.get("--force").has_value(), !options.resumeFrom.empty());
    options.outDir = *out;
  } else {
    options.outDir = newRunFolder("runs", project.name);
    claim = claimFolder(options.outDir, "run");
  }
  if (nproc > 1)
    return launchWorkers(
        std::vector<std::string>(argv, argv + argc), static_cast<int>(nproc), options.outDir,
        workerThreads(options.threads.value_or(parseTrainingSpec(project.training).threads), static_cast<int>(nproc)));
  if (!args.get("--no-shares"))
    options.epochHooks.push_back(contributionSharesHook());

  Trainer trainer(project, options);
  ControlToken control;
  gControl = &control;
  std::signal(SIGINT, onInterrupt);
  ProgressPrinter printer(::isatty(STDOUT_FILENO));
  TrainObserver silent;
  const RunSummary s = trainer.run(worker ? &silent : static_cast<TrainObserver *>(&printer), &control);
  std::signal(SIGINT, SIG_DFL);
  gControl = nullptr;

  std::cout << std::fixed << std::setprecision(2);
  if (s.failed()) {
    std::cerr << file << (options.distributed ? " (worker " + std::to_string(options.distributed->rank) + ")" : "")
              << ": " << s.message << "\n";
    return static_cast<int>(s.status == RunSummary::Status::Diverged ? ErrorKind::Training : s.errorKind);
  }
  if (worker)
    return kExitOk;
  if (!s.message.empty())
    std::cout << s.message << "\n";
  std::cout << "test accuracy " << 100 * s.testAccuracy << "%, test loss " << std::setprecision(4) << s.testLoss
            << " after " << s.epochs << " epoch(s)" << (s.precision == "fp32" ? "" : " in " + s.precision) << ", "
            << std::setprecision(0) << s.samplesPerSecond << " samples/s on " << s.device << " (" << s.threads
            << " threads), " << duration(s.trainSeconds) << "\n";
  if (s.inferencePasses > 0)
    std::cout << "inference " << std::setprecision(1) << s.inferenceUsPerSample << " µs per sample (median of "
              << s.inferencePasses << " passes)"
              << (s.flopsPerSample > 0 ? ", " + flopsText(s.flopsPerSample) + " FLOPs per sample" : std::string())
              << "\n";
  else if (s.flopsPerSample > 0)
    std::cout << flopsText(s.flopsPerSample) << " FLOPs per sample\n";
  std::cout << "wrote " << options.outDir << "/{metrics.csv,summary.json,checkpoint.pt,weights.pt}\n";
  // A run above the cached matmul peak, or within 10% of it, shows a peak measured while the
  // machine was busy: measured again now that the run is over (about a second; the cache keeps the
  // higher figure). A missing peak is left to `particle info`: it is no sign of a wrong one.
  if (s.device == "cpu" && s.peakGflops > 0 && peakWantsMeasuring(s.achievedGflops, s.peakGflops) &&
      !options.distributed) {
    const PeakFigure peak = remeasureMatmulPeak(s.precision, s.threads);
    auto figure = [](double v) { // 105.2, 0.0183: the digits that matter
      std::ostringstream text;
      if (v >= 10)
        text << std::fixed << std::setprecision(1);
      else
        text << std::defaultfloat << std::setprecision(3);
      text << v << " GFLOP/s";
      return text.str();
    };
    std::cout << "peak: " << figure(s.achievedGflops) << " is "
              << (s.achievedGflops > s.peakGflops ? "above" : "within 10% of") << " the cached " << s.precision
              << " matmul peak (" << figure(s.peakGflops) << "); measured again: " << figure(peak.measured) << ", "
              << (peak.cached ? "lower, so the cache keeps " + figure(peak.gflops) : "cached in " + peakCachePath())
              << "\n";
  }
  return kExitOk;
}

} // namespace particle::cli
