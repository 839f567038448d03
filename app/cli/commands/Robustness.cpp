// `particle robustness`: accuracy under input noise and occlusion, the generalisation gap
// (recipes/Robustness) of one checkpoint; without one, the write-up's claims over seeds for the
// graph against its monolithic baseline (recipes/Claims).

#include "Commands.h"
#include "Common.h"

#include "base/Files.h"
#include "recipes/Claims.h"
#include "recipes/Robustness.h"
#include "recipes/RunPlan.h"
#include "train/Runtime.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace particle::cli {

namespace {

std::vector<double> sigmasOf(const std::string &text) {
  std::vector<double> sigmas;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char *end = nullptr;
    const double s = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(s >= 0) || s > 100)
      throw UsageError("--sigmas needs numbers in [0, 100] separated by commas, got \"" + item + "\"");
    sigmas.push_back(s);
  }
  return sigmas;
}

// "62.3 ± 1.2%" over seeds; parameter counts whole.
std::string spreadCell(const Claim &c, const Spread &s) {
  std::ostringstream out;
  if (c.id == "sharing")
    return withCommas(static_cast<int64_t>(s.mean));
  if (s.n == 0)
    return "-";
  out << std::fixed << std::setprecision(1) << 100 * s.mean;
  if (s.n > 1)
    out << " ± " << 100 * s.sd;
  return out.str() + "%";
}

// The difference and the side it favours ("+32.5 pts, graph worse": smaller is better there).
std::string differenceCell(const Claim &c) {
  const Comparison &k = c.comparison;
  const std::string direction = claimDirection(c), side = direction.empty() ? "" : ", " + direction;
  std::ostringstream out;
  if (c.id == "sharing") {
    out << (k.difference > 0 ? "+" : "") << withCommas(static_cast<int64_t>(k.difference));
    return out.str() + side;
  }
  if (c.verdict == "not applicable" || c.graph.n == 0)
    return "-";
  out << std::showpos << std::fixed << std::setprecision(1) << 100 * k.difference << std::noshowpos;
  if (k.low < k.high)
    out << " [" << std::showpos << 100 * k.low << ", " << 100 * k.high << "]";
  else if (k.n > 1)
    out << " (" << k.test << ")";
  return out.str() + " pts" + side;
}

// A column of `width` display columns: "±", "−" and "σ" take two or three bytes for one column.
std::string padded(const std::string &text, std::size_t width) {
  std::size_t columns = 0;
  for (unsigned char ch : text)
    columns += (ch & 0xC0) != 0x80;
  return text + std::string(width > columns ? width - columns : 1, ' ');
}

class ClaimsPrinter : public ClaimsObserver {
public:
  void onPlan(int steps) override { total_ = steps; }
  // One whole line per step as it ends, so that processes running at once (--jobs) do not mix.
  void onStep(const ClaimModel &model, const ClaimRun &run, const std::string &what) override {
    std::cout << (what == "taken" ? std::string("[earlier] ")
                                  : "[" + std::to_string(++done_) + "/" + std::to_string(total_) + "] ")
              << model.role << " (" << model.name << ") seed " << run.seed << " ";
    if (run.status != "completed")
      std::cout << run.status << (run.message.empty() ? "" : ": " + run.message);
    else if (what == "trained")
      std::cout << "trained: test " << percent(run.testAccuracy) << ", gap " << percent(run.gap) << ", "
                << duration(run.seconds);
    else
      std::cout << what << ": clean " << percent(run.cleanAccuracy) << ", test " << percent(run.testAccuracy);
    std::cout << "\n" << std::flush;
  }

private:
  int total_ = 0, done_ = 0;
};

int runClaimsCommand(const Args &args) {
  if (args.positional.size() != 1)
    throw UsageError("robustness takes one project file");
  if (args.get("--parts-from") || args.get("--seed"))
    throw UsageError("--parts-from and --seed are for one checkpoint (--checkpoint); over seeds the baseline is "
                     "occluded over the graph's parts");
  ClaimsOptions options;
  options.seeds = static_cast<int>(args.integer("--seeds", 1, 1000).value_or(3));
  options.epochs = static_cast<int>(args.integer("--epochs", 1).value_or(0));
  options.limit = args.integer("--limit", 1, std::numeric_limits<int64_t>::max()).value_or(0);
  options.jobs = static_cast<int>(args.integer("--jobs", 1, 64).value_or(1));
  options.samples = args.integer("--samples", 1, std::numeric_limits<int64_t>::max()).value_or(0);
  if (auto sig = args.get("--sigmas"))
    options.sigmas = sigmasOf(*sig);
  Project project;
  Validation validation;
  if (auto code = loadValid(args.positional[0], project, validation))
    return *code;
  options.projectFile = args.positional[0];
  claimsBaseline(project); // a graph without one is refused before a folder is made
  options.outDir = args.get("--out").value_or("claims-" + safeRunName(project.name));
  // A folder with a claims.json continues those claims (unless --force); any other must be new or empty.
  const bool force = args.get("--force").has_value();
  const auto claim = prepareOutFolder(
      options.outDir, force,
      !force && (fs::exists(options.outDir + "/claims.json") || folderKind(options.outDir) == "claims"), "claims");
  // Trials run this program, or PARTICLE_TRIAL_PROGRAM (a wrapper ending in `exec particle "$@"`).
  const char *wrapper = std::getenv("PARTICLE_TRIAL_PROGRAM");
  options.program = wrapper && *wrapper ? std::string(wrapper) : fs::canonical("/proc/self/exe").string();
  std::cout << "claims of " << project.name << " against its monolithic baseline: " << options.seeds
            << " seed(s) each, " << options.jobs << " job(s) at once, into " << options.outDir << "\n"
            << std::flush;
  ClaimsPrinter printer;
  const auto start = std::chrono::steady_clock::now();
  const ClaimsResult r = runClaims(project, options, &printer);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto [graph, baseline] = r.pairedFigures();
  std::cout << "\n"
            << project.name << " against " << r.baseline << ", " << r.epochs << " epoch(s)"
            << (r.limit > 0 ? ", " + withCommas(r.limit) + " training samples" : std::string()) << ", "
            << graph.test.size() << " of " << r.seeds << " seed(s) paired, in " << duration(seconds) << ":\n";
  const std::size_t widths[] = {48, 17, 17, 42};
  std::cout << padded("claim", widths[0]) << padded("graph", widths[1]) << padded("baseline", widths[2])
            << padded("difference [95% interval]", widths[3]) << "verdict\n";
  for (const auto &c : r.claims)
    std::cout << padded(c.claim, widths[0]) << padded(spreadCell(c, c.graph), widths[1])
              << padded(spreadCell(c, c.baseline), widths[2]) << padded(differenceCell(c), widths[3])
              << claimVerdictText(c) << "\n";
  for (const auto &c : r.claims)
    std::cout << "- " << c.sentence << "\n";
  std::cout << "wrote " << options.outDir << "/{claims.json,claims.csv,projects/,trials/}\n";
  return kExitOk;
}

} // namespace

int runRobustness(int argc, char **argv) {
  const Args args(argc, argv, 2,
                  {"--checkpoint", "--out", "--sigmas", "--samples", "--parts-from", "--seed", "--seeds", "--epochs",
                   "--limit", "--jobs"},
                  {"--force"});
  if (!args.get("--checkpoint")) {
    if (!args.get("--seeds"))
      throw UsageError("robustness needs --checkpoint CKPT (one trained model) or --seeds S (the claims over S seeds "
                       "against the monolithic baseline)");
    return runClaimsCommand(args);
  }
  for (const char *key : {"--seeds", "--epochs", "--limit", "--jobs", "--force"})
    if (args.get(key))
      throw UsageError(std::string(key) + " is for the claims over seeds, not one --checkpoint");
  CheckpointInput in;
  if (auto code = loadCheckpointInput("robustness", args, in))
    return *code;
  RobustnessOptions options;
  if (auto sig = args.get("--sigmas"))
    options.sigmas = sigmasOf(*sig);
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
