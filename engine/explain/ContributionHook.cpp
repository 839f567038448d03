#include "explain/ContributionHook.h"

#include "explain/Explainer.h"

#include <chrono>

namespace particle {

using torch::Tensor;

std::vector<std::pair<std::string, std::pair<std::string, double>>> contributionShares(ParticleModel &model,
                                                                                       const Tensor &x) {
  std::vector<std::pair<std::string, std::pair<std::string, double>>> out;
  if (model->combineIds().empty() || x.size(0) == 0)
    return out;
  ExplainOptions opt;
  opt.permutations = 32;
  Explainer explainer(model, x, opt);
  const Explanation e = explainer.explain(x);
  for (const auto &c : e.combines)
    for (const auto &a : Explainer::aggregate(c, e.targets, 0))
      out.push_back({c.combine, {a.branch, a.share}});
  return out;
}

EpochHook contributionSharesHook() {
  // The shares are a view on training, not its work: at most a quarter of an epoch's time. Their
  // cost grows with the branches (each permutation evaluates every one), so beyond
  // kMaxShareBranches they are left to the Explain tab, and when an epoch's shares took longer
  // than the budget the next epoch uses proportionally fewer samples (none below 8).
  constexpr std::size_t kMaxShareBranches = 64;
  constexpr double kBudget = 0.25;
  auto samplesNow = std::make_shared<int64_t>(-1);
  return [samplesNow](Trainer &trainer, EpochEvent &ev) {
    const Tensor &val = trainer.data().valX;
    if (*samplesNow < 0)
      *samplesNow = trainer.spec().contributionSamples;
    const int64_t samples = *samplesNow;
    if (samples < 8 || !val.defined() || val.size(0) == 0)
      return;
    ParticleModel model = trainer.model();
    std::size_t branches = 0;
    for (const auto &combine : model->combineIds())
      branches += model->branches(combine).size();
    if (branches > kMaxShareBranches)
      return;
    const auto start = std::chrono::steady_clock::now();
    for (const auto &[combine, share] : contributionShares(model, val.narrow(0, 0, std::min(samples, val.size(0)))))
      ev.shares.push_back(BranchShare{combine, share.first, share.second});
    ev.sharesSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (ev.seconds > 0 && ev.sharesSeconds > kBudget * ev.seconds)
      *samplesNow = static_cast<int64_t>(static_cast<double>(std::min(samples, val.size(0))) * kBudget * ev.seconds /
                                         ev.sharesSeconds);
  };
}

} // namespace particle
