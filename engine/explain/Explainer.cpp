#include "explain/Explainer.h"

#include "explain/Rows.h"

#include <cmath>
#include <numeric>
#include <random>

namespace particle {

using torch::Tensor;

namespace {
constexpr int64_t kMaxReference = 2048; // samples for the mean baseline
constexpr int64_t kMaxBackground = 100; // samples for the background baseline

double factorial(int n) {
  return std::tgamma(n + 1.0);
}

template <class E>
E parseWord(const std::string &word, const char *what, std::initializer_list<E> values, const char *(*name)(E)) {
  std::string list;
  for (E v : values) {
    if (word == name(v))
      return v;
    list += (list.empty() ? "" : ", ") + std::string(name(v));
  }
  throw Error(ErrorKind::Usage, std::string(what) + " \"" + word + "\" is not known; use one of: " + list);
}

void checkCancel(const ExplainOptions &o) {
  if (o.cancel && o.cancel->cancelled.load())
    throw Cancelled();
}
} // namespace

const char *methodName(ExplainMethod m) {
  switch (m) {
  case ExplainMethod::Shapley: return "shapley";
  case ExplainMethod::Ablation: return "ablation";
  case ExplainMethod::GradXAct: return "gradxact";
  }
  return "?";
}

const char *baselineName(ExplainBaseline b) {
  switch (b) {
  case ExplainBaseline::Mean: return "mean";
  case ExplainBaseline::Zero: return "zero";
  case ExplainBaseline::Background: return "background";
  }
  return "?";
}

const char *targetName(ExplainTarget t) {
  return t == ExplainTarget::True ? "true" : "predicted";
}

ExplainMethod parseMethod(const std::string &word) {
  return parseWord(word, "method", {ExplainMethod::Shapley, ExplainMethod::Ablation, ExplainMethod::GradXAct},
                   methodName);
}

ExplainBaseline parseBaseline(const std::string &word) {
  return parseWord(word, "baseline", {ExplainBaseline::Mean, ExplainBaseline::Zero, ExplainBaseline::Background},
                   baselineName);
}

ExplainTarget parseTarget(const std::string &word) {
  return parseWord(word, "target", {ExplainTarget::Predicted, ExplainTarget::True}, targetName);
}

Explainer::Explainer(ParticleModel model, Tensor reference, ExplainOptions options)
    : model_(std::move(model)), reference_(std::move(reference)), options_(std::move(options)) {
  if (reference_.defined() && reference_.size(0) > kMaxReference)
    reference_ = reference_.narrow(0, 0, kMaxReference);
}

Tensor Explainer::targetsFor(const Tensor &logits, const Tensor &labels) const {
  if (options_.target == ExplainTarget::True) {
    if (!labels.defined())
      throw Error(ErrorKind::Usage, "target \"true\" needs the samples' labels");
    return labels.to(torch::kLong);
  }
  return logits.argmax(1);
}

Tensor Explainer::coalitionValues(const std::string &combine, const ForwardResult &base, const Tensor &x,
                                  const std::vector<int64_t> &masks, const std::vector<Tensor> &present,
                                  const std::vector<Tensor> &absent, const Tensor &targets) {
  const auto branches = model_->branches(combine);
  const int64_t n = x.size(0), k = static_cast<int64_t>(branches.size());
  const int64_t perPass = std::max<int64_t>(1, options_.maxRowsPerPass / std::max<int64_t>(1, n));
  const auto weightsIt = base.combineWeights.find(combine);
  const bool gate = weightsIt != base.combineWeights.end() && model_->weightKind(combine) == WeightKind::Gate;
  std::vector<Tensor> columns;
  for (std::size_t start = 0; start < masks.size(); start += perPass) {
    checkCancel(options_);
    const int64_t m = std::min<int64_t>(perPass, static_cast<int64_t>(masks.size() - start));
    std::vector<int64_t> chunk(masks.begin() + start, masks.begin() + start + m);
    auto bits = torch::zeros({m, k}, torch::kBool);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t b = 0; b < k; ++b)
        bits[i][b] = ((chunk[i] >> b) & 1) != 0;
    bits = bits.to(x.device());
    std::map<std::string, Tensor> overrides;
    for (int64_t b = 0; b < k; ++b) {
      const Tensor &h = present[b];
      std::vector<int64_t> view = {m, 1};
      for (int64_t d = 1; d < h.dim(); ++d)
        view.push_back(1);
      auto keep = bits.select(1, b).reshape(view);
      auto mixed = torch::where(keep, h.unsqueeze(0), absent[b].unsqueeze(0));
      std::vector<int64_t> flatShape = {m * n};
      for (int64_t d = 1; d < h.dim(); ++d)
        flatShape.push_back(h.size(d));
      overrides[branches[b].source.toString()] = mixed.reshape(flatShape);
    }
    std::map<std::string, Tensor> fixed;
    if (gate) {
      const Tensor &w = weightsIt->second; // [N, K]
      if (options_.renormalizeGates) {
        auto mask = bits.to(w.dtype()).unsqueeze(1); // [m, 1, K]
        auto masked = w.unsqueeze(0) * mask;         // [m, N, K]
        auto sum = masked.sum(2, true).clamp_min(1e-12);
        fixed[combine] = (masked / sum).reshape({m * n, k});
      } else {
        fixed[combine] = tile(w, m);
      }
    }
    ForwardOptions opt;
    opt.base = &base;
    opt.overrides = &overrides;
    opt.repeat = m;
    if (!fixed.empty())
      opt.fixedWeights = &fixed;
    const auto out = model_->forward(x, opt);
    columns.push_back(gatherTarget(out.logits, tile(targets, m)).reshape({m, n}).t());
  }
  return torch::cat(columns, 1); // [N, masks]
}

CombineAttribution Explainer::explainCombine(const std::string &combine, const Tensor &x, const ForwardResult &base,
                                             const Tensor &targets) {
  CombineAttribution out;
  out.combine = combine;
  const auto branches = model_->branches(combine);
  const int64_t k = static_cast<int64_t>(branches.size());
  const int64_t n = x.size(0);
  std::vector<Tensor> present;
  for (const auto &b : branches) {
    out.branches.push_back(branchName(b.source));
    present.push_back(base.outputs.at(b.source.node).at(b.source.index()));
  }
  if (auto w = base.combineWeights.find(combine); w != base.combineWeights.end())
    out.weights = w->second;

  // Baselines: one [1, ...] per branch, or for "background" a set of them.
  std::vector<std::vector<Tensor>> baselineSets;
  if (options_.baseline == ExplainBaseline::Zero) {
    std::vector<Tensor> zeros;
    for (const auto &h : present)
      zeros.push_back(torch::zeros_like(h.narrow(0, 0, 1)));
    baselineSets.push_back(zeros);
  } else {
    if (!reference_.defined() || reference_.size(0) == 0)
      throw Error(ErrorKind::Usage, std::string("baseline \"") + baselineName(options_.baseline) +
                                        "\" needs reference (training) samples");
    const int64_t count = options_.baseline == ExplainBaseline::Background
                              ? std::min(kMaxBackground, reference_.size(0))
                              : reference_.size(0);
    const auto ref = model_->forward(reference_.narrow(0, 0, count));
    std::vector<Tensor> refOutputs;
    for (const auto &b : branches)
      refOutputs.push_back(ref.outputs.at(b.source.node).at(b.source.index()));
    if (options_.baseline == ExplainBaseline::Mean) {
      std::vector<Tensor> means;
      for (const auto &r : refOutputs)
        means.push_back(r.mean(0, true));
      baselineSets.push_back(means);
    } else {
      for (int64_t j = 0; j < count; ++j) {
        std::vector<Tensor> one;
        for (const auto &r : refOutputs)
          one.push_back(r.narrow(0, j, 1));
        baselineSets.push_back(one);
      }
    }
  }
  auto values = [&](const std::vector<int64_t> &masks) {
    Tensor sum;
    for (const auto &absent : baselineSets) {
      Tensor v = coalitionValues(combine, base, x, masks, present, absent, targets);
      sum = sum.defined() ? sum + v : v;
    }
    return sum / static_cast<double>(baselineSets.size());
  };
  const int64_t full = (int64_t{1} << k) - 1;

  if (options_.method == ExplainMethod::GradXAct) {
    torch::AutoGradMode enable(true);
    std::map<std::string, Tensor> overrides;
    std::vector<Tensor> leaves;
    for (int64_t b = 0; b < k; ++b) {
      leaves.push_back(present[b].detach().clone().requires_grad_(true));
      overrides[branches[b].source.toString()] = leaves.back();
    }
    ForwardOptions opt;
    opt.base = &base;
    opt.overrides = &overrides;
    const auto res = model_->forward(x, opt);
    const Tensor f = gatherTarget(res.logits, targets);
    const auto grads = torch::autograd::grad({f.sum()}, leaves, {}, false, false, true);
    std::vector<Tensor> cols;
    for (int64_t b = 0; b < k; ++b) {
      Tensor meanBaseline;
      for (const auto &set : baselineSets)
        meanBaseline = meanBaseline.defined() ? meanBaseline + set[b] : set[b];
      meanBaseline = meanBaseline / static_cast<double>(baselineSets.size());
      Tensor g = grads[b].defined() ? grads[b] : torch::zeros_like(leaves[b]);
      cols.push_back(((present[b] - meanBaseline) * g).reshape({n, -1}).sum(1));
    }
    out.phi = torch::stack(cols, 1).detach();
    const Tensor v = values({0, full});
    out.fBaseline = v.select(1, 0);
    out.fx = v.select(1, 1);
  } else if (options_.method == ExplainMethod::Ablation) {
    std::vector<int64_t> masks = {full, 0};
    for (int64_t b = 0; b < k; ++b)
      masks.push_back(full & ~(int64_t{1} << b));
    const Tensor v = values(masks);
    out.fx = v.select(1, 0);
    out.fBaseline = v.select(1, 1);
    out.phi = out.fx.unsqueeze(1) - v.narrow(1, 2, k);
  } else if (k <= options_.maxExactBranches) {
    std::vector<int64_t> masks(static_cast<std::size_t>(full + 1));
    std::iota(masks.begin(), masks.end(), 0);
    const Tensor F = values(masks); // [N, 2^K]
    out.fx = F.select(1, full);
    out.fBaseline = F.select(1, 0);
    std::vector<Tensor> cols;
    for (int64_t b = 0; b < k; ++b) {
      std::vector<int64_t> without, with;
      std::vector<double> weight;
      for (int64_t s = 0; s <= full; ++s) {
        if ((s >> b) & 1)
          continue;
        const int size = __builtin_popcountll(static_cast<unsigned long long>(s));
        without.push_back(s);
        with.push_back(s | (int64_t{1} << b));
        weight.push_back(factorial(size) * factorial(static_cast<int>(k) - size - 1) / factorial(static_cast<int>(k)));
      }
      auto idxWith = torch::tensor(with, torch::kLong).to(F.device());
      auto idxWithout = torch::tensor(without, torch::kLong).to(F.device());
      auto w = torch::tensor(weight, torch::kDouble).to(F.device()).to(F.dtype());
      cols.push_back(((F.index_select(1, idxWith) - F.index_select(1, idxWithout)) * w).sum(1));
    }
    out.phi = torch::stack(cols, 1);
  } else {
    // Permutation sampling: every permutation's marginal contributions add up to
    // f(x) − f(baseline), so the mean keeps completeness exact.
    out.exact = false;
    std::mt19937_64 rng(options_.seed);
    const int64_t p = std::max<int64_t>(2, options_.permutations);
    std::vector<std::vector<int64_t>> perms;
    std::vector<int64_t> masks;
    for (int64_t i = 0; i < p; ++i) {
      std::vector<int64_t> perm(k);
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng);
      int64_t mask = 0;
      masks.push_back(mask);
      for (auto b : perm) {
        mask |= int64_t{1} << b;
        masks.push_back(mask);
      }
      perms.push_back(perm);
    }
    const Tensor F = values(masks); // [N, P·(K+1)]
    auto contributions = torch::zeros({n, p, k}, F.options());
    for (int64_t i = 0; i < p; ++i)
      for (int64_t j = 0; j < k; ++j) {
        const int64_t col = i * (k + 1) + j;
        contributions.select(1, i).select(1, perms[i][j]).copy_(F.select(1, col + 1) - F.select(1, col));
      }
    out.phi = contributions.mean(1);
    out.standardError = contributions.std(1) / std::sqrt(static_cast<double>(p));
    out.fx = F.select(1, k);
    out.fBaseline = F.select(1, 0);
  }
  out.completenessMaxError = (out.phi.sum(1) - (out.fx - out.fBaseline)).abs().max().item<double>();
  return out;
}

Explanation Explainer::explain(const Tensor &x, const Tensor &labels) {
  model_->eval();
  torch::NoGradGuard noGrad;
  Explanation e;
  e.method = methodName(options_.method);
  e.target = targetName(options_.target);
  e.baseline = baselineName(options_.baseline);
  const auto base = model_->forward(x);
  e.predictions = base.logits.argmax(1);
  e.targets = targetsFor(base.logits, labels);
  e.labels = labels;
  for (const auto &c : model_->combineIds())
    e.combines.push_back(explainCombine(c, x, base, e.targets));
  return e;
}

std::vector<BranchAggregate> Explainer::aggregate(const CombineAttribution &c, const Tensor &targets, int64_t classes) {
  std::vector<BranchAggregate> out;
  const auto absPhi = c.phi.abs().to(torch::kDouble).cpu();
  const auto meanAbs = absPhi.mean(0);
  const double total = meanAbs.sum().item<double>();
  const auto t = targets.cpu();
  for (std::size_t b = 0; b < c.branches.size(); ++b) {
    BranchAggregate a;
    a.branch = c.branches[b];
    a.meanAbs = meanAbs[b].item<double>();
    a.share = total > 0 ? a.meanAbs / total : 0;
    for (int64_t cls = 0; cls < classes; ++cls) {
      auto sel = t.eq(cls);
      a.perClass.push_back(sel.any().item<bool>() ? absPhi.select(1, b).masked_select(sel).mean().item<double>() : 0.0);
    }
    if (c.weights.defined())
      a.meanWeight = c.weights.select(1, b).mean().item<double>();
    out.push_back(a);
  }
  return out;
}

Json Explainer::toJson(const Explanation &e, const DataInfo &data) {
  const int64_t classes = data.classes;
  Json names = Json::array();
  for (int64_t c = 0; c < classes; ++c)
    names.push_back(className(data, c));
  Json j = {{"method", e.method},           {"target", e.target}, {"baseline", e.baseline},
            {"samples", e.targets.size(0)}, {"classes", names},   {"combines", Json::array()}};
  for (const auto &c : e.combines) {
    Json cj = {{"node", c.combine},
               {"exact", c.exact},
               {"completeness_max_error", c.completenessMaxError},
               {"branches", Json::array()}};
    const auto fx = c.fx.abs().max().item<double>();
    cj["completeness_tolerance"] = 1e-4 * (1 + fx);
    for (const auto &a : aggregate(c, e.targets, classes)) {
      Json bj = {{"node", a.branch}, {"share", a.share}, {"mean_abs", a.meanAbs}, {"per_class", a.perClass}};
      if (a.meanWeight >= 0)
        bj["mean_weight"] = a.meanWeight;
      cj["branches"].push_back(bj);
    }
    j["combines"].push_back(cj);
  }
  return j;
}

std::map<std::string, std::vector<Tensor>> Explainer::attentionMaps(const Tensor &x) {
  model_->eval();
  torch::NoGradGuard noGrad;
  ForwardOptions opt;
  opt.recordAttention = true;
  return model_->forward(x, opt).attention;
}

Tensor Explainer::rollout(const std::vector<Tensor> &layers) {
  Tensor r;
  for (const auto &a : layers) {
    auto avg = a.mean(1); // heads
    const int64_t t = avg.size(-1);
    auto mixed = 0.5 * avg + 0.5 * torch::eye(t, avg.options()).unsqueeze(0);
    mixed = mixed / mixed.sum(-1, true);
    r = r.defined() ? torch::matmul(mixed, r) : mixed;
  }
  return r;
}

Tensor Explainer::tokenImportance(const Tensor &rolled) {
  return rolled.mean(1);
}

} // namespace particle
