#include "model/Adapters.h"

#include <cmath>
#include <set>

namespace particle {

namespace {

torch::Tensor *weightOf(torch::nn::Module &layer) {
  if (auto *l = layer.as<torch::nn::Linear>())
    return &l->weight;
  if (auto *c = layer.as<torch::nn::Conv1d>())
    return &c->weight;
  if (auto *c = layer.as<torch::nn::Conv2d>())
    return &c->weight;
  return nullptr;
}

std::string shapeText(const torch::Tensor &t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i)
    out += (i ? ", " : "") + std::to_string(t.size(i));
  return out + "]";
}

bool isAdapterKey(const std::string &key) {
  return key.rfind("lora.", 0) == 0;
}

} // namespace

torch::Tensor AdaptedLayer::merged() const {
  return *weight + (b.mm(a) * scale).view(weight->sizes());
}

std::vector<std::pair<std::string, torch::nn::Module *>> adaptableLayers(torch::nn::Module &module) {
  std::vector<std::pair<std::string, torch::nn::Module *>> out;
  for (const auto &item : module.named_modules("", false))
    if (weightOf(*item.value()))
      out.emplace_back(item.key(), item.value().get());
  return out;
}

std::vector<AdaptedLayer> addAdapters(const std::string &node, NodeModuleImpl &module, const NodeAdapter &adapter) {
  const auto layers = adaptableLayers(module);
  for (auto &p : module.parameters())
    p.set_requires_grad(false);
  auto lora = module.register_module("lora", std::make_shared<torch::nn::Module>());
  std::vector<AdaptedLayer> out;
  for (const auto &[name, layer] : layers) {
    torch::Tensor *weight = weightOf(*layer);
    const int64_t rows = weight->size(0), cols = weight->numel() / rows;
    std::string key = name;
    for (char &c : key)
      if (c == '.')
        c = '_';
    auto holder = lora->register_module(key, std::make_shared<torch::nn::Module>());
    AdaptedLayer a;
    a.node = node;
    a.name = name;
    a.weight = weight;
    // As the layer's own default initialisation draws its weights: A small and random, B zero, so
    // that the adapted node starts as the node it adapts.
    const double bound = 1.0 / std::sqrt(static_cast<double>(cols));
    a.a = holder->register_parameter("A", torch::empty({adapter.rank, cols}).uniform_(-bound, bound));
    a.b = holder->register_parameter("B", torch::zeros({rows, adapter.rank}));
    a.scale = adapter.alpha / static_cast<double>(adapter.rank);
    out.push_back(a);
  }
  return out;
}

AdaptedWeights::AdaptedWeights(const std::vector<AdaptedLayer> &layers) : layers_(layers) {
  saved_.reserve(layers_.size());
  for (const auto &layer : layers_)
    saved_.push_back(*layer.weight);
  for (const auto &layer : layers_)
    *layer.weight = layer.merged();
}

AdaptedWeights::~AdaptedWeights() {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    *layers_[i].weight = saved_[i];
}

void copyNodeWeights(torch::nn::Module &module, const std::map<std::string, torch::Tensor> &source,
                     const std::string &node, const std::string &sourceName) {
  std::map<std::string, torch::Tensor> target;
  for (const auto &p : module.named_parameters(true))
    if (!isAdapterKey(p.key()))
      target[p.key()] = p.value();
  for (const auto &b : module.named_buffers(true))
    target[b.key()] = b.value();
  // A later member of a share group with scope "trunk" runs the first member's trunk: a source
  // that holds a trunk gives this node its own last layer only.
  const auto *block = dynamic_cast<BlockImpl *>(&module);
  const bool borrowsTrunk = block && !module.named_children().contains("trunk");
  std::set<std::string> used;
  for (const auto &[key, tensor] : target) {
    const auto it = source.find(key);
    if (it == source.end())
      throw Error(ErrorKind::File,
                  node + "'s " + key + " " + shapeText(tensor) + " has no counterpart in " + sourceName);
    if (!it->second.sizes().equals(tensor.sizes()))
      throw Error(ErrorKind::File, node + "'s " + key + " is " + shapeText(tensor) + "; " + sourceName + "'s is " +
                                       shapeText(it->second));
    used.insert(key);
  }
  for (const auto &[key, tensor] : source)
    if (!used.count(key) && !(borrowsTrunk && key.rfind("trunk.", 0) == 0))
      throw Error(ErrorKind::File,
                  sourceName + " has " + key + " " + shapeText(tensor) + ", which " + node + " does not have");
  torch::NoGradGuard noGrad;
  for (const auto &[key, tensor] : target)
    tensor.copy_(source.at(key).to(tensor.device(), tensor.scalar_type()));
}

} // namespace particle
