#include "recipes/Transfer.h"

#include "base/Files.h"
#include "base/Folders.h"
#include "base/JsonFields.h"
#include "project/ProjectCheck.h"
#include "project/ProjectPaths.h"
#include "project/TrainingSpec.h"
#include "recipes/Trials.h"
#include "recipes/Verdict.h"
#include "recipes/Variants.h"
#include "train/RunFolder.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace particle {

namespace {

// "p0" → {"p0", "p0"}; "p0=trunk" → {"p0", "trunk"}.
std::pair<std::string, std::string> nodeMapping(const std::string &entry) {
  const auto eq = entry.find('=');
  if (eq == std::string::npos)
    return {entry, entry};
  return {entry.substr(0, eq), entry.substr(eq + 1)};
}

std::string trialName(const std::string &mode, int64_t size, int seed) {
  return mode + "-n" + std::to_string(size) + "-s" + std::to_string(seed);
}

// The parameters a trial trains: after freeze and adapters, a share group's module once.
int64_t trainedParameters(const Project &p) {
  return validate(p).trainableParameters;
}

Json toJson(const TransferTrial &t) {
  return {{"mode", t.mode},
          {"size", t.size},
          {"seed", t.seed},
          {"status", t.status},
          {"message", t.message},
          {"test_accuracy", t.testAccuracy},
          {"val_accuracy", t.valAccuracy},
          {"trained_parameters", t.trainedParameters},
          {"seconds", t.seconds},
          {"run", t.runDir}};
}

TransferTrial trialFromJson(const Json &j, const std::string &file, const std::string &where) {
  const JsonFields f(j, file, where);
  TransferTrial t;
  t.mode = f.string("mode");
  t.size = f.integer("size", std::nullopt, 1);
  t.seed = static_cast<int>(f.integer("seed", std::nullopt, 0, 1 << 20));
  t.status = f.string("status");
  if (t.status != "completed" && t.status != "failed" && t.status != "diverged")
    f.fail("status", "is \"" + t.status + "\", not one of completed, failed, diverged");
  t.message = f.string("message", "");
  for (auto [key, value] : {std::pair{"test_accuracy", &t.testAccuracy}, {"val_accuracy", &t.valAccuracy}}) {
    *value = f.number(key, 0.0);
    if (!(*value >= 0 && *value <= 1))
      f.fail(key, "is " + std::to_string(*value) + ", not an accuracy between 0 and 1");
  }
  t.trainedParameters = f.integer("trained_parameters", 0, 0);
  t.seconds = f.number("seconds", 0.0);
  t.runDir = f.string("run", "");
  return t;
}

class Transfer {
public:
  Transfer(const Project &source, const Project &target, const TransferOptions &options, TransferObserver *observer)
      : source_(source), target_(target), options_(options), observer_(observer ? observer : &silent_) {
    if (options.nodes.empty())
      throw Error(ErrorKind::Usage, "transfer: name the nodes that take the particle (--nodes p0)");
    if (options.sizes.empty() || options.seeds < 1)
      throw Error(ErrorKind::Usage, "transfer: give at least one size and one seed");
    for (const auto &mode : options.modes)
      if (std::find(transferModes().begin(), transferModes().end(), mode) == transferModes().end())
        throw Error(ErrorKind::Usage,
                    "transfer: unknown mode \"" + mode + "\" (frozen, lora, finetune, scratch, monolithic)");
    for (const auto &entry : options.nodes) {
      const auto [to, from] = nodeMapping(entry);
      if (!target.graph.find(to))
        throw Error(ErrorKind::Invalid,
                    "transfer --nodes: no node '" + to + "' in the target project '" + target.name + "'");
      if (!source.graph.find(from))
        throw Error(ErrorKind::Invalid,
                    "transfer --nodes: no node '" + from + "' in the source project '" + source.name + "'");
    }
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads_ = std::max(1, cores / std::max(1, options.jobs));
    epochs_ = options.epochs > 0 ? options.epochs : parseTrainingSpec(target.training).epochs;
    r_.source = source.name;
    r_.target = target.name;
    r_.nodes = options.nodes;
    r_.sizes = options.sizes;
    r_.seeds = options.seeds;
    r_.epochs = epochs_;
    r_.settings = {{"source_graph", graphHash(source.graph)},
                   {"target_graph", graphHash(target.graph)},
                   {"source_dataset", source.dataset},
                   {"target_dataset", target.dataset},
                   {"nodes", options.nodes},
                   {"epochs", epochs_},
                   {"min_steps", options.minSteps},
                   {"source_epochs", options.sourceEpochs},
                   {"source_checkpoint", options.sourceCheckpoint},
                   {"lora", {{"rank", options.loraRank}, {"alpha", options.loraAlpha}}}};
  }

  TransferResult run() {
    for (const char *sub : {"/projects", "/trials", "/logs"})
      fs::create_directories(options_.outDir + sub);
    loadEarlier();
    trainSource();
    // The modes this target graph has: the monolithic baseline needs a decomposition to undo.
    for (const auto &mode : options_.modes) {
      try {
        r_.trainedParameters[mode] = trainedParameters(transferProject(target_, mode, options_, checkpoint_, 1, 0));
        r_.modes.push_back(mode);
      } catch (const Error &e) {
        if (mode != "monolithic")
          throw;
        r_.notes += std::string(r_.notes.empty() ? "" : " ") + "monolithic left out: " + e.what() + ".";
      }
    }
    std::vector<TransferTrial> queue, reused;
    for (int64_t size : options_.sizes)
      for (int seed = 0; seed < options_.seeds; ++seed)
        for (const auto &mode : r_.modes) {
          TransferTrial t;
          t.mode = mode;
          t.size = size;
          t.seed = seed;
          t.runDir = options_.outDir + "/trials/" + trialName(mode, size, seed);
          t.trainedParameters = r_.trainedParameters[mode];
          if (auto done = earlier_.find(trialName(mode, size, seed)); done != earlier_.end())
            reused.push_back(done->second);
          else
            queue.push_back(t);
        }
    observer_->onPlan(static_cast<int>(reused.size() + queue.size()));
    for (const auto &t : reused) {
      r_.trials.push_back(t);
      observer_->onTrialFinished(t, true);
    }
    save();
    runQueue(queue);
    return r_;
  }

private:
  // A transfer run earlier in this folder with the same settings: its completed trials stand.
  void loadEarlier() {
    const std::string file = options_.outDir + "/transfer.json";
    if (!fs::exists(file))
      return;
    const TransferResult earlier = readTransferFile(file);
    if (earlier.settings != r_.settings)
      throw Error(ErrorKind::File, options_.outDir +
                                       ": holds a transfer with other settings (projects, nodes, epochs or the "
                                       "source); use another --out, or --force to start over");
    for (const auto &t : earlier.trials)
      if (t.ok())
        earlier_[trialName(t.mode, t.size, t.seed)] = t;
    if (!earlier.sourceCheckpoint.empty() && fs::exists(earlier.sourceCheckpoint)) {
      checkpoint_ = earlier.sourceCheckpoint;
      r_.sourceCheckpoint = checkpoint_;
      r_.sourceTestAccuracy = earlier.sourceTestAccuracy;
    }
  }

  void trainSource() {
    if (!checkpoint_.empty())
      return;
    if (!options_.sourceCheckpoint.empty()) {
      checkpoint_ = fs::absolute(options_.sourceCheckpoint).lexically_normal().string();
      r_.sourceCheckpoint = checkpoint_;
      // The run's own summary, when the checkpoint sits in a run folder.
      try {
        r_.sourceTestAccuracy = readRunSummary(fs::path(checkpoint_).parent_path().string()).summary.testAccuracy;
      } catch (const Error &) {
        r_.sourceTestAccuracy = 0;
      }
      return;
    }
    const std::string dir = fs::absolute(options_.outDir + "/source").lexically_normal().string();
    const std::string file = options_.outDir + "/projects/source.particle.json";
    saveProject(projectWithAbsolutePaths(source_), file);
    observer_->onSourceStarted(dir);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const TrialOutcome source =
        runTrials(options_.program,
                  {{"source", trainArgs(file, dir, cores, dataCacheFolder(options_.outDir), options_.sourceEpochs),
                    options_.outDir + "/logs/source", dir}},
                  1)[0];
    if (!source.ok())
      throw Error(ErrorKind::Training,
                  "transfer: the source run failed (" + options_.outDir + "/logs/source.err: " + source.message + ")");
    checkpoint_ = dir + "/checkpoint.pt";
    r_.sourceCheckpoint = checkpoint_;
    r_.sourceTestAccuracy = source.summary->testAccuracy;
    observer_->onSourceFinished(source.summary->testAccuracy, source.seconds);
    save();
  }

  void runQueue(std::vector<TransferTrial> queue) {
    std::vector<TrialSpec> specs;
    for (const auto &t : queue) {
      const std::string name = trialName(t.mode, t.size, t.seed);
      const std::string file = options_.outDir + "/projects/" + name + ".particle.json";
      saveProject(transferProject(target_, t.mode, options_, checkpoint_, t.size, t.seed), file);
      specs.push_back({name, trainArgs(file, t.runDir, threads_, dataCacheFolder(options_.outDir)),
                       options_.outDir + "/logs/" + name, t.runDir});
    }
    runTrials(options_.program, specs, options_.jobs, [&](std::size_t i, const TrialOutcome &o) {
      TransferTrial &t = queue[i];
      t.status = o.status;
      t.message = o.message;
      t.seconds = o.seconds;
      if (o.summary) {
        t.testAccuracy = o.summary->testAccuracy;
        t.valAccuracy = o.summary->valAccuracy;
      }
      r_.trials.push_back(t);
      observer_->onTrialFinished(t, false);
      save();
    });
  }

  void save() {
    writeFileAtomically(options_.outDir + "/transfer.json", transferJson(r_).dump(2) + "\n");
    writeFileAtomically(options_.outDir + "/transfer.csv", transferCsv(r_));
  }

  const Project &source_, &target_;
  TransferOptions options_;
  TransferObserver silent_;
  TransferObserver *observer_;
  TransferResult r_;
  std::map<std::string, TransferTrial> earlier_;
  std::string checkpoint_;
  int threads_ = 1, epochs_ = 1;
};

} // namespace

std::vector<TransferCell> TransferResult::table() const {
  std::vector<TransferCell> out;
  for (const auto &mode : modes)
    for (int64_t size : sizes) {
      TransferCell c;
      c.mode = mode;
      c.size = size;
      for (int seed = 0; seed < seeds; ++seed)
        for (const auto &t : trials)
          if (t.ok() && t.mode == mode && t.size == size && t.seed == seed)
            c.values.push_back(t.testAccuracy);
      const Spread spread = spreadOf(c.values);
      c.runs = spread.n;
      c.mean = spread.mean;
      c.sd = spread.sd;
      out.push_back(c);
    }
  return out;
}

Project transferProject(const Project &target, const std::string &mode, const TransferOptions &options,
                        const std::string &checkpoint, int64_t size, int seed) {
  Project p = projectWithAbsolutePaths(target);
  if (mode == "monolithic") {
    const Validation v = validate(target);
    VariantFilter filter;
    filter.add("parts=whole", true);
    filter.add("width=w1", true);
    std::vector<Variant> variants;
    try {
      variants = makeVariants(target, v, filter);
    } catch (const Error &e) {
      throw Error(ErrorKind::Invalid, "the target graph has no monolithic baseline (" + std::string(e.what()) + ")");
    }
    const auto baseline = std::find_if(variants.begin(), variants.end(), [](const Variant &x) { return x.baseline; });
    if (baseline == variants.end())
      throw Error(ErrorKind::Invalid, "the target graph's monolithic baseline does not validate");
    p.graph = baseline->project.graph;
  } else if (mode != "scratch") {
    const Validation v = mode == "lora" ? validate(target) : Validation();
    for (const auto &entry : options.nodes) {
      const auto [to, from] = nodeMapping(entry);
      const Node *named = p.graph.find(to);
      if (!named)
        throw Error(ErrorKind::Invalid,
                    "transfer --nodes: no node '" + to + "' in the target project '" + target.name + "'");
      const std::string group = named->share;
      for (auto &n : p.graph.nodes) {
        if (n.id != to && (group.empty() || n.share != group))
          continue;
        n.init = NodeInit{checkpoint, from};
        n.freeze = mode == "frozen";
        // LoRA adapts Linear and convolution layers; a node without any (an Embedding) stays
        // as the particle has it, frozen.
        if (mode == "lora") {
          const NodeInfo *info = v.info(n.id);
          if (info && !info->adaptable.empty())
            n.adapter = NodeAdapter{"lora", options.loraRank, options.loraAlpha};
          else
            n.freeze = true;
        }
      }
    }
  }
  p.name = target.name + "-" + trialName(mode, size, seed);
  p.path.clear();
  p.ui = Json();
  p.dataset["limit"] = size;
  p.dataset["limit_seed"] = seed + 1; // 0 would take the first samples, the same for every seed
  p.training["seed"] = seed;
  const TrainingSpec spec = parseTrainingSpec(target.training);
  const int64_t batches = std::max<int64_t>(1, (size + spec.batchSize - 1) / spec.batchSize);
  const int64_t epochs = options.epochs > 0 ? options.epochs : spec.epochs;
  p.training["epochs"] = std::max(epochs, (options.minSteps + batches - 1) / batches);
  // The shares are for the Train tab's charts; a trial reports only its accuracy.
  p.training["contribution_samples"] = 0;
  return p;
}

TransferResult runTransfer(const Project &source, const Project &target, const TransferOptions &options,
                           TransferObserver *observer) {
  return Transfer(source, target, options, observer).run();
}

Json transferJson(const TransferResult &r) {
  Json trials = Json::array();
  for (const auto &t : r.trials)
    trials.push_back(toJson(t));
  Json table = Json::array();
  for (const auto &c : r.table())
    table.push_back(
        {{"mode", c.mode}, {"size", c.size}, {"runs", c.runs}, {"mean", c.mean}, {"sd", c.sd}, {"values", c.values}});
  Json trained = Json::object();
  for (const auto &[mode, n] : r.trainedParameters)
    trained[mode] = n;
  return {{"type", "transfer"},
          {"source", r.source},
          {"target", r.target},
          {"source_checkpoint", r.sourceCheckpoint},
          {"source_test_accuracy", r.sourceTestAccuracy},
          {"nodes", r.nodes},
          {"modes", r.modes},
          {"sizes", r.sizes},
          {"seeds", r.seeds},
          {"epochs", r.epochs},
          {"trained_parameters", trained},
          {"notes", r.notes},
          {"settings", r.settings},
          {"table", table},
          {"trials", trials}};
}

std::string transferCsv(const TransferResult &r) {
  std::ostringstream out;
  out << "mode,size,seed,test_accuracy,trained_parameters,status\n";
  for (const auto &t : r.trials)
    out << t.mode << "," << t.size << "," << t.seed << "," << t.testAccuracy << "," << t.trainedParameters << ","
        << t.status << "\n";
  return out.str();
}

TransferResult readTransferFile(const std::string &path) {
  const Json j = parseJson(readTextFile(path), path);
  const JsonFields f(j, path);
  if (f.string("type") != "transfer")
    f.fail("type", "is not \"transfer\"");
  TransferResult r;
  r.source = f.string("source");
  r.target = f.string("target");
  r.sourceCheckpoint = f.string("source_checkpoint", "");
  r.sourceTestAccuracy = f.number("source_test_accuracy", 0.0);
  r.seeds = static_cast<int>(f.integer("seeds", std::nullopt, 1, 1 << 20));
  r.epochs = static_cast<int>(f.integer("epochs", 0, 0, 1 << 30));
  r.notes = f.string("notes", "");
  const auto list = [&](const char *key) -> const Json & {
    if (!j.contains(key) || !j[key].is_array())
      f.fail(key, "must be a list");
    return j[key];
  };
  for (const auto &x : list("nodes")) {
    if (!x.is_string())
      f.fail("nodes", "must list node ids");
    r.nodes.push_back(x.get<std::string>());
  }
  for (const auto &x : list("modes")) {
    if (!x.is_string() ||
        std::find(transferModes().begin(), transferModes().end(), x.get<std::string>()) == transferModes().end())
      f.fail("modes", "lists " + x.dump() + ", not a transfer mode");
    r.modes.push_back(x.get<std::string>());
  }
  for (const auto &x : list("sizes")) {
    if (!x.is_number_integer() || x.get<int64_t>() < 1)
      f.fail("sizes", "must list whole numbers of samples");
    r.sizes.push_back(x.get<int64_t>());
  }
  if (j.contains("trained_parameters") && j["trained_parameters"].is_object())
    for (auto it = j["trained_parameters"].begin(); it != j["trained_parameters"].end(); ++it) {
      if (!it.value().is_number_integer())
        f.fail("trained_parameters", "must map modes to whole numbers");
      r.trainedParameters[it.key()] = it.value().get<int64_t>();
    }
  r.settings = j.value("settings", Json());
  const Json &trials = list("trials");
  for (std::size_t i = 0; i < trials.size(); ++i)
    r.trials.push_back(trialFromJson(trials[i], path, "trials[" + std::to_string(i) + "]"));
  return r;
}

} // namespace particle
