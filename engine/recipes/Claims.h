#pragma once
// The write-up's claims, tested over seeds (`particle robustness P --seeds S`, the Experiments
// tab's claims lab, `particle report`): the project's graph and its monolithic baseline
// (recipes/Variants.h, `monolithic-w1`) trained S seeds each at equal epochs, every run measured
// as `particle robustness --checkpoint` does (the baseline occluded over the graph's parts), and
// per claim both sides' spread, a paired comparison over seeds with its 95 % interval and a
// verdict. Each training and measurement is a process of its own (recipes/Trials.h), so
// claims.json is written after every one, and a run again in the same folder with the same
// settings takes the runs it finished. Torch-free.

#include "project/Project.h"
#include "recipes/Variants.h"
#include "recipes/Verdict.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace particle {

// What one model's runs gave, per seed in seed order (the pure input of the claims).
struct ClaimFigures {
  std::vector<double> test;          // test accuracy
  std::vector<double> gap;           // train − validation accuracy at the final epoch
  std::vector<double> noiseDrop;     // clean − accuracy at σ = 0.5
  std::vector<double> occlusionDrop; // clean − accuracy with the worst single part occluded
  bool noiseApplies = true;          // false for token ids
  bool occlusionApplies = true;      // false without parts (no Split on the input)
  int64_t uniqueParameters = 0, totalParameters = 0;
};

struct Claim {
  std::string id;      // accuracy, overfitting, noise, occlusion, sharing
  std::string claim;   // the write-up's words
  std::string measure; // what was measured, with its direction
  Spread graph, baseline;
  Comparison comparison; // graph against baseline
  std::string verdict;   // "holds", "does not hold", "within noise", "not applicable"
  std::string sentence;  // one plain sentence, with the figures
};

// The noise claim's σ (in training-data standard deviations).
constexpr double kClaimsSigma = 0.5;

// The five claims from the per-seed figures of the graph and the baseline (seed i of one paired
// with seed i of the other; equal lengths). A paired test over seeds (recipes/Verdict.h: t, or
// the sign test when every seed gave the same difference), p adjusted by Holm over the claims
// tested, at `alpha`: the claim holds when the difference is significant on the graph's good
// side, does not hold when significant on the other, else it is within noise (and with fewer
// than two seeds). Parameter counts are exact; a claim that cannot be tested on this graph or data
// is "not applicable". The comparison's verdict says "better" when the graph is better.
std::vector<Claim> evaluateClaims(const ClaimFigures &graph, const ClaimFigures &baseline, double alpha = 0.05);

// The verdict as the lab, `particle robustness --seeds` and the report write it: `verdict`, but
// "cannot tell with one seed" where one seed was paired (none: "no seeds to compare"): with no
// spread there is no noise to be within, and "within noise" read as a result.
std::string claimVerdictText(const Claim &c);
// Which side the difference favours, read the measure's way (higher accuracy, a smaller gap,
// drop or count is better): "graph better", "graph worse", "no difference"; empty where nothing
// was compared. Significant or not: the verdict says whether it can be told from noise.
std::string claimDirection(const Claim &c);

struct ClaimRun {
  int seed = 0;
  std::string runDir;
  std::string status;  // completed, failed, diverged (of the training, then the measurement)
  std::string message; // why it failed
  bool measured = false;
  double testAccuracy = 0, valAccuracy = 0, trainAccuracy = 0, gap = 0; // gap: at the final epoch
  double cleanAccuracy = 0;                     // of the measured test samples (--samples), the drops' reference
  std::vector<std::pair<double, double>> noise; // σ → accuracy
  std::vector<std::pair<std::string, double>> occlusion; // part → accuracy with it occluded
  double seconds = 0;                                    // training and measuring
  bool ok() const { return status == "completed" && measured; }
};

struct ClaimModel {
  std::string name;           // the project's, or the baseline variant's ("monolithic-w1")
  std::string role;           // "graph" or "baseline"
  std::vector<ClaimRun> runs; // in seed order
  int64_t uniqueParameters = 0, totalParameters = 0;
  double flopsPerSample = 0; // 0: unknown
};

struct ClaimsResult {
  std::string project, baseline;
  int seeds = 0, epochs = 0;
  int64_t limit = 0;              // training samples (0: all)
  std::vector<ClaimModel> models; // the graph, then the baseline
  std::vector<Claim> claims;
  Json settings; // compared when a run continues
  // Per-seed figures of a model over the seeds both models finished (what the claims take).
  std::pair<ClaimFigures, ClaimFigures> pairedFigures() const;
};

struct ClaimsOptions {
  std::string program;     // the `particle` CLI, which the trials run
  std::string projectFile; // the project's file (measurements read it)
  std::string outDir;      // projects/, trials/, logs/, claims.json, claims.csv
  int seeds = 3;
  int epochs = 0;                                          // 0: the project's
  int64_t limit = 0;                                       // training samples (0: all)
  int jobs = 1;                                            // processes at once (each with cores/jobs threads)
  std::vector<double> sigmas = {0.0, 0.1, 0.25, 0.5, 1.0}; // 0 and kClaimsSigma are always measured
  int64_t samples = 0;                                     // test samples measured (0: all)
};

struct ClaimsObserver {
  virtual ~ClaimsObserver() = default;
  virtual void onPlan(int /*steps*/) {} // trainings and measurements still to run
  // A training or a measurement ended (`what`: "trained", "measured"), or a finished run was taken.
  virtual void onStep(const ClaimModel & /*model*/, const ClaimRun & /*run*/, const std::string & /*what*/) {}
};

// The project's monolithic baseline (`monolithic-w1`), its data paths absolute. Throws
// Error(Invalid) when the graph has none (no Split to undo).
Variant claimsBaseline(const Project &project);

// Trains and measures (or continues). Throws Error(Invalid) when the graph has no monolithic
// baseline, Error(File) when outDir holds claims of other settings.
ClaimsResult runClaims(const Project &project, const ClaimsOptions &options, ClaimsObserver *observer = nullptr);

// claims.json's body and claims.csv ("model,role,seed,status,test_accuracy,val_accuracy,
// train_accuracy,gap,noise_drop,occlusion_drop").
Json claimsJson(const ClaimsResult &r);
std::string claimsCsv(const ClaimsResult &r);
// claims.json read back (the claims lab, the report); a field of the wrong shape throws
// Error(File) naming the file and the field.
ClaimsResult readClaimsFile(const std::string &path);

} // namespace particle
