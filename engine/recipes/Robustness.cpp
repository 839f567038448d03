#include "recipes/Robustness.h"

#include "graph/Catalogue.h"
#include "project/ProjectCheck.h"
#include "recipes/ExplainSession.h"
#include "train/RunFolder.h"

#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace particle {

namespace {

double accuracyOf(ParticleModel &model, const torch::Tensor &x, const torch::Tensor &y) {
  torch::NoGradGuard noGrad;
  model->eval();
  int64_t correct = 0;
  const int64_t n = x.size(0);
  for (int64_t start = 0; start < n; start += 256) {
    const int64_t len = std::min<int64_t>(256, n - start);
    correct +=
        model->forward(x.narrow(0, start, len)).logits.argmax(1).eq(y.narrow(0, start, len)).sum().item<int64_t>();
  }
  return n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

// The parts of a Split fed by the data source, as flat indices into a sample; `splitId` names it.
std::vector<std::vector<int64_t>> inputParts(const Project &project, const DataInfo *data, std::string &source,
                                             std::string *splitId = nullptr) {
  const Validation v = validate(project, data);
  const auto &cat = Catalogue::instance();
  const std::string input = inputNodeId(project.graph);
  for (const auto &n : project.graph.nodes) {
    const NodeType *t = cat.find(n.type);
    if (!t || t->role != NodeRole::Decomposer || !t->partIndices)
      continue;
    const auto in = project.graph.incoming(n.id);
    const NodeInfo *info = v.info(n.id);
    if (in.size() == 1 && in.front()->from.node == input && info && !info->inputs.empty()) {
      source = project.name + " / " + n.id;
      if (splitId)
        *splitId = n.id;
      return t->partIndices(info->params, info->inputs[0]);
    }
  }
  return {};
}

// Token ids with part `part` of the model's own decomposer `splitId` set to padding, each sample's
// own positions: found by running the decomposer on the positions' numbers (1-based; padding stays
// 0), so parts cut at each text's own length (Split mode "proportional") are occluded where they are.
torch::Tensor occludeOwnPart(ParticleModel &model, const std::string &splitId, const torch::Tensor &x, int64_t part) {
  torch::NoGradGuard noGrad;
  const torch::Tensor flat = x.reshape({x.size(0), -1});
  const torch::Tensor codes =
      torch::arange(1, flat.size(1) + 1, flat.options().dtype(torch::kLong)).unsqueeze(0) * flat.ne(0).to(torch::kLong);
  NodeContext context;
  const torch::Tensor coded =
      model->nodeModule(splitId)->run({codes}, torch::Tensor(), context).at(static_cast<std::size_t>(part));
  const torch::Tensor at = coded.reshape({flat.size(0), -1});
  torch::Tensor mask = torch::zeros(flat.sizes(), flat.options().dtype(torch::kBool));
  mask.scatter_(1, (at - 1).clamp_min(0), at.gt(0));
  return flat.masked_fill(mask, 0).reshape(x.sizes());
}

} // namespace

RobustnessReport measureRobustness(const Project &project, const std::string &checkpoint,
                                   const RobustnessOptions &options) {
  ExplainSession session(project, checkpoint);
  RobustnessReport r;
  r.project = project.name;
  r.checkpoint = checkpoint;
  ParticleModel model = session.model();
  const Dataset &data = session.data();
  const int64_t n = options.samples > 0 ? std::min(options.samples, data.testX.size(0)) : data.testX.size(0);
  r.samples = n;
  const torch::Tensor x = data.testX.narrow(0, 0, n), y = data.testY.narrow(0, 0, n);
  r.uniqueParameters = model->validation().uniqueParameters;
  r.totalParameters = model->validation().totalParameters;
  r.cleanAccuracy = accuracyOf(model, x, y);
  const bool tokens = !data.info.vocabulary.empty();
  r.noiseApplies = !tokens;
  if (!tokens) {
    const double sd = data.trainX.to(torch::kFloat).std().item<double>();
    auto gen = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    for (double sigma : options.sigmas) {
      const torch::Tensor noise =
          at::normal(0.0, 1.0, x.sizes(), gen, torch::TensorOptions().dtype(x.dtype())).to(x.device());
      r.noise.emplace_back(sigma, accuracyOf(model, x + noise * (sigma * sd), y));
    }
  } else {
    r.notes = "Gaussian noise does not apply to token ids; occlusion sets a part's tokens to padding. ";
  }
  std::string source, splitId;
  const auto parts = options.partsFrom ? inputParts(*options.partsFrom, &data.info, source)
                                       : inputParts(project, &data.info, source, &splitId);
  r.partsSource = source;
  if (parts.empty()) {
    r.notes += "No Split on the input to take parts from (give --parts-from PROJECT), so no occlusion.";
  } else {
    const int64_t features = x[0].numel();
    const torch::Tensor mean = tokens ? torch::zeros({features}, x.options())
                                      : data.trainX.reshape({data.trainX.size(0), -1}).mean(0).to(x.device());
    for (std::size_t p = 0; p < parts.size(); ++p) {
      const auto &idx = parts[p];
      for (auto i : idx)
        if (i < 0 || i >= features)
          throw Error(ErrorKind::Invalid, "the parts of " + source + " do not fit this data (" +
                                              std::to_string(features) + " features per sample)");
      if (tokens && !splitId.empty()) {
        // The model's own Split over token ids: each text's own positions of the part.
        r.occlusion.emplace_back("part " + std::to_string(p),
                                 accuracyOf(model, occludeOwnPart(model, splitId, x, static_cast<int64_t>(p)), y));
        continue;
      }
      torch::Tensor flat = x.reshape({n, -1}).clone();
      const torch::Tensor index = torch::tensor(idx, torch::kLong).to(x.device());
      flat.index_copy_(1, index, mean.index_select(0, index).unsqueeze(0).expand({n, -1}).contiguous());
      r.occlusion.emplace_back("part " + std::to_string(p), accuracyOf(model, flat.reshape(x.sizes()), y));
    }
  }
  for (const RunEpoch &e : readRunMetrics(fs::path(checkpoint).parent_path().string()))
    r.epochs.push_back({e.epoch, e.trainAccuracy, e.valAccuracy});
  return r;
}

Json robustnessJson(const RobustnessReport &r) {
  Json noise = Json::array(), occlusion = Json::array(), epochs = Json::array();
  for (const auto &[s, a] : r.noise)
    noise.push_back({{"sigma", s}, {"accuracy", a}});
  for (const auto &[p, a] : r.occlusion)
    occlusion.push_back({{"part", p}, {"accuracy", a}, {"drop", r.cleanAccuracy - a}});
  for (const auto &e : r.epochs)
    epochs.push_back(
        {{"epoch", e.epoch}, {"train_accuracy", e.train}, {"val_accuracy", e.val}, {"gap", e.train - e.val}});
  return {{"project", r.project},
          {"checkpoint", r.checkpoint},
          {"samples", r.samples},
          {"clean_accuracy", r.cleanAccuracy},
          {"noise", noise},
          {"noise_unit", "standard deviations of the training data"},
          {"occlusion", occlusion},
          {"parts_from", r.partsSource},
          {"parameters", {{"unique", r.uniqueParameters}, {"total", r.totalParameters}}},
          {"generalisation_gap", epochs},
          {"notes", r.notes}};
}

std::string robustnessCsv(const RobustnessReport &r) {
  std::ostringstream s;
  s << "kind,key,value\n";
  s << "clean,accuracy," << r.cleanAccuracy << "\n";
  for (const auto &[sigma, a] : r.noise)
    s << "noise," << sigma << "," << a << "\n";
  for (const auto &[p, a] : r.occlusion)
    s << "occlusion," << p << "," << a << "\n";
  s << "parameters,unique," << r.uniqueParameters << "\n";
  s << "parameters,total," << r.totalParameters << "\n";
  for (const auto &e : r.epochs)
    s << "gap," << e.epoch << "," << (e.train - e.val) << "\n";
  return s.str();
}

} // namespace particle
