#pragma once
// Data-parallel training over PyTorch's own c10d: a TCP store for the rendezvous (rank 0 serves
// it at MASTER_ADDR:MASTER_PORT), Gloo for the collectives on CPU (NCCL where the LibTorch has
// it and the model is on CUDA). The trainer (train/Trainer.cpp) uses it to start every worker
// from rank 0's weights and to sum gradients in buckets; every failure — a rendezvous that never
// fills, an unreachable master, a worker that dies — becomes an Error(Training) within the
// timeout instead of a hang. The c10d headers stay inside DataParallel.cpp.

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace particle {

struct DistConfig {
  int rank = 0;
  int worldSize = 1;
  int localRank = 0;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  // Rendezvous and every collective: a worker gone for this long ends the run.
  std::chrono::milliseconds timeout{std::chrono::seconds(20)};
};

// The group this process joins, from RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT (as
// torchrun sets them; PARTICLE_DIST_TIMEOUT, in seconds, overrides the timeout). Empty when
// WORLD_SIZE is unset or 1. Throws Error(Usage) naming the variable when one is malformed.
std::optional<DistConfig> distConfigFromEnvironment();
// PARTICLE_DIST_TIMEOUT (seconds), else 20 s.
std::chrono::milliseconds distTimeoutFromEnvironment();

class DataParallel {
public:
  // Joins the group (blocks until every worker has joined, or throws Error(Training) at the timeout).
  DataParallel(const DistConfig &config, const torch::Device &device);
  ~DataParallel();
  DataParallel(const DataParallel &) = delete;
  DataParallel &operator=(const DataParallel &) = delete;

  int rank() const { return config_.rank; }
  int worldSize() const { return config_.worldSize; }
  const DistConfig &config() const { return config_; }
  // "Gloo", or "NCCL" for CUDA tensors where the LibTorch has it.
  const std::string &backend() const { return backend_; }

  // Every parameter and buffer of `module` takes rank 0's value.
  void broadcastFromRankZero(torch::nn::Module &module);
  // Sums the gradients of `params` over the workers, in buckets of about 4 M floats, with `extra`
  // (a small float tensor of flags and counters) folded into the first bucket. A parameter without
  // a gradient counts as zeros.
  void sumGradients(const std::vector<torch::Tensor> &params, torch::Tensor &extra);
  // Sums a tensor over the workers, in place.
  void sum(torch::Tensor &t);
  // Every worker gets rank 0's `t`, in place.
  void broadcast(torch::Tensor &t);

private:
  struct Impl;
  DistConfig config_;
  torch::Device device_;
  std::string backend_ = "Gloo";
  std::unique_ptr<Impl> impl_;
};

} // namespace particle
