#include "dist/DataParallel.h"

#include "base/Json.h"

// LibTorch's Gloo process group is compiled in (Debian's and upstream's builds); its header is
// guarded by the macro LibTorch's own build defines.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef PARTICLE_WITH_NCCL // a CUDA LibTorch built with NCCL (engine/CMakeLists.txt)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/version.h>

#include <cstdlib>
#include <thread>

namespace particle {

namespace {

constexpr int64_t kBucketElements = int64_t{4} << 20;

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

int intEnv(const char *name, int fallback, int min, int max) {
  const std::string v = env(name);
  if (v.empty())
    return fallback;
  try {
    std::size_t used = 0;
    const long x = std::stol(v, &used);
    if (used == v.size() && x >= min && x <= max)
      return static_cast<int>(x);
  } catch (const std::exception &) {
  }
  throw Error(ErrorKind::Usage, std::string(name) + "=\"" + v + "\" is not an integer in [" + std::to_string(min) +
                                    ", " + std::to_string(max) + "]");
}

// The first line of an exception's text (LibTorch appends a backtrace to its own).
std::string firstLine(const std::exception &e) {
  const auto *c10 = dynamic_cast<const c10::Error *>(&e);
  const std::string what = c10 ? c10->what_without_backtrace() : e.what();
  return what.substr(0, what.find('\n'));
}

std::string seconds(std::chrono::milliseconds t) {
  return std::to_string(t.count() / 1000) + " s";
}

} // namespace

std::optional<DistConfig> distConfigFromEnvironment() {
  if (env("WORLD_SIZE").empty())
    return std::nullopt;
  DistConfig c;
  c.worldSize = intEnv("WORLD_SIZE", 1, 1, 65536);
  if (c.worldSize == 1)
    return std::nullopt;
  if (env("RANK").empty())
    throw Error(ErrorKind::Usage, "WORLD_SIZE is " + std::to_string(c.worldSize) +
                                      " but RANK is not set (each worker needs its RANK, 0 to WORLD_SIZE-1)");
  c.rank = intEnv("RANK", 0, 0, c.worldSize - 1);
  c.localRank = intEnv("LOCAL_RANK", c.rank, 0, 65535);
  c.masterAddr = env("MASTER_ADDR").empty() ? "127.0.0.1" : env("MASTER_ADDR");
  c.masterPort = intEnv("MASTER_PORT", 29500, 1, 65535);
  c.timeout = distTimeoutFromEnvironment();
  return c;
}

std::chrono::milliseconds distTimeoutFromEnvironment() {
  return std::chrono::seconds(intEnv("PARTICLE_DIST_TIMEOUT", 20, 1, 86400));
}

#if TORCH_VERSION_MAJOR >= 2
// LibTorch 2.x: Gloo and NCCL are backends of a ProcessGroup; the collectives are the same calls.
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct DataParallel::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Collectives> group;

  void run(const c10::intrusive_ptr<c10d::Work> &work, const char *what, const DistConfig &c) {
    try {
      work->wait();
    } catch (const std::exception &e) {
      throw Error(ErrorKind::Training, "data-parallel training (rank " + std::to_string(c.rank) + " of " +
                                           std::to_string(c.worldSize) + "): " + what +
                                           " failed — a worker stopped or became unreachable (" + firstLine(e) + ")");
    }
  }
};

DataParallel::DataParallel(const DistConfig &config, const torch::Device &device)
    : config_(config), device_(device), impl_(std::make_unique<Impl>()) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + config.timeout;
  const std::string where = config.masterAddr + ":" + std::to_string(config.masterPort);
  const std::string workers = std::to_string(config.worldSize) + " workers (WORLD_SIZE)";
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(config.masterPort);
    o.isServer = config.rank == 0;
    o.numWorkers = static_cast<std::size_t>(config.worldSize);
    o.waitWorkers = false; // counted below, against this run's deadline
    o.timeout = config.timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(config.masterAddr, o);
  } catch (const std::exception &e) {
    throw Error(ErrorKind::Training, config.rank == 0 ? "data-parallel rendezvous: cannot serve it at " + where +
                                                            " (MASTER_ADDR:MASTER_PORT): " + firstLine(e)
                                                      : "data-parallel rendezvous: could not reach rank 0 at " + where +
                                                            " (MASTER_ADDR:MASTER_PORT) within " +
                                                            seconds(config.timeout) + ": " + firstLine(e));
  }
  // Every worker counts itself in, then waits for the others.
  int64_t joined = 0;
  try {
    impl_->store->add("particle/joined", 1);
    for (;;) {
      joined = impl_->store->add("particle/joined", 0);
      if (joined >= config.worldSize)
        break;
      if (Clock::now() > deadline)
        throw Error(ErrorKind::Training, "data-parallel rendezvous at " + where + ": only " + std::to_string(joined) +
                                             " of " + workers + " joined within " + seconds(config.timeout));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } catch (const Error &) {
    throw;
  } catch (const std::exception &e) {
    throw Error(ErrorKind::Training,
                "data-parallel rendezvous at " + where + " (MASTER_ADDR:MASTER_PORT) failed: " + firstLine(e));
  }
  try {
    const auto left = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
                               std::chrono::milliseconds(1000));
    impl_->store->setTimeout(left);
#ifdef PARTICLE_WITH_NCCL
    if (device.is_cuda()) {
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = config.timeout;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, config.rank, config.worldSize, nccl);
      backend_ = "NCCL";
      impl_->store->setTimeout(config.timeout);
      return;
    }
#endif
    auto options = c10d::ProcessGroupGloo::Options::create(config.timeout);
    // Loopback for one machine; otherwise the address this host's name resolves to.
    const bool local = config.masterAddr == "127.0.0.1" || config.masterAddr == "localhost";
    options->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, config.rank, config.worldSize, options);
    impl_->store->setTimeout(config.timeout);
  } catch (const std::exception &e) {
    throw Error(ErrorKind::Training, "data-parallel training: the " + backend_ + " group of " + workers +
                                         " could not be connected within " + seconds(config.timeout) + ": " +
                                         firstLine(e));
  }
}

DataParallel::~DataParallel() = default;

void DataParallel::broadcastFromRankZero(torch::nn::Module &module) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> all;
  for (const auto &p : module.parameters())
    all.push_back(p);
  for (const auto &b : module.buffers())
    all.push_back(b);
  for (auto &t : all) {
    std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
    impl_->run(impl_->group->broadcast(one), "broadcasting the initial weights", config_);
    if (!t.is_contiguous())
      t.copy_(one[0]);
  }
}

void DataParallel::sumGradients(const std::vector<torch::Tensor> &params, torch::Tensor &extra) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> grads;
  for (const auto &p : params) {
    if (!p.grad().defined())
      p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  std::size_t next = 0;
  bool first = true;
  while (next < grads.size() || first) {
    std::vector<torch::Tensor> parts;
    int64_t elements = 0;
    const std::size_t begin = next;
    if (first)
      parts.push_back(extra.to(device_, torch::kFloat).reshape({-1}));
    while (next < grads.size() && (elements == 0 || elements + grads[next].numel() <= kBucketElements)) {
      parts.push_back(grads[next].reshape({-1}));
      elements += grads[next].numel();
      ++next;
    }
    std::vector<at::Tensor> bucket{torch::cat(parts)};
    impl_->run(impl_->group->allreduce(bucket), "summing gradients", config_);
    int64_t offset = 0;
    if (first) {
      extra.copy_(bucket[0].narrow(0, 0, extra.numel()).reshape(extra.sizes()));
      offset = extra.numel();
      first = false;
    }
    for (std::size_t i = begin; i < next; ++i) {
      grads[i].copy_(bucket[0].narrow(0, offset, grads[i].numel()).view_as(grads[i]));
      offset += grads[i].numel();
    }
  }
}

// The tensor travels on the group's device (NCCL takes CUDA tensors only) and comes back.
void DataParallel::sum(torch::Tensor &t) {
  std::vector<at::Tensor> one{t.to(device_)};
  impl_->run(impl_->group->allreduce(one), "summing metrics", config_);
  if (!one[0].is_same(t))
    t.copy_(one[0]);
}

void DataParallel::broadcast(torch::Tensor &t) {
  std::vector<at::Tensor> one{t.to(device_)};
  impl_->run(impl_->group->broadcast(one), "sharing rank 0's decision", config_);
  if (!one[0].is_same(t))
    t.copy_(one[0]);
}

} // namespace particle
