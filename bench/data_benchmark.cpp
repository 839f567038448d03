// Loading a folder of images (kind image_folder): the first load decodes every file, the second
// reads the cache beside the data. Each load runs in a fresh process so that its peak memory is
// its own.
//   build/bin/bench_data ROOT [--size H W] [--channels C]     (scripts/fetch-data.sh fashion-png)

#include "data/Dataset.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace particle;

namespace {

// One load in this process: prints its wall time, where the pixels came from and the peak memory.
int loadOnce(const std::string &root, const Json &size, int channels) {
  Json section = {{"kind", "image_folder"}, {"path", root}, {"channels", channels}};
  if (size.is_array())
    section["size"] = size;
  const auto start = std::chrono::steady_clock::now();
  const Dataset d = loadDataset(parseDatasetSpec(section, root));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("  %-40s %6.2f s, peak memory %5.0f MiB\n", d.description.substr(0, 40).c_str(), seconds,
              static_cast<double>(u.ru_maxrss) / 1024.0);
  return 0;
}

int runChild(char **argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_data ROOT [--size H W] [--channels C]\n");
    return 2;
  }
  const std::string root = argv[1];
  Json size;
  int channels = 1;
  bool once = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--size" && i + 2 < argc) {
      size = {std::atoi(argv[i + 1]), std::atoi(argv[i + 2])};
      i += 2;
    } else if (a == "--channels" && i + 1 < argc) {
      channels = std::atoi(argv[++i]);
    } else if (a == "--once") {
      once = true;
    }
  }
  try {
    if (once)
      return loadOnce(root, size, channels);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "bench_data: %s\n", e.what());
    return 3;
  }
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(root) / ".particle-cache", ec);
  std::printf("image_folder %s, %u cores\n", root.c_str(), std::max(1U, std::thread::hardware_concurrency()));
  std::vector<char *> args(argv, argv + argc);
  std::string onceFlag = "--once";
  args.push_back(onceFlag.data());
  args.push_back(nullptr);
  std::printf("first load (decoding every file):\n");
  std::fflush(stdout);
  if (runChild(args.data()) != 0)
    return 3;
  std::printf("second load (the cache):\n");
  std::fflush(stdout);
  return runChild(args.data());
}
