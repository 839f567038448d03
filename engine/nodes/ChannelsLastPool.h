#pragma once
// The 2×2, stride-2 max-pool of channels-last activations (ConvNet's), float32 and bfloat16: the
// values and the gradients of torch::max_pool2d(x, 2) exactly, with a 1-byte argmax per output
// instead of LibTorch's 8-byte index, and one pass over the contiguous channels per window.

#include <torch/types.h>

namespace particle::nodes {

// torch::max_pool2d(x, 2) for x [N, C, H, W], and with `relu` the ReLU of it (in one pass, with
// ReLU's gradient: none where the output is not positive). A channels-last float32 or bfloat16
// tensor takes the kernel here (an autograd function), anything else LibTorch's ops. Odd H or W drop
// the last row or column as LibTorch does; a tie goes to the first of the window in row order, a
// NaN wins (the last NaN of the window takes the gradient), as in LibTorch.
torch::Tensor maxPool2x2(const torch::Tensor &x, bool relu);

// The taps (input channels × k × k) up to which convReluPool2x2 takes its own kernel, and the
// multiple of which its output channels must be.
constexpr int64_t kConvReluPoolTaps = 32;
constexpr int64_t kConvReluPoolChannelBlock = 16;

// maxPool2x2(conv2d(x, weight, bias, stride 1, padding k / 2), true) — a ConvNet layer with its
// ReLU and pool — for weight [C, Cin, k, k], k odd. A float32 input with few channels (Cin · k² up
// to kConvReluPoolTaps, C a multiple of kConvReluPoolChannelBlock) that needs no gradient (a batch
// of images: the first layer), on a CPU with AVX-512, takes one pass of its own that never writes
// the convolution's output: the same values as oneDNN's float32 kernel here, bit for bit (the same
// fused multiply-adds in the same order), and the weight and bias gradients as the same sums in
// another order (equal within rounding, not bit for bit). Under bfloat16 autocast that pass still
// computes in float32 and rounds only its output to bfloat16 (the float32 output `.to(kBFloat16)`,
// bit for bit). Any other layer (a later layer: many channels, an input that wants its gradient)
// takes LibTorch's convolution and maxPool2x2's kernel as one autograd function whose values and
// input and weight gradients are LibTorch's bit for bit and whose bias gradient is summed in its own
// pass (equal within rounding) — under bfloat16 autocast with the input, weight and bias cast to
// bfloat16 as autocast casts them. Anything else (float16 autocast, other devices) takes LibTorch's
// convolution and maxPool2x2.
torch::Tensor convReluPool2x2(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias);
// Off: convReluPool2x2 always takes LibTorch's convolution (bench_step --compare unfused); on by default.
void setConvReluPoolEnabled(bool on);
// Off: a later layer is LibTorch's convolution and maxPool2x2 as two autograd functions (bench_step
// --compare torch-layer); on by default.
void setConvPoolLayerEnabled(bool on);

} // namespace particle::nodes
