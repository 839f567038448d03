// Where a training step goes: fashion-patches (or --project P) trained step by step as the
// Trainer does (index_select batches, the graph interpreter's forward, cross-entropy and the
// per-step loss read, backward, Adam), with a timer around each phase and LibTorch's profiler
// aggregating the operations under each phase by name; the time under no operation is the glue
// around them (the graph interpreter in the forward, the autograd engine in the backward).
// Also the achieved GFLOP/s (a trained sample ≈ 3 × forward FLOPs) against a 2-thread matmul peak
// measured here, and --compare: candidate changes timed in one interleaved run.
//   build/bin/bench_step [--project P] [--threads T] [--steps N] [--precision fp32|bf16|both]
//                        [--compare base,channels-last,set-to-none,select-out,threads-1,unfused,torch-linear,
//                                   torch-layer, or changes joined by '+': torch-linear+torch-layer]
//                        [--repeats R]
//   build/bin/bench_step --op pool [--threads T] [--steps N] [--repeats R]   (the 2×2 max-pool alone)

#include "nodes/ChannelsLastPool.h"
#include "model/DnnlLinear.h"
#include "train/FusedAdam.h"
#include "train/Runtime.h"
#include "train/Trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <ctime>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace particle;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// This thread's processor time: at one thread, the step's own work, which neighbours on a shared
// machine slow far less than the wall clock (A/B comparisons under load).
double threadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<std::string> splitList(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

// A square matmul repeated for about half a second: the GFLOP/s the kernels reach on this
// machine at the current thread count, the ceiling the step is measured against.
double matmulPeak(torch::ScalarType dtype) {
  const int64_t n = 1024;
  auto a = torch::randn({n, n}).to(dtype), b = torch::randn({n, n}).to(dtype), c = torch::mm(a, b);
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    int reps = 0;
    const auto start = Clock::now();
    do {
      torch::mm_out(c, a, b);
      ++reps;
    } while (since(start) < 0.1);
    best = std::max(best, 2.0 * n * n * n * reps / since(start) / 1e9);
  }
  return best;
}

// The candidate changes, applied from outside the engine so that each is timed against the
// same binary in one interleaved run.
struct Variant {
  bool channelsLast = false; // conv weights (and so activations) in NHWC
  bool setToNone = false;    // gradients released instead of zeroed
  bool selectOut = false;    // batches gathered into reused buffers
  int threads = 0;           // 0: the run's
  bool unfused = false;      // ConvNet's first layer as LibTorch's convolution, not convReluPool2x2
  bool torchLinear = false;  // sub-models' heads on torch::linear (OpenBLAS), not oneDNN's sgemm
  bool torchLayer = false;   // later ConvNet layers as conv2d and maxPool2x2, not one function
};

// A name, or names joined by '+' for their changes together (torch-linear+torch-layer).
Variant variantNamed(const std::string &names) {
  Variant v;
  std::stringstream in(names);
  for (std::string name; std::getline(in, name, '+');) {
    if (name == "channels-last")
      v.channelsLast = true;
    else if (name == "set-to-none")
      v.setToNone = true;
    else if (name == "select-out")
      v.selectOut = true;
    else if (name == "threads-1")
      v.threads = 1;
    else if (name == "unfused")
      v.unfused = true;
    else if (name == "torch-linear")
      v.torchLinear = true;
    else if (name == "torch-layer")
      v.torchLayer = true;
    else if (name != "base")
      throw std::runtime_error("unknown variant " + name);
  }
  return v;
}

struct Phases {
  double batch = 0, forward = 0, loss = 0, backward = 0, optimizer = 0;
  double total() const { return batch + forward + loss + backward + optimizer; }
};

class StepRunner {
public:
  StepRunner(const Project &project, const Validation &validation, const Dataset &data, bool bf16,
             const Variant &variant)
      : data_(data), bf16_(bf16), variant_(variant) {
    spec_ = parseTrainingSpec(project.training);
    torch::manual_seed(spec_.seed);
    model_ = ParticleModel(project, &validation);
    model_->fitNormalization(data.trainX);
    if (variant.channelsLast)
      for (auto &p : model_->parameters())
        if (p.dim() == 4)
          p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    std::vector<torch::Tensor> params;
    for (const auto &p : distinctParameters(*model_))
      if (p.requires_grad())
        params.push_back(p);
    optimizer_ = std::make_unique<FusedAdam>(params, torch::optim::AdamOptions(spec_.lr)); // the Trainer's
    params_ = params;
    model_->train();
    auto gen = at::detail::createCPUGenerator(spec_.seed);
    perm_ = torch::randperm(data.trainX.size(0), gen, torch::TensorOptions().dtype(torch::kLong));
    batch_ = spec_.batchSize;
  }

  // One step, the Trainer's phases each timed into `phases`.
  void step(Phases &phases) {
    const int64_t n = data_.trainX.size(0);
    if (offset_ + batch_ > n)
      offset_ = 0;
    auto t = Clock::now();
    torch::Tensor xb, yb;
    {
      RECORD_USER_SCOPE("phase: batch");
      auto idx = perm_.narrow(0, offset_, batch_);
      if (variant_.selectOut) {
        at::index_select_out(xBuffer_, data_.trainX, 0, idx);
        at::index_select_out(yBuffer_, data_.trainY, 0, idx);
        xb = xBuffer_;
        yb = yBuffer_;
      } else {
        xb = data_.trainX.index_select(0, idx);
        yb = data_.trainY.index_select(0, idx);
      }
    }
    offset_ += batch_;
    phases.batch += since(t);
    t = Clock::now();
    if (bf16_) {
      at::autocast::set_cpu_enabled(true);
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    }
    ForwardResult out;
    {
      RECORD_USER_SCOPE("phase: forward");
      out = model_->forward(xb);
    }
    phases.forward += since(t);
    t = Clock::now();
    torch::Tensor loss;
    {
      RECORD_USER_SCOPE("phase: loss and its read");
      loss = torch::cross_entropy_loss(out.logits, yb) + out.auxLoss;
      if (bf16_) {
        at::autocast::set_cpu_enabled(false);
        at::autocast::clear_cache();
      }
      lossValue_ += loss.item<double>();
    }
    phases.loss += since(t);
    t = Clock::now();
    {
      RECORD_USER_SCOPE("phase: backward");
      loss.backward();
    }
    phases.backward += since(t);
    t = Clock::now();
    {
      RECORD_USER_SCOPE("phase: optimizer");
      optimizer_->step();
      if (variant_.setToNone)
        for (auto &p : params_)
          p.mutable_grad().reset();
      else
        optimizer_->zero_grad();
    }
    phases.optimizer += since(t);
  }

  int64_t batch() const { return batch_; }

private:
  const Dataset &data_;
  bool bf16_;
  Variant variant_;
  TrainingSpec spec_;
  ParticleModel model_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::vector<torch::Tensor> params_;
  torch::Tensor perm_, xBuffer_ = torch::empty({0}), yBuffer_ = torch::empty({0}, torch::kLong);
  int64_t batch_ = 0, offset_ = 0;
  double lossValue_ = 0;
};

// Per phase: the operations directly under it (inclusive time, by name), and the time under no
// operation; allocations counted over the whole run.
struct Profile {
  std::map<std::string, std::map<std::string, double>> ops; // phase → op → µs
  std::map<std::string, double> phaseUs, gapUs;
  std::map<std::string, double> selfUs; // every operation's own time, children excluded
  int64_t allocations = 0;
};

Profile profileSteps(StepRunner &runner, int steps) {
  using namespace torch::autograd::profiler;
  torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::CPU, false, true);
  enableProfilerLegacy(config);
  Phases ignored;
  for (int i = 0; i < steps; ++i)
    runner.step(ignored);
  const thread_event_lists lists = disableProfilerLegacy();
  Profile p;
  for (const auto &events : lists) {
    struct Open {
      std::string name;
      const LegacyEvent *start;
      double children = 0;
    };
    std::vector<Open> stack;
    for (const auto &e : events) {
      if (e.kind() == EventKind::MemoryAlloc) {
        if (e.cpuMemoryUsage() > 0)
          ++p.allocations;
      } else if (e.kind() == EventKind::PushRange) {
        stack.push_back({e.name(), &e});
      } else if (e.kind() == EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.start->cpuElapsedUs(e);
        if (open.name.rfind("phase: ", 0) != 0)
          p.selfUs[open.name] += us - open.children;
        if (open.name.rfind("phase: ", 0) == 0) {
          p.phaseUs[open.name] += us;
          p.gapUs[open.name] += us - open.children;
        } else if (!stack.empty() && stack.back().name.rfind("phase: ", 0) == 0) {
          p.ops[stack.back().name][open.name] += us;
        }
        if (!stack.empty())
          stack.back().children += us;
      }
    }
  }
  return p;
}

void printProfile(const Profile &p, int steps) {
  const char *order[] = {"phase: batch", "phase: forward", "phase: loss and its read", "phase: backward",
                         "phase: optimizer"};
  double total = 0;
  for (const auto &[name, us] : p.phaseUs)
    total += us;
  std::printf("  profiled (%d steps; the profiler adds its own cost per op), per step:\n", steps);
  std::printf("  | phase / operation | ms | share of step |\n  |---|---|---|\n");
  for (const char *phase : order) {
    if (!p.phaseUs.count(phase))
      continue;
    const double us = p.phaseUs.at(phase);
    std::printf("  | **%s** | **%.2f** | **%.1f%%** |\n", phase + 7, us / steps / 1e3, 100 * us / total);
    std::vector<std::pair<double, std::string>> ops;
    if (p.ops.count(phase))
      for (const auto &[name, t] : p.ops.at(phase))
        ops.emplace_back(t, name);
    std::sort(ops.rbegin(), ops.rend());
    double rest = 0;
    int shown = 0;
    for (const auto &[t, name] : ops) {
      if (shown < 8 && t / total > 0.003) {
        std::printf("  | %s | %.2f | %.1f%% |\n", name.c_str(), t / steps / 1e3, 100 * t / total);
        ++shown;
      } else {
        rest += t;
      }
    }
    if (rest > 0)
      std::printf("  | other operations | %.2f | %.1f%% |\n", rest / steps / 1e3, 100 * rest / total);
    std::printf("  | under no operation (interpreter, autograd engine, glue) | %.2f | %.1f%% |\n",
                p.gapUs.at(phase) / steps / 1e3, 100 * p.gapUs.at(phase) / total);
  }
  std::vector<std::pair<double, std::string>> kernels;
  for (const auto &[name, us] : p.selfUs)
    kernels.emplace_back(us, name);
  std::sort(kernels.rbegin(), kernels.rend());
  std::printf("  operations by their own time (children excluded):");
  for (std::size_t i = 0; i < std::min<std::size_t>(12, kernels.size()); ++i)
    std::printf("%s %s %.1f%%", i ? "," : "", kernels[i].second.c_str(), 100 * kernels[i].first / total);
  std::printf("\n  allocations: %.0f per step\n", static_cast<double>(p.allocations) / steps);
}

// The 2×2 max-pool alone at the shapes of fashion-patches' trunk (a batch of 128 patches: 32
// channels at 14×14 after the first convolution, 64 at 7×7 after the second), channels-last as
// the convolutions leave them, each followed by ConvNet's ReLU: LibTorch's max_pool2d and relu_,
// ChannelsLastPool's pool and relu_, and ChannelsLastPool's pool with the ReLU in its pass; forward
// and backward timed apart, in blocks interleaved across repeats.
void poolBenchmark(int steps, int repeats) {
  const std::vector<std::vector<int64_t>> shapes = {{128, 32, 14, 14}, {128, 64, 7, 7}};
  const std::vector<std::string> kinds = {"torch", "ours", "ours-relu"};
  struct Times {
    std::vector<double> forward, relu, backward;
  };
  std::map<std::string, Times> times; // "fp32 torch" → ms per step (both shapes, one trunk call)
  for (int r = 0; r < repeats; ++r)
    for (const auto dtype : {torch::kFloat, torch::kBFloat16})
      for (const auto &kind : kinds) {
        std::vector<torch::Tensor> xs, gs;
        for (const auto &shape : shapes) {
          xs.push_back(torch::randn(shape).to(dtype).contiguous(at::MemoryFormat::ChannelsLast).requires_grad_());
          gs.push_back(torch::randn({shape[0], shape[1], shape[2] / 2, shape[3] / 2})
                           .to(dtype)
                           .contiguous(at::MemoryFormat::ChannelsLast));
        }
        double forward = 0, relu = 0, backward = 0;
        for (int i = 0; i < steps + 5; ++i) {
          const bool timed = i >= 5; // five warm-up steps
          for (std::size_t s = 0; s < xs.size(); ++s) {
            auto t = Clock::now();
            torch::Tensor y =
                kind == "torch" ? torch::max_pool2d(xs[s], 2) : nodes::maxPool2x2(xs[s], kind == "ours-relu");
            const double f = since(t);
            t = Clock::now();
            if (kind != "ours-relu")
              torch::relu_(y);
            const double u = since(t);
            t = Clock::now();
            y.backward(gs[s]);
            xs[s].mutable_grad().reset();
            if (timed) {
              forward += f;
              relu += u;
              backward += since(t);
            }
          }
        }
        Times &into = times[std::string(dtype == torch::kFloat ? "fp32 " : "bf16 ") + kind];
        into.forward.push_back(1e3 * forward / steps);
        into.relu.push_back(1e3 * relu / steps);
        into.backward.push_back(1e3 * backward / steps);
      }
  std::printf("2×2 max-pool, channels-last [128,32,14,14] and [128,64,7,7], %d repeats of %d steps, "
              "median ms per pair of calls (one trunk's forward and backward; a step makes four)\n",
              repeats, steps);
  std::printf("| precision | kernel | pool forward | ReLU in place | backward | total | torch / this "
              "|\n|---|---|---|---|---|---|---|\n");
  for (const char *prec : {"fp32", "bf16"}) {
    const Times &base = times.at(std::string(prec) + " torch");
    const double baseTotal = median(base.forward) + median(base.relu) + median(base.backward);
    for (const auto &kind : kinds) {
      const Times &t = times.at(std::string(prec) + " " + kind);
      const double total = median(t.forward) + median(t.relu) + median(t.backward);
      std::printf("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.2f× |\n", prec, kind.c_str(), median(t.forward),
                  median(t.relu), median(t.backward), total, baseTotal / total);
    }
  }
}

} // namespace

int main(int argc, char **argv) {
  std::string projectPath = std::string(PARTICLE_SOURCE_DIR) + "/resources/examples/fashion-patches.particle.json";
  std::setvbuf(stdout, nullptr, _IOLBF, 0); // progress visible when piped
  std::string precision = "both", compare, op;
  int threads = 2, steps = 100, repeats = 5, profileSteps_ = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--project")
      projectPath = v;
    else if (a == "--threads")
      threads = std::atoi(v.c_str());
    else if (a == "--steps")
      steps = std::atoi(v.c_str());
    else if (a == "--precision")
      precision = v;
    else if (a == "--compare")
      compare = v;
    else if (a == "--repeats")
      repeats = std::atoi(v.c_str());
    else if (a == "--profile-steps")
      profileSteps_ = std::atoi(v.c_str());
    else if (a == "--op")
      op = v;
  }
  threads = configureThreads(threads);
  if (op == "pool") {
    poolBenchmark(steps, repeats);
    return 0;
  }
  const Project project = loadProject(projectPath);
  const Validation validation = validate(project);
  const Dataset data = loadDataset(parseDatasetSpec(project.dataset, project.baseDir()));
  const double trainedFlops = 3.0 * validation.flopsPerSample;
  const double peak32 = matmulPeak(torch::kFloat), peak16 = matmulPeak(torch::kBFloat16);
  std::printf("%s: %s, %d thread(s); forward %.2f MFLOP per sample, trained ≈ 3× = %.2f MFLOP\n", project.name.c_str(),
              data.description.c_str(), threads, validation.flopsPerSample / 1e6, trainedFlops / 1e6);
  std::printf("matmul peak (1024², best of 5 × 0.1 s): fp32 %.0f GFLOP/s, bf16 %.0f GFLOP/s\n", peak32, peak16);

  if (!compare.empty()) {
    // Each variant's block of steps in turn, repeated: drift in the machine's load hits all alike.
    const std::vector<std::string> names = splitList(compare);
    std::map<std::string, std::vector<double>> rates, cpuRates;
    for (int r = 0; r < repeats; ++r)
      for (const auto &name : names)
        for (const std::string &prec : {std::string("fp32"), std::string("bf16")}) {
          if (precision != "both" && precision != prec)
            continue;
          const Variant v = variantNamed(name);
          torch::set_num_threads(v.threads > 0 ? v.threads : threads);
          nodes::setConvReluPoolEnabled(!v.unfused);
          setDnnlLinearEnabled(!v.torchLinear);
          nodes::setConvPoolLayerEnabled(!v.torchLayer);
          StepRunner runner(project, validation, data, prec == "bf16", v);
          Phases warm, timed;
          for (int i = 0; i < 5; ++i)
            runner.step(warm);
          const double cpuStart = threadCpuSeconds();
          for (int i = 0; i < steps; ++i)
            runner.step(timed);
          rates[name + " " + prec].push_back(steps * runner.batch() / timed.total());
          cpuRates[name + " " + prec].push_back(steps * runner.batch() / (threadCpuSeconds() - cpuStart));
        }
    torch::set_num_threads(threads);
    nodes::setConvReluPoolEnabled(true);
    setDnnlLinearEnabled(true);
    nodes::setConvPoolLayerEnabled(true);
    std::printf("interleaved: %d repeats of %d steps each, median samples/s (ratio to base) [each repeat]; "
                "samples per second of this thread's processor time (ratio)\n",
                repeats, steps);
    for (const auto &name : names)
      for (const std::string &prec : {std::string("fp32"), std::string("bf16")}) {
        const auto it = rates.find(name + " " + prec);
        if (it == rates.end())
          continue;
        const double m = median(it->second), base = median(rates.at("base " + prec));
        const double cpu = median(cpuRates.at(name + " " + prec)), cpuBase = median(cpuRates.at("base " + prec));
        std::string all, allCpu;
        for (double x : it->second)
          all += (all.empty() ? "" : " ") + std::to_string(static_cast<int>(x));
        for (double x : cpuRates.at(name + " " + prec))
          allCpu += (allCpu.empty() ? "" : " ") + std::to_string(static_cast<int>(x));
        std::printf("  %-14s %s %8.0f  %.3f   [%s]   cpu %8.0f  %.3f   [%s]\n", name.c_str(), prec.c_str(), m, m / base,
                    all.c_str(), cpu, cpu / cpuBase, allCpu.c_str());
      }
    return 0;
  }

  for (const std::string &prec : {std::string("fp32"), std::string("bf16")}) {
    if (precision != "both" && precision != prec)
      continue;
    StepRunner runner(project, validation, data, prec == "bf16", Variant{});
    Phases warm, phases;
    for (int i = 0; i < 10; ++i)
      runner.step(warm);
    for (int i = 0; i < steps; ++i)
      runner.step(phases);
    const double rate = steps * runner.batch() / phases.total(), gflops = rate * trainedFlops / 1e9;
    const double peak = prec == "bf16" ? peak16 : peak32;
    std::printf("\n%s: %.0f samples/s over %d steps of %lld; %.1f GFLOP/s achieved, %.0f%% of the %s matmul peak\n",
                prec.c_str(), rate, steps, static_cast<long long>(runner.batch()), gflops, 100 * gflops / peak,
                prec.c_str());
    std::printf("  timed phases, per step: batch %.2f ms, forward %.2f, loss + read %.2f, backward %.2f, "
                "optimizer %.2f; total %.2f ms\n",
                1e3 * phases.batch / steps, 1e3 * phases.forward / steps, 1e3 * phases.loss / steps,
                1e3 * phases.backward / steps, 1e3 * phases.optimizer / steps, 1e3 * phases.total() / steps);
    printProfile(profileSteps(runner, profileSteps_), profileSteps_);
  }
  return 0;
}
