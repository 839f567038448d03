#pragma once
// Saliency per sub-model: Explainer::integratedGradients (defined in Saliency.cpp) differentiates
// the target logit w.r.t. each branch's own input — the Split port or Input it reads, or the
// embeddings its token ids become — and stitches the attributions back into the full input across
// the parts. The quadrature it integrates with is here.

#include <utility>
#include <vector>

namespace particle {

// Gauss–Legendre nodes and weights on [0, 1].
std::pair<std::vector<double>, std::vector<double>> gaussLegendre01(int n);

} // namespace particle
