// `particle transfer`: a particle trained on one project reused on another with few labels
// (recipes/Transfer).

#include "Commands.h"
#include "Common.h"

#include "recipes/RunPlan.h"
#include "recipes/Transfer.h"

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

// A mean ± sd over seeds, in percent ("81.3 ± 1.2").
std::string cell(const TransferCell &c) {
  if (c.runs == 0)
    return "-";
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << 100 * c.mean;
  if (c.runs > 1)
    out << " ± " << 100 * c.sd;
  return out.str();
}

class TransferPrinter : public TransferObserver {
public:
  void onSourceStarted(const std::string &runDir) override {
    std::cout << "training the source project into " << runDir << "\n" << std::flush;
  }
  void onSourceFinished(double testAccuracy, double seconds) override {
    std::cout << "source: test " << percent(testAccuracy) << " in " << duration(seconds) << "\n" << std::flush;
  }
  // One whole line per trial as it ends, so that trials running at once (--jobs) do not mix.
  void onPlan(int trials) override { total_ = trials; }
  void onTrialFinished(const TransferTrial &t, bool reused) override {
    std::cout << "[" << ++finished_ << "/" << total_ << "] " << std::left << std::setw(10) << t.mode << std::right
              << " N=" << std::setw(6) << t.size << " seed " << t.seed;
    if (reused)
      std::cout << " test " << percent(t.testAccuracy) << " (from the earlier transfer)";
    else if (t.ok())
      std::cout << " test " << percent(t.testAccuracy) << ", " << duration(t.seconds);
    else
      std::cout << " " << t.status << (t.message.empty() ? "" : ": " + t.message);
    std::cout << "\n" << std::flush;
  }

private:
  int total_ = 0, finished_ = 0;
};

} // namespace

int runTransfer(int argc, char **argv) {
  const Args args(argc, argv, 2,
                  {"--nodes", "--sizes", "--seeds", "--epochs", "--min-steps", "--source-epochs", "--source-checkpoint",
                   "--modes", "--lora-rank", "--lora-alpha", "--jobs", "--out"},
                  {"--force"});
  if (args.positional.size() != 2)
    throw UsageError("transfer takes two project files: the source (task A) and the target (task B)");
  TransferOptions options;
  options.nodes = commaList(args.get("--nodes").value_or(""));
  if (options.nodes.empty())
    throw UsageError("transfer needs --nodes: the target's nodes that take the particle (p0, or p0=SOURCE_NODE)");
  if (auto sizes = args.get("--sizes")) {
    options.sizes.clear();
    for (const auto &item : commaList(*sizes)) {
      char *end = nullptr;
      const long long n = std::strtoll(item.c_str(), &end, 10);
      if (*end != '\0' || n < 1 || n > std::numeric_limits<int>::max())
        throw UsageError("--sizes needs whole numbers of samples ≥ 1 separated by commas, got \"" + item + "\"");
      options.sizes.push_back(n);
    }
    if (options.sizes.empty())
      throw UsageError("--sizes needs at least one number of samples");
  }
  if (auto modes = args.get("--modes")) {
    options.modes = commaList(*modes);
    for (const auto &m : options.modes)
      if (std::find(transferModes().begin(), transferModes().end(), m) == transferModes().end())
        throw UsageError("--modes takes frozen, lora, finetune, scratch, monolithic; got \"" + m + "\"");
    if (options.modes.empty())
      throw UsageError("--modes needs at least one mode");
  }
  options.seeds = static_cast<int>(args.integer("--seeds", 1, 1000).value_or(3));
  options.epochs = static_cast<int>(args.integer("--epochs", 1).value_or(0));
  options.minSteps = static_cast<int>(args.integer("--min-steps", 0, 10000000).value_or(0));
  options.sourceEpochs = static_cast<int>(args.integer("--source-epochs", 1).value_or(0));
  options.loraRank = args.integer("--lora-rank", 1, 4096).value_or(4);
  if (auto alpha = args.get("--lora-alpha")) {
    char *end = nullptr;
    options.loraAlpha = std::strtod(alpha->c_str(), &end);
    if (alpha->empty() || *end != '\0' || !(options.loraAlpha > 0) || options.loraAlpha > 1e6)
      throw UsageError("--lora-alpha needs a number > 0, got \"" + *alpha + "\"");
  }
  options.jobs = static_cast<int>(args.integer("--jobs", 1, 64).value_or(1));
  if (auto checkpoint = args.get("--source-checkpoint")) {
    if (!fs::is_regular_file(*checkpoint))
      throw UsageError("--source-checkpoint: " + *checkpoint + " is not a file");
    options.sourceCheckpoint = *checkpoint;
  }
  Project source, target;
  Validation sv, tv;
  if (auto code = loadValid(args.positional[0], source, sv))
    return *code;
  if (auto code = loadValid(args.positional[1], target, tv))
    return *code;
  options.outDir =
      args.get("--out").value_or("transfer-" + safeRunName(source.name) + "-to-" + safeRunName(target.name));
  // A folder with a transfer.json continues that transfer (unless --force); any other must be new or empty.
  const bool force = args.get("--force").has_value();
  const auto claim = prepareOutFolder(
      options.outDir, force,
      !force && (fs::exists(options.outDir + "/transfer.json") || folderKind(options.outDir) == "transfer"),
      "transfer");
  // Trials run this program, or PARTICLE_TRIAL_PROGRAM (a wrapper ending in `exec particle "$@"`).
  const char *wrapper = std::getenv("PARTICLE_TRIAL_PROGRAM");
  options.program = wrapper && *wrapper ? std::string(wrapper) : fs::canonical("/proc/self/exe").string();
  std::cout << "transfer " << source.name << " → " << target.name << ": nodes";
  for (const auto &n : options.nodes)
    std::cout << " " << n;
  std::cout << ", " << options.sizes.size() << " size(s) × " << options.seeds << " seed(s) × " << options.modes.size()
            << " mode(s), into " << options.outDir << "\n"
            << std::flush;
  TransferPrinter printer;
  const auto start = std::chrono::steady_clock::now();
  const TransferResult r = particle::runTransfer(source, target, options, &printer);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\n"
            << r.trials.size() << " trial(s) in " << duration(seconds) << "; source test accuracy "
            << percent(r.sourceTestAccuracy) << "\n"
            << "test accuracy (%), mean ± sd over " << r.seeds << " seed(s):\n"
            << std::left << std::setw(12) << "mode" << std::right << std::setw(14) << "trained";
  for (int64_t n : r.sizes)
    std::cout << std::setw(14) << ("N=" + std::to_string(n));
  std::cout << "\n";
  const auto table = r.table();
  for (const auto &mode : r.modes) {
    const auto it = r.trainedParameters.find(mode);
    std::cout << std::left << std::setw(12) << mode << std::right << std::setw(14)
              << (it == r.trainedParameters.end() ? std::string("-") : withCommas(it->second));
    for (const auto &c : table)
      if (c.mode == mode)
        std::cout << std::setw(14 + (c.runs > 1 ? 1 : 0)) << cell(c); // "±" is two bytes, one column
    std::cout << "\n";
  }
  if (!r.notes.empty())
    std::cout << r.notes << "\n";
  std::cout << "wrote " << options.outDir << "/{transfer.json,transfer.csv,projects/,trials/}\n";
  return kExitOk;
}

} // namespace particle::cli
