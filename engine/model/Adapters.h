#pragma once
// Low-rank adapters (LoRA) on a node's Linear and convolution layers, and a node's starting
// weights from elsewhere (its "init"). An adapter is two tensors per layer registered on the
// node's module as lora.<layer>.A (rank × in, small random) and lora.<layer>.B (out × rank, zeros);
// the layer's own weights stay as they are and only the adapters train. LibTorch modules have no
// forward hooks, so the model sets each adapted layer's weight to W0 + (alpha/rank)·B·A for the
// length of a forward pass (AdaptedWeights) and puts W0 back after. docs/DECISIONS.md "Adapters".

#include "graph/Graph.h"
#include "model/NodeModule.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace particle {

struct AdaptedLayer {
  std::string node;                // the node whose module registered the adapter
  std::string name;                // the layer's name in that module ("trunk.layers.0")
  torch::Tensor *weight = nullptr; // the layer's weight member (W0 between forward passes)
  torch::Tensor a, b;
  double scale = 1; // alpha / rank
  // W0 + scale · B·A, in the weight's own shape.
  torch::Tensor merged() const;
};

// The Linear and convolution layers of `module` by their names in it (its own registered children
// only: a trunk borrowed from another member of a share group is that member's).
std::vector<std::pair<std::string, torch::nn::Module *>> adaptableLayers(torch::nn::Module &module);

// Adds an adapter to each of those layers and freezes every other weight of the module.
std::vector<AdaptedLayer> addAdapters(const std::string &node, NodeModuleImpl &module, const NodeAdapter &adapter);

// For its lifetime, each adapted layer computes with its merged weight; restores W0 after.
class AdaptedWeights {
public:
  explicit AdaptedWeights(const std::vector<AdaptedLayer> &layers);
  ~AdaptedWeights();
  AdaptedWeights(const AdaptedWeights &) = delete;
  AdaptedWeights &operator=(const AdaptedWeights &) = delete;

private:
  const std::vector<AdaptedLayer> &layers_;
  std::vector<torch::Tensor> saved_;
};

// Copies `source` (weights by name relative to the node's module, as loadNodeWeights gives them)
// into `module`, leaving its adapters as they are; every name or shape that does not match is an
// Error(File) naming both sides (`node`, and `sourceName` "node p0 of parts/enc.particle-part").
void copyNodeWeights(torch::nn::Module &module, const std::map<std::string, torch::Tensor> &source,
                     const std::string &node, const std::string &sourceName);

} // namespace particle
