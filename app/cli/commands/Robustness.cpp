// `particle robustness`: accuracy under input noise and occlusion, the generalisation gap
// (recipes/Robustness).

#include "Commands.h"
#include "Common.h"

#include "base/Files.h"
#include "recipes/Robustness.h"
#include "train/Runtime.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace particle::cli {

int runRobustness(int argc, char **argv) {
  const Args args(argc, argv, 2, {"--checkpoint", "--out", "--sigmas", "--samples", "--parts-from", "--seed"});
  CheckpointInput in;
  if (auto code = loadCheckpointInput("robustness", args, in))
    return *code;
  RobustnessOptions options;
  if (auto sig = args.get("--sigmas")) {
    options.sigmas.clear();
    std::stringstream in(*sig);
    for (std::string item; std::getline(in, item, ',');) {
      char *end = nullptr;
      const double s = std::strtod(item.c_str(), &end);
      if (item.empty() || *end != '\0' || !(s >= 0) || s > 100)
        throw UsageError("--sigmas needs numbers in [0, 100] separated by commas, got \"" + item + "\"");
      options.sigmas.push_back(s);
    }
  }
  options.samples = args.integer("--samples", 1, std::numeric_limits<int64_t>::max()).value_or(0);
  options.seed = static_cast<uint64_t>(args.integer("--seed", 0, std::numeric_limits<int64_t>::max()).value_or(0));
  if (auto other = args.get("--parts-from")) {
    Project parts;
    Validation pv;
    if (auto code = loadValid(*other, parts, pv))
      return *code;
    options.partsFrom = parts;
  }
  configureThreads(0);
  const RobustnessReport r = measureRobustness(in.project, in.checkpoint, options);
  const std::string &dir = in.outDir;
  fs::create_directories(dir);
  writeFileAtomically(dir + "/robustness.json", robustnessJson(r).dump(2) + "\n");
  writeFileAtomically(dir + "/robustness.csv", robustnessCsv(r));
  std::cout << in.project.name << ": " << r.samples << " test samples, clean accuracy " << percent(r.cleanAccuracy)
            << ", " << withCommas(r.uniqueParameters) << " unique of " << withCommas(r.totalParameters)
            << " parameters\n";
  if (!r.noise.empty()) {
    std::cout << "Gaussian noise (σ in training-data standard deviations):";
    for (const auto &[s, a] : r.noise)
      std::cout << "  σ=" << s << " " << percent(a);
    std::cout << "\n";
  }
  if (!r.occlusion.empty()) {
    std::cout << "one part occluded (" << r.partsSource << "):";
    for (const auto &[p, a] : r.occlusion)
      std::cout << "  " << p << " " << percent(a);
    std::cout << "\n";
  }
  if (!r.epochs.empty())
    std::cout << "generalisation gap (train − validation accuracy) after the last epoch: "
              << percent(r.epochs.back().train - r.epochs.back().val) << "\n";
  if (!r.notes.empty())
    std::cout << r.notes << "\n";
  std::cout << "wrote " << dir << "/{robustness.json,robustness.csv}\n";
  return kExitOk;
}

} // namespace particle::cli
