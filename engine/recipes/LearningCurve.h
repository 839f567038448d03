#pragma once
// Learning curves (`particle learning-curve`): how the graph, its monolithic baseline
// (recipes/Variants.h) and, given a search, that search's Pareto set learn from N training
// samples. For each size N and seed the N samples are drawn with the data set's limit_seed (the
// same N for every model at that seed, so that the comparison is paired; the validation and test
// splits stay the same), and every model trains in a `particle train` process of its own
// (recipes/Trials.h). Per model and size: test and training accuracy and the generalisation gap
// (train − validation accuracy at the final epoch) over the seeds, and per size the graph against
// the baseline (recipes/Verdict.h). curve.json is written after every trial; a curve run again in
// the same folder with the same settings takes the runs it finished (sizes and seeds may be
// added). Torch-free.

#include "explain/Chart.h"
#include "project/Project.h"
#include "recipes/Verdict.h"

#include <cstdint>
#include <string>
#include <vector>

namespace particle {

struct CurveOptions {
  std::string program; // the `particle` CLI, which trials run
  std::string outDir;  // projects/, runs/, logs/, curve.json, curve.csv, curve.svg/.png, gap.svg/.png
  std::vector<int64_t> sizes;
  int seeds = 3;
  int epochs = 0;        // of each run (0: the project's)
  int minSteps = 0;      // at least this many optimiser steps per run, as in the transfer
  std::string searchDir; // a `particle search` folder of this graph: its Pareto set is trained too
  int jobs = 1;          // runs at once (each with cores ÷ jobs threads)
};

struct CurveRun {
  int seed = 0;
  std::string runDir;
  std::string status;                                          // completed, failed, diverged
  std::string message;                                         // why it failed
  double testAccuracy = 0, trainAccuracy = 0, valAccuracy = 0; // train and validation at the final epoch
  int epochs = 0;           // it trained (more than --epochs for a small N with --min-steps)
  int64_t trainSamples = 0; // as the run's data set reported them
  double seconds = 0;
  bool ok() const { return status == "completed"; }
  double gap() const { return trainAccuracy - valAccuracy; }
};

struct CurvePoint {
  int64_t size = 0;
  Spread test, train, gap;    // over the completed runs, in seed order
  std::vector<CurveRun> runs; // in seed order
};

struct CurveModel {
  std::string name;               // the project's name, "monolithic-w1", a search variant's name
  std::string role;               // graph, baseline, pareto
  std::vector<CurvePoint> points; // in the order of the sizes
};

struct CurveComparison {
  int64_t size = 0;
  Comparison comparison; // graph vs baseline, paired over seeds, on test accuracy
};

struct CurveResult {
  std::string project;
  std::vector<int64_t> sizes;
  int seeds = 0, epochs = 0, minSteps = 0;
  std::string search; // the search folder, empty without one
  std::vector<CurveModel> models;
  std::vector<CurveComparison> comparisons;
  std::string notes;
  Json settings; // compared when a curve continues
  // The model of that role (the first), nullptr when there is none.
  const CurveModel *model(const std::string &role) const;
  // Recomputes every point's spreads and the comparisons from the runs.
  void summarise();
};

struct CurveObserver {
  virtual ~CurveObserver() = default;
  virtual void onPlan(int /*runs*/) {} // how many runs in all, the earlier ones included
  virtual void onRunFinished(const CurveModel & /*model*/, int64_t /*size*/, const CurveRun & /*run*/,
                             bool /*reused*/) {}
};

// Runs (or continues) the curve. Throws Error(Usage) naming the option for bad sizes or seeds
// ("--sizes: 5000 is more than the 4000 samples of the training split"), Error(File) for a
// folder that holds a curve with other settings or an unreadable search. A graph without a
// monolithic baseline is drawn alone (the notes say why).
CurveResult runLearningCurve(const Project &project, const CurveOptions &options, CurveObserver *observer = nullptr);

// curve.json's body, curve.csv ("model,size,seed,test_accuracy,train_accuracy,gap,status") and the
// two charts: test accuracy ± sd against N (log x), and the gap ± sd against N.
Json curveJson(const CurveResult &r);
std::string curveCsv(const CurveResult &r);
chart::XYChart accuracyChart(const CurveResult &r);
chart::XYChart gapChart(const CurveResult &r);
// curve.json read back; a field of the wrong shape throws Error(File) naming the file and the field.
CurveResult readCurveFile(const std::string &path);

} // namespace particle
