#include "recipes/ExplainSession.h"

#include "base/Files.h"
#include "data/DatasetSpec.h"
#include "explain/Chart.h"
#include "explain/TokenReport.h"
#include "train/Trainer.h"

#include <algorithm>
#include <map>
#include <set>

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
  const std::vector<int64_t> order = explainOrder(data_.testY);
  order_ = torch::tensor(order, torch::kLong);
}

std::vector<int64_t> explainOrder(const torch::Tensor &labels) {
  const auto y = labels.to(torch::kLong).contiguous();
  const int64_t n = y.size(0);
  const int64_t *label = y.data_ptr<int64_t>();
  std::map<int64_t, int64_t> seen, size; // class → the order it was first seen in, its samples
  std::vector<int64_t> rank(n);
  for (int64_t i = 0; i < n; ++i) {
    seen.emplace(label[i], static_cast<int64_t>(seen.size()));
    rank[i] = size[label[i]]++;
  }
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  // rank/size compared exactly, by cross-multiplying.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const int64_t left = rank[a] * size[label[b]], right = rank[b] * size[label[a]];
    return left != right ? left < right : seen[label[a]] < seen[label[b]];
  });
  return order;
}

torch::Tensor ExplainSession::samples(int64_t samples) const {
  return data_.testX.index_select(0, order_.narrow(0, 0, std::min<int64_t>(samples, order_.size(0))));
}

torch::Tensor ExplainSession::labels(int64_t samples) const {
  return data_.testY.index_select(0, order_.narrow(0, 0, std::min<int64_t>(samples, order_.size(0))));
}

std::string ExplainSession::samplesText(int64_t samples) const {
  const int64_t total = order_.size(0), n = std::min<int64_t>(samples, total);
  const auto y = labels(n).contiguous();
  const std::set<int64_t> classes(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + n);
  return (n == total ? "all " + std::to_string(total) : std::to_string(n) + " of " + std::to_string(total)) +
         " test samples, drawn across the " + std::to_string(classes.size()) +
         (classes.size() == 1 ? " class" : " classes");
}

std::vector<std::string> ExplainSession::sampleNames(int64_t samples) const {
  std::vector<std::string> names;
  if (static_cast<int64_t>(data_.testNames.size()) != data_.testY.size(0))
    return names;
  const int64_t n = std::min<int64_t>(samples, order_.size(0));
  const auto order = order_.contiguous();
  for (int64_t i = 0; i < n; ++i)
    names.push_back(data_.testNames[static_cast<std::size_t>(order.data_ptr<int64_t>()[i])]);
  return names;
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
  if (const auto names = sampleNames(n); !names.empty())
    j["sample_names"] = names; // the explained samples' files, in the order of the attributions
  return j;
}

std::vector<Explainer::Saliency> ExplainSession::saliency(int64_t sample, int64_t target, const std::string &combine,
                                                          int points) {
  Explainer explainer(model_, {});
  const auto x = data_.testX.index_select(0, order_.narrow(0, sample, 1));
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
// Rows × cols of a [H, W] tensor.
std::vector<std::vector<double>> matrixOf(const torch::Tensor &hw) {
  const auto t = hw.to(torch::kDouble).contiguous().cpu();
  std::vector<std::vector<double>> m(static_cast<std::size_t>(t.size(0)));
  const double *p = t.data_ptr<double>();
  for (std::size_t r = 0; r < m.size(); ++r)
    m[r].assign(p + r * t.size(1), p + (r + 1) * t.size(1));
  return m;
}

// The rows and columns a branch reads of a [1, H, W] sample (the whole sample when it reads all).
chart::HeatMap::Outline cellsOf(const std::vector<int64_t> &region, int64_t rows, int64_t cols) {
  if (region.empty())
    return {0, static_cast<int>(rows), 0, static_cast<int>(cols), ""};
  int64_t r0 = rows, r1 = -1, c0 = cols, c1 = -1;
  for (int64_t i : region) {
    const int64_t cell = i % (rows * cols), r = cell / cols, col = cell % cols;
    r0 = std::min(r0, r);
    r1 = std::max(r1, r);
    c0 = std::min(c0, col);
    c1 = std::max(c1, col);
  }
  return {static_cast<int>(r0), static_cast<int>(r1 + 1), static_cast<int>(c0), static_cast<int>(c1 + 1), ""};
}

// Audio (logmel) figures of one Combine: test sample 0's spectrogram with each branch's band
// (spectrogram_<combine>.png), the saliency of every branch stitched into one time × frequency map
// with each band's share of the decision (saliency_<combine>.png), and the shares as bars with the
// bands' frequencies (shares_<combine>.png). Each figure is written as SVG beside its PNG.
void writeAudioFigures(const std::string &dir, const DataInfo &data, const CombineAttribution &comb,
                       const std::vector<BranchAggregate> &aggregates, const std::vector<std::vector<int64_t>> &regions,
                       const torch::Tensor &sample, const Explanation &e, const std::vector<Explainer::Saliency> &sal,
                       Json &out) {
  const int64_t rows = data.sampleShape[1], cols = data.sampleShape[2];
  std::vector<chart::HeatMap::Outline> outlines;
  chart::BarChart bars;
  bars.title = "Which parts of the spectrogram decided (\"" + comb.combine + "\")";
  bars.valueLabel = "Share of the mean |contribution|";
  for (std::size_t b = 0; b < aggregates.size(); ++b) {
    const std::vector<int64_t> region = b < regions.size() ? regions[b] : std::vector<int64_t>{};
    auto o = cellsOf(region, rows, cols);
    const std::string range = audioPartRange(region, data);
    o.label = aggregates[b].branch + " " + std::to_string(std::lround(100 * aggregates[b].share)) + "%";
    outlines.push_back(o);
    bars.labels.push_back(aggregates[b].branch + (range.empty() ? "" : " (" + range + ")"));
    bars.values.push_back(aggregates[b].share);
  }
  const std::string name = comb.combine;
  auto write = [&](const std::string &key, const std::string &file, auto figure, int width, int height) {
    writeFileAtomically(dir + "/" + file + ".svg", chart::toSvg(figure, width, height));
    chart::writePng(figure, dir + "/" + file + ".png", width, height);
    out[key] = dir + "/" + file + ".png";
  };
  chart::HeatMap spec = chart::spectrogram(matrixOf(sample), data.audio);
  spec.title = "Test sample 0: " + className(data, e.labels[0].item<int64_t>()) + ", predicted " +
               className(data, e.predictions[0].item<int64_t>());
  spec.outlines = outlines;
  write("spectrogram_png", "spectrogram_" + name, spec, kFigureWidth, 420);
  if (!sal.empty()) {
    torch::Tensor stitched = torch::zeros({rows, cols}, torch::kDouble);
    Json deltas = Json::object();
    for (const auto &s : sal) {
      stitched += s.map.abs().mean(0).sum(0).to(torch::kDouble).cpu();
      deltas[s.branch] = s.delta.abs().max().item<double>();
    }
    chart::HeatMap map = chart::spectrogram(matrixOf(stitched), data.audio);
    map.title =
        "Where each part looked and how much it decided (" + std::to_string(sal.front().map.size(0)) + " test samples)";
    map.scaleLabel = "Mean |integrated gradients|";
    map.outlines = outlines;
    write("saliency_png", "saliency_" + name, map, kFigureWidth, 420);
    out["integrated_gradients_max_delta"] = deltas;
  }
  write("shares_png", "shares_" + name, bars, kFigureWidth, 90 + 40 * static_cast<int>(bars.labels.size()));
}
} // namespace

std::string audioPartRange(const std::vector<int64_t> &region, const DataInfo &data) {
  if (data.sampleShape.size() != 3 || data.audio.features != "logmel")
    return {};
  const int64_t rows = data.sampleShape[1], cols = data.sampleShape[2];
  const auto o = cellsOf(region, rows, cols);
  auto hz = [](double v) { return std::to_string(std::lround(v)); };
  auto s = [](double v) { // two decimals, locale-free
    std::string t = std::to_string(std::lround(v * 100));
    if (t.size() < 3)
      t.insert(0, 3 - t.size(), '0');
    return t.substr(0, t.size() - 2) + "." + t.substr(t.size() - 2);
  };
  std::string out;
  if ((o.row0 > 0 || o.row1 < rows) && data.audio.bandHz.size() == static_cast<std::size_t>(rows))
    out = hz(data.audio.bandHz[static_cast<std::size_t>(o.row0)]) + "–" +
          hz(data.audio.bandHz[static_cast<std::size_t>(o.row1 - 1)]) + " Hz";
  if ((o.col0 > 0 || o.col1 < cols) && data.audio.hopSeconds > 0)
    out +=
        (out.empty() ? "" : ", ") + s(o.col0 * data.audio.hopSeconds) + "–" + s(o.col1 * data.audio.hopSeconds) + " s";
  return out;
}

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
    // Spectrograms: the sample, where the bands looked and which decided, on axes in s and Hz.
    if (data.audio.features == "logmel" && data.sampleShape.size() == 3 && options.method == ExplainMethod::Shapley) {
      writeAudioFigures(dir, data, comb, Explainer::aggregate(comb, e.targets, model_->classes()),
                        branchRegions(comb.combine), samples(1)[0][0], e,
                        saliency(e, comb.combine, std::min<int64_t>(16, n)), j["combines"][c]);
    } else if (data.sampleShape.size() == 3 && options.method == ExplainMethod::Shapley) {
      // Saliency per sub-model, averaged |IG| over up to 16 samples, stitched into the input.
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
  return explainer.attentionMaps(data_.testX.index_select(0, order_.narrow(0, sample, 1)));
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
