#pragma once
// Devices, threads and versions: what `particle info` prints and what the trainer resolves.

#include "base/Json.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace particle {

// "auto" → first CUDA device, else CPU; "cuda" / "cuda:N" fail with Error(Training) when absent.
torch::Device resolveDevice(const std::string &spec);
// 0 → all cores; more than the cores → the cores. Returns the thread count in effect. Also
// configures the allocator (configureAllocator): every process that computes calls this first.
int configureThreads(int threads);
// glibc's malloc with fixed thresholds, so the blocks a training step frees stay in the process
// for the next step instead of going back to the kernel (once per process; nothing elsewhere).
void configureAllocator();
Json runtimeInfo();

// What a device is, for lists: "cpu" (with its cores), "cuda:N" with its name and memory.
struct DeviceInfo {
  std::string id;          // "cpu", "cuda:0", …
  std::string description; // "CPU, 2 cores", "NVIDIA H200, 139.8 GiB"
};
// The CPU, then every CUDA device this LibTorch sees.
std::vector<DeviceInfo> availableDevices();

} // namespace particle
