#include "recipes/ExplainSession.h"

#include "base/Files.h"
#include "data/DatasetSpec.h"
#include "explain/Chart.h"
#include "explain/TokenReport.h"
#include "train/Trainer.h"

#include <algorithm>

namespace particle {

ExplainSession::ExplainSession(const Project &project, const std::string &checkpoint)
    : project_(project), checkpoint_(checkpoint) {
  useRunData(project_.dataset, checkpoint_);
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

std::vector<Explainer::Saliency> ExplainSession::saliency(const Explanation &e, const std::string &combine,
                                                          int64_t count) {
  Explainer explainer(model_, {});
  return explainer.integratedGradients(samples(count), e.targets.narrow(0, 0, count), combine);
}

namespace {
// The explanation figures' width in pixels (their height follows the rows they show).
constexpr int kFigureWidth = 640;

// Token explanations of text data (explain/TokenReport.h): tokens.jsonl, one line per sample,
// and tokens.html, one self-contained page.
void writeTokenExplanations(const std::string &dir, const DataInfo &data, const torch::Tensor &x, const Explanation &e,
                            const std::vector<Explainer::Saliency> &sal) {
  std::vector<std::string> branches;
  for (const auto &s : sal)
    branches.push_back(s.branch);
  std::string jsonl;
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Token attributions</title>"
                     "<style>body{font:14px/1.8 sans-serif;margin:2em;max-width:70em}div.s{margin:1.2em 0;"
                     "padding:.8em;border:1px solid #ccc;border-radius:6px}div.h{font-weight:bold}</style></head>"
                     "<body>\n<h1>Which words of which part drove each decision</h1>\n<p>Integrated gradients on "
                     "the embeddings (zero baseline), toward the explained class. " +
                     tokensLegendHtml() + "</p>\n";
  for (int64_t i = 0; i < x.size(0); ++i) {
    const std::string label = className(data, e.labels[i].item<int64_t>());
    const std::string target = className(data, e.targets[i].item<int64_t>());
    const std::string predicted = className(data, e.predictions[i].item<int64_t>());
    const auto tokens = tokenAttributions(data.vocabulary, x, i, sal);
    Json list = Json::array();
    for (const auto &t : tokens)
      list.push_back({{"token", t.token},
                      {"position", t.position},
                      {"attribution", t.attribution},
                      {"branch", t.branch >= 0 ? branches[static_cast<std::size_t>(t.branch)] : std::string()}});
    jsonl +=
        Json{{"sample", i}, {"label", label}, {"predicted", predicted}, {"target", target}, {"tokens", list}}.dump() +
        "\n";
    html += "<div class=\"s\"><div class=\"h\">test sample " + std::to_string(i) + " · label " + label +
            " · predicted " + predicted + " · explained class " + target + "</div>" + tokensHtml(tokens, branches) +
            "</div>\n";
  }
  html += "</body></html>\n";
  writeFileAtomically(dir + "/tokens.jsonl", jsonl);
  writeFileAtomically(dir + "/tokens.html", html);
}
} // namespace

void ExplainSession::writeFiles(const Explanation &e, const ExplainOptions &options, const std::string &dir, Json &j) {
  const int64_t n = e.targets.size(0);
  const DataInfo &data = info();
  for (std::size_t c = 0; c < e.combines.size(); ++c) {
    const auto &comb = e.combines[c];
    chart::HeatMap heat;
    heat.title = "How much each branch of \"" + comb.combine + "\" adds, per class";
    heat.xLabel = "Branch";
    heat.yLabel = "Explained class";
    heat.scaleLabel = std::string("Mean |contribution| (") + methodName(options.method) + ")";
    heat.annotate = true; // the numbers, where the cells are large enough to hold them
    heat.values.resize(static_cast<std::size_t>(model_->classes()));
    for (int64_t cls = 0; cls < model_->classes(); ++cls)
      heat.rowLabels.push_back(className(data, cls));
    for (const auto &a : Explainer::aggregate(comb, e.targets, model_->classes())) {
      heat.colLabels.push_back(a.branch);
      for (std::size_t cls = 0; cls < a.perClass.size(); ++cls)
        heat.values[cls].push_back(a.perClass[cls]);
    }
    const std::string png = dir + "/class_branch_" + comb.combine + ".png";
    chart::writePng(heat, png, kFigureWidth, std::clamp(180 + 30 * static_cast<int>(model_->classes()), 360, 900));
    j["combines"][c]["heatmap_png"] = png;
    // Saliency per sub-model, averaged |IG| over up to 16 samples, stitched into the input.
    if (data.sampleShape.size() == 3 && options.method == ExplainMethod::Shapley) {
      Json deltas = Json::object();
      const int64_t count = std::min<int64_t>(16, n);
      for (const auto &s : saliency(e, comb.combine, count)) {
        const auto mapped = s.map.abs().mean(0).sum(0).to(torch::kDouble).cpu(); // [H, W]
        chart::HeatMap map;
        map.title = "Where branch \"" + s.branch + "\" looks (" + std::to_string(count) + " test samples)";
        map.xLabel = "Pixel column";
        map.yLabel = "Pixel row";
        map.scaleLabel = "Mean |integrated gradients|";
        map.values.assign(mapped.size(0), std::vector<double>(mapped.size(1)));
        for (int64_t r = 0; r < mapped.size(0); ++r)
          for (int64_t col = 0; col < mapped.size(1); ++col)
            map.values[r][col] = mapped[r][col].item<double>();
        std::string safe = s.branch;
        std::replace(safe.begin(), safe.end(), ':', '_');
        chart::writePng(map, dir + "/saliency_" + safe + ".png", kFigureWidth, 480);
        deltas[s.branch] = s.delta.abs().max().item<double>();
      }
      j["combines"][c]["integrated_gradients_max_delta"] = deltas;
    }
    // Text: which words of which part drove each decision, for up to 20 samples.
    if (!data.vocabulary.empty() && options.method == ExplainMethod::Shapley) {
      const int64_t m = std::min<int64_t>(20, n);
      writeTokenExplanations(dir, data, samples(m), e, saliency(e, comb.combine, m));
      j["combines"][c]["tokens_html"] = dir + "/tokens.html";
      j["combines"][c]["tokens_jsonl"] = dir + "/tokens.jsonl";
    }
  }
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
    const PortRef u = branchOrigin(g, branch.source);
    const Node *node = g.find(u.node);
    const NodeType *type = node ? cat.find(node->type) : nullptr;
    std::vector<int64_t> region;
    if (type && type->role == NodeRole::Decomposer) {
      const NodeInfo *info = model_->validation().info(u.node);
      // Only a decomposer fed by the data source maps onto the sample itself.
      const auto in = g.incoming(u.node);
      const Node *up = in.empty() ? nullptr : g.find(in.front()->from.node);
      const NodeType *upType = up ? cat.find(up->type) : nullptr;
      if (info && upType && upType->role == NodeRole::DataSource && type->partIndices)
        region = type->partIndices(info->params, info->inputs.at(0)).at(static_cast<std::size_t>(u.index()));
    }
    out.push_back(std::move(region));
  }
  return out;
}

} // namespace particle
