#include "Runtime.h"

#include <thread>

namespace particle {

torch::Device resolveDevice(const std::string &spec) {
  const bool cuda = torch::cuda::is_available();
  if (spec == "auto" || spec.empty())
    return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu")
    return torch::Device(torch::kCPU);
  if (spec.rfind("cuda", 0) == 0) {
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
  throw Error(ErrorKind::Usage, "unknown device \"" + spec + "\" (use auto, cpu, cuda or cuda:N)");
}

int configureThreads(int threads) {
  // LibTorch's default follows OMP_NUM_THREADS, which may be 1 here; we default to every core.
  const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  return n;
}

Json runtimeInfo() {
  Json info = Json::object();
  info["particle_studio"] = "0.1.0";
  info["libtorch"] = TORCH_VERSION;
  info["cuda_available"] = torch::cuda::is_available();
  info["cuda_devices"] = static_cast<int64_t>(torch::cuda::device_count());
  info["cpu_cores"] = static_cast<int64_t>(std::thread::hardware_concurrency());
  info["torch_threads"] = static_cast<int64_t>(torch::get_num_threads());
  info["project_format_version"] = 1;
  return info;
}

} // namespace particle
