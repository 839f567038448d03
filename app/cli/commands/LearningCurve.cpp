// `particle learning-curve`: the graph, its monolithic baseline and a search's Pareto set trained
// on N samples for several N and seeds (recipes/LearningCurve).

#include "Commands.h"
#include "Common.h"

#include "recipes/LearningCurve.h"
#include "recipes/RunPlan.h"

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

// A mean ± sd over seeds, in percent ("81.3 ± 1.2"); "-" without a completed run.
std::string cell(const Spread &s) {
  if (s.n == 0)
    return "-";
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << 100 * s.mean;
  if (s.n > 1)
    out << " ± " << 100 * s.sd;
  return out.str();
}

// Padded to `width` columns: "±" and "−" are two or three bytes but one column.
std::string pad(const std::string &text, std::size_t width) {
  std::size_t columns = 0;
  for (unsigned char c : text)
    columns += (c & 0xC0) != 0x80;
  return std::string(width > columns ? width - columns : 0, ' ') + text;
}

class CurvePrinter : public CurveObserver {
public:
  // One whole line per run as it ends, so that runs at once (--jobs) do not mix.
  void onPlan(int runs) override { total_ = runs; }
  void onRunFinished(const CurveModel &m, int64_t size, const CurveRun &run, bool reused) override {
    std::cout << "[" << ++finished_ << "/" << total_ << "] " << std::left << std::setw(24) << m.name << std::right
              << " N=" << std::setw(6) << size << " seed " << run.seed;
    if (run.ok())
      std::cout << " test " << percent(run.testAccuracy) << ", train " << percent(run.trainAccuracy) << ", gap "
                << std::fixed << std::setprecision(1) << 100 * run.gap() << " pp"
                << (reused ? " (from the earlier curve)" : ", " + duration(run.seconds));
    else
      std::cout << " " << run.status << (run.message.empty() ? "" : ": " + run.message);
    std::cout << "\n" << std::flush;
  }

private:
  int total_ = 0, finished_ = 0;
};

void printTable(const CurveResult &r, const char *what, Spread CurvePoint::*quantity) {
  std::cout << what << ", mean ± sd over " << r.seeds << " seed(s):\n" << std::left << std::setw(26) << "model";
  for (int64_t n : r.sizes)
    std::cout << pad("N=" + std::to_string(n), 14);
  std::cout << "\n";
  for (const auto &m : r.models) {
    std::cout << std::left << std::setw(26) << (m.name + (m.role == "pareto" ? "" : " (" + m.role + ")"));
    for (const auto &p : m.points)
      std::cout << pad(cell(p.*quantity), 14);
    std::cout << "\n";
  }
}

} // namespace

int runLearningCurve(int argc, char **argv) {
  const Args args(argc, argv, 2, {"--sizes", "--seeds", "--search", "--epochs", "--min-steps", "--jobs", "--out"},
                  {"--force"});
  if (args.positional.size() != 1)
    throw UsageError("learning-curve takes one project file");
  CurveOptions options;
  const auto sizes = args.get("--sizes");
  if (!sizes)
    throw UsageError("learning-curve needs --sizes: numbers of training samples, e.g. 100,300,1000");
  for (const auto &item : commaList(*sizes)) {
    char *end = nullptr;
    const long long n = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < 1 || n > std::numeric_limits<int>::max())
      throw UsageError("--sizes needs whole numbers of training samples ≥ 1 separated by commas, got \"" + item + "\"");
    options.sizes.push_back(n);
  }
  if (options.sizes.empty())
    throw UsageError("--sizes needs at least one number of training samples");
  options.seeds = static_cast<int>(args.integer("--seeds", 1, 1000).value_or(3));
  options.epochs = static_cast<int>(args.integer("--epochs", 1).value_or(0));
  options.minSteps = static_cast<int>(args.integer("--min-steps", 0, 10000000).value_or(0));
  options.jobs = static_cast<int>(args.integer("--jobs", 1, 64).value_or(1));
  if (auto search = args.get("--search")) {
    if (!fs::is_regular_file(*search + "/search.json"))
      throw UsageError("--search: " + *search + " holds no search.json (a `particle search` folder)");
    options.searchDir = *search;
  }
  Project project;
  Validation v;
  if (auto code = loadValid(args.positional[0], project, v))
    return *code;
  options.outDir = args.get("--out").value_or("curve-" + safeRunName(project.name));
  // A folder with a curve.json continues that curve (unless --force); any other must be new or empty.
  const bool force = args.get("--force").has_value();
  const auto claim = prepareOutFolder(
      options.outDir, force,
      !force && (fs::exists(options.outDir + "/curve.json") || folderKind(options.outDir) == "learning-curve"),
      "learning-curve");
  // Runs use this program, or PARTICLE_TRIAL_PROGRAM (a wrapper ending in `exec particle "$@"`).
  const char *wrapper = std::getenv("PARTICLE_TRIAL_PROGRAM");
  options.program = wrapper && *wrapper ? std::string(wrapper) : fs::canonical("/proc/self/exe").string();
  std::cout << "learning curve of " << project.name << ": " << options.sizes.size() << " size(s) × " << options.seeds
            << " seed(s), into " << options.outDir << "\n"
            << std::flush;
  CurvePrinter printer;
  const auto start = std::chrono::steady_clock::now();
  const CurveResult r = particle::runLearningCurve(project, options, &printer);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nin " << duration(seconds) << "; " << r.epochs << " epoch(s) per run"
            << (r.minSteps > 0 ? ", at least " + std::to_string(r.minSteps) + " steps" : "") << "\n";
  printTable(r, "test accuracy (%)", &CurvePoint::test);
  printTable(r, "generalisation gap (train − validation accuracy, percentage points)", &CurvePoint::gap);
  if (!r.comparisons.empty()) {
    std::cout << "graph against the baseline, paired over seeds (Holm over the sizes):\n";
    for (const auto &c : r.comparisons)
      std::cout << "  N=" << c.size << ": " << c.comparison.verdict << " — " << c.comparison.sentence << "\n";
  }
  if (!r.notes.empty())
    std::cout << r.notes << "\n";
  std::cout << "wrote " << options.outDir << "/{curve.json,curve.csv,curve.svg,curve.png,gap.svg,gap.png}\n";
  return kExitOk;
}

} // namespace particle::cli
