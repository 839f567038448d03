#pragma once
// What a node's module is to the graph interpreter (model/Model.cpp): NodeModuleImpl, the
// per-call context, and the sub-model building blocks (a shareable trunk plus a last layer)
// that the MLP, ConvNet and Attention node files use.

#include "graph/Catalogue.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace particle {

// Per-call context handed to node modules.
struct NodeContext {
  bool recordAttention = false;
  std::vector<torch::Tensor> *attention = nullptr; // out: per layer [B, heads, T, T]
  torch::Tensor weights;                           // out: a Combiner's per-branch weights [B, K]
  torch::Tensor auxLoss;                           // out: a gate's load-balancing term
  const torch::Tensor *fixedWeights = nullptr;     // in: use these Combiner weights instead
};

// How a Combiner weighs its branches (what "removing a branch" means to explanations).
enum class WeightKind {
  None,      // no per-branch weights (concat, sum, mean, max)
  Attention, // weights recomputed from the branches that are present
  Gate,      // weights from a gate network; held fixed when an expert is removed
};

// Base of every node's module.
class NodeModuleImpl : public torch::nn::Module {
public:
  // `inputs` are the numbered inputs in port order; `gate` is undefined unless connected.
  virtual std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &inputs, const torch::Tensor &gate,
                                         NodeContext &ctx) = 0;
  // Data sources: fit whatever depends on the training data (the Input's normalisation).
  virtual void fit(const torch::Tensor & /*trainX*/) {}
  virtual WeightKind weightKind() const { return WeightKind::None; }
};

// ---- helpers shared by node files ------------------------------------------------------------

// [B, ...] → [B, D].
torch::Tensor flat(const torch::Tensor &t);
// relu, gelu, tanh or sigmoid.
torch::Tensor activate(const torch::Tensor &x, const std::string &fn);
// [B, C, H, W] → [B, (H/p)(W/p), C·p·p] tokens, row-major over the patch grid.
torch::Tensor patchify(const torch::Tensor &x, int64_t p);
// Tokens [B, T, D] after an Embedding: [B, T], true where a row is a token and false where it is
// padding (an all-zero row: Embedding keeps id 0 at zero). With `wholeIfEmpty`, a sequence with no
// token at all counts every row, so that a mean or an attention over it stays defined.
torch::Tensor tokenMask(const torch::Tensor &x, bool wholeIfEmpty);

// A sub-model's trunk: everything but its last layer (what share_scope "trunk" shares).
class TrunkImpl : public torch::nn::Module {
public:
  virtual torch::Tensor run(const torch::Tensor &x, NodeContext &ctx) = 0;
};

// A sub-model: a trunk (registered only when this block owns it, i.e. it is the first member of
// its share group) and its own last linear layer.
class BlockImpl : public NodeModuleImpl {
public:
  BlockImpl(std::shared_ptr<TrunkImpl> trunk, bool ownsTrunk, int64_t trunkWidth, int64_t out);
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &gate,
                                 NodeContext &ctx) override;
  std::shared_ptr<TrunkImpl> trunk() const { return trunk_; }

private:
  std::shared_ptr<TrunkImpl> trunk_;
  torch::nn::Linear head_{nullptr};
};

// Builds a sub-model: its trunk from `make` (unless a share-group trunk is handed in) and its own
// last layer, whose input width shape inference worked out.
std::shared_ptr<NodeModuleImpl> makeBlock(const BuildArgs &args,
                                          const std::function<std::shared_ptr<TrunkImpl>()> &make);

} // namespace particle
