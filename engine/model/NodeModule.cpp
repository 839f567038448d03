#include "model/NodeModule.h"

#include "graph/Validator.h"
#include "model/DnnlLinear.h"

namespace particle {

torch::Tensor flat(const torch::Tensor &t) {
  // A [B, D] tensor as it is: a reshape to its own shape would still add a view and its backward
  // node to every step (the seed model's Combine and Classifier: docs/BENCHMARKS.md).
  return t.dim() == 2 ? t : t.reshape({t.size(0), -1});
}

torch::Tensor activate(const torch::Tensor &x, const std::string &fn) {
  if (fn == "gelu")
    return torch::gelu(x);
  if (fn == "tanh")
    return torch::tanh(x);
  if (fn == "sigmoid")
    return torch::sigmoid(x);
  return torch::relu(x);
}

torch::Tensor patchify(const torch::Tensor &x, int64_t p) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2) / p, w = x.size(3) / p;
  return x.reshape({b, c, h, p, w, p}).permute({0, 2, 4, 1, 3, 5}).reshape({b, h * w, c * p * p});
}

torch::Tensor tokenMask(const torch::Tensor &x, bool wholeIfEmpty) {
  auto keep = x.abs().sum(-1).gt(0);
  return wholeIfEmpty ? keep.logical_or(keep.any(1, true).logical_not()) : keep;
}

BlockImpl::BlockImpl(std::shared_ptr<TrunkImpl> trunk, bool ownsTrunk, int64_t trunkWidth, int64_t out)
    : trunk_(std::move(trunk)) {
  if (ownsTrunk)
    register_module("trunk", trunk_);
  head_ = register_module("head", torch::nn::Linear(trunkWidth, out));
}

std::vector<torch::Tensor> BlockImpl::run(const std::vector<torch::Tensor> &in, const torch::Tensor &,
                                          NodeContext &ctx) {
  // The head's products on oneDNN where LibTorch's BLAS is slower (DnnlLinear.h); torch::linear else.
  return {denseLinear(trunk_->run(in[0], ctx), head_->weight, head_->bias)};
}

std::shared_ptr<NodeModuleImpl> makeBlock(const BuildArgs &a, const std::function<std::shared_ptr<TrunkImpl>()> &make) {
  const bool owns = !a.sharedTrunk;
  auto trunk = owns ? make() : a.sharedTrunk;
  return std::make_shared<BlockImpl>(trunk, owns, a.info.trunkWidth, a.info.outputs.at(0).at(0));
}

} // namespace particle
