#include "recipes/LearningCurve.h"

#include "base/Files.h"
#include "base/JsonFields.h"
#include "data/DatasetSpec.h"
#include "project/ProjectPaths.h"
#include "project/TrainingSpec.h"
#include "recipes/Search.h"
#include "recipes/Transfer.h"
#include "recipes/Trials.h"
#include "train/RunFolder.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

namespace fs = std::filesystem;

namespace particle {

namespace {

constexpr const char *kBaselineName = "monolithic-w1";

std::string runName(const std::string &model, int64_t size, int seed) {
  return model + "-n" + std::to_string(size) + "-s" + std::to_string(seed);
}

// "csv: 100 train, 146 validation, …" (the run's data set as summary.json describes it) → 100.
int64_t trainSamplesOf(const std::string &description) {
  const auto colon = description.find(": ");
  const auto word = description.find(" train");
  if (colon == std::string::npos || word == std::string::npos || word < colon)
    return 0;
  try {
    return std::stoll(description.substr(colon + 2, word - colon - 2));
  } catch (const std::exception &) {
    return 0;
  }
}

Json runJson(const CurveRun &r) {
  return {{"seed", r.seed},
          {"run_dir", r.runDir},
          {"status", r.status},
          {"message", r.message},
          {"test_accuracy", r.testAccuracy},
          {"train_accuracy", r.trainAccuracy},
          {"val_accuracy", r.valAccuracy},
          {"epochs", r.epochs},
          {"train_samples", r.trainSamples},
          {"seconds", r.seconds}};
}

CurveRun runFromJson(const Json &j, const std::string &file, const std::string &where) {
  const JsonFields f(j, file, where);
  CurveRun r;
  r.seed = static_cast<int>(f.integer("seed", std::nullopt, 0, 1 << 20));
  r.runDir = f.string("run_dir", "");
  r.status = f.string("status");
  if (r.status != "completed" && r.status != "failed" && r.status != "diverged")
    f.fail("status", "is \"" + r.status + "\", not one of completed, failed, diverged");
  r.message = f.string("message", "");
  for (auto [key, value] : {std::pair{"test_accuracy", &r.testAccuracy},
                            {"train_accuracy", &r.trainAccuracy},
                            {"val_accuracy", &r.valAccuracy}}) {
    *value = f.number(key, 0.0);
    if (!(*value >= 0 && *value <= 1))
      f.fail(key, "is " + std::to_string(*value) + ", not an accuracy between 0 and 1");
  }
  r.epochs = static_cast<int>(f.integer("epochs", 0, 0, 1 << 30));
  r.trainSamples = f.integer("train_samples", 0, 0);
  r.seconds = f.number("seconds", 0.0);
  return r;
}

// One model of the curve and the project each of its runs trains.
struct ModelPlan {
  CurveModel model;
  Project project; // the graph on the project's data and training
};

class Curve {
public:
  Curve(const Project &project, const CurveOptions &options, CurveObserver *observer)
      : project_(project), options_(options), observer_(observer ? observer : &silent_) {
    if (options.sizes.empty())
      throw Error(ErrorKind::Usage, "learning-curve --sizes: give at least one number of training samples");
    for (int64_t n : options.sizes)
      if (n < 1)
        throw Error(ErrorKind::Usage,
                    "learning-curve --sizes: " + std::to_string(n) + " is not a number of training samples (≥ 1)");
    if (options.seeds < 1)
      throw Error(ErrorKind::Usage, "learning-curve --seeds: give at least one seed");
    checkSizesFit();
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads_ = std::max(1, cores / std::max(1, options.jobs));
    transfer_.epochs = options.epochs;
    transfer_.minSteps = options.minSteps;
    planModels();
    r_.project = project.name;
    r_.sizes = options.sizes;
    r_.seeds = options.seeds;
    r_.epochs = options.epochs > 0 ? options.epochs : parseTrainingSpec(project.training).epochs;
    r_.minSteps = options.minSteps;
    r_.search = options.searchDir.empty() ? "" : fs::absolute(options.searchDir).lexically_normal().string();
    Json graphs = Json::object();
    for (const auto &m : plans_)
      graphs[m.model.name] = graphHash(m.project.graph);
    // Sizes and seeds are not settings: a curve may gain sizes or seeds in the same folder.
    r_.settings = {{"graphs", graphs},
                   {"dataset", projectWithAbsolutePaths(project).dataset},
                   {"training", project.training},
                   {"epochs", r_.epochs},
                   {"min_steps", options.minSteps}};
  }

  CurveResult run() {
    for (const char *sub : {"/projects", "/runs", "/logs"})
      fs::create_directories(options_.outDir + sub);
    loadEarlier();
    for (const auto &m : plans_) {
      CurveModel model = m.model;
      for (int64_t size : options_.sizes) {
        CurvePoint point;
        point.size = size;
        model.points.push_back(point);
      }
      r_.models.push_back(model);
    }
    // Size by size, each seed's models side by side: a curve cut short has whole comparisons.
    std::vector<TrialSpec> specs;
    std::vector<std::tuple<std::size_t, std::size_t, int>> where;       // model, point, seed of each spec
    std::vector<std::tuple<std::size_t, std::size_t, CurveRun>> reused; // model, point, run
    for (std::size_t p = 0; p < options_.sizes.size(); ++p)
      for (int seed = 0; seed < options_.seeds; ++seed)
        for (std::size_t m = 0; m < plans_.size(); ++m) {
          const int64_t size = options_.sizes[p];
          const std::string name = runName(plans_[m].model.name, size, seed);
          if (auto done = earlier_.find(name); done != earlier_.end()) {
            reused.emplace_back(m, p, done->second);
            continue;
          }
          const std::string file = options_.outDir + "/projects/" + name + ".particle.json";
          const std::string runDir = fs::absolute(options_.outDir + "/runs/" + name).lexically_normal().string();
          saveProject(runProject(plans_[m], size, seed), file);
          specs.push_back({name, trainArgs(file, runDir, threads_, dataCacheFolder(options_.outDir)),
                           options_.outDir + "/logs/" + name, runDir});
          where.emplace_back(m, p, seed);
        }
    observer_->onPlan(static_cast<int>(reused.size() + specs.size()));
    for (const auto &[m, p, run] : reused) {
      place(m, p, run);
      observer_->onRunFinished(r_.models[m], options_.sizes[p], run, true);
    }
    save();
    runTrials(options_.program, specs, options_.jobs, [&](std::size_t i, const TrialOutcome &o) {
      const auto [m, p, seed] = where[i];
      const CurveRun run = readRun(specs[i], o, seed);
      place(m, p, run);
      observer_->onRunFinished(r_.models[m], options_.sizes[p], run, false);
      save();
    });
    writeCharts();
    return r_;
  }

private:
  // Every size must fit the training split (without the project's own limit): a larger N would
  // silently train on fewer samples than the curve says.
  void checkSizesFit() const {
    Json dataset = projectWithAbsolutePaths(project_).dataset;
    dataset.erase("limit");
    dataset.erase("limit_seed");
    const DataInfo info = probeDataset(parseDatasetSpec(dataset, project_.baseDir()));
    if (info.trainCount < 0)
      return; // a class selection: the split is known only once loaded
    for (int64_t n : options_.sizes)
      if (n > info.trainCount)
        throw Error(ErrorKind::Usage, "learning-curve --sizes: " + std::to_string(n) + " is more than the " +
                                          std::to_string(info.trainCount) + " samples of " + project_.name +
                                          "'s training split");
  }

  void planModels() {
    ModelPlan graph;
    graph.model.name = project_.name;
    graph.model.role = "graph";
    graph.project = project_;
    plans_.push_back(graph);
    try {
      ModelPlan baseline;
      baseline.model.name = kBaselineName;
      baseline.model.role = "baseline";
      baseline.project = project_;
      baseline.project.graph = transferProject(project_, "monolithic", transfer_, "", 1, 0).graph;
      plans_.push_back(baseline);
    } catch (const Error &e) {
      r_.notes = std::string("no baseline: ") + e.what() + ".";
    }
    if (options_.searchDir.empty())
      return;
    const std::string file = options_.searchDir + "/search.json";
    const SearchFile search = readSearchFile(file);
    if (search.settings.is_object() && search.settings.contains("graph_hash") &&
        search.settings["graph_hash"] != graphHash(project_.graph))
      throw Error(ErrorKind::File,
                  "learning-curve --search: " + file + " is a search of another graph than " + project_.name + "'s");
    for (const auto &name : search.pareto) {
      const SearchVariant *v = search.variant(name);
      // The graph and the baseline are on the curve already.
      if (!v || v->baseline || v->original)
        continue;
      ModelPlan plan;
      plan.model.name = name;
      plan.model.role = "pareto";
      plan.project = project_;
      plan.project.graph = loadProject(options_.searchDir + "/variants/" + name + ".particle.json").graph;
      plans_.push_back(plan);
    }
  }

  // The model's project for one run: N samples drawn with the seed (the transfer's draw, so that
  // every model of a seed sees the same samples), --epochs and --min-steps written in.
  Project runProject(const ModelPlan &m, int64_t size, int seed) const {
    Project p = transferProject(m.project, "scratch", transfer_, "", size, seed);
    p.name = project_.name + "-" + runName(m.model.name, size, seed);
    return p;
  }

  CurveRun readRun(const TrialSpec &spec, const TrialOutcome &o, int seed) const {
    CurveRun run;
    run.seed = seed;
    run.runDir = spec.runDir;
    run.status = o.status;
    run.message = o.message;
    run.seconds = o.seconds;
    if (!o.summary)
      return run;
    run.testAccuracy = o.summary->testAccuracy;
    run.epochs = o.summary->epochs;
    try {
      run.trainSamples = trainSamplesOf(readRunSummary(spec.runDir).dataset);
      const auto epochs = readRunMetrics(spec.runDir);
      if (epochs.empty())
        throw Error(ErrorKind::File, spec.runDir + "/metrics.csv has no epochs");
      run.trainAccuracy = epochs.back().trainAccuracy;
      run.valAccuracy = epochs.back().valAccuracy;
    } catch (const Error &e) {
      run.status = "failed";
      run.message = e.what();
    }
    return run;
  }

  void place(std::size_t m, std::size_t p, const CurveRun &run) {
    auto &runs = r_.models[m].points[p].runs;
    runs.push_back(run);
    std::sort(runs.begin(), runs.end(), [](const CurveRun &a, const CurveRun &b) { return a.seed < b.seed; });
    r_.summarise();
  }

  // A curve run earlier in this folder with the same settings: its completed runs stand.
  void loadEarlier() {
    const std::string file = options_.outDir + "/curve.json";
    if (!fs::exists(file))
      return;
    const CurveResult earlier = readCurveFile(file);
    if (earlier.settings != r_.settings)
      throw Error(ErrorKind::File, options_.outDir +
                                       ": holds a learning curve with other settings (graphs, data, training, "
                                       "epochs or minimum steps); use another --out, or --force to start over");
    for (const auto &m : earlier.models)
      for (const auto &p : m.points)
        for (const auto &run : p.runs)
          if (run.ok())
            earlier_[runName(m.name, p.size, run.seed)] = run;
  }

  void save() {
    writeFileAtomically(options_.outDir + "/curve.json", curveJson(r_).dump(2) + "\n");
    writeFileAtomically(options_.outDir + "/curve.csv", curveCsv(r_));
  }

  void writeCharts() const {
    const chart::XYChart accuracy = accuracyChart(r_), gap = gapChart(r_);
    writeFileAtomically(options_.outDir + "/curve.svg", chart::toSvg(accuracy, 800, 500));
    writeFileAtomically(options_.outDir + "/gap.svg", chart::toSvg(gap, 800, 500));
    chart::writePng(accuracy, options_.outDir + "/curve.png", 800, 500);
    chart::writePng(gap, options_.outDir + "/gap.png", 800, 500);
  }

  const Project &project_;
  CurveOptions options_;
  CurveObserver silent_;
  CurveObserver *observer_;
  TransferOptions transfer_;
  std::vector<ModelPlan> plans_;
  CurveResult r_;
  std::map<std::string, CurveRun> earlier_;
  int threads_ = 1;
};

// One series per model: the mean over seeds at each size with completed runs, ± one sd.
chart::XYChart curveChart(const CurveResult &r, Spread CurvePoint::*quantity) {
  chart::XYChart c;
  c.logX = true;
  c.xLabel = "training samples N (log scale)";
  int others = 0;
  for (const auto &m : r.models) {
    chart::Series s;
    s.name = m.name + (m.role == "pareto" ? "" : " (" + m.role + ")");
    s.color = chart::roleColor(m.role, others); // as the app and the report colour them
    for (const auto &p : m.points) {
      const Spread &v = p.*quantity;
      if (v.n == 0)
        continue;
      s.x.push_back(static_cast<double>(p.size));
      s.y.push_back(100 * v.mean);
      s.low.push_back(100 * (v.mean - v.sd));
      s.high.push_back(100 * (v.mean + v.sd));
    }
    c.series.push_back(s);
  }
  return c;
}

std::string seedsNote(const CurveResult &r) {
  return ", mean ± sd over " + std::to_string(r.seeds) + " seed" + (r.seeds == 1 ? "" : "s");
}

} // namespace

const CurveModel *CurveResult::model(const std::string &role) const {
  for (const auto &m : models)
    if (m.role == role)
      return &m;
  return nullptr;
}

void CurveResult::summarise() {
  for (auto &m : models)
    for (auto &p : m.points) {
      std::vector<double> test, train, gap;
      for (const auto &run : p.runs)
        if (run.ok()) {
          test.push_back(run.testAccuracy);
          train.push_back(run.trainAccuracy);
          gap.push_back(run.gap());
        }
      p.test = spreadOf(test);
      p.train = spreadOf(train);
      p.gap = spreadOf(gap);
    }
  comparisons.clear();
  const CurveModel *graph = model("graph"), *baseline = model("baseline");
  if (!graph || !baseline)
    return;
  for (std::size_t i = 0; i < sizes.size() && i < graph->points.size() && i < baseline->points.size(); ++i) {
    // Paired by seed: only the seeds both completed.
    std::vector<double> a, b;
    for (const auto &x : graph->points[i].runs)
      for (const auto &y : baseline->points[i].runs)
        if (x.seed == y.seed && x.ok() && y.ok()) {
          a.push_back(x.testAccuracy);
          b.push_back(y.testAccuracy);
        }
    comparisons.push_back({sizes[i], pairedComparison(graph->name, a, baseline->name, b)});
  }
  // One family: the curve asks at every size whether the graph beats the baseline.
  std::vector<Comparison *> family;
  for (auto &c : comparisons)
    family.push_back(&c.comparison);
  holmAdjust(family);
}

CurveResult runLearningCurve(const Project &project, const CurveOptions &options, CurveObserver *observer) {
  return Curve(project, options, observer).run();
}

Json curveJson(const CurveResult &r) {
  Json models = Json::array();
  for (const auto &m : r.models) {
    Json points = Json::array();
    for (const auto &p : m.points) {
      Json runs = Json::array();
      for (const auto &run : p.runs)
        runs.push_back(runJson(run));
      points.push_back({{"size", p.size},
                        {"test", spreadJson(p.test)},
                        {"train", spreadJson(p.train)},
                        {"gap", spreadJson(p.gap)},
                        {"runs", runs}});
    }
    models.push_back({{"name", m.name}, {"role", m.role}, {"points", points}});
  }
  Json comparisons = Json::array();
  for (const auto &c : r.comparisons)
    comparisons.push_back({{"size", c.size}, {"comparison", comparisonJson(c.comparison)}});
  return {{"type", "learning-curve"}, {"project", r.project},    {"sizes", r.sizes},          {"seeds", r.seeds},
          {"epochs", r.epochs},       {"min_steps", r.minSteps}, {"search", r.search},        {"notes", r.notes},
          {"settings", r.settings},   {"models", models},        {"comparisons", comparisons}};
}

std::string curveCsv(const CurveResult &r) {
  std::ostringstream out;
  out << "model,size,seed,test_accuracy,train_accuracy,gap,status\n";
  for (const auto &m : r.models)
    for (const auto &p : m.points)
      for (const auto &run : p.runs)
        out << m.name << "," << p.size << "," << run.seed << "," << run.testAccuracy << "," << run.trainAccuracy << ","
            << run.gap() << "," << run.status << "\n";
  return out.str();
}

chart::XYChart accuracyChart(const CurveResult &r) {
  chart::XYChart c = curveChart(r, &CurvePoint::test);
  c.title = r.project + ": test accuracy against training samples" + seedsNote(r);
  c.yLabel = "test accuracy (%)";
  return c;
}

chart::XYChart gapChart(const CurveResult &r) {
  chart::XYChart c = curveChart(r, &CurvePoint::gap);
  c.title = r.project + ": generalisation gap" + seedsNote(r);
  c.yLabel = "train − validation accuracy (points)";
  return c;
}

CurveResult readCurveFile(const std::string &path) {
  const Json j = parseJson(readTextFile(path), path);
  const JsonFields f(j, path);
  if (f.string("type") != "learning-curve")
    f.fail("type", "is not \"learning-curve\"");
  CurveResult r;
  r.project = f.string("project");
  r.seeds = static_cast<int>(f.integer("seeds", std::nullopt, 1, 1 << 20));
  r.epochs = static_cast<int>(f.integer("epochs", 0, 0, 1 << 30));
  r.minSteps = static_cast<int>(f.integer("min_steps", 0, 0, 1 << 30));
  r.search = f.string("search", "");
  r.notes = f.string("notes", "");
  r.settings = j.value("settings", Json());
  for (const auto &x : f.array("sizes")) {
    if (!x.is_number_integer() || x.get<int64_t>() < 1)
      f.fail("sizes", "must list whole numbers of samples ≥ 1");
    r.sizes.push_back(x.get<int64_t>());
  }
  const Json &models = f.array("models");
  for (std::size_t i = 0; i < models.size(); ++i) {
    const std::string where = "models[" + std::to_string(i) + "]";
    const JsonFields mf(models[i], path, where);
    CurveModel m;
    m.name = mf.string("name");
    m.role = mf.string("role");
    if (m.role != "graph" && m.role != "baseline" && m.role != "pareto")
      mf.fail("role", "is \"" + m.role + "\", not one of graph, baseline, pareto");
    const Json &points = mf.array("points");
    for (std::size_t k = 0; k < points.size(); ++k) {
      const std::string pw = where + ".points[" + std::to_string(k) + "]";
      const JsonFields pf(points[k], path, pw);
      CurvePoint p;
      p.size = pf.integer("size", std::nullopt, 1);
      p.test = spreadFromJson(pf.object("test"), path, pw + ".test");
      p.train = spreadFromJson(pf.object("train"), path, pw + ".train");
      p.gap = spreadFromJson(pf.object("gap"), path, pw + ".gap");
      const Json &runs = pf.array("runs");
      for (std::size_t s = 0; s < runs.size(); ++s)
        p.runs.push_back(runFromJson(runs[s], path, pw + ".runs[" + std::to_string(s) + "]"));
      m.points.push_back(p);
    }
    r.models.push_back(m);
  }
  const Json &comparisons = f.array("comparisons", true);
  for (std::size_t i = 0; i < comparisons.size(); ++i) {
    const std::string where = "comparisons[" + std::to_string(i) + "]";
    const JsonFields cf(comparisons[i], path, where);
    r.comparisons.push_back({cf.integer("size", std::nullopt, 1),
                             comparisonFromJson(cf.object("comparison"), path, where + ".comparison")});
  }
  return r;
}

} // namespace particle
