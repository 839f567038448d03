// Seed-model throughput: the engine (from bench/seed.particle.json) against a hand-written
// LibTorch loop and the PyTorch eager peer (bench/seed_peer.py), same threads, in one run.
//   build/bin/bench_seed [--threads T] [--epochs E] [--repeats R]

#include "train/Runtime.h"
#include "train/Trainer.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

using namespace particle;

namespace {

constexpr int64_t kSamples = 20000; // training samples per epoch in all three
constexpr int64_t kBatch = 64;

// Samples/s (wall clock) and the processor time per sample (µs, every thread of the process): on a
// machine shared with other work the wall figure of one run swings by ±30%, the processor time
// far less, so a change to the step is judged by the second.
struct Rate {
  double perSecond = 0, cpuUs = 0;
};

double cpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The engine's processor time in its training steps: from each epoch's first step event to its
// last, so that loading, validation and testing are left out as its samples/s leaves them out.
class StepClock : public TrainObserver {
public:
  void onStep(const StepEvent &e) override {
    const double now = cpuSeconds();
    if (e.epoch == epoch_) {
      seconds_ += now - last_;
      samples_ += e.samples;
    }
    epoch_ = e.epoch;
    last_ = now;
  }
  double usPerSample() const { return samples_ > 0 ? 1e6 * seconds_ / static_cast<double>(samples_) : 0; }

private:
  int epoch_ = -1;
  double last_ = 0, seconds_ = 0;
  int64_t samples_ = 0;
};

Rate engineRate(int threads, int epochs) {
  Project project = loadProject(std::string(PARTICLE_SOURCE_DIR) + "/bench/seed.particle.json");
  TrainOptions options;
  options.threads = threads;
  options.epochs = epochs;
  options.reportEverySteps = 50;
  Trainer trainer(project, options);
  StepClock clock;
  const RunSummary s = trainer.run(&clock);
  if (trainer.data().trainX.size(0) != kSamples)
    throw std::runtime_error("bench project must have 20000 training samples");
  return {s.samplesPerSecond, clock.usPerSample()};
}

struct SeedNetImpl : torch::nn::Module {
  SeedNetImpl()
      : a(register_module("a", torch::nn::Linear(512, 128))), b(register_module("b", torch::nn::Linear(512, 128))),
        head(register_module("head", torch::nn::Linear(256, 10))) {}
  torch::Tensor forward(const torch::Tensor &x) { return head(torch::cat({a(x), b(x)}, 1)); }
  torch::nn::Linear a, b, head;
};
TORCH_MODULE(SeedNet);

Rate handWrittenRate(int epochs) {
  torch::manual_seed(0);
  auto x = torch::randn({kSamples, 512});
  auto y = torch::randint(0, 10, {kSamples}, torch::kLong);
  SeedNet net;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  const auto start = std::chrono::steady_clock::now();
  const double cpuStart = cpuSeconds();
  int64_t seen = 0;
  for (int e = 0; e < epochs; ++e) {
    auto perm = torch::randperm(kSamples, torch::kLong);
    for (int64_t i = 0; i < kSamples; i += kBatch) {
      auto idx = perm.narrow(0, i, std::min(kBatch, kSamples - i));
      auto xb = x.index_select(0, idx), yb = y.index_select(0, idx);
      opt.zero_grad();
      auto loss = torch::cross_entropy_loss(net->forward(xb), yb);
      loss.backward();
      opt.step();
      seen += idx.size(0);
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {static_cast<double>(seen) / wall, 1e6 * (cpuSeconds() - cpuStart) / static_cast<double>(seen)};
}

double pythonRate(int threads, int epochs) {
  const std::string cmd = "/usr/bin/python3 " + std::string(PARTICLE_SOURCE_DIR) + "/bench/seed_peer.py " +
                          std::to_string(threads) + " " + std::to_string(epochs) + " " + std::to_string(kSamples);
  FILE *pipe = popen(cmd.c_str(), "r");
  if (!pipe)
    return 0;
  char buf[128] = {0};
  const bool ok = fgets(buf, sizeof buf, pipe) != nullptr;
  const int rc = pclose(pipe);
  return ok && rc == 0 ? std::atof(buf) : 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2, epochs = 3, repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (a == "--epochs")
      epochs = std::atoi(argv[i + 1]);
    else if (a == "--repeats")
      repeats = std::atoi(argv[i + 1]);
  }
  configureThreads(threads);
  std::vector<double> engine, hand, python, engineCpu, handCpu;
  // Interleaved repeats, so that drift in machine load hits all three alike.
  for (int r = 0; r < repeats; ++r) {
    const Rate er = engineRate(threads, epochs), hr = handWrittenRate(epochs);
    engine.push_back(er.perSecond);
    engineCpu.push_back(er.cpuUs);
    hand.push_back(hr.perSecond);
    handCpu.push_back(hr.cpuUs);
    python.push_back(pythonRate(threads, epochs));
  }
  const double e = median(engine), h = median(hand), p = median(python);
  const double ec = median(engineCpu), hc = median(handCpu);
  std::printf("seed model, %lld samples x %d epochs, batch %lld, Adam, %d thread(s), median of %d\n",
              static_cast<long long>(kSamples), epochs, static_cast<long long>(kBatch), threads, repeats);
  std::printf("  engine (project file)   %10.0f samples/s\n", e);
  std::printf("  hand-written LibTorch   %10.0f samples/s\n", h);
  std::printf("  PyTorch eager + loader  %10.0f samples/s\n", p);
  std::printf("  engine / python         %10.2f   (goal >= 1.4)\n", p > 0 ? e / p : 0.0);
  std::printf("  engine / hand-written   %10.2f   (goal >= 0.9)\n", h > 0 ? e / h : 0.0);
  std::printf("  processor time per sample: engine %.2f us, hand-written %.2f us; hand-written / engine %.3f\n", ec, hc,
              ec > 0 ? hc / ec : 0.0);
  return 0;
}
