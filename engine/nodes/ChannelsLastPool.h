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

} // namespace particle::nodes
