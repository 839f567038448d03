// `particle explain`: per-sub-model attributions of a checkpoint over test samples; explain.json and
// the heat maps (ExplainSession).

#include "Commands.h"
#include "Common.h"

#include "explain/Explainer.h"
#include "recipes/ExplainSession.h"
#include "train/Runtime.h"
#include "base/Files.h"

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>

namespace fs = std::filesystem;

namespace particle::cli {

int runExplain(int argc, char **argv) {
  const Args args(argc, argv, 2, {"--checkpoint", "--samples", "--method", "--baseline", "--target", "--out"});
  CheckpointInput in;
  if (auto code = loadCheckpointInput("explain", args, in))
    return *code;
  ExplainOptions options;
  options.method = parseMethod(args.get("--method").value_or("shapley"));
  options.baseline = parseBaseline(args.get("--baseline").value_or("mean"));
  options.target = parseTarget(args.get("--target").value_or("predicted"));
  const int64_t samples = args.integer("--samples", 1, std::numeric_limits<int64_t>::max()).value_or(1000);
  configureThreads(0);

  ExplainSession session(in.project, in.checkpoint);
  ParticleModel model = session.model();
  const auto start = std::chrono::steady_clock::now();
  const Explanation e = session.explain(options, samples);
  const int64_t n = e.targets.size(0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Json j = session.toJson(e);
  j["seconds"] = seconds;
  const std::string &dir = in.outDir;
  fs::create_directories(dir);
  const DataInfo &data = session.info();
  std::cout << in.project.name << ": " << methodName(options.method) << " attributions over " << session.samplesText(n)
            << " (" << std::fixed << std::setprecision(2) << seconds << " s)\n";
  for (std::size_t c = 0; c < e.combines.size(); ++c) {
    const auto &comb = e.combines[c];
    const auto aggregates = Explainer::aggregate(comb, e.targets, model->classes());
    std::cout << "\ncombine '" << comb.combine << "'" << (comb.exact ? "" : " (sampled)") << ": completeness max error "
              << std::scientific << std::setprecision(2) << comb.completenessMaxError << std::fixed << "\n";
    for (const auto &a : aggregates) {
      std::cout << "  " << std::left << std::setw(14) << a.branch << std::right << std::setw(7) << std::setprecision(1)
                << 100 * a.share << "%  mean|φ| " << std::setprecision(4) << a.meanAbs;
      if (a.meanWeight >= 0)
        std::cout << "  mean weight " << std::setprecision(3) << a.meanWeight;
      std::cout << "\n";
    }
  }
  session.writeFiles(e, options, dir, j);
  writeFileAtomically(dir + "/explain.json", j.dump(2) + "\n");
  std::cout << "\nwrote " << dir << "/explain.json, PNG heat maps"
            << (data.vocabulary.empty() ? "" : ", tokens.jsonl and tokens.html") << "\n";
  return kExitOk;
}

} // namespace particle::cli
