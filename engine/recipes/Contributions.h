#pragma once
// The weight-versus-effect rule: a Combiner's weight for a branch is not that branch's effect on
// the output. The app flags a branch where the two disagree (docs/FORMAT.md, "Explanations").

namespace particle {

// True when a branch with combiner weight `weight` and contribution share `share` (|φ| over the
// sample's Σ|φ|), among `branches` branches, disagrees: a weight under half the fair share 1/K with
// a contribution above it, or a weight above 1/K with a contribution under half of it.
inline bool weightEffectDisagree(double weight, double share, int branches) {
  if (branches <= 0)
    return false;
  const double fair = 1.0 / branches;
  return (weight < 0.5 * fair && share > fair) || (weight > fair && share < 0.5 * fair);
}

} // namespace particle
