// ChannelsLastPool: LibTorch 1.13's max_pool2d_with_indices was the largest single operation of
// the fashion-patches step (BENCHMARKS.md "Where a training step goes"): a general kernel that
// writes an 8-byte index per output and runs no faster in bfloat16. A 2×2 window of a
// channels-last tensor is four rows of C contiguous values; the loops below run over C, and the
// compiler vectorises them.

#include "nodes/ChannelsLastPool.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <cstring>

// at::parallel_for is LibTorch's OpenMP pragma, inlined here: compiled without OpenMP it runs every
// row on the calling thread, silently. engine/CMakeLists.txt gives this file OpenMP.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "ChannelsLastPool.cpp needs OpenMP (-fopenmp) to run on LibTorch's threads"
#endif

namespace particle::nodes {

namespace channels_last_pool {

// The build targets plain x86-64; the row loops are also compiled for AVX2 and AVX-512 and chosen
// by the processor when the library loads, where the vectorised channel loops pay most.
#if defined(__x86_64__) && defined(__GNUC__)
#define PARTICLE_POOL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PARTICLE_POOL_CLONES
#endif

// bfloat16 is the top half of a float32: compared as float32 (exact), stored back as its top half.
struct Bf16 {
  using Raw = uint16_t;
  static float load(uint16_t v) {
    const uint32_t bits = static_cast<uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  static uint16_t store(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return static_cast<uint16_t>(bits >> 16);
  }
};

struct F32 {
  using Raw = float;
  static float load(float v) { return v; }
  static float store(float f) { return f; }
};

struct Geometry {
  int64_t h, w, c, oh, ow;
};

// One window position across the channels: each output the maximum of its window, scanned in
// LibTorch's order (top left, top right, bottom left, bottom right) with its rule: a value
// replaces the maximum when greater or NaN, so the first of equals and the last NaN win. The
// pointers are parameters so that `__restrict` tells the vectoriser they do not overlap.
template <typename T, bool Relu>
inline __attribute__((always_inline)) void
windowMax(const typename T::Raw *__restrict p0, const typename T::Raw *__restrict p1,
          const typename T::Raw *__restrict p2, const typename T::Raw *__restrict p3, typename T::Raw *__restrict out,
          uint8_t *__restrict arg, int64_t channels) {
  for (int64_t c = 0; c < channels; ++c) {
    float m = T::load(p0[c]);
    uint8_t k = 0;
    const float v1 = T::load(p1[c]), v2 = T::load(p2[c]), v3 = T::load(p3[c]);
    if (v1 > m || v1 != v1) {
      m = v1;
      k = 1;
    }
    if (v2 > m || v2 != v2) {
      m = v2;
      k = 2;
    }
    if (v3 > m || v3 != v3) {
      m = v3;
      k = 3;
    }
    if (Relu) {
      // The ReLU that follows: zero where the maximum is ≤ 0, and no gradient there (argmax 4),
      // as LibTorch's ReLU backward (threshold_backward) stops it only where its output is ≤ 0:
      // a NaN stays NaN and passes its gradient.
      const bool kept = !(m <= 0);
      m = kept ? m : 0.0f;
      k = kept ? k : uint8_t(4);
    }
    out[c] = T::store(m);
    arg[c] = k;
  }
}

// Rows [begin, end) of the output (n · OH + oh).
template <typename T, bool Relu>
inline __attribute__((always_inline)) void forwardRowsOf(const typename T::Raw *in, typename T::Raw *out, uint8_t *arg,
                                                         int64_t begin, int64_t end, Geometry g) {
  for (int64_t r = begin; r < end; ++r) {
    const int64_t n = r / g.oh, oh = r % g.oh;
    const auto *top = in + ((n * g.h + 2 * oh) * g.w) * g.c;
    const auto *bottom = top + g.w * g.c;
    for (int64_t ow = 0, i = r * g.ow * g.c; ow < g.ow; ++ow, i += g.c)
      windowMax<T, Relu>(top + 2 * ow * g.c, top + (2 * ow + 1) * g.c, bottom + 2 * ow * g.c,
                         bottom + (2 * ow + 1) * g.c, out + i, arg + i, g.c);
  }
}

// One window position's gradient across the channels: its four values written, the output's
// gradient where the argmax points and zero elsewhere.
template <typename Raw>
inline __attribute__((always_inline)) void windowGradient(const Raw *__restrict gout, const uint8_t *__restrict arg,
                                                          Raw *__restrict q0, Raw *__restrict q1, Raw *__restrict q2,
                                                          Raw *__restrict q3, int64_t channels) {
  const Raw zero{};
  for (int64_t c = 0; c < channels; ++c) {
    const Raw v = gout[c];
    const uint8_t k = arg[c];
    q0[c] = k == 0 ? v : zero;
    q1[c] = k == 1 ? v : zero;
    q2[c] = k == 2 ? v : zero;
    q3[c] = k == 3 ? v : zero;
  }
}

// The gradient of the input rows under output rows [begin, end), the odd last column and row,
// which no window reads, zeroed: every value written once, with no pass that clears it all first.
template <typename T>
inline __attribute__((always_inline)) void backwardRowsOf(const typename T::Raw *gout, const uint8_t *arg,
                                                          typename T::Raw *gin, int64_t begin, int64_t end,
                                                          Geometry g) {
  using Raw = typename T::Raw;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t n = r / g.oh, oh = r % g.oh;
    Raw *top = gin + ((n * g.h + 2 * oh) * g.w) * g.c;
    Raw *bottom = top + g.w * g.c;
    for (int64_t ow = 0, i = r * g.ow * g.c; ow < g.ow; ++ow, i += g.c)
      windowGradient<Raw>(gout + i, arg + i, top + 2 * ow * g.c, top + (2 * ow + 1) * g.c, bottom + 2 * ow * g.c,
                          bottom + (2 * ow + 1) * g.c, g.c);
    if (g.w % 2) {
      std::fill_n(top + (g.w - 1) * g.c, g.c, Raw{});
      std::fill_n(bottom + (g.w - 1) * g.c, g.c, Raw{});
    }
    if (g.h % 2 && oh == g.oh - 1)
      std::fill_n(bottom + g.w * g.c, g.w * g.c, Raw{});
  }
}

PARTICLE_POOL_CLONES void forwardRowsF32(const float *in, float *out, uint8_t *arg, int64_t begin, int64_t end,
                                         Geometry g, bool relu) {
  if (relu)
    forwardRowsOf<F32, true>(in, out, arg, begin, end, g);
  else
    forwardRowsOf<F32, false>(in, out, arg, begin, end, g);
}
PARTICLE_POOL_CLONES void forwardRowsBf16(const uint16_t *in, uint16_t *out, uint8_t *arg, int64_t begin, int64_t end,
                                          Geometry g, bool relu) {
  if (relu)
    forwardRowsOf<Bf16, true>(in, out, arg, begin, end, g);
  else
    forwardRowsOf<Bf16, false>(in, out, arg, begin, end, g);
}
PARTICLE_POOL_CLONES void backwardRowsF32(const float *gout, const uint8_t *arg, float *gin, int64_t begin, int64_t end,
                                          Geometry g) {
  backwardRowsOf<F32>(gout, arg, gin, begin, end, g);
}
PARTICLE_POOL_CLONES void backwardRowsBf16(const uint16_t *gout, const uint8_t *arg, uint16_t *gin, int64_t begin,
                                           int64_t end, Geometry g) {
  backwardRowsOf<Bf16>(gout, arg, gin, begin, end, g);
}

#undef PARTICLE_POOL_CLONES

Geometry geometryOf(int64_t h, int64_t w, int64_t c) {
  return Geometry{h, w, c, h / 2, w / 2};
}

// Enough output rows per task that a task is worth a thread (LibTorch's grain, in values).
int64_t grainRows(const Geometry &g) {
  return std::max<int64_t>(1, at::internal::GRAIN_SIZE / std::max<int64_t>(1, g.ow * g.c));
}

class MaxPool2x2 : public torch::autograd::Function<MaxPool2x2> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &x, bool relu) {
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const Geometry g = geometryOf(h, w, c);
    auto out = at::empty({n, c, g.oh, g.ow}, x.options(), at::MemoryFormat::ChannelsLast);
    auto arg = at::empty({n * g.oh * g.ow * c}, x.options().dtype(at::kByte));
    uint8_t *a = arg.data_ptr<uint8_t>();
    if (x.scalar_type() == at::kBFloat16) {
      const auto *in = reinterpret_cast<const uint16_t *>(x.data_ptr<at::BFloat16>());
      auto *o = reinterpret_cast<uint16_t *>(out.data_ptr<at::BFloat16>());
      at::parallel_for(0, n * g.oh, grainRows(g),
                       [&](int64_t b, int64_t e) { forwardRowsBf16(in, o, a, b, e, g, relu); });
    } else {
      const float *in = x.data_ptr<float>();
      float *o = out.data_ptr<float>();
      at::parallel_for(0, n * g.oh, grainRows(g),
                       [&](int64_t b, int64_t e) { forwardRowsF32(in, o, a, b, e, g, relu); });
    }
    ctx->save_for_backward({arg});
    ctx->saved_data["h"] = h;
    ctx->saved_data["w"] = w;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor arg = ctx->get_saved_variables()[0];
    const torch::Tensor gout = grads[0].contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t n = gout.size(0), c = gout.size(1);
    const Geometry g = geometryOf(ctx->saved_data["h"].toInt(), ctx->saved_data["w"].toInt(), c);
    auto gin = at::empty({n, c, g.h, g.w}, gout.options(), at::MemoryFormat::ChannelsLast);
    const uint8_t *a = arg.data_ptr<uint8_t>();
    if (gout.scalar_type() == at::kBFloat16) {
      const auto *go = reinterpret_cast<const uint16_t *>(gout.data_ptr<at::BFloat16>());
      auto *gi = reinterpret_cast<uint16_t *>(gin.data_ptr<at::BFloat16>());
      at::parallel_for(0, n * g.oh, grainRows(g), [&](int64_t b, int64_t e) { backwardRowsBf16(go, a, gi, b, e, g); });
    } else {
      const float *go = gout.data_ptr<float>();
      float *gi = gin.data_ptr<float>();
      at::parallel_for(0, n * g.oh, grainRows(g), [&](int64_t b, int64_t e) { backwardRowsF32(go, a, gi, b, e, g); });
    }
    return {gin, torch::Tensor()};
  }
};

} // namespace channels_last_pool

torch::Tensor maxPool2x2(const torch::Tensor &x, bool relu) {
  const bool fits = x.dim() == 4 && x.device().is_cpu() &&
                    (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) &&
                    x.is_contiguous(at::MemoryFormat::ChannelsLast) && x.size(0) > 0 && x.size(1) > 0 &&
                    x.size(2) >= 2 && x.size(3) >= 2;
  if (!fits)
    return relu ? torch::max_pool2d(x, 2).relu_() : torch::max_pool2d(x, 2);
  return channels_last_pool::MaxPool2x2::apply(x, relu);
}

} // namespace particle::nodes
