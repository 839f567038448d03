// `particle search`: successive halving over decompositions of the graph (recipes/Search).

#include "Commands.h"
#include "Common.h"

#include "recipes/RunPlan.h"
#include "recipes/Search.h"
#include "recipes/Variants.h"

#include <algorithm>
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

// Prints each trial as it starts, and as it ends: rung, variant, accuracy, parameters, time.
class SearchPrinter : public SearchObserver {
public:
  void onBracket(int bracket, int variants) override {
    if (bracket > 0)
      std::cout << "time left: another bracket of " << variants << " variant(s)\n" << std::flush;
  }
  void onRung(int rung, int variants, int epochs) override {
    std::cout << "rung " << rung << ": " << variants << " variant(s), " << epochs << " epoch(s) each\n" << std::flush;
  }
  void onSeeds(const std::vector<std::string> &finalists, int seeds, int epochs) override {
    std::cout << "finalists: " << finalists.size() << " variant(s), " << seeds << " seed(s) each, " << epochs
              << " epoch(s) from scratch\n"
              << std::flush;
  }
  // And as each starts, named as its end will be, so that the Experiments tab shows the trials
  // running (a first rung ran half a minute with its table empty).
  void onTrialStarted(const TrialRecord &t) override {
    std::cout << "started " << (t.phase == "seeds" ? t.variant + " seed " + std::to_string(t.seed) : t.variant) << " ("
              << (t.phase == "seeds" ? std::string("final") : "rung " + std::to_string(t.rung)) << ", " << t.epochs
              << " epoch(s), seed " << t.seed << ")\n"
              << std::flush;
  }
  void onTrialFinished(const TrialRecord &t, bool reused) override {
    std::cout << "  " << std::left << std::setw(34)
              << (t.phase == "seeds" ? t.variant + " seed " + std::to_string(t.seed) : t.variant) << std::right;
    if (t.ok())
      std::cout << " val " << std::setw(7) << percent(t.valAccuracy) << "  " << std::setw(10)
                << withCommas(t.uniqueParameters) << " params  " << std::fixed << std::setprecision(1) << std::setw(7)
                << t.usPerSample << " µs/sample  " << duration(t.seconds);
    else
      std::cout << " " << t.status << (t.message.empty() ? "" : ": " + t.message);
    std::cout << (reused ? "  (from the earlier search)" : "") << "\n" << std::flush;
  }
};

} // namespace

int runSearch(int argc, char **argv) {
  const Args args(argc, argv, 2,
                  {"--budget", "--jobs", "--out", "--seed", "--seeds", "--finalists", "--variants", "--first-epochs",
                   "--pin", "--exclude"},
                  {"--force", "--list"});
  if (args.positional.size() != 1)
    throw UsageError("search takes one project file");
  const std::string file = args.positional[0];
  Project project;
  Validation v;
  if (auto code = loadValid(file, project, v))
    return *code;
  SearchOptions options;
  for (const auto &spec : args.all("--pin"))
    options.filter.add(spec, true);
  for (const auto &spec : args.all("--exclude"))
    options.filter.add(spec, false);
  if (args.get("--list")) {
    const auto variants = makeVariants(project, v, options.filter);
    for (const auto &[axis, values] : variantAxes(project, v)) {
      std::cout << axis << ":";
      for (const auto &value : values)
        std::cout << " " << value;
      std::cout << "\n";
    }
    std::cout << variants.size() << " valid variant(s):\n";
    for (const auto &variant : variants)
      std::cout << "  " << variant.name << (variant.original ? "  (this graph)" : "")
                << (variant.baseline ? "  (monolithic baseline)" : "") << "\n";
    return kExitOk;
  }
  const auto budget = args.get("--budget");
  if (!budget)
    throw UsageError("search needs --budget: a time (10m) or a number of trials (24trials)");
  options.budget = SearchBudget::parse(*budget);
  options.jobs = static_cast<int>(args.integer("--jobs", 1).value_or(options.jobs));
  options.seed = static_cast<uint64_t>(args.integer("--seed", 0, std::numeric_limits<int64_t>::max()).value_or(0));
  options.seeds = static_cast<int>(args.integer("--seeds", 1, 1000).value_or(1));
  options.finalists = static_cast<int>(args.integer("--finalists", 1, 1000).value_or(options.finalists));
  options.variants = static_cast<int>(args.integer("--variants", 1).value_or(0));
  options.firstEpochs = static_cast<int>(args.integer("--first-epochs", 1).value_or(0));
  (void)findDecompositionSite(project.graph); // a graph with nothing to vary: its message before any folder
  options.outDir = args.get("--out").value_or("search-" + safeRunName(project.name));
  // A folder with a search.json, or one a search claimed, continues that search (unless --force); any other folder must
  // be new or empty. --force empties only a folder particle wrote. The claim lasts the whole search.
  const bool force = args.get("--force").has_value();
  const auto claim = prepareOutFolder(
      options.outDir, force,
      !force && (fs::exists(options.outDir + "/search.json") || folderKind(options.outDir) == "search"), "search");
  // Trials run this program, or PARTICLE_TRIAL_PROGRAM: a wrapper (nice, srun, a container) that
  // ends with `exec particle "$@"`.
  const char *wrapper = std::getenv("PARTICLE_TRIAL_PROGRAM");
  options.program = wrapper && *wrapper ? std::string(wrapper) : fs::canonical("/proc/self/exe").string();
  std::cout << "search over decompositions of " << project.name << ", budget " << *budget << ", " << options.jobs
            << " job(s) at once, into " << options.outDir << "\n"
            << std::flush;
  SearchPrinter printer;
  const auto start = std::chrono::steady_clock::now();
  const SearchResult r = particle::runSearch(project, v, options, &printer);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The trials that ran; the variants the budget left out before they started are no trials.
  const TrialTally tally = tallyTrials(r.trials);
  std::cout << "\n" << tally.ran() << " trial(s) in " << r.rungs << " rung(s)";
  if (tally.failed > 0 || tally.cut > 0)
    std::cout << " (" << tally.failed << " failed, " << tally.cut << " cut short)";
  std::cout << ", " << duration(seconds);
  if (r.outOfBudget)
    std::cout << " (the budget ran out"
              << (tally.leftOut > 0 ? "; " + std::to_string(tally.leftOut) + " variant(s) left out, never trained" : "")
              << ")";
  std::cout << "; winner: " << r.winner << "\n";
  std::cout << "Pareto set (validation accuracy vs unique parameters):\n";
  for (const auto &name : r.pareto)
    if (const TrialRecord *t = r.latest(name))
      std::cout << "  " << std::left << std::setw(34) << name << std::right << " val " << percent(t->valAccuracy)
                << ", " << withCommas(t->uniqueParameters) << " params, " << t->epochs << " epoch(s)\n";
  for (const auto &variant : r.variants)
    if (variant.original || (variant.baseline && variant.axes.at("width") == "w1")) {
      const TrialRecord *t = r.latest(variant.name);
      const bool front = std::find(r.pareto.begin(), r.pareto.end(), variant.name) != r.pareto.end();
      std::cout << (variant.original ? "this graph (" : "monolithic baseline (") << variant.name << "): "
                << (t ? "val " + percent(t->valAccuracy) + ", " + withCommas(t->uniqueParameters) + " params, " +
                            std::to_string(t->epochs) + " epoch(s), " + (front ? "on" : "not on") + " the front"
                      : std::string("no completed trial"))
                << "\n";
    }
  if (!r.finalists.empty()) {
    std::cout << "Finalists (" << r.finalists.front().epochs << " epochs, " << r.seeds
              << " seed(s) each; mean ± sd over seeds):\n";
    for (const auto &f : r.finalists) {
      const auto spread = [&](const Spread &s) {
        std::ostringstream o;
        o << std::fixed << std::setprecision(2) << s.mean * 100 << "% ± " << s.sd * 100;
        return o.str();
      };
      std::cout << "  " << std::left << std::setw(34) << f.variant << std::right << " val " << spread(f.val)
                << "  test " << spread(f.test) << "  " << withCommas(f.uniqueParameters) << " params";
      if (f.flopsPerSample > 0)
        std::cout << "  " << withCommas(static_cast<int64_t>(f.flopsPerSample)) << " FLOPs";
      std::cout << "  " << std::fixed << std::setprecision(1) << f.usPerSample << " µs/sample\n";
    }
  }
  if (!r.reason.empty())
    std::cout << "Why: " << r.reason << "\n";
  if (!r.verdict.sentence.empty())
    std::cout << "Verdict: " << r.verdict.sentence << "\n";
  if (r.cost.fullSeconds > 0)
    std::cout << "Cost: " << duration(r.cost.seconds) << " of trials (the seed phase " << duration(r.cost.seedSeconds)
              << ") against about " << duration(r.cost.fullSeconds) << " to train every started variant " << r.seeds
              << " seed(s) to " << (r.finalists.empty() ? 0 : r.finalists.front().epochs) << " epochs: " << std::fixed
              << std::setprecision(0) << r.cost.saving() * 100 << "% saved\n";
  std::cout << "wrote " << options.outDir << "/{search.json,trials.csv,pareto.json,variants/,trials/}\n";
  return kExitOk;
}

} // namespace particle::cli
