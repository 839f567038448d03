#include "recipes/Search.h"

#include "project/ProjectPaths.h"
#include "base/JsonFields.h"
#include "base/Median.h"
#include "recipes/Processes.h"
#include "recipes/RunPlan.h"
#include "recipes/Trials.h"
#include "project/TrainingSpec.h"
#include "train/RunFolder.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace fs = std::filesystem;

namespace particle {

SearchBudget SearchBudget::parse(const std::string &text) {
  SearchBudget b;
  std::size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  const std::string unit = used > 0 ? text.substr(used) : "";
  const std::string forms = "give a time (90s, 10m, 1h) or a number of trials (24trials)";
  if (used == 0 || !std::isfinite(value) || value < 0)
    throw Error(ErrorKind::Usage, "--budget \"" + text + "\": " + forms);
  if (unit == "s" || unit == "m" || unit == "h") {
    b.seconds = value * (unit == "s" ? 1 : unit == "m" ? 60 : 3600);
    if (*b.seconds < 1)
      throw Error(ErrorKind::Usage, "--budget " + text +
                                        " is too small for one trial (a trial loads the data and "
                                        "trains at least one epoch; give a few minutes)");
  } else if (unit == "trials" || unit == "trial" || unit == "t") {
    if (value != std::floor(value))
      throw Error(ErrorKind::Usage, "--budget \"" + text + "\": a number of trials is a whole number");
    b.trials = static_cast<int>(std::min(value, 1e6));
    if (*b.trials < 1)
      throw Error(ErrorKind::Usage, "--budget " + text +
                                        " is too small for one trial (give at least 1trials; "
                                        "successive halving over n variants takes about 2n)");
  } else {
    throw Error(ErrorKind::Usage, "--budget \"" + text + "\": " + forms);
  }
  return b;
}

int defaultSearchJobs() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string SearchBudget::text() const {
  if (trials)
    return std::to_string(*trials) + "trials";
  std::ostringstream s;
  s << (seconds ? *seconds : 0) << "s";
  return s.str();
}

const TrialRecord *SearchResult::latest(const std::string &variant) const {
  const TrialRecord *best = nullptr;
  for (const auto &t : trials)
    if (t.variant == variant && t.phase == "halving" && t.ok() && (!best || t.rung > best->rung))
      best = &t;
  return best;
}

TrialTally tallyTrials(const std::vector<TrialRecord> &trials) {
  TrialTally tally;
  for (const TrialRecord &t : trials) {
    if (t.ok())
      ++tally.completed;
    else if (t.status == "failed" || t.status == "diverged")
      ++tally.failed;
    else if (t.status == "out of budget" && t.message.rfind("not started", 0) == 0) // runQueue's record of it
      ++tally.leftOut;
    else
      ++tally.cut; // stopped, or out of budget once started
  }
  return tally;
}

std::vector<std::string> paretoSet(const SearchResult &result) {
  std::vector<const TrialRecord *> done;
  for (const auto &v : result.variants)
    if (const TrialRecord *t = result.latest(v.name))
      done.push_back(t);
  std::vector<const TrialRecord *> front;
  for (const TrialRecord *a : done) {
    bool dominated = false;
    for (const TrialRecord *b : done)
      if (b != a && b->valAccuracy >= a->valAccuracy && b->uniqueParameters <= a->uniqueParameters &&
          (b->valAccuracy > a->valAccuracy || b->uniqueParameters < a->uniqueParameters))
        dominated = true;
    if (!dominated)
      front.push_back(a);
  }
  std::sort(front.begin(), front.end(), [](const TrialRecord *a, const TrialRecord *b) {
    return a->valAccuracy != b->valAccuracy ? a->valAccuracy > b->valAccuracy : a->variant < b->variant;
  });
  std::vector<std::string> names;
  names.reserve(front.size());
  for (const auto *t : front)
    names.push_back(t->variant);
  return names;
}

namespace {

Json toJson(const TrialRecord &t) {
  return {{"variant", t.variant},
          {"phase", t.phase},
          {"rung", t.rung},
          {"seed", t.seed},
          {"epochs", t.epochs},
          {"status", t.status},
          {"message", t.message},
          {"val_accuracy", t.valAccuracy},
          {"test_accuracy", t.testAccuracy},
          {"train_accuracy", t.trainAccuracy},
          {"unique_parameters", t.uniqueParameters},
          {"total_parameters", t.totalParameters},
          {"us_per_sample", t.usPerSample},
          {"flops_per_sample", t.flopsPerSample},
          {"seconds", t.seconds},
          {"run", t.runDir}};
}

// One trial of a search.json, each field type-checked (an edited or damaged file is refused with
// its name and the field, never a raw type error).
TrialRecord trialFromJson(const Json &j, const std::string &file, const std::string &where) {
  const JsonFields f(j, file, where);
  TrialRecord t;
  t.variant = f.string("variant");
  t.phase = f.string("phase", "halving");
  if (t.phase != "halving" && t.phase != "seeds")
    f.fail("phase", "is \"" + t.phase + "\", not halving or seeds");
  t.seed = static_cast<int>(f.integer("seed", 0, 0, std::numeric_limits<int>::max()));
  t.rung = static_cast<int>(f.integer("rung", std::nullopt, 0, 64));
  t.epochs = static_cast<int>(f.integer("epochs", std::nullopt, 0, 1 << 30));
  t.status = f.string("status");
  static const char *const kStatuses[] = {"completed", "failed", "diverged", "stopped", "out of budget"};
  if (std::find(std::begin(kStatuses), std::end(kStatuses), t.status) == std::end(kStatuses))
    f.fail("status", "is \"" + t.status + "\", not one of completed, failed, diverged, stopped, out of budget");
  t.message = f.string("message", "");
  const auto accuracy = [&](const char *key) {
    const double a = f.number(key, 0.0);
    if (!(a >= 0 && a <= 1))
      f.fail(key, "is " + std::to_string(a) + ", not an accuracy between 0 and 1");
    return a;
  };
  t.valAccuracy = accuracy("val_accuracy");
  t.testAccuracy = accuracy("test_accuracy");
  t.trainAccuracy = accuracy("train_accuracy");
  t.uniqueParameters = f.integer("unique_parameters", 0, 0);
  t.totalParameters = f.integer("total_parameters", 0, 0);
  t.usPerSample = f.number("us_per_sample", 0.0);
  t.flopsPerSample = f.number("flops_per_sample", 0.0);
  t.seconds = f.number("seconds", 0.0);
  t.runDir = f.string("run", "");
  return t;
}

Json toJson(const Finalist &f) {
  return {{"variant", f.variant},
          {"epochs", f.epochs},
          {"seeds", f.seeds},
          {"val_accuracy_mean", f.val.mean},
          {"val_accuracy_sd", f.val.sd},
          {"val_accuracies", f.val.values},
          {"test_accuracy_mean", f.test.mean},
          {"test_accuracy_sd", f.test.sd},
          {"test_accuracies", f.test.values},
          {"unique_parameters", f.uniqueParameters},
          {"flops_per_sample", f.flopsPerSample},
          {"us_per_sample", f.usPerSample},
          {"run_dirs", f.runDirs}};
}

std::vector<double> numbersFromJson(const JsonFields &f, const char *key) {
  std::vector<double> out;
  const Json &a = f.array(key);
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_number())
      f.fail(std::string(key) + "[" + std::to_string(i) + "]", "must be a number");
    out.push_back(a[i].get<double>());
  }
  return out;
}

Spread finalistSpread(const JsonFields &f, const std::string &stem) {
  Spread s;
  s.values = numbersFromJson(f, (stem + "accuracies").c_str());
  s.n = static_cast<int>(s.values.size());
  s.mean = f.number((stem + "accuracy_mean").c_str());
  s.sd = f.number((stem + "accuracy_sd").c_str());
  return s;
}

Finalist finalistFromJson(const Json &j, const std::string &file, const std::string &where) {
  const JsonFields f(j, file, where);
  Finalist out;
  out.variant = f.string("variant");
  out.epochs = static_cast<int>(f.integer("epochs", std::nullopt, 0, 1 << 30));
  out.val = finalistSpread(f, "val_");
  out.test = finalistSpread(f, "test_");
  for (double seed : numbersFromJson(f, "seeds"))
    out.seeds.push_back(static_cast<int>(seed));
  if (out.seeds.size() != out.val.values.size() || out.test.values.size() != out.val.values.size())
    f.fail("seeds", "does not give one seed per validation and test accuracy");
  out.uniqueParameters = f.integer("unique_parameters", 0, 0);
  out.flopsPerSample = f.number("flops_per_sample", 0.0);
  out.usPerSample = f.number("us_per_sample", 0.0);
  const Json &dirs = f.array("run_dirs", true);
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    if (!dirs[i].is_string())
      f.fail("run_dirs[" + std::to_string(i) + "]", "must be a string");
    out.runDirs.push_back(dirs[i].get<std::string>());
  }
  return out;
}

Json toJson(const SearchVerdict &v) {
  return {{"runner_up", v.runnerUp ? comparisonJson(*v.runnerUp) : Json()},
          {"baseline", v.baseline ? comparisonJson(*v.baseline) : Json()},
          {"sentence", v.sentence}};
}

std::string pct(double fraction) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << fraction * 100 << "%";
  return s.str();
}

// A fraction in percentage points, one decimal.
std::string points(double fraction) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << fraction * 100;
  return s.str();
}

// summary.json's flops_per_sample (0 where the run did not count them).
double flopsPerSample(const std::string &runDir) {
  const std::string file = runDir + "/summary.json";
  const Json summary = parseJson(readTextFile(file), file);
  return JsonFields(summary, file).number("flops_per_sample", 0.0);
}

// A trial's place in search.json, for a search that continues.
std::string trialKey(const TrialRecord &t) {
  return t.variant + (t.phase == "seeds" ? "#seed" + std::to_string(t.seed) : "#rung" + std::to_string(t.rung));
}

class Search {
public:
  Search(const Project &project, const Validation &validation, const SearchOptions &options, SearchObserver *observer)
      : project_(project), options_(options), observer_(observer ? observer : &silent_) {
    result_.variants = makeVariants(project, validation, options.filter);
    if (result_.variants.empty())
      throw Error(ErrorKind::Invalid,
                  "no variant of the graph is left to try (the --pin and --exclude axes allow none, "
                  "or validation refused every one)");
    cores_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    jobs_ = std::max(1, options.jobs);
    // By default the top rung of a bracket of 8 trains as long as the project says.
    firstEpochs_ =
        options.firstEpochs > 0 ? options.firstEpochs : std::max(1, parseTrainingSpec(project.training).epochs / 8);
    start_ = std::chrono::steady_clock::now();
    if (options.budget.seconds)
      deadline_ = start_ + std::chrono::milliseconds(static_cast<int64_t>(*options.budget.seconds * 1000));
  }

  SearchResult run() {
    order();
    writeVariants();
    loadEarlier();
    int budgetLeft = options_.budget.trials.value_or(1 << 30);
    std::size_t next = 0;
    for (int bracket = 0; next < result_.variants.size(); ++bracket) {
      std::vector<std::string> names;
      for (std::size_t i = next; i < std::min(next + bracketSize_, result_.variants.size()); ++i)
        names.push_back(result_.variants[i].name);
      // A budget of trials is one bracket. Time left over after one: another bracket of the next
      // variants, as many as are expected to train their first rung in the time left (a trial the
      // budget would cut midway is no result, only time taken from the seed phase).
      if (bracket > 0) {
        if (!deadline_ || result_.outOfBudget)
          break;
        names.resize(std::min(names.size(), variantsThatFit()));
        if (names.empty())
          break;
      }
      next += names.size();
      result_.started.insert(result_.started.end(), names.begin(), names.end());
      observer_->onBracket(bracket, static_cast<int>(names.size()));
      runBracket(bracket, names, budgetLeft);
      if (options_.budget.trials)
        break;
    }
    halvingDone_ = true;
    runSeeds();
    save();
    return result_;
  }

private:
  static bool better(const TrialRecord *a, const TrialRecord *b) {
    if (a->valAccuracy != b->valAccuracy)
      return a->valAccuracy > b->valAccuracy;
    if (a->uniqueParameters != b->uniqueParameters)
      return a->uniqueParameters < b->uniqueParameters;
    return a->variant < b->variant;
  }

  void runBracket(int bracket, std::vector<std::string> alive, int &budgetLeft) {
    int epochs = firstEpochs_;
    for (int rung = 0;; ++rung) {
      if (options_.budget.trials)
        alive.resize(std::min<std::size_t>(alive.size(), static_cast<std::size_t>(std::max(0, budgetLeft))));
      if (alive.empty())
        return;
      observer_->onRung(rung, static_cast<int>(alive.size()), epochs);
      runRung(rung, epochs, alive);
      result_.rungs = std::max(result_.rungs, rung + 1);
      budgetLeft -= static_cast<int>(alive.size());
      std::vector<const TrialRecord *> done;
      for (const auto &name : alive)
        if (const TrialRecord *t = find(name, rung); t && t->ok())
          done.push_back(t);
      if (rung == 0 && done.empty() && bracket == 0)
        throw Error(ErrorKind::Training, firstRungFailure());
      if (done.size() <= 1 || result_.outOfBudget)
        return;
      std::sort(done.begin(), done.end(), better);
      const std::size_t keep = (done.size() + 1) / 2;
      std::vector<std::string> promoted;
      for (std::size_t i = 0; i < keep; ++i)
        promoted.push_back(done[i]->variant);
      // A time budget: the next rung only when it is expected to fit.
      if (deadline_ && !fits(promoted, rung, epochs, epochs * 2))
        return;
      alive = promoted;
      epochs *= 2;
    }
  }

  // How many more variants can train their first rung in the time left: `jobs` for every mean
  // first-rung trial time (from those so far) that fits.
  std::size_t variantsThatFit() const {
    double sum = 0;
    int count = 0;
    for (const auto &t : result_.trials)
      if (t.rung == 0 && t.ok()) {
        sum += t.seconds;
        ++count;
      }
    const double left = std::chrono::duration<double>(*deadline_ - std::chrono::steady_clock::now()).count();
    if (count == 0 || left <= 0)
      return 0;
    return static_cast<std::size_t>(std::floor(left / (sum / count))) * static_cast<std::size_t>(jobs_);
  }

  // The variant halving trained longest, and of those the best.
  std::string halvingWinner() const {
    const TrialRecord *best = nullptr;
    for (const auto &v : result_.variants)
      if (const TrialRecord *t = result_.latest(v.name))
        if (!best || t->epochs > best->epochs || (t->epochs == best->epochs && better(t, best)))
          best = t;
    return best ? best->variant : std::string();
  }

  // Rung 0's variants: the user's graph and the baseline always, then the others in a shuffled
  // order drawn from the seed; as many as the budget allows.
  void order() {
    std::vector<std::size_t> fixed, rest;
    for (std::size_t i = 0; i < result_.variants.size(); ++i) {
      const Variant &v = result_.variants[i];
      (v.original || (v.baseline && v.axes.at("width") == "w1") ? fixed : rest).push_back(i);
    }
    std::mt19937_64 rng(options_.seed);
    for (std::size_t i = rest.size(); i > 1; --i) // Fisher–Yates with the 64-bit engine: the same on every platform
      std::swap(rest[i - 1], rest[static_cast<std::size_t>(rng() % i)]);
    std::vector<std::size_t> all = fixed;
    all.insert(all.end(), rest.begin(), rest.end());
    std::size_t n = options_.variants > 0 ? static_cast<std::size_t>(options_.variants) : 8;
    if (options_.budget.trials && options_.variants <= 0) {
      // The most variants whose halving (n + n/2 + … + 1 trials) fits the budget.
      n = 1;
      for (std::size_t m = 1; m <= all.size(); ++m)
        if (halvingCost(m) <= *options_.budget.trials)
          n = m;
    }
    n = std::min(n, all.size());
    std::vector<Variant> sorted;
    sorted.reserve(all.size());
    for (std::size_t i : all)
      sorted.push_back(result_.variants[i]);
    result_.variants = sorted;
    bracketSize_ = std::max<std::size_t>(1, n);
  }

  static int halvingCost(std::size_t n) {
    int cost = 0;
    for (;;) {
      cost += static_cast<int>(n);
      if (n <= 1)
        return cost;
      n = (n + 1) / 2;
    }
  }

  std::vector<std::string> order_() const {
    std::vector<std::string> names;
    for (const auto &v : result_.variants)
      names.push_back(v.name);
    return names;
  }

  std::string variantFile(const std::string &name) const {
    return options_.outDir + "/variants/" + name + ".particle.json";
  }
  std::string runDir(const std::string &name) const { return options_.outDir + "/trials/" + name; }

  void writeVariants() {
    fs::create_directories(options_.outDir + "/variants");
    fs::create_directories(options_.outDir + "/trials");
    fs::create_directories(options_.outDir + "/logs");
    // What was searched (the claims lab occludes every variant over its parts); the variants name
    // its data.
    const Project source = projectWithAbsolutePaths(project_);
    saveProject(source, options_.outDir + "/source.particle.json");
    for (const auto &v : result_.variants) {
      Project p = v.project;
      p.dataset = source.dataset;
      saveProject(p, variantFile(v.name));
    }
  }

  Json settings() const {
    return {{"graph_hash", graphHash(project_.graph)},
            {"seed", options_.seed},
            {"budget", options_.budget.text()},
            {"first_epochs", firstEpochs_},
            {"bracket", bracketSize_},
            {"seeds", options_.seeds},
            {"finalists", options_.finalists},
            {"order", order_()}};
  }

  // A search stopped earlier in this folder: its trials are taken as they are (those cut by the
  // time budget are run again).
  void loadEarlier() {
    const std::string file = options_.outDir + "/search.json";
    if (!fs::exists(file))
      return;
    Json earlier;
    try {
      earlier = parseJson(readTextFile(file), file);
    } catch (const std::exception &e) {
      throw Error(ErrorKind::File, file + ": cannot continue this search: " + e.what());
    }
    const SearchFile read = readSearchJson(earlier, file);
    const Json want = settings();
    // A search from before seeds trained one seed and the default finalists.
    const Json before = {{"seeds", 1}, {"finalists", SearchOptions().finalists}};
    for (const char *k : {"graph_hash", "seed", "first_epochs", "bracket", "seeds", "finalists", "order"})
      if (read.settings.value(k, before.value(k, Json())) != want[k])
        throw Error(ErrorKind::Usage, options_.outDir + " holds a search with other settings (" + k +
                                          " differs); give another --out, or --force to start over");
    // A trial the budget stopped, or one that could not be started, never ran to its end: it runs.
    for (const TrialRecord &r : read.trials)
      if (r.status != "out of budget" && r.message.rfind(kCouldNotStart, 0) != 0)
        memo_[trialKey(r)] = r;
  }

  // search.json, trials.csv and pareto.json as they stand (after every trial).
  void save() {
    result_.pareto = paretoSet(result_);
    if (halvingDone_)
      conclude();
    Json finalists = Json::array();
    for (const auto &f : result_.finalists)
      finalists.push_back(toJson(f));
    Json variants = Json::array();
    for (const auto &v : result_.variants)
      variants.push_back(
          {{"name", v.name},
           {"axes", v.axes},
           {"file", "variants/" + v.name + ".particle.json"},
           {"baseline", v.baseline},
           {"original", v.original},
           {"started", std::find(result_.started.begin(), result_.started.end(), v.name) != result_.started.end()}});
    Json trials = Json::array();
    for (const auto &t : result_.trials)
      trials.push_back(toJson(t));
    Json doc = {{"project", project_.name},
                {"settings", settings()},
                {"variants", variants},
                {"trials", trials},
                {"rungs", result_.rungs},
                {"pareto", result_.pareto},
                {"seeds", options_.seeds},
                {"finalists", finalists},
                {"winner", result_.winner},
                {"verdict", toJson(result_.verdict)},
                {"reason", result_.reason},
                {"cost",
                 {{"seconds", result_.cost.seconds},
                  {"seed_seconds", result_.cost.seedSeconds},
                  {"full_seconds", result_.cost.fullSeconds},
                  {"saving", result_.cost.saving()}}},
                {"out_of_budget", result_.outOfBudget}};
    writeFileAtomically(options_.outDir + "/search.json", doc.dump(2) + "\n");
    std::string csv = "variant,phase,rung,seed,epochs,status,val_accuracy,test_accuracy,train_accuracy,"
                      "unique_parameters,total_parameters,flops_per_sample,us_per_sample,seconds,parts,width,"
                      "combine,sharing,message\n";
    for (const auto &t : result_.trials) {
      const Variant *v = variant(t.variant);
      std::string message = t.message;
      std::replace(message.begin(), message.end(), '"', '\'');
      std::ostringstream row;
      row << t.variant << "," << t.phase << "," << t.rung << "," << t.seed << "," << t.epochs << "," << t.status << ","
          << t.valAccuracy << "," << t.testAccuracy << "," << t.trainAccuracy << "," << t.uniqueParameters << ","
          << t.totalParameters << "," << t.flopsPerSample << "," << t.usPerSample << "," << t.seconds;
      for (const char *axis : {"parts", "width", "combine", "sharing"})
        row << "," << (v ? v->axes.at(axis) : "");
      row << ",\"" << message << "\"\n";
      csv += row.str();
    }
    writeFileAtomically(options_.outDir + "/trials.csv", csv);
    Json front = Json::array();
    for (const auto &name : result_.pareto)
      if (const TrialRecord *t = result_.latest(name)) {
        Json j = toJson(*t);
        j["axes"] = variant(name)->axes;
        j["file"] = "variants/" + name + ".particle.json";
        front.push_back(j);
      }
    writeFileAtomically(options_.outDir + "/pareto.json", front.dump(2) + "\n");
  }

  const Variant *variant(const std::string &name) const {
    for (const auto &v : result_.variants)
      if (v.name == name)
        return &v;
    return nullptr;
  }

  const TrialRecord *find(const std::string &name, int rung) const {
    for (const auto &t : result_.trials)
      if (t.variant == name && t.rung == rung)
        return &t;
    return nullptr;
  }

  std::string firstRungFailure() const {
    for (const auto &t : result_.trials)
      if (t.status == "out of budget")
        return "the budget (" + options_.budget.text() + ") was too small for one trial: " + t.variant +
               " was still training when it ran out; give more time";
    for (const auto &t : result_.trials)
      if (!t.ok())
        return "no trial of the first rung completed; " + t.variant + " " + t.status +
               (t.message.empty() ? "" : ": " + t.message);
    return "no trial of the first rung completed";
  }

  // Whether training `next` from `from` to `to` epochs is expected to end before the deadline.
  bool fits(const std::vector<std::string> &next, int rung, int from, int to) const {
    double seconds = 0;
    for (const auto &name : next)
      if (const TrialRecord *t = find(name, rung))
        seconds += t->seconds * (to - from) / std::max(1, rung == 0 ? from : from / 2);
    seconds /= static_cast<double>(
        std::min<std::size_t>(static_cast<std::size_t>(jobs_), std::max<std::size_t>(1, next.size())));
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)) <
           *deadline_;
  }

  // Whether the trials' split data cache is written (data/SplitCache.h renames it into place whole).
  bool dataCacheWritten() const {
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dataCacheFolder(options_.outDir), ec))
      if (entry.path().extension() == ".split")
        return true;
    return false;
  }

  struct Running {
    pid_t pid = 0;
    TrialRecord record;
    std::chrono::steady_clock::time_point started;
    std::string errFile;
  };

  void runRung(int rung, int epochs, const std::vector<std::string> &names) {
    std::vector<TrialRecord> planned;
    for (const auto &name : names) {
      TrialRecord r;
      r.variant = name;
      r.rung = rung;
      r.epochs = epochs;
      r.runDir = runDir(name);
      planned.push_back(r);
    }
    runQueue(planned, true);
  }

  // The trials of `planned` (those search.json already holds are taken from it), `jobs` at once.
  // `timed`: the time budget stops them (the seed phase runs whole, see runSeeds).
  void runQueue(const std::vector<TrialRecord> &planned, bool timed) {
    const std::size_t first = result_.trials.size();
    std::vector<TrialRecord> queue;
    for (const auto &p : planned) {
      if (auto m = memo_.find(trialKey(p)); m != memo_.end() && m->second.epochs == p.epochs) {
        result_.trials.push_back(m->second);
        observer_->onTrialFinished(m->second, true);
        save();
      } else {
        queue.push_back(p);
      }
    }
    std::vector<Running> running;
    std::size_t next = 0;
    while (next < queue.size() || !running.empty()) {
      const bool late = timed && deadline_ && std::chrono::steady_clock::now() >= *deadline_;
      // Until the first trial has written the data cache (or ended without), it runs alone: trials
      // started beside it would each load the data set too. Each trial gets the cores shared among
      // those that will run together, so the last of a rung is not left on one thread of many.
      while (!late && next < queue.size() && static_cast<int>(running.size()) < jobs_ &&
             (running.empty() || cacheTried_ || dataCacheWritten())) {
        const auto together =
            std::min<std::size_t>(static_cast<std::size_t>(jobs_), running.size() + queue.size() - next);
        if (auto run = launch(queue[next++], std::max(1, cores_ / static_cast<int>(together))))
          running.push_back(std::move(*run));
      }
      if (late) {
        result_.outOfBudget = result_.outOfBudget || next < queue.size() || !running.empty();
        for (std::size_t i = next; i < queue.size(); ++i) {
          TrialRecord r = queue[i];
          r.status = "out of budget";
          r.message = "not started: the budget ran out";
          finish(r);
        }
        next = queue.size();
        for (auto &run : running) {
          ::kill(run.pid, SIGKILL);
          reapChildren({run.pid}, std::chrono::seconds(5));
          run.record.status = "out of budget";
          run.record.message = "stopped: the budget ran out";
          run.record.seconds = secondsSince(run.started);
          finish(run.record);
        }
        running.clear();
        break;
      }
      for (auto it = running.begin(); it != running.end();) {
        const auto end = waitForChild(it->pid, std::chrono::steady_clock::now());
        if (!end) {
          ++it;
          continue;
        }
        complete(*it, *end);
        it = running.erase(it);
      }
      if (!running.empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // Trials side by side end in an order the machine decides: search.json keeps them in the order
    // they were planned, as one at a time would, so the same seed writes the same file.
    std::map<std::string, std::size_t> place;
    for (std::size_t i = 0; i < planned.size(); ++i)
      place[trialKey(planned[i])] = i;
    std::stable_sort(
        result_.trials.begin() + static_cast<std::ptrdiff_t>(first), result_.trials.end(),
        [&](const TrialRecord &a, const TrialRecord &b) { return place[trialKey(a)] < place[trialKey(b)]; });
    save();
  }

  // The finalists: the best `finalists` variants by (epochs reached, validation accuracy) at their
  // latest halving trial, then the project's own graph and the monolithic baseline when they are
  // not among them (and completed a trial). All train to the top epochs any trial reached.
  void chooseFinalists() {
    std::vector<const TrialRecord *> done;
    for (const auto &v : result_.variants)
      if (const TrialRecord *t = result_.latest(v.name))
        done.push_back(t);
    if (done.empty())
      return;
    std::sort(done.begin(), done.end(), [](const TrialRecord *a, const TrialRecord *b) {
      return a->epochs != b->epochs ? a->epochs > b->epochs : better(a, b);
    });
    finalEpochs_ = done.front()->epochs;
    for (std::size_t i = 0; i < done.size() && i < static_cast<std::size_t>(std::max(1, options_.finalists)); ++i)
      finalistNames_.push_back(done[i]->variant);
    for (const auto &v : result_.variants)
      if ((v.original || v.name == baselineName()) && result_.latest(v.name) &&
          std::find(finalistNames_.begin(), finalistNames_.end(), v.name) == finalistNames_.end())
        finalistNames_.push_back(v.name);
  }

  // After the halving, whatever its budget: the finalists train afresh (not resumed from the
  // halving, whose accuracies chose them and would carry that luck into the comparison) to the
  // same epochs with seeds s+1 … s+S, s the project's seed that the halving trained with. Seed by
  // seed, so that a search stopped midway leaves pairs of every finalist.
  void runSeeds() {
    chooseFinalists();
    if (finalistNames_.empty())
      return;
    observer_->onSeeds(finalistNames_, options_.seeds, finalEpochs_);
    const auto base = static_cast<int>(parseTrainingSpec(project_.training).seed);
    std::vector<TrialRecord> planned;
    for (int k = 1; k <= options_.seeds; ++k)
      for (const auto &name : finalistNames_) {
        TrialRecord r;
        r.variant = name;
        r.phase = "seeds";
        r.seed = base + k;
        r.epochs = finalEpochs_;
        r.runDir = runDir(name) + ".seed" + std::to_string(r.seed);
        planned.push_back(r);
      }
    runQueue(planned, false);
  }

  std::string baselineName() const {
    for (const auto &v : result_.variants)
      if (v.baseline && v.axes.at("width") == "w1")
        return v.name;
    return {};
  }

  // The finalists' spreads, the winner, the verdict, the reason and the cost, from the trials so far.
  void conclude() {
    result_.seeds = options_.seeds;
    result_.finalists.clear();
    for (const auto &name : finalistNames_) {
      std::vector<const TrialRecord *> runs;
      for (const auto &t : result_.trials)
        if (t.phase == "seeds" && t.variant == name && t.ok() && t.epochs == finalEpochs_)
          runs.push_back(&t);
      if (runs.empty())
        continue;
      std::sort(runs.begin(), runs.end(), [](const TrialRecord *a, const TrialRecord *b) { return a->seed < b->seed; });
      Finalist f;
      f.variant = name;
      f.epochs = finalEpochs_;
      std::vector<double> val, test, us, flops;
      for (const TrialRecord *t : runs) {
        val.push_back(t->valAccuracy);
        test.push_back(t->testAccuracy);
        us.push_back(t->usPerSample);
        flops.push_back(t->flopsPerSample);
        f.seeds.push_back(t->seed);
        f.runDirs.push_back(t->runDir);
      }
      f.val = spreadOf(val);
      f.test = spreadOf(test);
      f.uniqueParameters = runs.front()->uniqueParameters;
      f.usPerSample = median(us);
      f.flopsPerSample = median(flops);
      result_.finalists.push_back(std::move(f));
    }
    std::sort(result_.finalists.begin(), result_.finalists.end(), [](const Finalist &a, const Finalist &b) {
      if (a.val.mean != b.val.mean)
        return a.val.mean > b.val.mean;
      if (a.uniqueParameters != b.uniqueParameters)
        return a.uniqueParameters < b.uniqueParameters;
      return a.variant < b.variant;
    });
    result_.winner = result_.finalists.empty() ? halvingWinner() : result_.finalists.front().variant;
    result_.verdict = verdict();
    result_.reason = reason();
    result_.cost = cost();
  }

  // The winner against the runner-up and the baseline on the test split: the validation split
  // chose the finalists and the winner, so a lead measured there is biased in the winner's favour.
  SearchVerdict verdict() const {
    SearchVerdict v;
    const auto &f = result_.finalists;
    if (f.size() < 2) {
      v.sentence =
          f.empty() ? "" : "Only one finalist completed its seed trials, so there is nothing to compare it with.";
      return v;
    }
    const Finalist &winner = f[0];
    // Over the seeds both completed, in seed order.
    const auto paired = [&](const Finalist &other) {
      std::vector<double> a, b;
      for (std::size_t i = 0; i < winner.seeds.size(); ++i)
        for (std::size_t j = 0; j < other.seeds.size(); ++j)
          if (winner.seeds[i] == other.seeds[j]) {
            a.push_back(winner.test.values[i]);
            b.push_back(other.test.values[j]);
          }
      return pairedComparison(winner.variant, a, other.variant, b);
    };
    const std::string baseline = baselineName();
    v.runnerUp = paired(f[1]);
    std::vector<Comparison *> family = {&*v.runnerUp};
    const auto base = std::find_if(f.begin(), f.end(), [&](const Finalist &x) { return x.variant == baseline; });
    const std::size_t baseAt = static_cast<std::size_t>(base - f.begin());
    if (base != f.end() && baseAt > 1) {
      v.baseline = paired(*base);
      family.push_back(&*v.baseline);
    }
    holmAdjust(family);
    if (baseAt == 1)
      v.baseline = v.runnerUp;
    if (v.runnerUp->n < 2) {
      v.sentence = result_.seeds < 2
                       ? "One seed cannot tell: each finalist trained once, so nothing measures how far its accuracy "
                         "moves from seed to seed; run with --seeds 3 or more for a verdict."
                       : "Too few seeds completed for both " + winner.variant + " and " + f[1].variant + " to tell (" +
                             std::to_string(v.runnerUp->n) + "); see their trials.";
      return v;
    }
    std::string s = "On the test split (which chose nothing): against the runner-up" +
                    std::string(baseAt == 1 ? ", the monolithic baseline, " : ", ") + v.runnerUp->sentence;
    if (winner.variant == baseline)
      s += "; the winner is the monolithic baseline itself";
    else if (v.baseline && baseAt > 1)
      s += "; against the monolithic baseline, " + v.baseline->sentence;
    v.sentence = s + ".";
    return v;
  }

  // Why the winner won, in one sentence with its epochs and figures.
  std::string reason() const {
    const auto &f = result_.finalists;
    if (f.empty()) {
      const TrialRecord *t = result_.winner.empty() ? nullptr : result_.latest(result_.winner);
      return t ? result_.winner + " won because the halving trained it longest (" + std::to_string(t->epochs) +
                     " epochs) with the best validation accuracy, " + pct(t->valAccuracy) +
                     "; no finalist completed a seed trial"
               : std::string();
    }
    const bool one = result_.seeds < 2;
    const auto figure = [&](const Finalist &x) {
      return pct(x.val.mean) + (one ? std::string() : " ± " + points(x.val.sd));
    };
    const Finalist &w = f.front();
    std::string s = w.variant + " won because after " + std::to_string(w.epochs) + " epochs its " +
                    (one ? "validation accuracy (one seed), "
                         : "mean validation accuracy over " + std::to_string(w.val.n) + " seeds, ") +
                    figure(w) + ", was the best of the " + std::to_string(f.size()) + " finalists";
    if (f.size() > 1)
      s += ", ahead of " + f[1].variant + " (" + figure(f[1]) + ")";
    const std::string baseline = baselineName();
    for (std::size_t i = 2; i < f.size(); ++i)
      if (f[i].variant == baseline)
        s += " and the monolithic baseline (" + figure(f[i]) + ")";
    return s + ".";
  }

  // What the search spent against training every started variant S seeds to the finalists'
  // epochs: per variant, its start-up (rung 0's wall time less its epochs) and its mean epoch time
  // (its run's metrics.csv), so that a variant dropped after a few epochs is not charged its
  // start-up on every epoch. Trial wall times, so that --jobs does not change the comparison.
  SearchCost cost() const {
    SearchCost c;
    for (const auto &t : result_.trials) {
      c.seconds += t.seconds;
      if (t.phase == "seeds")
        c.seedSeconds += t.seconds;
    }
    for (const auto &name : result_.started) {
      const TrialRecord *first = find(name, 0);
      if (!first || !first->ok())
        continue;
      std::vector<RunEpoch> epochs;
      try {
        epochs = readRunMetrics(runDir(name));
      } catch (const Error &) {
        // Unreadable: the rung-0 trial's seconds per epoch, start-up included.
      }
      double perEpoch = 0, firstEpochs = 0;
      for (const RunEpoch &e : epochs) {
        perEpoch += e.seconds / static_cast<double>(epochs.size());
        if (e.epoch <= first->epochs)
          firstEpochs += e.seconds;
      }
      const double startUp = epochs.empty() ? 0 : std::max(0.0, first->seconds - firstEpochs);
      if (epochs.empty())
        perEpoch = first->seconds / std::max(1, first->epochs);
      c.fullSeconds += (startUp + perEpoch * finalEpochs_) * std::max(1, options_.seeds);
    }
    return c;
  }

  static double secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  // The trial started, or none when it could not be (recorded failed with why: the program being
  // relinked, a log that cannot be written); the other trials go on, as they do after one that fails.
  std::optional<Running> launch(const TrialRecord &trial, int threads) {
    Running r;
    r.record = trial;
    const std::string checkpoint = trial.runDir + "/checkpoint.pt";
    SpawnSpec s;
    s.program = options_.program;
    s.args = {"train", variantFile(trial.variant), "--out", trial.runDir, "--epochs", std::to_string(trial.epochs),
              "--threads", std::to_string(threads), "--nproc", "1", "--data-cache", dataCacheFolder(options_.outDir),
              // The search shows no branch shares, and a variant's inference time is its model's:
              // its first trial measures it, the later rungs keep that figure.
              "--no-shares"};
    if (trial.phase == "halving" && trial.rung > 0)
      s.args.emplace_back("--no-timing");
    if (trial.phase == "seeds") {
      s.args.insert(s.args.end(), {"--seed", std::to_string(trial.seed), "--force"});
    } else if (trial.rung > 0 && fs::exists(checkpoint)) {
      s.args.emplace_back("--resume");
      s.args.push_back(checkpoint);
    } else {
      s.args.emplace_back("--force"); // a trial cut short earlier starts over
    }
    const std::string stem =
        options_.outDir + "/logs/" + trial.variant +
        (trial.phase == "seeds" ? ".seed" + std::to_string(trial.seed) : ".rung" + std::to_string(trial.rung));
    s.stdoutFile = stem + ".log";
    s.stderrFile = r.errFile = stem + ".err";
    s.unset = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", kClaimedByParentVariable};
    s.env = {std::string(kParentPidVariable) + "=" + std::to_string(::getpid())}; // a killed search ends its trials
    r.started = std::chrono::steady_clock::now();
    observer_->onTrialStarted(r.record);
    try {
      r.pid = spawnProcess(s);
    } catch (const Error &e) {
      r.record.status = "failed";
      r.record.message = e.what();
      r.record.seconds = secondsSince(r.started);
      finish(r.record);
      return std::nullopt;
    }
    return r;
  }

  void complete(Running &run, const ChildExit &end) {
    cacheTried_ = true;
    TrialRecord &t = run.record;
    t.seconds = secondsSince(run.started);
    std::string unreadable;
    bool read = false;
    if (end.code == 0) {
      try {
        const RunRecord record = readRunSummary(t.runDir);
        const RunSummary &summary = record.summary;
        t.seed = static_cast<int>(record.seed);
        t.flopsPerSample = flopsPerSample(t.runDir);
        const std::string status = statusName(summary.status);
        t.status = status == "early-stopped" || status == "completed" ? "completed" : status;
        t.valAccuracy = summary.valAccuracy;
        t.testAccuracy = summary.testAccuracy;
        t.uniqueParameters = summary.uniqueParameters;
        t.totalParameters = summary.totalParameters;
        t.usPerSample = summary.inferenceUsPerSample;
        if (const TrialRecord *earlier = t.phase == "halving" && t.rung > 0 ? find(t.variant, t.rung - 1) : nullptr)
          t.usPerSample = earlier->usPerSample;
        const auto epochs = readRunMetrics(t.runDir);
        t.trainAccuracy = epochs.empty() ? 0 : epochs.back().trainAccuracy;
        t.message = summary.message;
        read = true;
      } catch (const std::exception &e) {
        unreadable = e.what();
      }
    }
    if (!read) {
      const std::string tail = unreadable.empty() ? tailOfFile(run.errFile, 1) : unreadable;
      t.status = tail.find("diverged") != std::string::npos ? "diverged" : "failed";
      t.message =
          (end.signalled ? "ended by signal " + std::to_string(end.code - 128) : "exit " + std::to_string(end.code)) +
          (tail.empty() ? "" : ": " + tail);
    }
    finish(t);
  }

  void finish(const TrialRecord &t) {
    result_.trials.push_back(t);
    observer_->onTrialFinished(t, false);
    save();
  }

  const Project &project_;
  SearchOptions options_;
  SearchObserver silent_;
  SearchObserver *observer_;
  SearchResult result_;
  std::map<std::string, TrialRecord> memo_; // by trialKey
  bool halvingDone_ = false;
  std::vector<std::string> finalistNames_; // chosen after the halving
  int finalEpochs_ = 0;
  int cores_ = 1;
  int jobs_ = 1;                // trials at once
  bool cacheTried_ = false;     // a trial has ended, so the data cache is written or cannot be
  std::size_t bracketSize_ = 8; // variants a bracket starts with
  int firstEpochs_ = 1;
  std::chrono::steady_clock::time_point start_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

} // namespace

std::string SearchVariant::axis(const std::string &key) const {
  const auto it = axes.find(key);
  return it == axes.end() ? std::string() : it->second;
}

const SearchVariant *SearchFile::variant(const std::string &name) const {
  for (const auto &v : variants)
    if (v.name == name)
      return &v;
  return nullptr;
}

SearchFile readSearchFile(const std::string &path) {
  return readSearchJson(parseJson(readTextFile(path), path), path);
}

SearchFile readSearchJson(const Json &search, const std::string &path) {
  const JsonFields doc(search, path);
  SearchFile file;
  file.project = doc.string("project", "");
  file.settings = doc.object("settings");
  const Json &variants = doc.array("variants", true);
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const JsonFields f(variants[i], path, "variants[" + std::to_string(i) + "]");
    SearchVariant v;
    v.name = f.string("name");
    for (const auto &[axis, value] : f.object("axes", true).items()) {
      if (!value.is_string())
        f.fail("axes." + axis, "must be a string");
      v.axes[axis] = value.get<std::string>();
    }
    v.baseline = f.boolean("baseline", false);
    v.original = f.boolean("original", false);
    v.started = f.boolean("started", false);
    file.variants.push_back(std::move(v));
  }
  const Json &trials = doc.array("trials"); // written from the start, even when none finished
  for (std::size_t i = 0; i < trials.size(); ++i)
    file.trials.push_back(trialFromJson(trials[i], path, "trials[" + std::to_string(i) + "]"));
  const Json &pareto = doc.array("pareto", true);
  for (std::size_t i = 0; i < pareto.size(); ++i) {
    if (!pareto[i].is_string())
      doc.fail("pareto[" + std::to_string(i) + "]", "must be a string");
    file.pareto.push_back(pareto[i].get<std::string>());
  }
  file.seeds = static_cast<int>(doc.integer("seeds", 1, 1, 1000));
  const Json &finalists = doc.array("finalists", true);
  for (std::size_t i = 0; i < finalists.size(); ++i)
    file.finalists.push_back(finalistFromJson(finalists[i], path, "finalists[" + std::to_string(i) + "]"));
  if (doc.has("verdict")) {
    const JsonFields v(doc.object("verdict"), path, "verdict");
    for (const auto &[key, slot] :
         {std::pair{"runner_up", &file.verdict.runnerUp}, {"baseline", &file.verdict.baseline}})
      if (v.has(key))
        *slot = comparisonFromJson(v.object(key), path, v.path(key));
    file.verdict.sentence = v.string("sentence", "");
  }
  file.reason = doc.string("reason", "");
  if (doc.has("cost")) {
    const JsonFields c(doc.object("cost"), path, "cost");
    file.cost.seconds = c.number("seconds", 0.0);
    file.cost.seedSeconds = c.number("seed_seconds", 0.0);
    file.cost.fullSeconds = c.number("full_seconds", 0.0);
  }
  file.winner = doc.string("winner", "");
  file.rungs = static_cast<int>(doc.integer("rungs", 0, 0, 64));
  file.outOfBudget = doc.boolean("out_of_budget", false);
  return file;
}

SearchResult runSearch(const Project &project, const Validation &validation, const SearchOptions &options,
                       SearchObserver *observer) {
  Search search(project, validation, options, observer);
  return search.run();
}

} // namespace particle
