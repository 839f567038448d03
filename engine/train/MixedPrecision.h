#pragma once
// Training in bf16 or fp16 (training.precision): the forward pass and the loss under autocast, and
// fp16's dynamic loss scaling. LibTorch 1.13's C++ API has autocast's switches but neither
// Python's context manager nor its GradScaler; these are the two, written for the trainer.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace particle {

// project/Precision.h's answer for this device (on CUDA with its compute capability): empty when
// `precision` can train on it, else why not.
std::string precisionUnsupportedOn(const std::string &precision, const torch::Device &device);

// While alive, this thread's eligible operations (convolutions, matrix products) on `device` run
// in `precision`'s type, the rest in float32; nothing changes for fp32. Autocast is per thread,
// so an explanation or an export on another thread (or after the guard) computes in float32.
class AutocastGuard {
public:
  AutocastGuard(const std::string &precision, const torch::Device &device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard &) = delete;
  AutocastGuard &operator=(const AutocastGuard &) = delete;

private:
  bool active_ = false, cuda_ = false, wasEnabled_ = false;
  at::ScalarType wasType_ = at::kFloat;
};

// fp16's dynamic loss scaling: the loss is multiplied before the backward pass so that small
// gradients survive fp16's narrow range, and the gradients divided back before clipping and the
// optimiser. A step whose gradients overflowed is skipped and the scale halved; after `interval`
// good steps in a row it doubles (PyTorch's GradScaler's defaults).
class LossScaler {
public:
  explicit LossScaler(double initial = 65536.0, double growth = 2.0, double backoff = 0.5, int interval = 2000);
  torch::Tensor scale(const torch::Tensor &loss) const { return loss * scale_; }
  // Divides the gradients of `params` by the scale. False when any is inf or nan: the caller skips
  // the optimiser step (the scale has backed off).
  bool unscale(const std::vector<torch::Tensor> &params);
  double value() const { return scale_; }
  int64_t skipped() const { return skipped_; }

private:
  double scale_, growth_, backoff_;
  int interval_, goodSteps_ = 0;
  int64_t skipped_ = 0;
};

} // namespace particle
