#include "train/Runtime.h"

#include "project/Precision.h"

#include <algorithm>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <cstdio>
#include <thread>

#ifdef PARTICLE_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace particle {

torch::Device resolveDevice(const std::string &spec) {
  // The spelling first: auto, cpu, cuda or cuda:N (a usage error, whatever the machine has).
  const bool digits = spec.size() > 5 && spec.size() <= 8 &&
                      std::all_of(spec.begin() + 5, spec.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!(spec.empty() || spec == "auto" || spec == "cpu" || spec == "cuda" || (spec.rfind("cuda:", 0) == 0 && digits)))
    throw Error(ErrorKind::Usage, "--device: unknown device \"" + spec + "\" (use auto, cpu, cuda or cuda:N)");
  const bool cuda = torch::cuda::is_available();
  if (spec == "auto" || spec.empty())
    return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu")
    return torch::Device(torch::kCPU);
  // cuda or cuda:N
  if (!cuda)
    throw Error(ErrorKind::Training, "device \"" + spec +
                                         "\" requested but this LibTorch sees no CUDA device (build against a CUDA "
                                         "LibTorch and check the driver), or use --device cpu");
  const int index = spec.size() > 5 ? std::stoi(spec.substr(5)) : 0;
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count)
    throw Error(ErrorKind::Training,
                "device \"" + spec + "\" does not exist (" + std::to_string(count) + " CUDA device(s) found)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void configureAllocator() {
#ifdef __GLIBC__
  // glibc's malloc serves blocks above a threshold with mmap and returns them on free, and trims a
  // freed heap top back to the kernel; both thresholds start at 128 KiB and only rise when a large
  // mmapped block is freed. A training step allocates and frees hundreds of such blocks (a batch's
  // activations: megabytes), so with the defaults every step takes fresh pages from the kernel,
  // zeroed and faulted in one by one. Loading a data set happened to raise the thresholds (its
  // decoded temporaries are large and freed); data read from a search's cache (data/SplitCache.h)
  // did not, and its trials trained 20% slower. Fixed thresholds make every process alike:
  // fashion-patches, 1 epoch, 2 threads, quiet: from the cache 3,643 / 3,658 → 4,759 / 4,770
  // samples/s; loaded 4,527 / 4,772 → 4,687 / 4,818 (docs/BENCHMARKS.md).
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    return true;
  }();
  (void)once;
#endif
}

int configureThreads(int threads) {
  configureAllocator();
  // LibTorch's default follows OMP_NUM_THREADS, which may be 1 here; we default to every core.
  // More threads than cores only wait on each other at LibTorch's barriers: clamped.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int n = threads > 0 ? std::min(threads, cores) : cores;
  torch::set_num_threads(n);
  return n;
}

std::vector<DeviceInfo> availableDevices() {
  std::vector<DeviceInfo> out;
  out.push_back({"cpu", "CPU, " + std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " cores"});
  const int n = static_cast<int>(torch::cuda::device_count());
  for (int i = 0; i < n; ++i) {
    DeviceInfo d{"cuda:" + std::to_string(i), "CUDA device"};
#ifdef PARTICLE_WITH_CUDA
    if (const auto *props = at::cuda::getDeviceProperties(i)) {
      char memory[32];
      std::snprintf(memory, sizeof memory, "%.1f GiB", static_cast<double>(props->totalGlobalMem) / (1 << 30));
      d.description = std::string(props->name) + ", " + memory;
    }
#endif
    out.push_back(d);
  }
  return out;
}

Json runtimeInfo() {
  Json info = Json::object();
  info["particle_studio"] = "0.1.0";
  info["libtorch"] = TORCH_VERSION;
  info["cuda_available"] = torch::cuda::is_available();
  info["cuda_devices"] = static_cast<int64_t>(torch::cuda::device_count());
  info["cpu_cores"] = static_cast<int64_t>(std::thread::hardware_concurrency());
  // The CPU and what it offers bf16 training (training.precision, project/Precision.h).
  const CpuFeatures cpu = cpuFeatures();
  std::string bf16 = cpu.avx512bf16 ? "AVX512_BF16" : "";
  if (cpu.amxbf16)
    bf16 += (bf16.empty() ? "" : ", ") + std::string("AMX-BF16");
  info["cpu"] = (cpu.model.empty() ? "unknown model" : cpu.model) +
                (bf16.empty() ? " (no bf16 instructions)" : " (" + bf16 + ")");
  info["torch_threads"] = static_cast<int64_t>(torch::get_num_threads());
  info["project_format_version"] = 1;
  Json devices = Json::array();
  for (const auto &d : availableDevices())
    devices.push_back(d.id + " (" + d.description + ")");
  info["devices"] = devices;
  return info;
}

} // namespace particle
