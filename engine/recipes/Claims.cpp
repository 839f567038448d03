#include "recipes/Claims.h"

#include "base/Files.h"
#include "base/JsonFields.h"
#include "project/ProjectCheck.h"
#include "project/ProjectPaths.h"
#include "project/TrainingSpec.h"
#include "recipes/Trials.h"
#include "recipes/Variants.h"
#include "train/RunFolder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace particle {

namespace {

// "62.3" (a fraction in percent) or "−1.4 points" — the figures a sentence gives.
std::string pct(double fraction) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << 100 * fraction;
  return out.str();
}
std::string spreadText(const Spread &s) {
  return pct(s.mean) + (s.n > 1 ? " ± " + pct(s.sd) : std::string()) + "%";
}
std::string withCommas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

// The claim's verdict from the comparison (recipes/Verdict.h: a paired t-test, or the sign test
// when every seed gave the same difference; p adjusted over the `family` of claims tested):
// `lowerIsBetter` for gaps and drops. The comparison's own verdict is turned to say the same from
// the graph's side ("better": the graph).
void judge(Claim &c, bool lowerIsBetter, double alpha, int family) {
  Comparison &k = c.comparison;
  const std::string figures = c.measure + ": graph " + spreadText(c.graph) + ", baseline " + spreadText(c.baseline);
  if (k.n < 2) {
    c.verdict = "within noise";
    k.verdict = "too few seeds";
    c.sentence = k.n == 0 ? figures + " — no seed of both to compare."
                          : figures + " from one seed: " + claimDirection(c) +
                                " on it, but one seed cannot tell a difference from noise (measure 2 seeds or more).";
    k.sentence = c.sentence;
    return;
  }
  const bool significant = k.p < alpha;
  const bool good = significant && (lowerIsBetter ? k.difference < 0 : k.difference > 0);
  const bool bad = significant && !good && k.difference != 0;
  c.verdict = good ? "holds" : bad ? "does not hold" : "within noise";
  k.verdict = good ? "better" : bad ? "worse" : "within noise";
  std::ostringstream p;
  p << std::setprecision(2) << k.p;
  const std::string adjusted = family > 1 ? " after Holm's adjustment over " + std::to_string(family) + " claims" : "";
  const std::string test =
      (k.low < k.high ? "95% interval " + pct(k.low) + " to " + pct(k.high) : k.test) + ", p = " + p.str() + adjusted;
  c.sentence = figures + "; difference " + pct(k.difference) + " points, " + claimDirection(c) + " (" + test + ", " +
               std::to_string(k.n) + " seeds) — " +
               (good  ? "the claim holds"
                : bad ? "it does not hold"
                      : "within noise") +
               " on this data.";
  k.sentence = c.sentence;
}

// Judged once the family is known (evaluateClaims).
Claim pairedClaim(const std::string &id, const std::string &claim, const std::string &measure,
                  const std::vector<double> &graph, const std::vector<double> &baseline, double alpha) {
  Claim c;
  c.id = id;
  c.claim = claim;
  c.measure = measure;
  c.graph = spreadOf(graph);
  c.baseline = spreadOf(baseline);
  c.comparison = pairedComparison("graph", graph, "baseline", baseline, alpha);
  return c;
}

Claim notApplicable(const std::string &id, const std::string &claim, const std::string &measure,
                    const std::string &why) {
  Claim c;
  c.id = id;
  c.claim = claim;
  c.measure = measure;
  c.comparison.a = "graph";
  c.comparison.b = "baseline";
  c.comparison.test = "none";
  c.comparison.verdict = "within noise";
  c.verdict = "not applicable";
  c.sentence = why;
  c.comparison.sentence = why;
  return c;
}

std::string runName(const std::string &role, int seed) {
  return role + "-s" + std::to_string(seed);
}

Json runJson(const ClaimRun &r) {
  Json noise = Json::array(), occlusion = Json::array();
  for (const auto &[s, a] : r.noise)
    noise.push_back({s, a});
  for (const auto &[p, a] : r.occlusion)
    occlusion.push_back({p, a});
  return {{"seed", r.seed},
          {"run_dir", r.runDir},
          {"status", r.status},
          {"message", r.message},
          {"measured", r.measured},
          {"test_accuracy", r.testAccuracy},
          {"val_accuracy", r.valAccuracy},
          {"train_accuracy", r.trainAccuracy},
          {"gap", r.gap},
          {"clean_accuracy", r.cleanAccuracy},
          {"noise", noise},
          {"occlusion", occlusion},
          {"seconds", r.seconds}};
}

ClaimRun runFromJson(const Json &j, const std::string &file, const std::string &where) {
  const JsonFields f(j, file, where);
  ClaimRun r;
  r.seed = static_cast<int>(f.integer("seed", std::nullopt, 0, 1 << 20));
  r.runDir = f.string("run_dir");
  r.status = f.string("status");
  if (r.status != "completed" && r.status != "failed" && r.status != "diverged" && r.status != "pending")
    f.fail("status", "is \"" + r.status + "\", not one of completed, failed, diverged, pending");
  r.message = f.string("message", "");
  r.measured = f.boolean("measured", false);
  for (auto [key, value] : {std::pair{"test_accuracy", &r.testAccuracy},
                            {"val_accuracy", &r.valAccuracy},
                            {"train_accuracy", &r.trainAccuracy},
                            {"clean_accuracy", &r.cleanAccuracy}}) {
    *value = f.number(key, 0.0);
    if (!(*value >= 0 && *value <= 1))
      f.fail(key, "is " + std::to_string(*value) + ", not an accuracy between 0 and 1");
  }
  r.gap = f.number("gap", 0.0);
  for (const auto &x : f.array("noise", true)) {
    if (!x.is_array() || x.size() != 2 || !x[0].is_number() || !x[1].is_number())
      f.fail("noise", "must list [σ, accuracy] pairs");
    r.noise.emplace_back(x[0].get<double>(), x[1].get<double>());
  }
  for (const auto &x : f.array("occlusion", true)) {
    if (!x.is_array() || x.size() != 2 || !x[0].is_string() || !x[1].is_number())
      f.fail("occlusion", "must list [part, accuracy] pairs");
    r.occlusion.emplace_back(x[0].get<std::string>(), x[1].get<double>());
  }
  r.seconds = f.number("seconds", 0.0);
  return r;
}

// What `particle robustness --checkpoint` wrote into a run folder.
void readMeasurement(ClaimRun &r) {
  const std::string file = r.runDir + "/robustness.json";
  const Json j = parseJson(readTextFile(file), file);
  const JsonFields f(j, file);
  r.cleanAccuracy = f.number("clean_accuracy");
  const Json &noise = f.array("noise", true);
  for (std::size_t i = 0; i < noise.size(); ++i) {
    const JsonFields e(noise[i], file, "noise[" + std::to_string(i) + "]");
    r.noise.emplace_back(e.number("sigma"), e.number("accuracy"));
  }
  const Json &occlusion = f.array("occlusion", true);
  for (std::size_t i = 0; i < occlusion.size(); ++i) {
    const JsonFields e(occlusion[i], file, "occlusion[" + std::to_string(i) + "]");
    r.occlusion.emplace_back(e.string("part"), e.number("accuracy"));
  }
  r.measured = true;
}

class ClaimsRunner {
public:
  ClaimsRunner(const Project &project, const ClaimsOptions &options, ClaimsObserver *observer)
      : project_(project), options_(options), observer_(observer ? observer : &silent_) {
    if (options.seeds < 1)
      throw Error(ErrorKind::Usage, "claims: give at least one seed");
    Variant baseline = claimsBaseline(project);
    baseline_ = baseline.project;
    epochs_ = options.epochs > 0 ? options.epochs : parseTrainingSpec(project.training).epochs;
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads_ = std::max(1, cores / std::max(1, options.jobs));
    sigmas_ = options.sigmas;
    for (double s : {0.0, kClaimsSigma})
      if (std::find(sigmas_.begin(), sigmas_.end(), s) == sigmas_.end())
        sigmas_.push_back(s);
    std::sort(sigmas_.begin(), sigmas_.end());
    r_.project = project.name;
    r_.baseline = baseline.name;
    r_.seeds = options.seeds;
    r_.epochs = epochs_;
    r_.limit = options.limit;
    // Seeds are left out: more seeds in the same folder add runs to those finished.
    r_.settings = {{"graph", graphHash(project.graph)},
                   {"baseline", graphHash(baseline_.graph)},
                   {"dataset", project.dataset},
                   {"training", project.training},
                   {"epochs", epochs_},
                   {"limit", options.limit},
                   {"sigmas", sigmas_},
                   {"samples", options.samples}};
  }

  ClaimsResult run() {
    for (const char *sub : {"/projects", "/trials", "/logs"})
      fs::create_directories(options_.outDir + sub);
    files_[0] = options_.outDir + "/projects/graph.particle.json";
    files_[1] = options_.outDir + "/projects/baseline.particle.json";
    saveProject(trialProject(project_, project_.name), files_[0]);
    saveProject(trialProject(baseline_, project_.name + "-" + r_.baseline), files_[1]);
    loadEarlier();
    const Project *projects[2] = {&project_, &baseline_};
    const char *roles[2] = {"graph", "baseline"};
    for (int m = 0; m < 2; ++m) {
      ClaimModel model;
      model.name = m == 0 ? project_.name : r_.baseline;
      model.role = roles[m];
      const Validation v = validate(*projects[m]);
      model.uniqueParameters = v.uniqueParameters;
      model.totalParameters = v.totalParameters;
      model.flopsPerSample = v.flopsKnown ? v.flopsPerSample : 0;
      for (int seed = 0; seed < options_.seeds; ++seed) {
        ClaimRun run;
        run.seed = seed;
        run.runDir = fs::absolute(options_.outDir + "/trials/" + runName(model.role, seed)).lexically_normal().string();
        run.status = "pending";
        if (auto done = earlier_.find(runName(model.role, seed)); done != earlier_.end())
          run = done->second;
        model.runs.push_back(run);
      }
      r_.models.push_back(model);
    }
    // Trainings first, then the measurements of every run trained.
    std::vector<std::pair<int, int>> train, measure; // (model, seed)
    for (int m = 0; m < 2; ++m)
      for (const auto &run : r_.models[m].runs) {
        if (run.status != "completed")
          train.emplace_back(m, run.seed);
        if (!run.ok())
          measure.emplace_back(m, run.seed);
      }
    observer_->onPlan(static_cast<int>(train.size() + measure.size()));
    for (const auto &model : r_.models)
      for (const auto &run : model.runs)
        if (run.ok())
          observer_->onStep(model, run, "taken");
    save();
    std::vector<TrialSpec> specs;
    for (const auto &[m, seed] : train) {
      const ClaimRun &run = r_.models[m].runs[seed];
      TrialSpec s;
      s.name = runName(r_.models[m].role, seed);
      s.args = trainArgs(files_[m], run.runDir, threads_, dataCacheFolder(options_.outDir), epochs_,
                         static_cast<uint64_t>(seed));
      s.logStem = options_.outDir + "/logs/" + s.name;
      s.runDir = run.runDir;
      specs.push_back(s);
    }
    runTrials(options_.program, specs, options_.jobs, [&](std::size_t i, const TrialOutcome &o) {
      const auto [m, seed] = train[i];
      trained(r_.models[m], r_.models[m].runs[seed], o);
    });
    specs.clear();
    std::vector<std::pair<int, int>> measuring;
    for (const auto &[m, seed] : measure) {
      const ClaimRun &run = r_.models[m].runs[seed];
      if (run.status != "completed")
        continue;
      TrialSpec s;
      s.name = runName(r_.models[m].role, seed) + "-robustness";
      s.args = {"robustness", files_[m],  "--checkpoint", run.runDir + "/checkpoint.pt",
                "--out",      run.runDir, "--sigmas",     sigmaText()};
      if (options_.samples > 0)
        s.args.insert(s.args.end(), {"--samples", std::to_string(options_.samples)});
      // The baseline is occluded over the graph's parts, so that both lose the same regions.
      if (m == 1)
        s.args.insert(s.args.end(), {"--parts-from", files_[0]});
      s.logStem = options_.outDir + "/logs/" + s.name;
      specs.push_back(s);
      measuring.emplace_back(m, seed);
    }
    runTrials(options_.program, specs, options_.jobs, [&](std::size_t i, const TrialOutcome &o) {
      const auto [m, seed] = measuring[i];
      measured(r_.models[m], r_.models[m].runs[seed], o);
    });
    return r_;
  }

private:
  // The project a trial trains: paths absolute, the equal epochs and the training-sample limit
  // written in, without the Train tab's per-epoch shares.
  Project trialProject(const Project &p, const std::string &name) const {
    Project t = projectWithAbsolutePaths(p);
    t.name = name;
    t.path.clear();
    t.ui = Json();
    if (options_.limit > 0)
      t.dataset["limit"] = options_.limit;
    t.training["epochs"] = epochs_;
    t.training["contribution_samples"] = 0;
    return t;
  }

  std::string sigmaText() const {
    std::ostringstream out;
    for (std::size_t i = 0; i < sigmas_.size(); ++i)
      out << (i ? "," : "") << sigmas_[i];
    return out.str();
  }

  void loadEarlier() {
    const std::string file = options_.outDir + "/claims.json";
    if (!fs::exists(file))
      return;
    const ClaimsResult earlier = readClaimsFile(file);
    if (earlier.settings != r_.settings)
      throw Error(ErrorKind::File, options_.outDir +
                                       ": holds claims of other settings (graph, data, epochs, limit, sigmas or "
                                       "samples); use another --out, or --force to start over");
    for (const auto &model : earlier.models)
      for (const auto &run : model.runs)
        if (run.status == "completed" && fs::exists(run.runDir + "/checkpoint.pt"))
          earlier_[runName(model.role, run.seed)] = run;
  }

  void trained(const ClaimModel &model, ClaimRun &run, const TrialOutcome &o) {
    run.status = o.status;
    run.message = o.message;
    run.seconds = o.seconds;
    if (o.ok() && o.summary) {
      run.testAccuracy = o.summary->testAccuracy;
      run.valAccuracy = o.summary->valAccuracy;
      const auto epochs = readRunMetrics(run.runDir);
      if (!epochs.empty()) {
        run.trainAccuracy = epochs.back().trainAccuracy;
        run.gap = epochs.back().trainAccuracy - epochs.back().valAccuracy;
      }
    }
    observer_->onStep(model, run, "trained");
    save();
  }

  void measured(const ClaimModel &model, ClaimRun &run, const TrialOutcome &o) {
    run.seconds += o.seconds;
    if (o.ok()) {
      try {
        readMeasurement(run);
      } catch (const Error &e) {
        run.status = "failed";
        run.message = e.what();
      }
    } else {
      run.status = o.status;
      run.message = "measuring: " + o.message;
    }
    observer_->onStep(model, run, "measured");
    save();
  }

  void save() {
    const auto [graph, baseline] = r_.pairedFigures();
    r_.claims = evaluateClaims(graph, baseline);
    writeFileAtomically(options_.outDir + "/claims.json", claimsJson(r_).dump(2) + "\n");
    writeFileAtomically(options_.outDir + "/claims.csv", claimsCsv(r_));
  }

  const Project &project_;
  Project baseline_;
  ClaimsOptions options_;
  ClaimsObserver silent_;
  ClaimsObserver *observer_;
  ClaimsResult r_;
  std::map<std::string, ClaimRun> earlier_;
  std::string files_[2];
  std::vector<double> sigmas_;
  int epochs_ = 1, threads_ = 1;
};

double noiseDrop(const ClaimRun &r) {
  for (const auto &[s, a] : r.noise)
    if (std::abs(s - kClaimsSigma) < 1e-9)
      return r.cleanAccuracy - a;
  return std::nan("");
}

double occlusionDrop(const ClaimRun &r) {
  double worst = r.cleanAccuracy;
  for (const auto &[p, a] : r.occlusion)
    worst = std::min(worst, a);
  return r.cleanAccuracy - worst;
}

} // namespace

std::string claimVerdictText(const Claim &c) {
  if (c.comparison.verdict != "too few seeds")
    return c.verdict;
  return c.comparison.n == 0 ? "no seeds to compare" : "cannot tell with one seed";
}

std::string claimDirection(const Claim &c) {
  const Comparison &k = c.comparison;
  const bool counts = k.test == "exact";
  if (c.verdict == "not applicable" || (!counts && k.n == 0))
    return "";
  // Fractions as the tables show them, to a tenth of a point: "+0.0 pts" is no difference.
  if (counts ? k.difference == 0 : std::fabs(k.difference) < 0.0005)
    return "no difference";
  const bool lowerIsBetter = c.id != "accuracy";
  return (k.difference < 0) == lowerIsBetter ? "graph better" : "graph worse";
}

std::vector<Claim> evaluateClaims(const ClaimFigures &graph, const ClaimFigures &baseline, double alpha) {
  std::vector<Claim> out;
  out.push_back(pairedClaim("accuracy", "Decomposition is as accurate as one model", "test accuracy (higher is better)",
                            graph.test, baseline.test, alpha));
  out.push_back(pairedClaim("overfitting", "Decomposition reduces over-fitting",
                            "generalisation gap, train − validation accuracy at the final epoch (smaller is better)",
                            graph.gap, baseline.gap, alpha));
  const std::string noise = "accuracy lost to Gaussian input noise of σ = 0.5 (smaller is better)";
  if (!graph.noiseApplies || !baseline.noiseApplies)
    out.push_back(notApplicable("noise", "Decomposition is more robust to input noise", noise,
                                "Gaussian noise does not apply to token ids, so this claim is not tested here."));
  else
    out.push_back(pairedClaim("noise", "Decomposition is more robust to input noise", noise, graph.noiseDrop,
                              baseline.noiseDrop, alpha));
  const std::string occlusion = "accuracy lost with the worst single part occluded (smaller is better)";
  if (!graph.occlusionApplies || !baseline.occlusionApplies)
    out.push_back(notApplicable("occlusion", "Decomposition is more robust to losing a part", occlusion,
                                "The graph has no Split on its input, so there are no parts to occlude."));
  else
    out.push_back(pairedClaim("occlusion", "Decomposition is more robust to losing a part", occlusion,
                              graph.occlusionDrop, baseline.occlusionDrop, alpha));
  // Four questions at 5 % each would find one "significant" by chance too often: Holm over the
  // claims tested (those with two seeds or more).
  std::vector<Comparison *> family;
  for (auto &c : out)
    if (c.verdict.empty() && c.comparison.n >= 2)
      family.push_back(&c.comparison);
  holmAdjust(family, alpha);
  for (auto &c : out)
    if (c.verdict.empty())
      judge(c, c.id != "accuracy", alpha, static_cast<int>(family.size()));

  // Parameters are counted, not sampled: the verdict is exact.
  const std::string claim = "Sharing cuts parameters";
  const std::string measure = "unique (trained) parameters (fewer is better)";
  const auto g = static_cast<double>(graph.uniqueParameters), b = static_cast<double>(baseline.uniqueParameters);
  const std::string counts = "the graph has " + withCommas(graph.uniqueParameters) + " unique parameters (" +
                             withCommas(graph.totalParameters) + " if nothing were shared), the baseline " +
                             withCommas(baseline.uniqueParameters);
  Claim c;
  c.id = "sharing";
  c.claim = claim;
  c.measure = measure;
  c.graph = spreadOf({g});
  c.baseline = spreadOf({b});
  Comparison &k = c.comparison;
  k.a = "graph";
  k.b = "baseline";
  k.test = "exact";
  k.n = 1;
  k.difference = k.low = k.high = g - b;
  k.p = g == b ? 1 : 0;
  k.verdict = g < b ? "better" : g > b ? "worse" : "within noise";
  // A graph that shares nothing says nothing about sharing, whatever its count.
  if (graph.uniqueParameters == graph.totalParameters) {
    c.verdict = "not applicable";
    c.sentence = "The graph shares no node: " + counts + ".";
  } else {
    c.verdict = g < b ? "holds" : "does not hold";
    c.sentence = "Exact counts: " + counts + (g < b ? " — the claim holds." : " — it does not hold.");
  }
  k.sentence = c.sentence;
  out.push_back(c);
  return out;
}

std::pair<ClaimFigures, ClaimFigures> ClaimsResult::pairedFigures() const {
  ClaimFigures f[2];
  const ClaimModel *m[2] = {nullptr, nullptr};
  for (const auto &model : models)
    m[model.role == "graph" ? 0 : 1] = &model;
  for (int i = 0; i < 2; ++i)
    if (m[i]) {
      f[i].uniqueParameters = m[i]->uniqueParameters;
      f[i].totalParameters = m[i]->totalParameters;
    }
  if (!m[0] || !m[1])
    return {f[0], f[1]};
  // A measured run without noise figures had token ids; one without occlusion figures had no parts.
  for (int i = 0; i < 2; ++i)
    for (const auto &run : m[i]->runs)
      if (run.ok()) {
        f[i].noiseApplies = f[i].noiseApplies && !std::isnan(noiseDrop(run));
        f[i].occlusionApplies = f[i].occlusionApplies && !run.occlusion.empty();
      }
  for (const auto &a : m[0]->runs)
    for (const auto &b : m[1]->runs)
      if (a.seed == b.seed && a.ok() && b.ok()) {
        const ClaimRun *run[2] = {&a, &b};
        for (int i = 0; i < 2; ++i) {
          f[i].test.push_back(run[i]->testAccuracy);
          f[i].gap.push_back(run[i]->gap);
          if (f[0].noiseApplies && f[1].noiseApplies)
            f[i].noiseDrop.push_back(noiseDrop(*run[i]));
          if (f[0].occlusionApplies && f[1].occlusionApplies)
            f[i].occlusionDrop.push_back(occlusionDrop(*run[i]));
        }
      }
  return {f[0], f[1]};
}

Variant claimsBaseline(const Project &project) {
  // The variants keep the data as the project names it: absolute, so the trials find it.
  const Project absolute = projectWithAbsolutePaths(project);
  const Validation v = validate(absolute);
  VariantFilter filter;
  filter.add("parts=whole", true);
  filter.add("width=w1", true);
  std::vector<Variant> variants;
  try {
    variants = makeVariants(absolute, v, filter);
  } catch (const Error &e) {
    throw Error(ErrorKind::Invalid,
                "claims: " + project.name + " has no monolithic baseline to compare with (" + e.what() + ")");
  }
  const auto baseline = std::find_if(variants.begin(), variants.end(), [](const Variant &x) { return x.baseline; });
  if (baseline == variants.end())
    throw Error(ErrorKind::Invalid, "claims: the monolithic baseline of " + project.name + " does not validate");
  return *baseline;
}

ClaimsResult runClaims(const Project &project, const ClaimsOptions &options, ClaimsObserver *observer) {
  return ClaimsRunner(project, options, observer).run();
}

Json claimsJson(const ClaimsResult &r) {
  Json models = Json::array(), claims = Json::array();
  for (const auto &m : r.models) {
    Json runs = Json::array();
    for (const auto &run : m.runs)
      runs.push_back(runJson(run));
    models.push_back({{"name", m.name},
                      {"role", m.role},
                      {"runs", runs},
                      {"unique_parameters", m.uniqueParameters},
                      {"total_parameters", m.totalParameters},
                      {"flops_per_sample", m.flopsPerSample}});
  }
  for (const auto &c : r.claims)
    claims.push_back({{"id", c.id},
                      {"claim", c.claim},
                      {"measure", c.measure},
                      {"graph", spreadJson(c.graph)},
                      {"baseline", spreadJson(c.baseline)},
                      {"comparison", comparisonJson(c.comparison)},
                      {"verdict", c.verdict},
                      {"sentence", c.sentence}});
  return {{"type", "claims"},   {"project", r.project},  {"baseline", r.baseline}, {"seeds", r.seeds},
          {"epochs", r.epochs}, {"limit", r.limit},      {"sigma", kClaimsSigma},  {"models", models},
          {"claims", claims},   {"settings", r.settings}};
}

std::string claimsCsv(const ClaimsResult &r) {
  std::ostringstream out;
  out << "model,role,seed,status,test_accuracy,val_accuracy,train_accuracy,gap,noise_drop,occlusion_drop\n";
  for (const auto &m : r.models)
    for (const auto &run : m.runs) {
      out << m.name << "," << m.role << "," << run.seed << "," << run.status << "," << run.testAccuracy << ","
          << run.valAccuracy << "," << run.trainAccuracy << "," << run.gap << ",";
      const double noise = noiseDrop(run);
      if (run.measured && !std::isnan(noise))
        out << noise;
      out << ",";
      if (run.measured && !run.occlusion.empty())
        out << occlusionDrop(run);
      out << "\n";
    }
  return out.str();
}

ClaimsResult readClaimsFile(const std::string &path) {
  const Json j = parseJson(readTextFile(path), path);
  const JsonFields f(j, path);
  if (f.string("type") != "claims")
    f.fail("type", "is not \"claims\"");
  ClaimsResult r;
  r.project = f.string("project");
  r.baseline = f.string("baseline");
  r.seeds = static_cast<int>(f.integer("seeds", std::nullopt, 1, 1 << 20));
  r.epochs = static_cast<int>(f.integer("epochs", 0, 0, 1 << 30));
  r.limit = f.integer("limit", 0, 0);
  const Json &models = f.array("models");
  for (std::size_t i = 0; i < models.size(); ++i) {
    const std::string where = "models[" + std::to_string(i) + "]";
    const JsonFields m(models[i], path, where);
    ClaimModel model;
    model.name = m.string("name");
    model.role = m.string("role");
    if (model.role != "graph" && model.role != "baseline")
      m.fail("role", "is \"" + model.role + "\", not graph or baseline");
    model.uniqueParameters = m.integer("unique_parameters", 0, 0);
    model.totalParameters = m.integer("total_parameters", 0, 0);
    model.flopsPerSample = m.number("flops_per_sample", 0.0);
    const Json &runs = m.array("runs");
    for (std::size_t k = 0; k < runs.size(); ++k)
      model.runs.push_back(runFromJson(runs[k], path, where + ".runs[" + std::to_string(k) + "]"));
    r.models.push_back(model);
  }
  const Json &claims = f.array("claims");
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const std::string where = "claims[" + std::to_string(i) + "]";
    const JsonFields c(claims[i], path, where);
    Claim claim;
    claim.id = c.string("id");
    claim.claim = c.string("claim");
    claim.measure = c.string("measure");
    claim.graph = spreadFromJson(c.object("graph"), path, c.path("graph"));
    claim.baseline = spreadFromJson(c.object("baseline"), path, c.path("baseline"));
    claim.comparison = comparisonFromJson(c.object("comparison"), path, c.path("comparison"));
    claim.verdict = c.string("verdict");
    if (claim.verdict != "holds" && claim.verdict != "does not hold" && claim.verdict != "within noise" &&
        claim.verdict != "not applicable")
      c.fail("verdict", "is \"" + claim.verdict + "\", not holds, does not hold, within noise or not applicable");
    claim.sentence = c.string("sentence", "");
    r.claims.push_back(claim);
  }
  r.settings = j.value("settings", Json());
  return r;
}

} // namespace particle
