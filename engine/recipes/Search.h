#pragma once
// Decomposition search (`particle search`, the app's Experiments tab): successive halving over
// the variants of a project's graph (recipes/Variants.h) — many variants for a short time, the
// better half (by validation accuracy) for twice as long, and so on — under a budget of wall time
// or of trials. A budget of trials is one bracket sized to fit it; time left over after a bracket
// starts another with the next variants. Every trial is a `particle train` process, so one that fails or diverges is
// recorded and skipped; the state is written after every trial (search.json), so a search that
// was stopped continues where it was. The Pareto set is taken over validation accuracy (higher)
// and unique parameters (fewer); inference time per sample is reported beside them. Torch-free.

#include "recipes/Variants.h"

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

struct SearchOptions {
  std::string program; // the `particle` CLI, which trials run
  std::string outDir;  // variants/, trials/, logs/, search.json, trials.csv, pareto.json
  SearchBudget budget;
  int jobs = 1;        // trials at once (each with cores/jobs threads)
  uint64_t seed = 0;   // which variants start (the own graph and the baseline always do)
  int variants = 0;    // how many a bracket starts with; 0: from the budget (trials) or 8 (time)
  int firstEpochs = 0; // epochs of the first rung (0: the project's epochs ÷ 8, at least 1); each rung doubles them
  VariantFilter filter;
};

struct TrialRecord {
  std::string variant;
  int rung = 0;
  int epochs = 0;      // total, after this trial
  std::string status;  // completed, failed, diverged, out of budget
  std::string message; // why it failed (the trial's last error line)
  double valAccuracy = 0, testAccuracy = 0, trainAccuracy = 0;
  int64_t uniqueParameters = 0, totalParameters = 0;
  double usPerSample = 0; // inference time on the test split
  double seconds = 0;     // wall time of the trial process
  std::string runDir;
  bool ok() const { return status == "completed"; }
};

struct SearchResult {
  std::vector<Variant> variants;    // every variant generated (the started ones first)
  std::vector<TrialRecord> trials;  // in the order they finished
  std::vector<std::string> started; // variant names of rung 0
  std::vector<std::string> pareto;  // variant names, by accuracy
  std::string winner;               // the variant trained longest with the best accuracy
  int rungs = 0;
  bool outOfBudget = false;
  // The latest completed trial of a variant (nullptr when none).
  const TrialRecord *latest(const std::string &variant) const;
};

struct SearchObserver {
  virtual ~SearchObserver() = default;
  virtual void onBracket(int /*bracket*/, int /*variants*/) {}
  virtual void onRung(int /*rung*/, int /*variants*/, int /*epochs*/) {}
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
  std::vector<TrialRecord> trials; // in the order they finished
  std::vector<std::string> pareto; // variant names, by accuracy
  std::string winner;
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
