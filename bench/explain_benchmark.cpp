// Exact Shapley speed: K = 8 branches over 1,000 samples (2^8 coalitions each).
//   build/bin/bench_explain [--samples N] [--branches K] [--repeats R] [--threads T]

#include "train/Runtime.h"
#include "explain/Explainer.h"

#include <chrono>
#include <cstdio>

using namespace particle;

namespace {
Project branches(int k) {
  Project p;
  p.name = "bench-explain";
  p.dataset = {{"kind", "synthetic"}, {"parts", k}, {"part_dim", 16}, {"classes", 10}, {"samples", 100}};
  p.graph.nodes.push_back(Node{"input", "Input", std::nullopt, Json::object(), "", ""});
  p.graph.nodes.push_back(Node{"split", "Split", std::nullopt, Json{{"mode", "chunks"}, {"parts", k}}, "", ""});
  p.graph.edges.push_back(Edge{PortRef{"input", "0"}, PortRef{"split", "0"}});
  for (int i = 0; i < k; ++i) {
    const std::string id = "b" + std::to_string(i);
    p.graph.nodes.push_back(Node{id, "MLP", std::nullopt, Json{{"hidden", {64}}, {"out", 32}}, "", ""});
    p.graph.edges.push_back(Edge{PortRef{"split", std::to_string(i)}, PortRef{id, "0"}});
    p.graph.edges.push_back(Edge{PortRef{id, "0"}, PortRef{"combine", std::to_string(i)}});
  }
  p.graph.nodes.push_back(Node{"combine", "Combine", std::nullopt, Json{{"mode", "attention"}}, "", ""});
  p.graph.nodes.push_back(Node{"mlp", "MLP", std::nullopt, Json{{"hidden", {64}}, {"out", 32}}, "", ""});
  p.graph.nodes.push_back(Node{"head", "Classifier", std::nullopt, Json::object(), "", ""});
  p.graph.edges.push_back(Edge{PortRef{"combine", "0"}, PortRef{"mlp", "0"}});
  p.graph.edges.push_back(Edge{PortRef{"mlp", "0"}, PortRef{"head", "0"}});
  return p;
}
} // namespace

int main(int argc, char **argv) {
  int samples = 1000, k = 8, repeats = 5, threads = 0, rows = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--samples")
      samples = v;
    else if (a == "--branches")
      k = v;
    else if (a == "--repeats")
      repeats = v;
    else if (a == "--threads")
      threads = v;
    else if (a == "--rows")
      rows = v;
  }
  const int used = configureThreads(threads);
  torch::manual_seed(0);
  ParticleModel model(branches(k));
  const auto x = torch::randn({samples, k * 16});
  ExplainOptions options;
  options.maxRowsPerPass = rows;
  Explainer explainer(model, torch::randn({2048, k * 16}), options);
  std::vector<double> times;
  double error = 0;
  for (int r = 0; r < repeats + 1; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const Explanation e = explainer.explain(x);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r > 0) // the first run warms up allocators
      times.push_back(s);
    error = std::max(error, e.combines.at(0).completenessMaxError);
  }
  std::sort(times.begin(), times.end());
  std::printf("exact Shapley, K = %d branches (%d coalitions), %d samples, %d thread(s), median of %d\n", k, 1 << k,
              samples, used, repeats);
  std::printf("  time                      %8.3f s   (goal < 1 s for K = 8, 1,000 samples)\n", times[times.size() / 2]);
  std::printf("  completeness max error    %8.2e\n", error);
  return 0;
}
