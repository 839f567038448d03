// `particle info`: versions, devices, threads; with a run folder, what the run measured.

#include "Commands.h"
#include "Common.h"

#include "data/DatasetSpec.h"
#include "project/ProjectCheck.h"
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
  const Args args(argc, argv, 2, {});
  if (args.positional.size() > 1)
    throw UsageError("info takes at most one run folder");
  if (args.positional.size() == 1)
    return runInfoOfRun(args.positional[0]);
  const Json info = runtimeInfo();
  for (auto it = info.begin(); it != info.end(); ++it)
    std::cout << std::left << std::setw(24) << it.key() << compactJson(it.value()) << "\n";
  const DatasetSpec fashion = parseDatasetSpec(Json{{"kind", "fashion-mnist"}}, "");
  std::cout << std::setw(24) << "fashion_mnist" << fashionMnistFolder(fashion)
            << (fs::exists(fashionMnistFolder(fashion) + "/train-images-idx3-ubyte.gz") ? "" : " (missing)") << "\n";
  return kExitOk;
}

} // namespace particle::cli
