#pragma once
// What the explanation methods (Explainer.cpp, Saliency.cpp) share: a branch's name, the target
// logit of each row, a batch repeated for many coalitions or integration points at once.

#include "graph/Graph.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace particle {

// The name a branch is reported under: the port that feeds the Combine ("conv1", "split:2").
inline std::string branchName(const PortRef &ref) {
  return ref.toString();
}

// logits[i, targets[i]] for every row: [N].
inline torch::Tensor gatherTarget(const torch::Tensor &logits, const torch::Tensor &targets) {
  return logits.gather(1, targets.view({-1, 1})).squeeze(1);
}

// Rows of `t` tiled `m` times along the batch: [N, ...] → [m·N, ...].
inline torch::Tensor tile(const torch::Tensor &t, int64_t m) {
  std::vector<int64_t> reps(t.dim(), 1);
  reps[0] = m;
  return t.repeat(reps);
}

} // namespace particle
