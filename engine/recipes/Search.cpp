#include "recipes/Search.h"

#include "project/ProjectPaths.h"
#include "base/JsonFields.h"
#include "recipes/Processes.h"
#include "recipes/RunPlan.h"
#include "project/TrainingSpec.h"
#include "train/RunFolder.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
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
    if (t.variant == variant && t.ok() && (!best || t.rung > best->rung))
      best = &t;
  return best;
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
          {"rung", t.rung},
          {"epochs", t.epochs},
          {"status", t.status},
          {"message", t.message},
          {"val_accuracy", t.valAccuracy},
          {"test_accuracy", t.testAccuracy},
          {"train_accuracy", t.trainAccuracy},
          {"unique_parameters", t.uniqueParameters},
          {"total_parameters", t.totalParameters},
          {"us_per_sample", t.usPerSample},
          {"seconds", t.seconds},
          {"run", t.runDir}};
}

// One trial of a search.json, each field type-checked (an edited or damaged file is refused with
// its name and the field, never a raw type error).
TrialRecord trialFromJson(const Json &j, const std::string &file, const std::string &where) {
  const JsonFields f(j, file, where);
  TrialRecord t;
  t.variant = f.string("variant");
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
  t.seconds = f.number("seconds", 0.0);
  t.runDir = f.string("run", "");
  return t;
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
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads_ = std::max(1, cores / std::max(1, options.jobs));
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
      // variants, when its first rung is expected to fit.
      if (bracket > 0 && (!deadline_ || result_.outOfBudget || !bracketFits(names.size())))
        break;
      next += names.size();
      result_.started.insert(result_.started.end(), names.begin(), names.end());
      observer_->onBracket(bracket, static_cast<int>(names.size()));
      runBracket(bracket, names, budgetLeft);
      if (options_.budget.trials)
        break;
    }
    result_.winner = winner();
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

  // Whether a bracket of `n` more variants can train its first rung in the time left (from the
  // first rungs so far).
  bool bracketFits(std::size_t n) const {
    double sum = 0;
    int count = 0;
    for (const auto &t : result_.trials)
      if (t.rung == 0 && t.ok()) {
        sum += t.seconds;
        ++count;
      }
    if (count == 0)
      return false;
    const double seconds = sum / count * static_cast<double>(n) / std::max(1, options_.jobs);
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)) <
           *deadline_;
  }

  // The variant trained longest, and of those the best.
  std::string winner() const {
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
    for (const char *k : {"graph_hash", "seed", "first_epochs", "bracket", "order"})
      if (!read.settings.contains(k) || read.settings[k] != want[k])
        throw Error(ErrorKind::Usage, options_.outDir + " holds a search with other settings (" + k +
                                          " differs); give another --out, or --force to start over");
    for (const TrialRecord &r : read.trials)
      if (r.status != "out of budget")
        memo_[{r.variant, r.rung}] = r;
  }

  // search.json, trials.csv and pareto.json as they stand (after every trial).
  void save() {
    result_.pareto = paretoSet(result_);
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
    Json doc = {{"project", project_.name}, {"settings", settings()},
                {"variants", variants},     {"trials", trials},
                {"rungs", result_.rungs},   {"pareto", result_.pareto},
                {"winner", result_.winner}, {"out_of_budget", result_.outOfBudget}};
    writeFileAtomically(options_.outDir + "/search.json", doc.dump(2) + "\n");
    std::string csv = "variant,rung,epochs,status,val_accuracy,test_accuracy,train_accuracy,unique_parameters,"
                      "total_parameters,us_per_sample,seconds,parts,width,combine,sharing,message\n";
    for (const auto &t : result_.trials) {
      const Variant *v = variant(t.variant);
      std::string message = t.message;
      std::replace(message.begin(), message.end(), '"', '\'');
      std::ostringstream row;
      row << t.variant << "," << t.rung << "," << t.epochs << "," << t.status << "," << t.valAccuracy << ","
          << t.testAccuracy << "," << t.trainAccuracy << "," << t.uniqueParameters << "," << t.totalParameters << ","
          << t.usPerSample << "," << t.seconds;
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
    seconds /= std::max(1, options_.jobs);
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)) <
           *deadline_;
  }

  struct Running {
    pid_t pid = 0;
    TrialRecord record;
    std::chrono::steady_clock::time_point started;
    std::string errFile;
  };

  void runRung(int rung, int epochs, const std::vector<std::string> &names) {
    std::vector<std::string> queue;
    for (const auto &name : names) {
      if (auto m = memo_.find({name, rung}); m != memo_.end()) {
        result_.trials.push_back(m->second);
        observer_->onTrialFinished(m->second, true);
        save();
      } else {
        queue.push_back(name);
      }
    }
    std::vector<Running> running;
    std::size_t next = 0;
    while (next < queue.size() || !running.empty()) {
      const bool late = deadline_ && std::chrono::steady_clock::now() >= *deadline_;
      while (!late && next < queue.size() && static_cast<int>(running.size()) < std::max(1, options_.jobs))
        running.push_back(launch(queue[next++], rung, epochs));
      if (late) {
        result_.outOfBudget = result_.outOfBudget || next < queue.size() || !running.empty();
        for (std::size_t i = next; i < queue.size(); ++i) {
          TrialRecord r;
          r.variant = queue[i];
          r.rung = rung;
          r.epochs = epochs;
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
  }

  static double secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  Running launch(const std::string &name, int rung, int epochs) {
    Running r;
    r.record.variant = name;
    r.record.rung = rung;
    r.record.epochs = epochs;
    r.record.runDir = runDir(name);
    const std::string checkpoint = runDir(name) + "/checkpoint.pt";
    SpawnSpec s;
    s.program = options_.program;
    s.args = {"train",     variantFile(name),        "--out",   runDir(name), "--epochs", std::to_string(epochs),
              "--threads", std::to_string(threads_), "--nproc", "1"};
    if (rung > 0 && fs::exists(checkpoint)) {
      s.args.emplace_back("--resume");
      s.args.push_back(checkpoint);
    } else {
      s.args.emplace_back("--force"); // a trial cut short earlier starts over
    }
    const std::string stem = options_.outDir + "/logs/" + name + ".rung" + std::to_string(rung);
    s.stdoutFile = stem + ".log";
    s.stderrFile = r.errFile = stem + ".err";
    s.unset = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", kClaimedByParentVariable};
    s.env = {std::string(kParentPidVariable) + "=" + std::to_string(::getpid())}; // a killed search ends its trials
    r.started = std::chrono::steady_clock::now();
    observer_->onTrialStarted(r.record);
    try {
      r.pid = spawnProcess(s);
    } catch (const Error &e) {
      throw Error(ErrorKind::Training, std::string("search: ") + e.what());
    }
    return r;
  }

  void complete(Running &run, const ChildExit &end) {
    TrialRecord &t = run.record;
    t.seconds = secondsSince(run.started);
    std::string unreadable;
    bool read = false;
    if (end.code == 0) {
      try {
        const RunSummary summary = readRunSummary(t.runDir).summary;
        const std::string status = statusName(summary.status);
        t.status = status == "early-stopped" || status == "completed" ? "completed" : status;
        t.valAccuracy = summary.valAccuracy;
        t.testAccuracy = summary.testAccuracy;
        t.uniqueParameters = summary.uniqueParameters;
        t.totalParameters = summary.totalParameters;
        t.usPerSample = summary.inferenceUsPerSample;
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
  std::map<std::pair<std::string, int>, TrialRecord> memo_;
  int threads_ = 1;
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
