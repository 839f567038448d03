#include "model/Model.h"

#include <functional>
#include <set>

namespace particle {

namespace nn = torch::nn;
using torch::Tensor;

namespace {

Tensor flat(const Tensor &t) {
  return t.reshape({t.size(0), -1});
}

Tensor activate(const Tensor &x, const std::string &fn) {
  if (fn == "gelu")
    return torch::gelu(x);
  if (fn == "tanh")
    return torch::tanh(x);
  if (fn == "sigmoid")
    return torch::sigmoid(x);
  return torch::relu(x);
}

// ---- simple nodes ---------------------------------------------------------------------------

class InputImpl : public NodeModuleImpl {
public:
  InputImpl(const Shape &shape, bool normalize) : normalize_(normalize) {
    // Per channel for images, per feature for vectors/tokens.
    std::vector<int64_t> statShape(shape.begin(), shape.end());
    if (shape.size() == 3)
      statShape = {shape[0], 1, 1};
    mean_ = register_buffer("mean", torch::zeros(statShape));
    std_ = register_buffer("std", torch::ones(statShape));
  }
  void fit(const Tensor &x) {
    torch::NoGradGuard guard;
    if (x.dim() == 4) {
      mean_.copy_(x.mean({0, 2, 3}).reshape(mean_.sizes()));
      std_.copy_(x.std({0, 2, 3}).reshape(std_.sizes()).clamp_min(1e-6));
    } else {
      mean_.copy_(x.mean(0).reshape(mean_.sizes()));
      std_.copy_(x.std(0).reshape(std_.sizes()).clamp_min(1e-6));
    }
  }
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    return {normalize_ ? (in[0] - mean_) / std_ : in[0]};
  }

private:
  bool normalize_;
  Tensor mean_, std_;
};

class SplitImpl : public NodeModuleImpl {
public:
  SplitImpl(const Json &p, const NodeInfo &info) : mode_(p["mode"]) {
    if (mode_ == "patches") {
      rows_ = p["rows"];
      cols_ = p["cols"];
    } else if (mode_ == "chunks") {
      for (const auto &s : info.outputs)
        sizes_.push_back(s[0]);
    } else {
      int k = 0;
      for (const auto &g : p["groups"]) {
        std::vector<int64_t> idx = g.get<std::vector<int64_t>>();
        indices_.push_back(register_buffer("group" + std::to_string(k++), torch::tensor(idx, torch::kLong)));
      }
    }
  }
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    const Tensor &x = in[0];
    std::vector<Tensor> out;
    if (mode_ == "patches") {
      const int64_t h = x.size(2) / rows_, w = x.size(3) / cols_;
      for (int64_t r = 0; r < rows_; ++r)
        for (int64_t c = 0; c < cols_; ++c)
          out.push_back(x.narrow(2, r * h, h).narrow(3, c * w, w));
    } else if (mode_ == "chunks") {
      int64_t start = 0;
      for (auto s : sizes_) {
        out.push_back(x.narrow(1, start, s));
        start += s;
      }
    } else {
      for (const auto &idx : indices_)
        out.push_back(x.index_select(1, idx));
    }
    return out;
  }

private:
  std::string mode_;
  int64_t rows_ = 1, cols_ = 1;
  std::vector<int64_t> sizes_;
  std::vector<Tensor> indices_;
};

Tensor patchify(const Tensor &x, int64_t p) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2) / p, w = x.size(3) / p;
  return x.reshape({b, c, h, p, w, p}).permute({0, 2, 4, 1, 3, 5}).reshape({b, h * w, c * p * p});
}

class PatchifyImpl : public NodeModuleImpl {
public:
  explicit PatchifyImpl(int64_t patch) : patch_(patch) {}
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    return {patchify(in[0], patch_)};
  }

private:
  int64_t patch_;
};

class LinearNodeImpl : public NodeModuleImpl {
public:
  LinearNodeImpl(int64_t in, int64_t out, bool bias)
      : linear_(register_module("linear", nn::Linear(nn::LinearOptions(in, out).bias(bias)))) {}
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    return {linear_(in[0])};
  }

private:
  nn::Linear linear_;
};

class ActivationImpl : public NodeModuleImpl {
public:
  explicit ActivationImpl(std::string fn) : fn_(std::move(fn)) {}
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    return {activate(in[0], fn_)};
  }

private:
  std::string fn_;
};

class DropoutImpl : public NodeModuleImpl {
public:
  explicit DropoutImpl(double p) : p_(p) {}
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    return {torch::dropout(in[0], p_, is_training())};
  }

private:
  double p_;
};

class LayerNormNodeImpl : public NodeModuleImpl {
public:
  explicit LayerNormNodeImpl(int64_t width)
      : norm_(register_module("norm", nn::LayerNorm(nn::LayerNormOptions({width})))) {}
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    return {norm_(in[0])};
  }

private:
  nn::LayerNorm norm_;
};

class FlattenImpl : public NodeModuleImpl {
public:
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    return {flat(in[0])};
  }
};

class ClassifierImpl : public NodeModuleImpl {
public:
  ClassifierImpl(int64_t in, int64_t classes) : linear_(register_module("linear", nn::Linear(in, classes))) {}
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &) override {
    return {linear_(flat(in[0]))};
  }

private:
  nn::Linear linear_;
};

// ---- sub-model blocks: a trunk (shareable under scope "trunk") and a last linear layer -----

class TrunkImpl : public nn::Module {
public:
  virtual Tensor run(const Tensor &x, NodeContext &ctx) = 0;
};

class MlpTrunkImpl : public TrunkImpl {
public:
  MlpTrunkImpl(int64_t in, const std::vector<int64_t> &hidden, std::string activation, double dropout)
      : activation_(std::move(activation)), dropout_(dropout) {
    layers_ = register_module("layers", nn::ModuleList());
    for (auto h : hidden) {
      layers_->push_back(nn::Linear(in, h));
      in = h;
    }
  }
  Tensor run(const Tensor &x, NodeContext &) override {
    Tensor h = flat(x);
    for (const auto &layer : *layers_) {
      h = activate(layer->as<nn::Linear>()->forward(h), activation_);
      if (dropout_ > 0)
        h = torch::dropout(h, dropout_, is_training());
    }
    return h;
  }

private:
  nn::ModuleList layers_;
  std::string activation_;
  double dropout_;
};

class ConvTrunkImpl : public TrunkImpl {
public:
  ConvTrunkImpl(int64_t in, const std::vector<int64_t> &channels, int64_t kernel, bool pool) : pool_(pool) {
    layers_ = register_module("layers", nn::ModuleList());
    for (auto c : channels) {
      layers_->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, kernel).padding(kernel / 2)));
      in = c;
    }
  }
  Tensor run(const Tensor &x, NodeContext &) override {
    Tensor h = x;
    for (const auto &layer : *layers_) {
      h = torch::relu(layer->as<nn::Conv2d>()->forward(h));
      if (pool_)
        h = torch::max_pool2d(h, 2);
    }
    return flat(h);
  }

private:
  nn::ModuleList layers_;
  bool pool_;
};

// Pre-norm encoder layer with its own multi-head attention, so the weights can be returned.
class EncoderLayerImpl : public nn::Module {
public:
  EncoderLayerImpl(int64_t dim, int64_t heads) : heads_(heads) {
    ln1_ = register_module("ln1", nn::LayerNorm(nn::LayerNormOptions({dim})));
    qkv_ = register_module("qkv", nn::Linear(dim, 3 * dim));
    proj_ = register_module("proj", nn::Linear(dim, dim));
    ln2_ = register_module("ln2", nn::LayerNorm(nn::LayerNormOptions({dim})));
    fc1_ = register_module("fc1", nn::Linear(dim, 2 * dim));
    fc2_ = register_module("fc2", nn::Linear(2 * dim, dim));
  }
  Tensor forward(const Tensor &x, Tensor *attention) {
    const int64_t b = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads_;
    auto qkv = qkv_(ln1_(x)).reshape({b, t, 3, heads_, hd}).permute({2, 0, 3, 1, 4});
    auto q = qkv[0], k = qkv[1], v = qkv[2];
    auto att = torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd)), -1);
    if (attention)
      *attention = att;
    auto y = torch::matmul(att, v).transpose(1, 2).reshape({b, t, d});
    auto h = x + proj_(y);
    return h + fc2_(torch::gelu(fc1_(ln2_(h))));
  }

private:
  int64_t heads_;
  nn::LayerNorm ln1_{nullptr}, ln2_{nullptr};
  nn::Linear qkv_{nullptr}, proj_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(EncoderLayer);

class AttentionTrunkImpl : public TrunkImpl {
public:
  AttentionTrunkImpl(const Shape &input, const Json &p) {
    Shape tokens = input;
    if (input.size() == 3) {
      patch_ = p["patch"];
      tokens = {(input[1] / patch_) * (input[2] / patch_), input[0] * patch_ * patch_};
    } else if (input.size() == 1) {
      tokens = {1, input[0]};
    }
    const int64_t dim = p["dim"], heads = p["heads"], layers = p["layers"];
    embed_ = register_module("embed", nn::Linear(tokens[1], dim));
    pos_ = register_parameter("pos", torch::randn({tokens[0], dim}) * 0.02);
    layers_ = register_module("layers", nn::ModuleList());
    for (int64_t i = 0; i < layers; ++i)
      layers_->push_back(EncoderLayer(dim, heads));
    norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({dim})));
  }
  Tensor run(const Tensor &x, NodeContext &ctx) override {
    Tensor t = x;
    if (patch_ > 0)
      t = patchify(x, patch_);
    else if (x.dim() == 2)
      t = x.unsqueeze(1);
    Tensor h = embed_(t) + pos_;
    for (const auto &layer : *layers_) {
      Tensor att;
      h = layer->as<EncoderLayer>()->forward(h, ctx.recordAttention ? &att : nullptr);
      if (ctx.recordAttention && ctx.attention)
        ctx.attention->push_back(att);
    }
    return norm_(h.mean(1));
  }

private:
  int64_t patch_ = 0;
  nn::Linear embed_{nullptr};
  Tensor pos_;
  nn::ModuleList layers_;
  nn::LayerNorm norm_{nullptr};
};

class BlockImpl : public NodeModuleImpl {
public:
  // `trunk` is registered only when this block owns it (the first member of a share group).
  BlockImpl(std::shared_ptr<TrunkImpl> trunk, bool ownsTrunk, int64_t trunkWidth, int64_t out) : trunk_(trunk) {
    if (ownsTrunk)
      register_module("trunk", trunk_);
    head_ = register_module("head", nn::Linear(trunkWidth, out));
  }
  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &, NodeContext &ctx) override {
    return {head_(trunk_->run(in[0], ctx))};
  }
  std::shared_ptr<TrunkImpl> trunk() const { return trunk_; }

private:
  std::shared_ptr<TrunkImpl> trunk_;
  nn::Linear head_{nullptr};
};

// ---- Combine ---------------------------------------------------------------------------------

class CombineImpl : public NodeModuleImpl {
public:
  CombineImpl(const Json &p, const NodeInfo &info)
      : mode_(p["mode"]), topK_(p["top_k"]), balance_(p["balance_weight"]) {
    const int64_t k = static_cast<int64_t>(info.inputs.size());
    if (mode_ == "concat")
      return;
    const int64_t dim = info.outputs[0][0];
    for (int64_t i = 0; i < k; ++i) {
      const int64_t w = shapeNumel(info.inputs[i]);
      nn::Linear proj{nullptr};
      if (w != dim)
        proj = register_module("proj" + std::to_string(i), nn::Linear(w, dim));
      projections_.push_back(proj);
    }
    if (mode_ == "attention" || mode_ == "gate")
      position_ = register_parameter("position", torch::randn({k, dim}) * 0.02);
    if (mode_ == "attention") {
      scorer_ = register_module("scorer", nn::Linear(dim, dim));
      query_ = register_parameter("query", torch::randn({dim}) * (1.0 / std::sqrt(static_cast<double>(dim))));
    }
    if (mode_ == "gate") {
      int64_t g = 0;
      if (info.gate)
        g = shapeNumel(*info.gate);
      else
        for (const auto &s : info.inputs)
          g += shapeNumel(s);
      gateNet_ = register_module("gate", nn::Linear(g, k));
    }
  }

  std::vector<Tensor> run(const std::vector<Tensor> &in, const Tensor &gateInput, NodeContext &ctx) override {
    std::vector<Tensor> flatIn;
    for (const auto &t : in)
      flatIn.push_back(flat(t));
    if (mode_ == "concat")
      return {torch::cat(flatIn, 1)};
    std::vector<Tensor> h;
    for (std::size_t i = 0; i < flatIn.size(); ++i)
      h.push_back(projections_[i] ? projections_[i](flatIn[i]) : flatIn[i]);
    Tensor stacked = torch::stack(h, 1); // [B, K, D]
    if (mode_ == "sum")
      return {stacked.sum(1)};
    if (mode_ == "mean")
      return {stacked.mean(1)};
    if (mode_ == "max")
      return {std::get<0>(stacked.max(1))};
    stacked = stacked + position_;
    Tensor weights;
    if (ctx.fixedWeights) {
      weights = *ctx.fixedWeights;
    } else if (mode_ == "attention") {
      weights = torch::softmax(torch::matmul(torch::tanh(scorer_(stacked)), query_), 1); // [B, K]
    } else {
      Tensor logits = gateNet_(gateInput.defined() ? flat(gateInput) : torch::cat(flatIn, 1));
      const int64_t k = logits.size(1);
      Tensor probs = torch::softmax(logits, 1);
      if (topK_ > 0 && topK_ < k) {
        auto top = std::get<1>(logits.topk(topK_, 1));
        Tensor mask = torch::zeros_like(logits).scatter_(1, top, 1.0);
        weights = torch::softmax(logits.masked_fill(mask == 0, -std::numeric_limits<float>::infinity()), 1);
        // Switch-style balance: K · Σ_k (share of assignments to k) · (mean gate probability of k).
        Tensor load = mask.mean(0) / static_cast<double>(topK_);
        ctx.auxLoss = balance_ * static_cast<double>(k) * (load * probs.mean(0)).sum();
      } else {
        weights = probs;
        Tensor load = probs.mean(0);
        ctx.auxLoss = balance_ * static_cast<double>(k) * (load * load).sum();
      }
    }
    ctx.weights = weights;
    return {(stacked * weights.unsqueeze(2)).sum(1)};
  }

private:
  std::string mode_;
  int64_t topK_;
  double balance_;
  std::vector<nn::Linear> projections_;
  Tensor position_, query_;
  nn::Linear scorer_{nullptr}, gateNet_{nullptr};
};

// ---- factory -------------------------------------------------------------------------------

struct FactoryArgs {
  const Json &params;
  const NodeInfo &info;
  std::shared_ptr<TrunkImpl> sharedTrunk; // set for later members of a "trunk" share group
};

using Factory = std::function<std::shared_ptr<NodeModuleImpl>(const FactoryArgs &)>;

// A sub-model: a trunk (built here unless shared) and its own last layer, whose input width
// shape inference already worked out.
std::shared_ptr<NodeModuleImpl> makeBlock(const FactoryArgs &a,
                                          const std::function<std::shared_ptr<TrunkImpl>()> &make) {
  const bool owns = !a.sharedTrunk;
  auto trunk = owns ? make() : a.sharedTrunk;
  return std::make_shared<BlockImpl>(trunk, owns, a.info.trunkWidth, a.params["out"].get<int64_t>());
}

const std::map<std::string, Factory> &factories() {
  static const std::map<std::string, Factory> table = {
      {"Input",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<InputImpl>(a.info.outputs[0], a.params["normalize"].get<bool>());
       }},
      {"Split",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<SplitImpl>(a.params, a.info);
       }},
      {"Patchify",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<PatchifyImpl>(a.params["patch"].get<int64_t>());
       }},
      {"MLP",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return makeBlock(a, [&] {
           return std::make_shared<MlpTrunkImpl>(
               shapeNumel(a.info.inputs[0]), a.params["hidden"].get<std::vector<int64_t>>(),
               a.params["activation"].get<std::string>(), a.params["dropout"].get<double>());
         });
       }},
      {"ConvNet",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return makeBlock(a, [&] {
           return std::make_shared<ConvTrunkImpl>(a.info.inputs[0][0], a.params["channels"].get<std::vector<int64_t>>(),
                                                  a.params["kernel"].get<int64_t>(), a.params["pool"].get<bool>());
         });
       }},
      {"Attention",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return makeBlock(a, [&] { return std::make_shared<AttentionTrunkImpl>(a.info.inputs[0], a.params); });
       }},
      {"Linear",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<LinearNodeImpl>(a.info.inputs[0].back(), a.params["out"].get<int64_t>(),
                                                 a.params["bias"].get<bool>());
       }},
      {"Activation",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<ActivationImpl>(a.params["fn"].get<std::string>());
       }},
      {"Dropout",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<DropoutImpl>(a.params["p"].get<double>());
       }},
      {"LayerNorm",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<LayerNormNodeImpl>(a.info.inputs[0].back());
       }},
      {"Flatten",
       [](const FactoryArgs &) -> std::shared_ptr<NodeModuleImpl> { return std::make_shared<FlattenImpl>(); }},
      {"Combine",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<CombineImpl>(a.params, a.info);
       }},
      {"Classifier",
       [](const FactoryArgs &a) -> std::shared_ptr<NodeModuleImpl> {
         return std::make_shared<ClassifierImpl>(shapeNumel(a.info.inputs[0]), a.info.outputs[0][0]);
       }},
  };
  return table;
}

std::string refKey(const PortRef &ref) {
  return ref.toString();
}

} // namespace

bool hasModuleFactory(const std::string &type) {
  return factories().count(type) > 0;
}

std::vector<Tensor> distinctParameters(nn::Module &module) {
  std::vector<Tensor> out;
  std::set<const void *> seen;
  for (const auto &p : module.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second)
      out.push_back(p);
  return out;
}

ParticleModelImpl::ParticleModelImpl(const Project &project) : graph_(project.graph), validation_(validate(project)) {
  if (!validation_.ok()) {
    std::string message = "the project has " + std::to_string(validation_.errorCount()) + " problem(s):";
    for (const auto &p : validation_.problems)
      if (p.severity == Problem::Severity::Error)
        message += "\n  " + p.format(project.path.empty() ? project.name : project.path);
    throw Error(static_cast<ErrorKind>(validation_.exitCode()), message);
  }
  // Only nodes that feed the Classifier are built; others have no effect on predictions.
  std::set<std::string> needed;
  for (const auto &n : graph_.nodes) {
    if (n.type == "Input")
      input_ = n.id;
    if (n.type == "Classifier")
      classifier_ = n.id;
  }
  {
    std::vector<std::string> stack = {classifier_};
    needed.insert(classifier_);
    while (!stack.empty()) {
      auto cur = stack.back();
      stack.pop_back();
      for (const Edge *e : graph_.incoming(cur))
        if (needed.insert(e->from.node).second)
          stack.push_back(e->from.node);
    }
  }
  std::map<std::string, std::shared_ptr<NodeModuleImpl>> built;
  std::map<std::string, std::shared_ptr<TrunkImpl>> trunks; // by share group
  for (const auto &id : validation_.order) {
    if (!needed.count(id))
      continue;
    const Node &node = *graph_.find(id);
    const NodeInfo &info = *validation_.info(id);
    Step step;
    step.id = id;
    step.type = node.type;
    std::map<int, PortRef> numbered;
    for (const Edge *e : graph_.incoming(id)) {
      if (e->to.isNumbered())
        numbered[e->to.index()] = e->from;
      else
        step.gate = e->from;
    }
    for (auto &[k, ref] : numbered)
      step.inputs.push_back(ref);

    const std::string owner = shareOwner(graph_, id);
    if (owner != id && node.shareScope != "trunk" && built.count(owner)) {
      step.module = built.at(owner); // tied: the very same module
    } else {
      FactoryArgs args{info.params, info, nullptr};
      if (owner != id && node.shareScope == "trunk" && trunks.count(node.share))
        args.sharedTrunk = trunks.at(node.share);
      step.module = factories().at(node.type)(args);
      register_module(id, step.module);
      if (!node.share.empty())
        if (auto block = std::dynamic_pointer_cast<BlockImpl>(step.module); block && !trunks.count(node.share))
          trunks[node.share] = block->trunk();
    }
    built[id] = step.module;
    order_.push_back(id);
    steps_.push_back(std::move(step));
  }
  classes_ = validation_.info(classifier_)->outputs[0][0];
}

std::shared_ptr<NodeModuleImpl> ParticleModelImpl::nodeModule(const std::string &id) const {
  for (const auto &s : steps_)
    if (s.id == id)
      return s.module;
  return nullptr;
}

void ParticleModelImpl::fitNormalization(const Tensor &trainX) {
  if (auto input = std::dynamic_pointer_cast<InputImpl>(nodeModule(input_)))
    input->fit(trainX);
}

std::vector<std::string> ParticleModelImpl::combineIds() const {
  std::vector<std::string> out;
  for (const auto &s : steps_)
    if (s.type == "Combine")
      out.push_back(s.id);
  return out;
}

std::vector<Branch> ParticleModelImpl::branches(const std::string &combineId) const {
  std::vector<Branch> out;
  for (const auto &s : steps_)
    if (s.id == combineId)
      for (std::size_t i = 0; i < s.inputs.size(); ++i)
        out.push_back(Branch{static_cast<int>(i), s.inputs[i]});
  return out;
}

ForwardResult ParticleModelImpl::forward(const Tensor &x, const ForwardOptions &options) {
  ForwardResult result;
  result.auxLoss = torch::zeros({}, x.options().dtype(torch::kFloat));
  const int64_t repeat = std::max<int64_t>(1, options.repeat);
  // With a base, "dirty" nodes are recomputed (their batch is repeat × the base's); the others
  // keep the base's value and are tiled on the fly when a dirty node reads them.
  std::set<std::string> dirty;
  auto tiled = [&](const Tensor &t) {
    if (repeat == 1)
      return t;
    std::vector<int64_t> reps(t.dim(), 1);
    reps[0] = repeat;
    return t.repeat(reps);
  };
  for (const auto &step : steps_) {
    std::vector<Tensor> outs;
    bool stepDirty = !options.base;
    Tensor gate;
    std::vector<const PortRef *> refs;
    for (const auto &ref : step.inputs)
      refs.push_back(&ref);
    if (step.gate)
      refs.push_back(&*step.gate);
    for (const auto *ref : refs)
      if (dirty.count(ref->node))
        stepDirty = true;
    const Tensor *fixed = nullptr;
    if (options.fixedWeights)
      if (auto it = options.fixedWeights->find(step.id); it != options.fixedWeights->end()) {
        fixed = &it->second;
        stepDirty = true;
      }
    auto fetch = [&](const PortRef &ref) {
      const Tensor &t = result.outputs.at(ref.node).at(ref.index());
      return options.base && !dirty.count(ref.node) ? tiled(t) : t;
    };
    if (!stepDirty && options.base && options.base->outputs.count(step.id)) {
      outs = options.base->outputs.at(step.id);
      if (auto w = options.base->combineWeights.find(step.id); w != options.base->combineWeights.end())
        result.combineWeights[step.id] = w->second;
    } else {
      std::vector<Tensor> inputs;
      if (step.type == "Input") {
        inputs.push_back(options.base ? tiled(x) : x);
      } else {
        for (const auto &ref : step.inputs)
          inputs.push_back(fetch(ref));
        if (step.gate)
          gate = fetch(*step.gate);
      }
      NodeContext ctx;
      ctx.recordAttention = options.recordAttention && step.type == "Attention";
      std::vector<Tensor> attention;
      ctx.attention = &attention;
      ctx.fixedWeights = fixed;
      outs = step.module->run(inputs, gate, ctx);
      if (ctx.weights.defined())
        result.combineWeights[step.id] = ctx.weights;
      if (ctx.auxLoss.defined())
        result.auxLoss = result.auxLoss + ctx.auxLoss;
      if (!attention.empty())
        result.attention[step.id] = attention;
      if (options.base)
        dirty.insert(step.id);
    }
    if (options.overrides) {
      bool overridden = false;
      for (std::size_t k = 0; k < outs.size(); ++k) {
        PortRef ref{step.id, std::to_string(k)};
        if (auto it = options.overrides->find(refKey(ref)); it != options.overrides->end()) {
          outs[k] = it->second;
          overridden = true;
        }
      }
      if (overridden && options.base && !dirty.count(step.id)) {
        // Ports not overridden must match the tiled batch too.
        for (std::size_t k = 0; k < outs.size(); ++k)
          if (!options.overrides->count(refKey(PortRef{step.id, std::to_string(k)})))
            outs[k] = tiled(outs[k]);
        dirty.insert(step.id);
      } else if (overridden && !options.base) {
        dirty.insert(step.id);
      }
    }
    result.outputs[step.id] = std::move(outs);
  }
  result.logits = result.outputs.at(classifier_).at(0);
  if (options.base && !dirty.count(classifier_))
    result.logits = tiled(result.logits);
  return result;
}

} // namespace particle
