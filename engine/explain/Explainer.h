#pragma once
// Explanations per sub-model (branch of a Combine): Shapley values over branch coalitions,
// ablation, gradient × activation; combiner weights; attention maps and rollout; integrated
// gradients per sub-model stitched into the input (explain/Saliency.h). Semantics: docs/FORMAT.md,
// "Explanations". The trainer's per-epoch shares are in explain/ContributionHook.h.

#include "base/Json.h"
#include "model/Model.h"

#include <atomic>

#include <torch/torch.h>

#include <string>
#include <vector>

namespace particle {

enum class ExplainMethod { Shapley, Ablation, GradXAct };
enum class ExplainBaseline { Mean, Zero, Background };
enum class ExplainTarget { Predicted, True };
const char *methodName(ExplainMethod m);     // "shapley", "ablation", "gradxact"
const char *baselineName(ExplainBaseline b); // "mean", "zero", "background"
const char *targetName(ExplainTarget t);     // "predicted", "true"
// Parse a user's word; an unknown one throws Error(Usage) listing the valid words.
ExplainMethod parseMethod(const std::string &word);
ExplainBaseline parseBaseline(const std::string &word);
ExplainTarget parseTarget(const std::string &word);

// Cancels a long explanation from another thread; checked between coalition passes.
struct CancelFlag {
  std::atomic<bool> cancelled{false};
};

struct ExplainOptions {
  ExplainMethod method = ExplainMethod::Shapley;
  ExplainBaseline baseline = ExplainBaseline::Mean;
  ExplainTarget target = ExplainTarget::Predicted;
  bool renormalizeGates = false; // gate Combines: drop absent experts and renormalise
  int64_t maxExactBranches = 12; // above: permutation sampling
  int64_t permutations = 200;    // sampled Shapley
  uint64_t seed = 0;
  int64_t maxRowsPerPass = 1024;      // coalition rows per pass (small passes stay in cache)
  const CancelFlag *cancel = nullptr; // when set, a cancelled explanation throws Cancelled
};

// Thrown when ExplainOptions::cancel is raised.
struct Cancelled : std::exception {
  const char *what() const noexcept override { return "cancelled"; }
};

struct CombineAttribution {
  std::string combine;
  std::vector<std::string> branches; // the node (or node:port) feeding each input port
  torch::Tensor phi;                 // [N, K]
  torch::Tensor standardError;       // [N, K], sampled Shapley only
  torch::Tensor fx, fBaseline;       // [N]
  torch::Tensor weights;             // [N, K] attention/gate weights, when the Combine has them
  bool exact = true;
  double completenessMaxError = 0; // max |Σφ − (f(x) − f(baseline))|
};

struct Explanation {
  std::string method, target, baseline;
  torch::Tensor targets, labels, predictions; // [N]
  std::vector<CombineAttribution> combines;
};

// Per-branch aggregates of one Combine: mean |φ|, share, class × branch matrix.
struct BranchAggregate {
  std::string branch;
  double meanAbs = 0, share = 0;
  std::vector<double> perClass; // mean |φ| over samples of each target class
  double meanWeight = -1;       // mean combiner weight (−1: the Combine has none)
};

class Explainer {
public:
  // `reference` are training samples for the mean baseline (≤ 2048 used) and the background set.
  Explainer(ParticleModel model, torch::Tensor reference, ExplainOptions options = {});

  Explanation explain(const torch::Tensor &x, const torch::Tensor &labels = {});
  static std::vector<BranchAggregate> aggregate(const CombineAttribution &c, const torch::Tensor &targets,
                                                int64_t classes);
  // explain.json's body; class names from `data` (their indices when it has none).
  static Json toJson(const Explanation &e, const DataInfo &data);

  // Attention maps of every Attention node: per layer [N, heads, T, T].
  std::map<std::string, std::vector<torch::Tensor>> attentionMaps(const torch::Tensor &x);
  // Abnar & Zuidema rollout: heads averaged, ½A + ½I, rows renormalised, layers multiplied.
  static torch::Tensor rollout(const std::vector<torch::Tensor> &layers); // [N, T, T]
  // One value per token (mean over the rolled-out rows; sums to 1).
  static torch::Tensor tokenImportance(const torch::Tensor &rolled); // [N, T]

  struct Saliency {
    std::string branch;
    PortRef input;       // where the branch's own input comes from (a Split port or the Input)
    torch::Tensor map;   // [N, ...sample shape] attributions stitched into the full input
    torch::Tensor delta; // [N] Σ IG − (f(u) − f(0))
  };
  // Integrated gradients of the target logit w.r.t. each branch's own input (zero baseline,
  // Gauss–Legendre quadrature with `points` nodes), stitched into the input (explain/Saliency.cpp).
  std::vector<Saliency> integratedGradients(const torch::Tensor &x, const torch::Tensor &targets,
                                            const std::string &combine, int points = 32);

  torch::Tensor targetsFor(const torch::Tensor &logits, const torch::Tensor &labels) const;

private:
  CombineAttribution explainCombine(const std::string &combine, const torch::Tensor &x, const ForwardResult &base,
                                    const torch::Tensor &targets);
  // f(target) for every coalition mask (bit k set: branch k present) → [N, masks.size()].
  torch::Tensor coalitionValues(const std::string &combine, const ForwardResult &base, const torch::Tensor &x,
                                const std::vector<int64_t> &masks, const std::vector<torch::Tensor> &present,
                                const std::vector<torch::Tensor> &absent, const torch::Tensor &targets);

  ParticleModel model_;
  torch::Tensor reference_;
  ExplainOptions options_;
};

} // namespace particle
