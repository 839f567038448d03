// `particle info`: versions, devices, threads and the machine's matmul peak per precision; with a
// run folder, what the run measured.

#include "Commands.h"
#include "Common.h"

#include "data/DatasetSpec.h"
#include "project/ProjectCheck.h"
#include "train/Peak.h"
#include "train/RunFolder.h"
#include "train/Runtime.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace particle::cli {

namespace {
// A run's summary.json as lines: its accuracy, size and cost (FLOPs counted, µs measured).
int runInfoOfRun(const std::string &dir) {
  const RunRecord r = readRunSummary(dir);
  const RunSummary &s = r.summary;
  auto row = [](const char *key, const std::string &value) {
    std::cout << std::left << std::setw(24) << key << value << "\n";
  };
  auto fixed = [](double v, int digits) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(digits) << v;
    return text.str();
  };
  row("run", dir);
  row("name", r.name);
  row("status", statusName(s.status) + (s.message.empty() ? std::string() : ": " + s.message));
  row("test_accuracy", fixed(100 * s.testAccuracy, 2) + "%");
  row("val_accuracy", fixed(100 * s.valAccuracy, 2) + "%");
  row("epochs", std::to_string(s.epochs) + " (" + withCommas(s.steps) + " steps), seed " + std::to_string(r.seed));
  row("parameters", withCommas(s.uniqueParameters) + " (" + withCommas(s.totalParameters) + " without sharing)");
  row("flops_per_sample", s.flopsPerSample > 0 ? flopsText(s.flopsPerSample) + " (forward)" : "not counted");
  // What training achieved (3 × forward FLOPs per sample) and of what: the matmul peak the run found
  // cached for its precision and threads. A run faster than that peak shows the peak was measured
  // on a busy machine: said so, never as a fraction above 100%.
  const double g = s.achievedGflops, share = s.peakGflops > 0 ? g / s.peakGflops : 0;
  const std::string achieved = fixed(g, g < 10 ? 2 : 1) + " GFLOP/s";
  const std::string peak =
      fixed(s.peakGflops, 1) + " GFLOP/s at " + std::to_string(s.threads) + (s.threads == 1 ? " thread" : " threads");
  row("achieved_gflops",
      g <= 0 ? std::string("not recorded (FLOPs not counted, or a run from before this figure)")
      : s.peakGflops <= 0
          ? achieved + " (no " + s.precision + " peak was cached when it ran: `particle info` measures it)"
      : share > 1 ? achieved + ", above the " + s.precision + " peak cached when it ran (" + peak +
                        "; measured on a busy machine, a peak reads low: `particle info --measure` measures it again)"
                  : achieved + ", " + fixed(100 * share, share < 0.1 ? 1 : 0) + "% of the " + s.precision + " peak (" +
                        peak + ")");
  row("inference_us",
      fixed(s.inferenceUsPerSample, 1) + " µs per sample" +
          (s.inferencePasses > 0 ? " (median of " + std::to_string(s.inferencePasses) + " passes, " +
                                       std::to_string(s.threads) + (s.threads == 1 ? " thread; " : " threads; ") +
                                       fixed(s.inferenceCpuUsPerSample, 1) + " µs processor time)"
                                 : ""));
  row("device", s.device);
  return kExitOk;
}
} // namespace

int runInfo(int argc, char **argv) {
  const Args args(argc, argv, 2, {"--threads"}, {"--measure"});
  if (args.positional.size() > 1)
    throw UsageError("info takes at most one run folder");
  if (args.positional.size() == 1) {
    if (args.get("--threads") || args.get("--measure"))
      throw UsageError(std::string(args.get("--threads") ? "--threads" : "--measure") +
                       " is for the machine's peak, not a run folder's figures");
    return runInfoOfRun(args.positional[0]);
  }
  // The threads the peaks are measured at, set before the runtime is described: its
  // torch_threads is then the count the peaks below are for.
  const int resolved = configureThreads(static_cast<int>(args.integer("--threads", 1).value_or(0)));
  const bool remeasure = args.get("--measure").has_value();
  const Json info = runtimeInfo();
  for (auto it = info.begin(); it != info.end(); ++it)
    std::cout << std::left << std::setw(24) << it.key() << compactJson(it.value()) << "\n";
  const DatasetSpec fashion = parseDatasetSpec(Json{{"kind", "fashion-mnist"}}, "");
  std::cout << std::setw(24) << "fashion_mnist" << fashionMnistFolder(fashion)
            << (fs::exists(fashionMnistFolder(fashion) + "/train-images-idx3-ubyte.gz") ? "" : " (missing)") << "\n";
  // Measured once per CPU, threads, precision and LibTorch (0.8 s per route each), then cached;
  // --measure measures again, and the cache keeps the higher figure (a busy machine measures low).
  for (const char *precision : {"fp32", "bf16", "fp16"}) {
    const PeakFigure peak =
        remeasure ? remeasureMatmulPeak(precision, resolved) : matmulPeak(precision, resolved, true);
    std::ostringstream text;
    text << std::fixed << std::setprecision(1);
    // Which of LibTorch's products gave the figure, and what the other reached ("oneDNN; mm 180.2").
    std::ostringstream route;
    route << std::fixed << std::setprecision(1);
    if (!peak.route.empty()) {
      route << " (" << peak.route;
      for (const auto &[name, gflops] : peak.routes)
        if (name != peak.route)
          route << "; " << name << " " << gflops;
      route << ")";
    }
    if (!peak.unsupported.empty())
      text << "not supported here: " << peak.unsupported;
    else if (peak.cached && peak.measured > 0)
      text << peak.gflops << " GFLOP/s matmul" << route.str() << ", " << resolved
           << (resolved == 1 ? " thread" : " threads") << " (cached in " << peakCachePath()
           << "; measured now: " << peak.measured << ", lower, so the cache keeps its figure)";
    else
      text << peak.gflops << " GFLOP/s matmul" << route.str() << ", " << resolved
           << (resolved == 1 ? " thread" : " threads")
           << (peak.cached ? " (cached in " + peakCachePath() + ")" : " (measured now)");
    std::cout << std::setw(24) << (std::string("peak_") + precision) << text.str() << "\n";
  }
  return kExitOk;
}

} // namespace particle::cli
