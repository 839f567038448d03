#pragma once
// Adam and AdamW with a step of our own for float32 parameters on the CPU: one pass per parameter
// over the weights, the gradient and the two moments, vectorised and split over LibTorch's threads,
// where LibTorch 1.13's step runs about eight tensor operations per parameter (each a pass over
// memory, two of them allocating) and formats each parameter's address into its state key.
//
// They are torch::optim::Adam and AdamW: same options, same state (AdamParamState /
// AdamWParamState: step, exp_avg, exp_avg_sq) under the same keys, and their save/load, so a
// checkpoint of either is read by the other. The arithmetic is LibTorch's, in its order: Adam adds
// weight_decay · w to the gradient, AdamW first scales the weights by 1 − lr · weight_decay; both
// divide by sqrt(v) / sqrt(1 − β₂ᵗ) + eps and step by lr / (1 − β₁ᵗ).
//
// A gradient or moment laid out in memory unlike its parameter (a convolution's backward picks
// its own layout) is read from a copy in the parameter's. Anything else runs LibTorch's step for the
// whole optimiser: a closure, amsgrad, a parameter that is not float32, not on the CPU or not dense
// (a strided view), a gradient that is not a dense float32 CPU tensor (sparse, say), or a parameter
// listed twice.

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include <string>
#include <utility>
#include <vector>

namespace particle {

// Which step ran, for the tests and the benchmark.
struct FusedStepCount {
  int64_t fused = 0;    // steps of our own
  int64_t fallback = 0; // steps LibTorch ran
};

namespace fused_adam {
// The state keys LibTorch uses (each parameter's address as a string), kept from step to step
// instead of formatted again: one per parameter, in the groups' order, remade where one changes.
struct KeyCache {
  std::vector<std::pair<const void *, std::string>> keys;
  const std::string &of(std::size_t index, const torch::Tensor &p);
};
} // namespace fused_adam

class FusedAdam : public torch::optim::Adam {
public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
  const FusedStepCount &stepCount() const { return count_; }

private:
  fused_adam::KeyCache keys_;
  FusedStepCount count_;
};

class FusedAdamW : public torch::optim::AdamW {
public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
  const FusedStepCount &stepCount() const { return count_; }

private:
  fused_adam::KeyCache keys_;
  FusedStepCount count_;
};

} // namespace particle
