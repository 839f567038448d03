#include "recipes/ExplainSession.h"

#include "data/Tokenizer.h"
#include "train/Trainer.h"

namespace particle {

ExplainSession::ExplainSession(const Project &project, const std::string &checkpoint)
    : project_(project), checkpoint_(checkpoint) {
  useRunTokenizer(project_.dataset, checkpoint_);
  data_ = loadDataset(parseDatasetSpec(project_.dataset, project_.baseDir()));
  {
    RngIsolation isolation; // the weights are overwritten next; the draws must not move a run's
    model_ = ParticleModel(project_);
  }
  Trainer::loadWeights(model_, checkpoint_, project_);
  model_->eval();
}

torch::Tensor ExplainSession::samples(int64_t samples) const {
  return data_.testX.narrow(0, 0, std::min<int64_t>(samples, data_.testX.size(0)));
}

torch::Tensor ExplainSession::labels(int64_t samples) const {
  return data_.testY.narrow(0, 0, std::min<int64_t>(samples, data_.testY.size(0)));
}

Explanation ExplainSession::explain(const ExplainOptions &options, int64_t count) {
  if (model_->combineIds().empty())
    throw Error(ErrorKind::Invalid, "the graph has no Combine: there are no sub-models to explain");
  Explainer explainer(model_, data_.trainX, options);
  return explainer.explain(samples(count), labels(count));
}

Json ExplainSession::toJson(const Explanation &e) const {
  Json j = Explainer::toJson(e, data_.info);
  j["checkpoint"] = checkpoint_;
  const int64_t n = e.predictions.size(0);
  j["accuracy_on_samples"] = e.predictions.eq(labels(n)).to(torch::kDouble).mean().item<double>();
  return j;
}

std::vector<Explainer::Saliency> ExplainSession::saliency(int64_t sample, int64_t target, const std::string &combine,
                                                          int points) {
  Explainer explainer(model_, {});
  const auto x = data_.testX.narrow(0, sample, 1);
  const auto t = torch::full({1}, target, torch::kLong);
  return explainer.integratedGradients(x, t, combine, points);
}

std::map<std::string, std::vector<torch::Tensor>> ExplainSession::attention(int64_t sample) {
  Explainer explainer(model_, {});
  return explainer.attentionMaps(data_.testX.narrow(0, sample, 1));
}

std::vector<std::vector<int64_t>> ExplainSession::branchRegions(const std::string &combine) const {
  const auto &cat = Catalogue::instance();
  const Graph &g = model_->graph();
  std::vector<std::vector<int64_t>> out;
  for (const auto &branch : model_->branches(combine)) {
    PortRef u = branch.source;
    std::vector<int64_t> region;
    for (int guard = 0; guard < 64; ++guard) {
      const Node *node = g.find(u.node);
      const NodeType *type = node ? cat.find(node->type) : nullptr;
      if (!type || type->role == NodeRole::DataSource)
        break;
      if (type->role == NodeRole::Decomposer) {
        const NodeInfo *info = model_->validation().info(u.node);
        // Only a decomposer fed by the data source maps onto the sample itself.
        const auto in = g.incoming(u.node);
        const Node *up = in.empty() ? nullptr : g.find(in.front()->from.node);
        const NodeType *upType = up ? cat.find(up->type) : nullptr;
        if (info && upType && upType->role == NodeRole::DataSource && type->partIndices)
          region = type->partIndices(info->params, info->inputs.at(0)).at(static_cast<std::size_t>(u.index()));
        break;
      }
      const auto in = g.incoming(u.node);
      if (in.size() != 1)
        break;
      u = in.front()->from;
    }
    out.push_back(std::move(region));
  }
  return out;
}

} // namespace particle
