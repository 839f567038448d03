// The fused Adam/AdamW step (FusedAdam.h). Each parameter's update is one loop over its elements;
// all parameters' elements form one range that at::parallel_for splits over LibTorch's threads,
// so a step enters one parallel region, whatever the number of parameters.

#include "train/FusedAdam.h"

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <cmath>
#include <memory>

// at::parallel_for is LibTorch's OpenMP pragma, inlined here: compiled without OpenMP it runs every
// chunk on the calling thread, silently. engine/CMakeLists.txt gives this file OpenMP.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "FusedAdam.cpp needs OpenMP (-fopenmp) to run on LibTorch's threads"
#endif

namespace particle {

namespace fused_adam {

const std::string &KeyCache::of(std::size_t index, const torch::Tensor &p) {
  if (index >= keys.size())
    keys.resize(index + 1);
  auto &entry = keys[index];
  const void *impl = p.unsafeGetTensorImpl();
  // The key is a function of the address alone, so a cached one is right while the address is.
  if (entry.first != impl || entry.second.empty())
    entry = {impl, c10::guts::to_string(p.unsafeGetTensorImpl())};
  return entry.second;
}

namespace {

// The build targets plain x86-64; the update loops are also compiled for FMA (with AVX) and
// AVX-512 and chosen by the processor when the library loads. Without FMA (the default clone)
// std::fma is a library call: right, not fast.
#if defined(__x86_64__) && defined(__GNUC__)
#define PARTICLE_ADAM_CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define PARTICLE_ADAM_CLONES
#endif

enum class Decay { None, L2, Decoupled };

// One parameter's step, its scalars as LibTorch's float32 kernels see them (each double option
// rounded to float once).
struct Item {
  float *w = nullptr;
  const float *g = nullptr;
  float *m = nullptr, *v = nullptr;
  int64_t n = 0;
  Decay decay = Decay::None;
  float beta1 = 0, oneMinusBeta1 = 0, beta2 = 0, oneMinusBeta2 = 0;
  float sqrtCorrection2 = 1; // sqrt(1 − β₂ᵗ)
  float eps = 0;
  float negStep = 0;     // −lr / (1 − β₁ᵗ)
  float weightDecay = 0; // Adam: the gradient gains weight_decay · w
  float keep = 1;        // AdamW: the weights are first scaled by 1 − lr · weight_decay
};

// LibTorch's operations, element by element and in its order, each rounded to float as the tensor
// operation's result is. Its vectorised kernels fuse two of them into one multiply-add (rounded
// once): `add_` with an alpha, and the product and sum of `addcmul_`; std::fma does the same here.
// Everything else is rounded step by step: this file is compiled with -ffp-contract=off so that no
// other product and sum are fused behind the code's back. On this machine the result equals
// LibTorch's to the bit (tst_trainer fusedAdamMatchesLibTorch prints how many values are equal).
//   AdamW  w = w · keep                          (p.mul_)
//   Adam   g = fma(wd, w, g)                     (grad.add(p, wd))
//          m = m · β₁, m = fma(1 − β₁, g, m)      (exp_avg.mul_(β₁).add_(g, 1 − β₁))
//          v = v · β₂, v = fma((1 − β₂) · g, g, v) (exp_avg_sq.mul_(β₂).addcmul_(g, g, 1 − β₂))
//          d = sqrt(v) / sqrt(1 − β₂ᵗ) + eps      ((exp_avg_sq.sqrt() / ...).add_(eps))
//          w = w + (−step · m) / d                (p.addcdiv_(m, d, −step))
template <Decay D>
inline __attribute__((always_inline)) void update(float *__restrict w, const float *__restrict g, float *__restrict m,
                                                  float *__restrict v, int64_t n, const Item &s) {
  const float beta1 = s.beta1, a1 = s.oneMinusBeta1, beta2 = s.beta2, a2 = s.oneMinusBeta2;
  const float root = s.sqrtCorrection2, eps = s.eps, negStep = s.negStep, wd = s.weightDecay, keep = s.keep;
  for (int64_t i = 0; i < n; ++i) {
    float wi = w[i];
    if (D == Decay::Decoupled)
      wi = wi * keep;
    float gi = g[i];
    if (D == Decay::L2)
      gi = std::fma(wd, wi, gi);
    float mi = m[i] * beta1;
    mi = std::fma(a1, gi, mi);
    float vi = v[i] * beta2;
    vi = std::fma(a2 * gi, gi, vi);
    const float d = std::sqrt(vi) / root + eps;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi + negStep * mi / d;
  }
}

PARTICLE_ADAM_CLONES void updatePlain(float *w, const float *g, float *m, float *v, int64_t n, const Item &s) {
  update<Decay::None>(w, g, m, v, n, s);
}
PARTICLE_ADAM_CLONES void updateL2(float *w, const float *g, float *m, float *v, int64_t n, const Item &s) {
  update<Decay::L2>(w, g, m, v, n, s);
}
PARTICLE_ADAM_CLONES void updateDecoupled(float *w, const float *g, float *m, float *v, int64_t n, const Item &s) {
  update<Decay::Decoupled>(w, g, m, v, n, s);
}

// Elements [offset, offset + n) of one parameter.
void run(const Item &s, int64_t offset, int64_t n) {
  float *w = s.w + offset, *m = s.m + offset, *v = s.v + offset;
  const float *g = s.g + offset;
  switch (s.decay) {
  case Decay::None: updatePlain(w, g, m, v, n, s); break;
  case Decay::L2: updateL2(w, g, m, v, n, s); break;
  case Decay::Decoupled: updateDecoupled(w, g, m, v, n, s); break;
  }
}

// Elements per thread at least: a chunk's update is a few microseconds' work, about what waking
// a second thread costs.
constexpr int64_t kGrain = 16384;

void runAll(const std::vector<Item> &items) {
  std::vector<int64_t> start(items.size() + 1, 0);
  for (std::size_t k = 0; k < items.size(); ++k)
    start[k + 1] = start[k] + items[k].n;
  at::parallel_for(0, start.back(), kGrain, [&](int64_t begin, int64_t end) {
    // The parameter holding `begin`, then on through those the chunk covers.
    auto k = static_cast<std::size_t>(std::upper_bound(start.begin(), start.end(), begin) - start.begin() - 1);
    for (int64_t at = begin; at < end; ++k) {
      const int64_t upto = std::min(end, start[k + 1]);
      if (upto > at)
        run(items[k], at - start[k], upto - at);
      at = std::max(at, upto);
    }
  });
}

bool isDenseCpuFloat(const torch::Tensor &t) {
  return t.defined() && t.layout() == torch::kStrided && t.device().is_cpu() && t.scalar_type() == torch::kFloat;
}

// `t` may be walked element by element alongside `p` (dense, non-overlapping): same type and
// shape, and the same stride in every dimension of more than one index, so every element sits at
// the same offset in both. A dimension of one index never moves the offset, and its stride is
// arbitrary: ConvNet's first layer forces channels-last strides on a [C, 1, k, k] weight whose
// gradient comes back with the other stride for that dimension, the same memory.
bool laidOutLike(const torch::Tensor &t, const torch::Tensor &p) {
  if (!isDenseCpuFloat(t) || t.sizes() != p.sizes() || !t.is_non_overlapping_and_dense())
    return false;
  for (int64_t d = 0; d < p.dim(); ++d)
    if (p.size(d) > 1 && t.stride(d) != p.stride(d))
      return false;
  return true;
}

// `t` as laid out like `p`: itself, or a copy in p's layout (same values) where it is a float32
// CPU tensor of p's shape in another layout; undefined where it is not.
torch::Tensor inLayoutOf(const torch::Tensor &t, const torch::Tensor &p) {
  if (laidOutLike(t, p))
    return t;
  if (!isDenseCpuFloat(t) || t.sizes() != p.sizes())
    return {};
  return torch::empty_like(p, torch::MemoryFormat::Preserve).copy_(t);
}

// The step of our own, or false (nothing changed but a new parameter's zero state, which
// LibTorch's step would make the same) where LibTorch's must run.
template <typename Options, typename State, bool Decoupled>
bool fusedStep(torch::optim::Optimizer &optimizer, KeyCache &keys) {
  c10::NoGradGuard noGrad;
  auto &states = optimizer.state();
  struct Pending {
    torch::Tensor p, g;
    State *state;
    const Options *options;
  };
  std::vector<Pending> pending;
  std::vector<const void *> seen;
  std::size_t index = 0;
  for (auto &group : optimizer.param_groups()) {
    const auto &options = static_cast<const Options &>(group.options());
    if (options.amsgrad())
      return false;
    for (const auto &p : group.params()) {
      const std::string &key = keys.of(index++, p);
      if (!p.grad().defined())
        continue;
      if (!isDenseCpuFloat(p) || !p.is_non_overlapping_and_dense())
        return false;
      // A gradient in another layout (a convolution's backward chooses its own) is read from a
      // copy in the parameter's: one more pass over it, not LibTorch's eight.
      const torch::Tensor g = inLayoutOf(p.grad(), p);
      if (!g.defined())
        return false;
      auto found = states.find(key);
      if (found == states.end()) {
        auto fresh = std::make_unique<State>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        found = states.emplace(key, std::move(fresh)).first;
      }
      auto &state = static_cast<State &>(*found->second);
      // Moments in another layout (a checkpoint's, say) are copied into the parameter's once.
      const torch::Tensor m = inLayoutOf(state.exp_avg(), p), v = inLayoutOf(state.exp_avg_sq(), p);
      if (!m.defined() || !v.defined())
        return false;
      state.exp_avg(m);
      state.exp_avg_sq(v);
      pending.push_back({p, g, &state, &options});
      seen.push_back(p.unsafeGetTensorImpl());
    }
  }
  // A parameter listed twice is stepped twice in turn by LibTorch; not split over threads here.
  std::sort(seen.begin(), seen.end());
  if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
    return false;

  std::vector<Item> items;
  items.reserve(pending.size());
  for (const Pending &q : pending) {
    State &state = *q.state;
    const Options &o = *q.options;
    state.step(state.step() + 1);
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    const double correction1 = 1 - std::pow(beta1, state.step());
    const double correction2 = 1 - std::pow(beta2, state.step());
    Item s;
    const torch::Tensor &p = q.p, &g = q.g, &m = state.exp_avg(), &v = state.exp_avg_sq();
    s.w = p.data_ptr<float>();
    s.g = g.data_ptr<float>();
    s.m = m.data_ptr<float>();
    s.v = v.data_ptr<float>();
    s.n = p.numel();
    s.beta1 = static_cast<float>(beta1);
    s.oneMinusBeta1 = static_cast<float>(1 - beta1);
    s.beta2 = static_cast<float>(beta2);
    s.oneMinusBeta2 = static_cast<float>(1 - beta2);
    s.sqrtCorrection2 = static_cast<float>(std::sqrt(correction2));
    s.eps = static_cast<float>(o.eps());
    s.negStep = static_cast<float>(-(o.lr() / correction1));
    if (o.weight_decay() != 0) {
      s.decay = Decoupled ? Decay::Decoupled : Decay::L2;
      s.weightDecay = static_cast<float>(o.weight_decay());
      s.keep = static_cast<float>(1 - o.lr() * o.weight_decay());
    }
    items.push_back(s);
  }
  runAll(items);
  // As LibTorch's in-place operations do: autograd sees that these tensors changed.
  for (const Pending &q : pending) {
    torch::autograd::impl::bump_version(q.p);
    torch::autograd::impl::bump_version(q.state->exp_avg());
    torch::autograd::impl::bump_version(q.state->exp_avg_sq());
  }
  return true;
}

} // namespace
} // namespace fused_adam

torch::Tensor FusedAdam::step(LossClosure closure) {
  if (!closure && fused_adam::fusedStep<torch::optim::AdamOptions, torch::optim::AdamParamState, false>(*this, keys_)) {
    ++count_.fused;
    return {};
  }
  ++count_.fallback;
  return torch::optim::Adam::step(std::move(closure));
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  if (!closure &&
      fused_adam::fusedStep<torch::optim::AdamWOptions, torch::optim::AdamWParamState, true>(*this, keys_)) {
    ++count_.fused;
    return {};
  }
  ++count_.fallback;
  return torch::optim::AdamW::step(std::move(closure));
}

} // namespace particle
