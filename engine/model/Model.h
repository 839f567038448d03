#pragma once
// Graph → one torch::nn::Module. Children are keyed by node id; a share group is one module
// instance (registered under its first member). The forward runs in topological order, can
// return every node's output and accepts overrides for any node's output (explanations
// substitute branch outputs this way: LibTorch C++ modules have no forward hooks).

#include "project/Project.h"
#include "project/ProjectCheck.h"
#include "model/Adapters.h"
#include "model/NodeModule.h"

#include <torch/torch.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace particle {

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
  // The project must validate without errors (throws Error(Invalid) otherwise). `validated`: its
  // validation when the caller has one already (the trainer's), so that it is not done again.
  explicit ParticleModelImpl(const Project &project, const Validation *validated = nullptr);

  ForwardResult forward(const torch::Tensor &x, const ForwardOptions &options = {});

  const std::vector<std::string> &order() const { return order_; }
  std::vector<std::string> combineIds() const;
  // How a Combine weighs its branches (None when it is not a Combiner).
  WeightKind weightKind(const std::string &combineId) const;
  std::vector<Branch> branches(const std::string &combineId) const;
  const std::string &classifierId() const { return classifier_; }
  const Validation &validation() const { return validation_; }
  const Graph &graph() const { return graph_; }
  // The module computing a node (shared ones are the same object).
  std::shared_ptr<NodeModuleImpl> nodeModule(const std::string &id) const;
  // Sets the Input's normalisation from training data (mean/std over the batch dimension).
  void fitNormalization(const torch::Tensor &trainX);
  // Gives each node with an init the weights it names (a training run's start; a checkpoint's
  // weights replace them). Throws Error(File) naming the node and its source.
  void loadInitWeights();
  // Every adapted layer (nodes with an adapter), in the order the nodes run.
  const std::vector<AdaptedLayer> &adapters() const { return adapters_; }
  int64_t classes() const { return classes_; }

private:
  struct Step {
    std::string id;
    const NodeType *type = nullptr;
    std::vector<PortRef> inputs;
    std::optional<PortRef> gate;
    std::shared_ptr<NodeModuleImpl> module;
  };
  Graph graph_;
  Validation validation_;
  std::vector<std::string> order_;
  std::vector<Step> steps_;
  std::string input_, classifier_;
  std::string baseDir_; // the project's folder, which init sources are named against
  std::vector<AdaptedLayer> adapters_;
  int64_t classes_ = 0;
};
TORCH_MODULE(ParticleModel);

// The global CPU generator is shared by every thread, and building a model draws from it (module
// initialisation). Code that builds a model while a run may be training on another thread (the
// Explain tab loading a checkpoint) does so inside this guard: it waits for the trainer's current
// step and puts the generator back as it was, so the run's dropout draws stay reproducible. The
// trainer holds rngMutex() during each step.
std::mutex &rngMutex();
class RngIsolation {
public:
  RngIsolation();
  ~RngIsolation();
  RngIsolation(const RngIsolation &) = delete;
  RngIsolation &operator=(const RngIsolation &) = delete;

private:
  std::unique_lock<std::mutex> lock_;
  torch::Tensor state_;
};

// True when the catalogue type `type` has a module factory (every type must).
bool hasModuleFactory(const std::string &type);

// Distinct parameter tensors (by storage) of a module: what an optimiser should see.
std::vector<torch::Tensor> distinctParameters(torch::nn::Module &module);

} // namespace particle
