#include "train/Peak.h"

#include "base/Json.h"
#include "project/Precision.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace particle {

namespace {

// Format 2: the figure is the faster of LibTorch's two matmul routes (torch::mm and oneDNN's). A
// format-1 figure timed torch::mm alone, which on a CPU its BLAS does not know runs a narrower kernel
// than the convolutions do (docs/BENCHMARKS.md "The machine's matmul peak"): measured again.
constexpr int kCacheFormat = 2;
// Square matmuls of this side are compute-bound on any CPU (2 · 2048³ ≈ 17 GFLOP, tens of
// milliseconds on two cores) and their operands (16 MiB each in float32) still fit in memory anywhere.
constexpr int64_t kSide = 2048;
// The budget per route: a warm-up product, then repeats until this much time has passed (at least
// kMinRepeats). The best repeat is the peak: a slower one was interrupted, never faster than the machine.
constexpr double kMeasureSeconds = 0.8;
constexpr int kMinRepeats = 3;

// One measurement at a time in this process: two at once would each see half the machine, and
// the cache would be read and written under each other.
std::mutex &peakMutex() {
  static std::mutex m;
  return m;
}

int resolvedThreads(int threads) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return threads > 0 ? std::min(threads, cores) : cores;
}

// A cache entry with every field of its type; a hand-edited one of other types is dropped.
bool wellFormed(const Json &e) {
  auto text = [&](const char *key) { return e.contains(key) && e[key].is_string(); };
  return e.is_object() && text("cpu") && text("precision") && text("libtorch") && e.contains("threads") &&
         e["threads"].is_number_integer() && e.contains("gflops") && e["gflops"].is_number() &&
         e["gflops"].get<double>() > 0;
}

bool sameKey(const Json &e, const std::string &cpu, int threads, const std::string &precision) {
  return e["cpu"].get<std::string>() == cpu && e["threads"].get<int64_t>() == threads &&
         e["precision"].get<std::string>() == precision && e["libtorch"].get<std::string>() == TORCH_VERSION;
}

// The cache's well-formed entries; a missing, unreadable or malformed file reads as none (it is
// rewritten whole at the next measurement), never as an error: the figure is only a convenience.
Json readEntries(const std::string &path) {
  Json out = Json::array();
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec))
    return out;
  try {
    const Json doc = Json::parse(readTextFile(path), nullptr, false);
    if (doc.is_object() && doc.value("format", 0) == kCacheFormat && doc.contains("entries") &&
        doc["entries"].is_array())
      for (const Json &e : doc["entries"])
        if (wellFormed(e))
          out.push_back(e);
  } catch (const std::exception &) { // a field of the wrong type ("format": "1")
  }
  return out;
}

// A matmul as LibTorch runs it: `torch::mm` goes to the BLAS it was built with (OpenBLAS here) for
// float32 and to oneDNN for bfloat16; `mkldnn_linear` is oneDNN's product for either. Which is faster
// depends on the CPU: Debian's OpenBLAS 0.3.21 runs its AVX2 kernel on a CPU it does not recognise
// (AMD family 1Ah), where oneDNN, like the convolutions a training step runs, uses AVX-512.
struct Route {
  std::string name;
  std::function<void()> product;
  double best = 0; // seconds, 0 until timed
  int repeats = 0;
};

std::vector<Route> routes(at::ScalarType dtype) {
  auto a = torch::rand({kSide, kSide}).to(dtype);
  auto b = torch::rand({kSide, kSide}).to(dtype);
  auto c = torch::empty({kSide, kSide}, a.options());
  std::vector<Route> out;
  out.push_back({"mm", [a, b, c]() mutable { torch::mm_out(c, a, b); }});
  if (at::hasMKLDNN()) {
    // oneDNN's own tensors: the product of a and bᵀ, as many FLOPs; the weight's reorder into
    // oneDNN's blocked layout is timed with it (about 2% of a product), so this route reads a little low.
    const auto am = a.to_mkldnn(), bm = b.to_mkldnn();
    out.push_back({"oneDNN", [am, bm]() { (void)at::mkldnn_linear(am, bm); }});
  }
  return out;
}

struct Measurement {
  double gflops = 0;
  std::string route;
  std::map<std::string, double> routes;
};

Measurement measure(const std::string &precision, int threads) {
  // On the CPU: fp32 or bf16 (precisionUnsupported refuses fp16 there).
  const auto dtype = precision == "bf16" ? at::kBFloat16 : at::kFloat;
  // The thread count is the process's: the caller's is put back however this ends.
  struct Threads {
    int before = torch::get_num_threads();
    explicit Threads(int n) { torch::set_num_threads(n); }
    ~Threads() { torch::set_num_threads(before); }
  } scoped(threads);
  torch::NoGradGuard noGrad;
  std::vector<Route> all = routes(dtype);
  using Clock = std::chrono::steady_clock;
  // A warm-up each (the kernel's packing buffers and the threads' start); a route this build of
  // LibTorch cannot run is left out.
  for (auto it = all.begin(); it != all.end();)
    try {
      it->product();
      ++it;
    } catch (const std::exception &) {
      it = all.erase(it);
    }
  // The routes take turns, so that a slower stretch of the machine (another process, a lower
  // clock) falls on both alike rather than on whichever ran then.
  const auto start = Clock::now();
  const double budget = kMeasureSeconds * static_cast<double>(all.size());
  for (std::size_t turn = 0; !all.empty(); ++turn) {
    Route &r = all[turn % all.size()];
    const auto t0 = Clock::now();
    r.product();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    ++r.repeats;
    if (s > 0 && (r.best == 0 || s < r.best))
      r.best = s;
    const bool enough = std::all_of(all.begin(), all.end(), [](const Route &x) { return x.repeats >= kMinRepeats; });
    if (enough && std::chrono::duration<double>(Clock::now() - start).count() >= budget)
      break;
  }
  Measurement m;
  for (const Route &r : all) {
    const double gflops = r.best > 0 ? 2.0 * kSide * kSide * kSide / r.best / 1e9 : 0;
    m.routes[r.name] = gflops;
    if (gflops > m.gflops) {
      m.gflops = gflops;
      m.route = r.name;
    }
  }
  return m;
}

enum class Measure { IfMissing, Never, Always };

PeakFigure peak(const std::string &precision, int threads, Measure when) {
  PeakFigure out;
  const CpuFeatures cpu = cpuFeatures();
  out.unsupported = precisionUnsupported(precision, "cpu", cpu);
  if (!out.unsupported.empty())
    return out;
  const int n = resolvedThreads(threads);
  const std::string path = peakCachePath();
  const std::lock_guard<std::mutex> lock(peakMutex());
  Json entries = readEntries(path);
  for (const Json &e : entries)
    if (sameKey(e, cpu.model, n, precision)) {
      out.gflops = e["gflops"].get<double>();
      out.route = e.contains("route") && e["route"].is_string() ? e["route"].get<std::string>() : "";
      out.cached = true;
      break;
    }
  if (when == Measure::Never || (when == Measure::IfMissing && out.cached))
    return out;
  const Measurement m = measure(precision, n);
  out.measured = m.gflops;
  out.routes = m.routes;
  // A peak is a maximum: a measurement below the cached figure was slowed by other work, and
  // replacing the figure with it would push every fraction of it up (above 100% even).
  if (out.measured <= out.gflops)
    return out;
  out.gflops = out.measured;
  out.route = m.route;
  out.cached = false;
  if (path.empty())
    return out;
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const Json &e) { return sameKey(e, cpu.model, n, precision); }),
                entries.end());
  entries.push_back({{"cpu", cpu.model},
                     {"threads", n},
                     {"precision", precision},
                     {"libtorch", TORCH_VERSION},
                     {"gflops", out.gflops},
                     {"route", out.route},
                     {"routes", m.routes},
                     {"side", kSide}});
  // A cache folder that cannot be written costs a measurement next time, nothing more.
  try {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    writeFileAtomically(path, Json{{"format", kCacheFormat}, {"entries", entries}}.dump(2) + "\n");
  } catch (const std::exception &) {
  }
  return out;
}

} // namespace

std::string peakCachePath() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return (fs::path(xdg) / "particle-studio" / "peak.json").string();
  if (const char *home = std::getenv("HOME"); home && *home)
    return (fs::path(home) / ".cache" / "particle-studio" / "peak.json").string();
  return {};
}

PeakFigure matmulPeak(const std::string &precision, int threads, bool measureIfMissing) {
  return peak(precision, threads, measureIfMissing ? Measure::IfMissing : Measure::Never);
}

PeakFigure remeasureMatmulPeak(const std::string &precision, int threads) {
  return peak(precision, threads, Measure::Always);
}

bool peakWantsMeasuring(double achievedGflops, double peakGflops) {
  // Within 10%: no real training step reaches a plain matmul's rate, so a run that close is more
  // likely a low peak than a fast run.
  return achievedGflops > 0 && (peakGflops <= 0 || achievedGflops >= 0.9 * peakGflops);
}

double matmulPeakGflops(const std::string &precision, int threads, bool measure) {
  return matmulPeak(precision, threads, measure).gflops;
}

} // namespace particle
