#pragma once
// Decomposition search (`particle search`, the app's Experiments tab): successive halving over
// the variants of a project's graph (recipes/Variants.h) — many variants for a short time, the
// better half (by validation accuracy) for twice as long, and so on — under a budget of wall time
// or of trials. A budget of trials is one bracket sized to fit it; time left over after a bracket
// starts another with the next variants. Every trial is a `particle train` process, so one that fails or diverges is
// recorded and skipped; the state is written after every trial (search.json), so a search that
// was stopped continues where it was. The Pareto set is taken over validation accuracy (higher)
// and unique parameters (fewer); inference time per sample is reported beside them.
//
// Halving ranks variants by one seed at unequal epochs, which cannot say who won: after it, the
// finalists (the best few by epochs reached and validation accuracy, plus the project's own graph
// and the monolithic baseline) train afresh to the top rung's epochs with S seeds each; the
// winner is the best mean validation accuracy among them, and a verdict tests its lead on the
// test split (paired over seeds, Holm over runner-up and baseline). Torch-free.

#include "recipes/Variants.h"
#include "recipes/Verdict.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace particle {

struct SearchBudget {
  std::optional<double> seconds; // wall time of this invocation
  std::optional<int> trials;     // trials in all rungs (deterministic)
  // "10m", "90s", "1h" or "24trials"; throws Error(Usage) with both forms.
  static SearchBudget parse(const std::string &text);
  std::string text() const;
};

// Trials at once by default: one per core, each on one thread. A small model gains little from a
// second thread, so two trials side by side train more samples a second than one on both cores
// (docs/BENCHMARKS.md, "Decomposition search"; docs/DECISIONS.md).
int defaultSearchJobs();

struct SearchOptions {
  std::string program; // the `particle` CLI, which trials run
  std::string outDir;  // variants/, trials/, logs/, search.json, trials.csv, pareto.json
  SearchBudget budget;
  int jobs = defaultSearchJobs(); // trials at once, the cores shared among those running
  uint64_t seed = 0;              // which variants start (the own graph and the baseline always do)
  int variants = 0;               // how many a bracket starts with; 0: from the budget (trials) or 8 (time)
  int firstEpochs = 0; // epochs of the first rung (0: the project's epochs ÷ 8, at least 1); each rung doubles them
  int seeds = 1;       // seeds per finalist after the halving
  int finalists = 3;   // the best this many by (epochs reached, validation accuracy), besides own and the baseline
  VariantFilter filter;
};

struct TrialRecord {
  std::string variant;
  std::string phase = "halving"; // or "seeds": a finalist trained afresh with one seed
  int rung = 0;                  // halving's rung (a seed trial: 0)
  int seed = 0;                  // the `particle train --seed` it trained with
  int epochs = 0;                // total, after this trial
  std::string status;            // completed, failed, diverged, out of budget
  std::string message;           // why it failed (the trial's last error line)
  double valAccuracy = 0, testAccuracy = 0, trainAccuracy = 0;
  int64_t uniqueParameters = 0, totalParameters = 0;
  double usPerSample = 0;    // inference time on the test split
  double flopsPerSample = 0; // summary.json's flops_per_sample (0: not known)
  double seconds = 0;        // wall time of the trial process
  std::string runDir;
  bool ok() const { return status == "completed"; }
};

struct Finalist { // trained S seeds at the same epochs
  std::string variant;
  int epochs = 0;
  Spread val, test; // accuracies (fractions) over seeds, in seed order
  std::vector<int> seeds;
  int64_t uniqueParameters = 0;
  double flopsPerSample = 0, usPerSample = 0; // median over seeds
  std::vector<std::string> runDirs;
};

struct SearchVerdict {
  // The winner against the runner-up and against the monolithic baseline, on the test split
  // (which chose nothing), paired over seeds, Holm-adjusted over the two.
  std::optional<Comparison> runnerUp, baseline;
  std::string sentence; // "significant" / "within noise" said plainly
};

struct SearchCost {
  double seconds = 0;     // every trial's wall time, halving and seeds
  double seedSeconds = 0; // of which the seed phase
  double fullSeconds = 0; // every started variant trained S seeds to the finalists' epochs (measured s/epoch)
  double saving() const { return fullSeconds > 0 ? 1 - seconds / fullSeconds : 0; }
};

struct SearchResult {
  std::vector<Variant> variants;    // every variant generated (the started ones first)
  std::vector<TrialRecord> trials;  // in the order they were planned (a rung, then the next)
  std::vector<std::string> started; // variant names of rung 0
  std::vector<std::string> pareto;  // variant names, by accuracy
  int seeds = 1;
  std::vector<Finalist> finalists; // by mean validation accuracy, the winner first
  // The best finalist; with none (every seed trial failed) the variant halving trained longest
  // with the best accuracy.
  std::string winner;
  SearchVerdict verdict;
  std::string reason; // why the winner won, one sentence with its epochs and figures
  SearchCost cost;
  int rungs = 0;
  bool outOfBudget = false;
  // The latest completed halving trial of a variant (nullptr when none).
  const TrialRecord *latest(const std::string &variant) const;
};

// What a search's trials came to, for its finish line. The trials that ran: completed, failed (or
// diverged, or could not start), or cut midway when the budget ran out or the search was stopped.
// Apart from them, the variants the budget left out before their trial started: they never
// trained, and counting them as trials made a search look bigger than it was.
struct TrialTally {
  int completed = 0, failed = 0, cut = 0;
  int leftOut = 0;
  int ran() const { return completed + failed + cut; }
};
TrialTally tallyTrials(const std::vector<TrialRecord> &trials);

struct SearchObserver {
  virtual ~SearchObserver() = default;
  virtual void onBracket(int /*bracket*/, int /*variants*/) {}
  virtual void onRung(int /*rung*/, int /*variants*/, int /*epochs*/) {}
  virtual void onSeeds(const std::vector<std::string> & /*finalists*/, int /*seeds*/, int /*epochs*/) {}
  virtual void onTrialStarted(const TrialRecord & /*trial*/) {}
  virtual void onTrialFinished(const TrialRecord & /*trial*/, bool /*reused*/) {}
};

// Runs (or continues) the search. Throws Error for a graph with nothing to vary (Invalid), a
// budget too small for one trial (Usage/Training), or when no trial of the first rung completes
// (Training, with the first failure's message).
SearchResult runSearch(const Project &project, const Validation &validation, const SearchOptions &options,
                       SearchObserver *observer = nullptr);

// A variant as search.json lists it; its project is variants/<name>.particle.json beside it.
struct SearchVariant {
  std::string name;
  VariantAxes axes;
  bool baseline = false, original = false, started = false;
  // The value on one axis ("w1"), empty when the file does not give it.
  std::string axis(const std::string &key) const;
};

// search.json read back (the Experiments tab, a search that continues): every field of the type
// `particle search` writes.
struct SearchFile {
  std::string project;
  Json settings; // compared as a whole when a search continues
  std::vector<SearchVariant> variants;
  std::vector<TrialRecord> trials; // in the order they were planned
  std::vector<std::string> pareto; // variant names, by accuracy
  int seeds = 1;
  std::vector<Finalist> finalists;
  std::string winner;
  SearchVerdict verdict;
  std::string reason;
  SearchCost cost;
  int rungs = 0;
  bool outOfBudget = false;
  // The variant of that name (nullptr when the file lists none).
  const SearchVariant *variant(const std::string &name) const;
};

// Reads a search.json; a field of the wrong shape throws Error(File) naming the file and the field.
SearchFile readSearchFile(const std::string &path);
// The same for a search.json already read (`path` names it in messages).
SearchFile readSearchJson(const Json &search, const std::string &path);

// The non-dominated variants among the completed ones: no other has a higher (or equal) accuracy
// with fewer (or as many) unique parameters, one of them strictly.
std::vector<std::string> paretoSet(const SearchResult &result);

} // namespace particle
