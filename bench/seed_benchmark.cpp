// Seed-model throughput: the engine (from bench/seed.particle.json) against a hand-written
// LibTorch loop and the PyTorch eager peer (bench/seed_peer.py), same threads, in one run.
//   build/bin/bench_seed [--threads T] [--epochs E] [--repeats R]

#include "train/Runtime.h"
#include "train/Trainer.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

using namespace particle;

namespace {

constexpr int64_t kSamples = 20000; // training samples per epoch in all three
constexpr int64_t kBatch = 64;

double engineRate(int threads, int epochs) {
  Project project = loadProject(std::string(PARTICLE_SOURCE_DIR) + "/bench/seed.particle.json");
  TrainOptions options;
  options.threads = threads;
  options.epochs = epochs;
  options.reportEverySteps = 50;
  Trainer trainer(project, options);
  const RunSummary s = trainer.run();
  if (trainer.data().trainX.size(0) != kSamples)
    throw std::runtime_error("bench project must have 20000 training samples");
  return s.samplesPerSecond;
}

struct SeedNetImpl : torch::nn::Module {
  SeedNetImpl()
      : a(register_module("a", torch::nn::Linear(512, 128))), b(register_module("b", torch::nn::Linear(512, 128))),
        head(register_module("head", torch::nn::Linear(256, 10))) {}
  torch::Tensor forward(const torch::Tensor &x) { return head(torch::cat({a(x), b(x)}, 1)); }
  torch::nn::Linear a, b, head;
};
TORCH_MODULE(SeedNet);

double handWrittenRate(int epochs) {
  torch::manual_seed(0);
  auto x = torch::randn({kSamples, 512});
  auto y = torch::randint(0, 10, {kSamples}, torch::kLong);
  SeedNet net;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  const auto start = std::chrono::steady_clock::now();
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
  return static_cast<double>(seen) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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
  std::vector<double> engine, hand, python;
  // Interleaved repeats, so that drift in machine load hits all three alike.
  for (int r = 0; r < repeats; ++r) {
    engine.push_back(engineRate(threads, epochs));
    hand.push_back(handWrittenRate(epochs));
    python.push_back(pythonRate(threads, epochs));
  }
  const double e = median(engine), h = median(hand), p = median(python);
  std::printf("seed model, %lld samples x %d epochs, batch %lld, Adam, %d thread(s), median of %d\n",
              static_cast<long long>(kSamples), epochs, static_cast<long long>(kBatch), threads, repeats);
  std::printf("  engine (project file)   %10.0f samples/s\n", e);
  std::printf("  hand-written LibTorch   %10.0f samples/s\n", h);
  std::printf("  PyTorch eager + loader  %10.0f samples/s\n", p);
  std::printf("  engine / python         %10.2f   (goal >= 1.4)\n", p > 0 ? e / p : 0.0);
  std::printf("  engine / hand-written   %10.2f   (goal >= 0.9)\n", h > 0 ? e / h : 0.0);
  return 0;
}
