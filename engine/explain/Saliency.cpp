#include "explain/Saliency.h"

#include "explain/Explainer.h"
#include "explain/Rows.h"

#include <cmath>

namespace particle {

using torch::Tensor;

std::pair<std::vector<double>, std::vector<double>> gaussLegendre01(int n) {
  // Newton iteration on the Legendre polynomial P_n from Chebyshev initial guesses; nodes and
  // weights on [-1, 1] mapped to [0, 1].
  std::vector<double> x(n), w(n);
  for (int i = 0; i < n; ++i) {
    double z = std::cos(M_PI * (i + 0.75) / (n + 0.5));
    double dp = 1;
    for (int iter = 0; iter < 100; ++iter) {
      double p0 = 1, p1 = z;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const double pn = n == 0 ? 1 : (n == 1 ? z : p1);
      const double pnm1 = n == 1 ? 1 : p0;
      dp = n * (z * pn - pnm1) / (z * z - 1);
      const double dz = pn / dp;
      z -= dz;
      if (std::abs(dz) < 1e-15)
        break;
    }
    x[i] = 0.5 * (1 - z);
    w[i] = 1.0 / ((1 - z * z) * dp * dp); // 2/((1-z²)P'²) on [-1,1], halved for [0,1]
  }
  return {x, w};
}

std::vector<Explainer::Saliency> Explainer::integratedGradients(const Tensor &x, const Tensor &targets,
                                                                const std::string &combine, int points) {
  model_->eval();
  const auto [nodes, weights] = gaussLegendre01(points);
  ForwardResult base;
  {
    torch::NoGradGuard noGrad;
    base = model_->forward(x);
  }
  const Graph &g = model_->graph();
  const Shape sample = model_->validation().data.sampleShape;
  const int64_t n = x.size(0);
  std::vector<Saliency> out;
  for (const auto &branch : model_->branches(combine)) {
    // The Split port (or Input) the branch reads. Token ids have no gradient: integrate over the
    // embeddings they become instead.
    const PortRef u = branchOrigin(g, branch.source, [&](const PortRef &up) {
      return base.outputs.at(up.node).at(up.index()).is_floating_point();
    });
    const auto &cat = Catalogue::instance();
    auto roleOf = [&](const std::string &id) {
      const Node *node = g.find(id);
      const NodeType *type = node ? cat.find(node->type) : nullptr;
      return type ? type->role : NodeRole::Layer;
    };
    const Tensor value = base.outputs.at(u.node).at(u.index()).detach();
    const int64_t p = static_cast<int64_t>(nodes.size());
    auto alphas = torch::tensor(nodes, value.options()).view({p, 1});
    std::vector<int64_t> flatShape = {p * n};
    for (int64_t d = 1; d < value.dim(); ++d)
      flatShape.push_back(value.size(d));
    auto scaled = (alphas.view([&] {
                    std::vector<int64_t> v = {p};
                    for (int64_t d = 0; d < value.dim(); ++d)
                      v.push_back(1);
                    return v;
                  }()) *
                   value.unsqueeze(0))
                      .reshape(flatShape)
                      .detach()
                      .requires_grad_(true);
    std::map<std::string, Tensor> overrides = {{u.toString(), scaled}};
    ForwardOptions opt;
    opt.base = &base;
    opt.overrides = &overrides;
    opt.repeat = p;
    const auto res = model_->forward(x, opt);
    const Tensor f = gatherTarget(res.logits, tile(targets, p));
    const Tensor grad = torch::autograd::grad({f.sum()}, {scaled})[0];
    std::vector<int64_t> split = {p, n};
    for (int64_t d = 1; d < value.dim(); ++d)
      split.push_back(value.size(d));
    auto w = torch::tensor(weights, value.options()).view([&] {
      std::vector<int64_t> v = {p};
      for (int64_t d = 0; d < value.dim(); ++d)
        v.push_back(1);
      return v;
    }());
    const Tensor ig = (value * (grad.reshape(split) * w).sum(0)).detach();
    // Convergence delta: Σ IG − (f(u) − f(0)).
    Tensor fZero;
    {
      torch::NoGradGuard noGrad;
      std::map<std::string, Tensor> zero = {{u.toString(), torch::zeros_like(value)}};
      ForwardOptions z;
      z.base = &base;
      z.overrides = &zero;
      fZero = gatherTarget(model_->forward(x, z).logits, targets);
    }
    const Tensor fx = gatherTarget(base.logits, targets);
    Saliency s;
    s.branch = branchName(branch.source);
    s.input = u;
    s.delta = (ig.reshape({n, -1}).sum(1) - (fx - fZero)).detach();
    // Stitch into the full input.
    std::vector<int64_t> full = {n};
    full.insert(full.end(), sample.begin(), sample.end());
    PortRef partOf = u;
    Tensor perElement = ig;
    if (!model_->validation().data.vocabulary.empty() && roleOf(u.node) != NodeRole::Decomposer &&
        roleOf(u.node) != NodeRole::DataSource) {
      // Embeddings [n, T, D]: a token's attribution is the sum over its vector, placed where the
      // ids the Embedding read came from.
      perElement = ig.sum(-1);
      if (const auto in = g.incoming(u.node); in.size() == 1)
        partOf = in.front()->from;
    }
    const auto partInput = g.incoming(partOf.node);
    if (roleOf(partOf.node) == NodeRole::Decomposer && !model_->validation().data.vocabulary.empty() &&
        partInput.size() == 1 && roleOf(partInput.front()->from.node) == NodeRole::DataSource) {
      // Token ids: where each slot of this sample's part came from, read by running the decomposer
      // on the positions' numbers (1-based; padding stays 0), so parts cut at each text's own length
      // (Split mode "proportional") map back to that text's positions. Padding slots map nowhere.
      const PortRef from = partInput.front()->from;
      const Tensor ids = base.outputs.at(from.node).at(static_cast<std::size_t>(from.index())).reshape({n, -1});
      const Tensor codes = torch::arange(1, ids.size(1) + 1, ids.options().dtype(torch::kLong)).unsqueeze(0) *
                           ids.ne(0).to(torch::kLong);
      Tensor coded;
      {
        torch::NoGradGuard noGrad;
        NodeContext context;
        coded = model_->nodeModule(partOf.node)
                    ->run({codes}, Tensor(), context)
                    .at(static_cast<std::size_t>(partOf.index()))
                    .reshape({n, -1});
      }
      const Tensor attribution = perElement.reshape({n, -1});
      Tensor map = torch::zeros(full, value.options());
      map.view({n, -1}).scatter_add_(1, (coded - 1).clamp_min(0), attribution * coded.gt(0).to(attribution.dtype()));
      s.map = map;
    } else if (roleOf(partOf.node) == NodeRole::Decomposer) {
      // The decomposer's part geometry puts each attribution back where the part came from.
      const Node *source = g.find(partOf.node);
      const NodeInfo *info = model_->validation().info(partOf.node);
      const auto parts = cat.find(source->type)->partIndices(info->params, info->inputs.at(0));
      Tensor map = torch::zeros(full, value.options());
      auto idx = torch::tensor(parts.at(static_cast<std::size_t>(partOf.index())), torch::kLong).to(value.device());
      map.view({n, -1}).index_add_(1, idx, perElement.reshape({n, -1}));
      s.map = map;
    } else {
      s.map = perElement.reshape(full);
    }
    out.push_back(s);
  }
  return out;
}

} // namespace particle
