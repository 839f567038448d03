#pragma once
// A sub-model's last linear layer with its products on oneDNN's sgemm. On a CPU that Debian's
// OpenBLAS does not know (the AMD Zen 5 of docs/BENCHMARKS.md) LibTorch's float32 linear layers
// run OpenBLAS's AVX2 kernel, while oneDNN, which LibTorch links for its convolutions, runs
// AVX-512: 1.8–2.2× faster per processor-second for fashion-patches' heads (576 → 96, 128 rows).

#include <torch/types.h>

namespace particle {

// torch::linear(x, weight, bias) for x [B, in], weight [out, in], bias [out]. Float32 on the CPU
// outside autocast, with x contiguous and a bias, and where LibTorch's oneDNN exports its C API
// (`dnnl_sgemm`: Debian's shared libdnnl; an upstream LibTorch hides it), takes an autograd function
// of its own whose forward and input and weight gradients are oneDNN's products (the same sums as
// LibTorch's in another order: equal within float32 rounding, not bit for bit) and whose bias
// gradient is LibTorch's (the gradient's sum over rows). Anything else is torch::linear.
torch::Tensor denseLinear(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias);
// Off: denseLinear is always torch::linear (bench_step --compare torch-linear); on by default.
void setDnnlLinearEnabled(bool on);
// Whether denseLinear can take oneDNN's products in this process (dnnl_sgemm found).
bool dnnlLinearAvailable();

} // namespace particle
