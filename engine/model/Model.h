#pragma once
// Graph → one torch::nn::Module. Children are keyed by node id; a share group is one module
// instance (registered under its first member). The forward runs in topological order, can
// return every node's output and accepts overrides for any node's output (explanations
// substitute branch outputs this way: LibTorch C++ modules have no forward hooks).

#include "graph/Project.h"
#include "graph/Validator.h"

#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace particle {

// Per-call context handed to node modules.
struct NodeContext {
  bool recordAttention = false;
  std::vector<torch::Tensor> *attention = nullptr; // per layer [B, heads, T, T]
  torch::Tensor weights;                           // out: Combine's per-branch weights [B, K]
  torch::Tensor auxLoss;                           // out: Combine gate's load-balancing term
  const torch::Tensor *fixedWeights = nullptr;     // in: use these Combine weights instead
};

// Base of every node's module.
class NodeModuleImpl : public torch::nn::Module {
public:
  // `inputs` are the numbered inputs in port order; `gate` is undefined unless connected.
  virtual std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &inputs, const torch::Tensor &gate,
                                         NodeContext &ctx) = 0;
};

struct ForwardOptions {
  // Node outputs to use instead of computing them, keyed "node" (port 0) or "node:k".
  const std::map<std::string, torch::Tensor> *overrides = nullptr;
  // A previous result on the same input: nodes upstream of no override are reused from it, so
  // only the part after the overridden nodes is evaluated.
  const struct ForwardResult *base = nullptr;
  // Combine weights to hold fixed, keyed by Combine id ([B, K]).
  const std::map<std::string, torch::Tensor> *fixedWeights = nullptr;
  bool recordAttention = false;
  // With `base`: overrides (and the result) have `repeat` × the base's batch, e.g. one block of
  // samples per Shapley coalition; unchanged upstream values are tiled to match.
  int64_t repeat = 1;
};

struct ForwardResult {
  torch::Tensor logits;                                        // [B, classes]
  torch::Tensor auxLoss;                                       // scalar; zero when no gate
  std::map<std::string, std::vector<torch::Tensor>> outputs;   // every node, per output port
  std::map<std::string, torch::Tensor> combineWeights;         // attention/gate Combines
  std::map<std::string, std::vector<torch::Tensor>> attention; // Attention nodes
};

// One branch of a Combine: the input port and what feeds it.
struct Branch {
  int port = 0;
  PortRef source;
};

class ParticleModelImpl : public torch::nn::Module {
public:
  // The project must validate without errors (throws Error(Invalid) otherwise).
  explicit ParticleModelImpl(const Project &project);

  ForwardResult forward(const torch::Tensor &x, const ForwardOptions &options = {});

  const std::vector<std::string> &order() const { return order_; }
  std::vector<std::string> combineIds() const;
  std::vector<Branch> branches(const std::string &combineId) const;
  const std::string &classifierId() const { return classifier_; }
  const Validation &validation() const { return validation_; }
  const Graph &graph() const { return graph_; }
  // The module computing a node (shared ones are the same object).
  std::shared_ptr<NodeModuleImpl> nodeModule(const std::string &id) const;
  // Sets the Input's normalisation from training data (mean/std over the batch dimension).
  void fitNormalization(const torch::Tensor &trainX);
  int64_t classes() const { return classes_; }

private:
  struct Step {
    std::string id;
    std::string type;
    std::vector<PortRef> inputs;
    std::optional<PortRef> gate;
    std::shared_ptr<NodeModuleImpl> module;
  };
  Graph graph_;
  Validation validation_;
  std::vector<std::string> order_;
  std::vector<Step> steps_;
  std::string input_, classifier_;
  int64_t classes_ = 0;
};
TORCH_MODULE(ParticleModel);

// True when the model builder knows how to build `type` (every catalogue type must).
bool hasModuleFactory(const std::string &type);

// Distinct parameter tensors (by storage) of a module: what an optimiser should see.
std::vector<torch::Tensor> distinctParameters(torch::nn::Module &module);

} // namespace particle
