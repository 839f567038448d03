#pragma once
// Devices, threads and versions: what `particle info` prints and what the trainer resolves.

#include "graph/Json.h"

#include <torch/torch.h>

#include <string>

namespace particle {

// "auto" → first CUDA device, else CPU; "cuda" / "cuda:N" fail with Error(Training) when absent.
torch::Device resolveDevice(const std::string &spec);
// 0 → all cores. Returns the thread count in effect.
int configureThreads(int threads);
Json runtimeInfo();

} // namespace particle
