#include "train/MixedPrecision.h"

#include "project/Precision.h"

#include <ATen/autocast_mode.h>
#ifdef PARTICLE_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace particle {

std::string precisionUnsupportedOn(const std::string &precision, const torch::Device &device) {
  int capability = 0;
#ifdef PARTICLE_WITH_CUDA
  if (device.is_cuda())
    if (const auto *props = at::cuda::getDeviceProperties(device.index()))
      capability = props->major * 10 + props->minor;
#endif
  return precisionUnsupported(precision, device.is_cuda() ? "cuda" : "cpu", cpuFeatures(), capability);
}

AutocastGuard::AutocastGuard(const std::string &precision, const torch::Device &device) {
  if (precision != "bf16" && precision != "fp16")
    return;
  active_ = true;
  cuda_ = device.is_cuda();
  const at::ScalarType type = precision == "bf16" ? at::kBFloat16 : at::kHalf;
  if (cuda_) {
    wasEnabled_ = at::autocast::is_enabled();
    wasType_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(type);
  } else {
    wasEnabled_ = at::autocast::is_cpu_enabled();
    wasType_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(type);
  }
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_)
    return;
  // The weights' casts are cached for the pass; the optimiser changes the weights before the next
  // one, so the outermost guard drops them (as torch.autocast's __exit__ does).
  if (at::autocast::decrement_nesting() == 0)
    at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(wasEnabled_);
    at::autocast::set_autocast_gpu_dtype(wasType_);
  } else {
    at::autocast::set_cpu_enabled(wasEnabled_);
    at::autocast::set_autocast_cpu_dtype(wasType_);
  }
}

LossScaler::LossScaler(double initial, double growth, double backoff, int interval)
    : scale_(initial), growth_(growth), backoff_(backoff), interval_(interval) {}

bool LossScaler::unscale(const std::vector<torch::Tensor> &params) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> finite;
  for (const auto &p : params) {
    torch::Tensor g = p.grad();
    if (!g.defined())
      continue;
    g.mul_(1.0 / scale_);
    finite.push_back(torch::isfinite(g).all());
  }
  // One read of the device for all of them.
  if (!finite.empty() && !torch::stack(finite).all().item<bool>()) {
    scale_ *= backoff_;
    goodSteps_ = 0;
    ++skipped_;
    return false;
  }
  if (++goodSteps_ >= interval_) {
    scale_ *= growth_;
    goodSteps_ = 0;
  }
  return true;
}

} // namespace particle
