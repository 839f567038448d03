// ChannelsLastPool: LibTorch 1.13's max_pool2d_with_indices was the largest single operation of
// the fashion-patches step (BENCHMARKS.md "Where a training step goes"): a general kernel that
// writes an 8-byte index per output and runs no faster in bfloat16. A 2×2 window of a
// channels-last tensor is four rows of C contiguous values; the loops below run over C, and the
// compiler vectorises them.

#include "nodes/ChannelsLastPool.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include <atomic>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <tuple>
#include <vector>

// at::parallel_for is LibTorch's OpenMP pragma, inlined here: compiled without OpenMP it runs every
// row on the calling thread, silently. engine/CMakeLists.txt gives this file OpenMP.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "ChannelsLastPool.cpp needs OpenMP (-fopenmp) to run on LibTorch's threads"
#endif

// GCC 12 warns that its own _mm512_undefined_epi32 (inside _mm512_cvtepu8_epi32 and others) "may be
// used uninitialized": a false positive of the intrinsics' headers, not of this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

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

// The gradient of the bias of the convolution before a pool (its output's gradient summed over N,
// H and W): each pool output's gradient lands on one input, or on none where the ReLU stopped it
// (argmax 4), so it is the sum of the outputs' gradients that pass, in the order of positions.
PARTICLE_POOL_CLONES void biasGradientF32(const float *__restrict gout, const uint8_t *__restrict arg,
                                          float *__restrict gb, int64_t positions, int64_t channels) {
  std::fill_n(gb, channels, 0.0f);
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t c = 0; c < channels; ++c)
      gb[c] += arg[p * channels + c] < 4 ? gout[p * channels + c] : 0.0f;
}

Geometry geometryOf(int64_t h, int64_t w, int64_t c) {
  return Geometry{h, w, c, h / 2, w / 2};
}

// Enough output rows per task that a task is worth a thread (LibTorch's grain, in values).
int64_t grainRows(const Geometry &g) {
  return std::max<int64_t>(1, at::internal::GRAIN_SIZE / std::max<int64_t>(1, g.ow * g.c));
}

// The pool (and its ReLU) of a channels-last float32 or bfloat16 x [N, C, H, W]: its output and
// the argmax of each output (0–3 in the window, 4 where the ReLU stopped it).
std::pair<torch::Tensor, torch::Tensor> poolForward(const torch::Tensor &x, bool relu) {
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
    at::parallel_for(0, n * g.oh, grainRows(g), [&](int64_t b, int64_t e) { forwardRowsF32(in, o, a, b, e, g, relu); });
  }
  return {out, arg};
}

// The gradient of the pool's input [N, C, h, w] from its output's (channels-last, either type) and
// the argmax poolForward kept.
torch::Tensor poolBackward(const torch::Tensor &gout, const torch::Tensor &arg, int64_t h, int64_t w) {
  const int64_t n = gout.size(0), c = gout.size(1);
  const Geometry g = geometryOf(h, w, c);
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
  return gin;
}

class MaxPool2x2 : public torch::autograd::Function<MaxPool2x2> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &x, bool relu) {
    auto [out, arg] = poolForward(x, relu);
    ctx->save_for_backward({arg});
    ctx->saved_data["h"] = x.size(2);
    ctx->saved_data["w"] = x.size(3);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor gout = grads[0].contiguous(at::MemoryFormat::ChannelsLast);
    return {
        poolBackward(gout, ctx->get_saved_variables()[0], ctx->saved_data["h"].toInt(), ctx->saved_data["w"].toInt()),
        torch::Tensor()};
  }
};

// The gradient of the bias from bfloat16 gradients, summed in float32 (the bias is a float32
// parameter), in the order of biasGradientF32. Written with AVX-512 where the CPU has it: GCC does not
// vectorise the widening in the loop below (5% of fashion-patches' bfloat16 step, perf).
void biasGradientBf16Plain(const uint16_t *gout, const uint8_t *arg, float *gb, int64_t positions, int64_t channels) {
  std::fill_n(gb, channels, 0.0f);
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t c = 0; c < channels; ++c)
      gb[c] += arg[p * channels + c] < 4 ? Bf16::load(gout[p * channels + c]) : 0.0f;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f,avx512bw,avx512vl"))) void
biasGradientBf16Avx512(const uint16_t *gout, const uint8_t *arg, float *gb, int64_t positions, int64_t channels) {
  for (int64_t c0 = 0; c0 < channels; c0 += 16) {
    const __mmask16 lanes = channels - c0 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (channels - c0)) - 1);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t p = 0; p < positions; ++p) {
      const int64_t i = p * channels + c0;
      const __m512i g = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, gout + i)), 16);
      const __m512i a = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(lanes, arg + i));
      const __mmask16 pass = _mm512_mask_cmplt_epu32_mask(lanes, a, _mm512_set1_epi32(4));
      acc = _mm512_mask_add_ps(acc, pass, acc, _mm512_castsi512_ps(g));
    }
    _mm512_mask_storeu_ps(gb + c0, lanes, acc);
  }
}
#endif

void biasGradientBf16(const uint16_t *gout, const uint8_t *arg, float *gb, int64_t positions, int64_t channels) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  if (avx512)
    return biasGradientBf16Avx512(gout, arg, gb, positions, channels);
#endif
  biasGradientBf16Plain(gout, arg, gb, positions, channels);
}

// A later ConvNet layer: LibTorch's convolution (oneDNN's), then the pool and its ReLU above, as one
// autograd function. Its backward hands the pool's gradient to oneDNN's convolution backward for the
// input and weight gradients only (LibTorch's, bit for bit) and sums the bias gradient itself
// (biasGradientF32): oneDNN's bias reduction ran as a scalar SSE loop here, about 2% of
// fashion-patches' step (perf, BENCHMARKS.md). With `bf16` (under bfloat16 autocast) the input, the
// weight and the bias are cast to bfloat16 first, as autocast casts a convolution's, and the
// gradients go back in the types that came in (the bias's summed in float32).
class ConvPoolLayer : public torch::autograd::Function<ConvPoolLayer> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &x,
                               const torch::Tensor &weight, const torch::Tensor &bias, bool bf16) {
    const int64_t pad = weight.size(2) / 2;
    const auto type = bf16 ? at::kBFloat16 : at::kFloat;
    const torch::Tensor xc = x.to(type), wc = weight.to(type), bc = bias.to(type);
    const torch::Tensor conv = at::convolution(xc, wc, bc, {1, 1}, {pad, pad}, {1, 1}, false, {0, 0}, 1)
                                   .contiguous(at::MemoryFormat::ChannelsLast);
    auto [out, arg] = poolForward(conv, true);
    ctx->save_for_backward({xc, wc, arg});
    ctx->saved_data["h"] = conv.size(2);
    ctx->saved_data["w"] = conv.size(3);
    ctx->saved_data["x_type"] = static_cast<int64_t>(x.scalar_type());
    ctx->saved_data["w_type"] = static_cast<int64_t>(weight.scalar_type());
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &arg = saved[2];
    const torch::Tensor gout = grads[0].to(x.scalar_type()).contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t n = gout.size(0), c = gout.size(1), pad = weight.size(2) / 2;
    const Geometry g = geometryOf(ctx->saved_data["h"].toInt(), ctx->saved_data["w"].toInt(), c);
    const torch::Tensor gin = poolBackward(gout, arg, g.h, g.w);
    const uint8_t *a = arg.data_ptr<uint8_t>();
    const bool bf16 = gout.scalar_type() == at::kBFloat16;
    torch::Tensor gb;
    if (ctx->needs_input_grad(2)) {
      gb = at::empty({c}, gout.options().dtype(at::kFloat));
      if (bf16)
        biasGradientBf16(reinterpret_cast<const uint16_t *>(gout.data_ptr<at::BFloat16>()), a, gb.data_ptr<float>(),
                         n * g.oh * g.ow, c);
      else
        biasGradientF32(gout.data_ptr<float>(), a, gb.data_ptr<float>(), n * g.oh * g.ow, c);
    }
    torch::Tensor gx, gw;
    if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1))
      std::tie(gx, gw, std::ignore) =
          at::convolution_backward(gin, x, weight, c10::nullopt, {1, 1}, {pad, pad}, {1, 1}, false, {0, 0}, 1,
                                   {ctx->needs_input_grad(0), ctx->needs_input_grad(1), false});
    if (gx.defined())
      gx = gx.to(static_cast<at::ScalarType>(ctx->saved_data["x_type"].toInt()));
    if (gw.defined())
      gw = gw.to(static_cast<at::ScalarType>(ctx->saved_data["w_type"].toInt()));
    return {gx, gw, gb, torch::Tensor()};
  }
};

// On unless a benchmark turns it off (setConvPoolLayerEnabled).
std::atomic<bool> layerEnabled{true};

} // namespace channels_last_pool

// ---------------------------------------------------------------------------------------------
// The first layer of a ConvNet: convolution (k × k, stride 1, same padding), ReLU and the 2×2 pool
// in one pass, for a float32 input with few channels that needs no gradient (a batch of images).
// oneDNN writes the whole convolution output (fashion-patches: 32 channels at 14 × 14 per patch,
// 32× the input) for the pool to read back, and its kernels are built for many input channels:
// with one, the layer is 2% of the step's FLOPs and took a fifth of its convolution time.

namespace conv_relu_pool {

struct Geometry {
  int64_t cin, h, w, k, pad, c, oh, ow;
  int64_t sn, sc, sh, sw; // the input's strides
  int64_t taps() const { return k * k * cin; }
  int64_t rowWidth() const { return (w + 2 * pad) * cin; } // a padded input row, channels innermost
};

// Input rows [top, top + count) of sample n, zero-padded to w + 2·pad columns, channels innermost.
void paddedRows(const float *x, int64_t n, int64_t top, int64_t count, const Geometry &g, float *out) {
  const int64_t width = g.rowWidth();
  for (int64_t r = 0; r < count; ++r) {
    float *row = out + r * width;
    const int64_t ih = top + r - g.pad;
    if (ih < 0 || ih >= g.h) {
      std::fill_n(row, width, 0.0f);
      continue;
    }
    std::fill_n(row, g.pad * g.cin, 0.0f);
    std::fill_n(row + (g.pad + g.w) * g.cin, g.pad * g.cin, 0.0f);
    const float *src = x + n * g.sn + ih * g.sh;
    float *dst = row + g.pad * g.cin;
    if (g.cin == 1 && g.sw == 1) { // a grey image's row (a patch of it: a view): one copy
      std::copy_n(src, g.w, dst);
      continue;
    }
    for (int64_t iw = 0; iw < g.w; ++iw)
      for (int64_t ci = 0; ci < g.cin; ++ci)
        dst[iw * g.cin + ci] = src[ci * g.sc + iw * g.sw];
  }
}

// Channels per block: one AVX-512 register of float32, the unit the loops below keep in registers
// (convReluPool2x2 takes its own kernel only for a multiple of it, on a CPU with AVX-512).
constexpr int64_t kLanes = kConvReluPoolChannelBlock;
static_assert(kLanes == 16, "one __m512 of float32");
// Taps whose weight gradients one backward pass keeps in registers: a 3 × 3 kernel's on one
// channel, three passes for RGB.
constexpr int64_t kTapBlock = 9;

// Each tap's offset in the padded rows, in (kh, kw, input channel) order.
std::vector<int64_t> tapOffsets(const Geometry &g) {
  std::vector<int64_t> out;
  for (int64_t kh = 0; kh < g.k; ++kh)
    for (int64_t kw = 0; kw < g.k; ++kw)
      for (int64_t ci = 0; ci < g.cin; ++ci)
        out.push_back(kh * g.rowWidth() + kw * g.cin + ci);
  return out;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define PARTICLE_AVX512 __attribute__((target("avx512f,avx512bw")))

// The window's four convolution outputs for `Blocks` blocks of channels from j0, into conv's four
// rows of C: each a chain of fused multiply-adds from zero over the taps, then the bias.
template <int Blocks>
PARTICLE_AVX512 inline __attribute__((always_inline)) void
convBlocks(const float *b0, const float *b1, const float *b2, const float *b3, const int64_t *offsets, const float *wt,
           const float *bias, int64_t taps, int64_t c, int64_t j0, float *conv) {
  __m512 a[Blocks][4];
  for (int k = 0; k < Blocks; ++k)
    for (int q = 0; q < 4; ++q)
      a[k][q] = _mm512_setzero_ps();
  for (int64_t t = 0; t < taps; ++t) {
    const int64_t o = offsets[t];
    const __m512 x0 = _mm512_set1_ps(b0[o]), x1 = _mm512_set1_ps(b1[o]), x2 = _mm512_set1_ps(b2[o]),
                 x3 = _mm512_set1_ps(b3[o]);
    for (int k = 0; k < Blocks; ++k) {
      const __m512 w = _mm512_loadu_ps(wt + t * c + j0 + k * kLanes);
      a[k][0] = _mm512_fmadd_ps(w, x0, a[k][0]);
      a[k][1] = _mm512_fmadd_ps(w, x1, a[k][1]);
      a[k][2] = _mm512_fmadd_ps(w, x2, a[k][2]);
      a[k][3] = _mm512_fmadd_ps(w, x3, a[k][3]);
    }
  }
  for (int k = 0; k < Blocks; ++k) {
    const __m512 b = _mm512_loadu_ps(bias + j0 + k * kLanes);
    for (int q = 0; q < 4; ++q)
      _mm512_storeu_ps(conv + q * c + j0 + k * kLanes, _mm512_add_ps(a[k][q], b));
  }
}

// Output rows [begin, end) of n · OH + oh. Each convolution output is computed as oneDNN's kernel
// computes it here — a chain of fused multiply-adds from zero over the taps in (kh, kw, input
// channel) order, then the bias: bit for bit LibTorch's conv2d on this machine (tst_model
// convReluPoolMatchesTorch) — the window's four in registers side by side; then the pool and its
// ReLU exactly as maxPool2x2 computes them (windowMax).
// With `out16` (under bfloat16 autocast) the pooled values are rounded to bfloat16 as `.to(kBFloat16)`
// rounds them (to nearest, ties to even) and written there instead of `out`.
PARTICLE_AVX512 void forwardRows(const float *x, const float *wt, const float *bias, float *out, uint16_t *out16,
                                 uint8_t *arg, int64_t begin, int64_t end, const Geometry &g) {
  const int64_t width = g.rowWidth(), taps = g.taps(), c = g.c;
  const std::vector<int64_t> offsets = tapOffsets(g);
  std::vector<float> rows(static_cast<size_t>((g.k + 1) * width)), conv(static_cast<size_t>(4 * c)),
      pooled(static_cast<size_t>(out16 ? c : 0));
  for (int64_t r = begin; r < end; ++r) {
    const int64_t n = r / g.oh, oh = r % g.oh;
    paddedRows(x, n, 2 * oh, g.k + 1, g, rows.data());
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      // The window's top left, top right, bottom left and bottom right, under tap 0.
      const float *b0 = rows.data() + 2 * ow * g.cin, *b1 = b0 + g.cin, *b2 = b0 + width, *b3 = b2 + g.cin;
      // Two blocks of channels at a time where there are (eight independent chains for the two
      // fused multiply-add units), then one.
      int64_t j0 = 0;
      for (; j0 + 2 * kLanes <= c; j0 += 2 * kLanes)
        convBlocks<2>(b0, b1, b2, b3, offsets.data(), wt, bias, taps, c, j0, conv.data());
      for (; j0 < c; j0 += kLanes)
        convBlocks<1>(b0, b1, b2, b3, offsets.data(), wt, bias, taps, c, j0, conv.data());
      const int64_t i = (r * g.ow + ow) * c;
      channels_last_pool::windowMax<channels_last_pool::F32, true>(conv.data(), conv.data() + c, conv.data() + 2 * c,
                                                                   conv.data() + 3 * c, out16 ? pooled.data() : out + i,
                                                                   arg + i, c);
      if (out16)
        for (int64_t j = 0; j < c; ++j)
          out16[i + j] = c10::detail::round_to_nearest_even(pooled[static_cast<size_t>(j)]);
    }
  }
}

// The weight and bias gradients of samples [begin, end) into `gw` [taps][C] and `gb` [C]: at each
// window's four positions the output's gradient where the argmax points and zero at the others (as
// the pool's backward hands it to the convolution), times the input under each tap, summed over
// the samples, rows, columns and positions in that order, a block of channels and of taps at a time
// in registers.
PARTICLE_AVX512 void backwardSamples(const float *x, const float *gout, const uint8_t *arg, float *gw, float *gb,
                                     int64_t begin, int64_t end, const Geometry &g) {
  const int64_t width = g.rowWidth(), taps = g.taps(), c = g.c, height = g.h + 2 * g.pad;
  const std::vector<int64_t> offsets = tapOffsets(g);
  // The samples' padded inputs, each `height` rows.
  std::vector<float> padded(static_cast<size_t>((end - begin) * height * width));
  for (int64_t n = begin; n < end; ++n)
    paddedRows(x, n, 0, height, g, padded.data() + (n - begin) * height * width);
  for (int64_t j0 = 0; j0 < c; j0 += kLanes)
    for (int64_t t0 = 0; t0 < taps; t0 += kTapBlock) {
      // The taps of this block (a short last block repeats tap t0: computed, not kept).
      int64_t off[kTapBlock];
      for (int64_t tt = 0; tt < kTapBlock; ++tt)
        off[tt] = offsets[static_cast<size_t>(t0 + tt < taps ? t0 + tt : t0)];
      __m512 acc[kTapBlock], bacc = _mm512_setzero_ps();
      for (__m512 &a : acc)
        a = _mm512_setzero_ps();
      for (int64_t n = begin; n < end; ++n)
        for (int64_t oh = 0; oh < g.oh; ++oh)
          for (int64_t ow = 0; ow < g.ow; ++ow) {
            const int64_t i = ((n * g.oh + oh) * g.ow + ow) * c + j0;
            const __m512 gv = _mm512_loadu_ps(gout + i);
            const __m512i av = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(arg + i)));
            const float *top = padded.data() + ((n - begin) * height + 2 * oh) * width + 2 * ow * g.cin;
            for (int q = 0; q < 4; ++q) {
              const float *under = top + (q / 2) * width + (q % 2) * g.cin;
              const __m512 d = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(av, _mm512_set1_epi32(q)), gv);
              bacc = _mm512_add_ps(bacc, d);
              for (int64_t tt = 0; tt < kTapBlock; ++tt)
                acc[tt] = _mm512_fmadd_ps(d, _mm512_set1_ps(under[off[tt]]), acc[tt]);
            }
          }
      for (int64_t tt = 0; tt < kTapBlock && t0 + tt < taps; ++tt)
        _mm512_storeu_ps(gw + (t0 + tt) * c + j0, acc[tt]);
      if (t0 == 0)
        _mm512_storeu_ps(gb + j0, bacc);
    }
}

bool available() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}
#undef PARTICLE_AVX512
#else
void forwardRows(const float *, const float *, const float *, float *, uint16_t *, uint8_t *, int64_t, int64_t,
                 const Geometry &) {}
void backwardSamples(const float *, const float *, const uint8_t *, float *, float *, int64_t, int64_t,
                     const Geometry &) {}
bool available() {
  return false;
}
#endif

// The samples a backward task sums before its partial sums are added, in task order: fixed, so the
// gradients do not depend on the number of threads.
constexpr int64_t kSamplesPerChunk = 8;

// On unless a benchmark turns it off (setConvReluPoolEnabled).
std::atomic<bool> enabled{true};

Geometry geometryOf(const torch::Tensor &x, const torch::Tensor &weight) {
  Geometry g{};
  g.cin = x.size(1);
  g.h = x.size(2);
  g.w = x.size(3);
  g.k = weight.size(2);
  g.pad = g.k / 2;
  g.c = weight.size(0);
  g.oh = g.h / 2;
  g.ow = g.w / 2;
  g.sn = x.stride(0);
  g.sc = x.stride(1);
  g.sh = x.stride(2);
  g.sw = x.stride(3);
  return g;
}

// `bf16Out`: the layer under bfloat16 autocast. It is computed in float32 as outside autocast (2% of
// fashion-patches' FLOPs: more accurate than LibTorch's bfloat16 convolution and not slower) and
// only its output is bfloat16, the type the next layer's bfloat16 convolution takes; the gradient
// that comes back in bfloat16 is widened to float32 for the float32 backward.
class ConvReluPool : public torch::autograd::Function<ConvReluPool> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &x,
                               const torch::Tensor &weight, const torch::Tensor &bias, bool bf16Out) {
    const Geometry g = geometryOf(x, weight);
    // The weights as [taps][C] in (kh, kw, input channel) order: small, made per call.
    const torch::Tensor wt = weight.permute({2, 3, 1, 0}).reshape({g.taps(), g.c}).contiguous();
    const torch::Tensor b = bias.contiguous();
    const int64_t n = x.size(0);
    auto out = at::empty({n, g.c, g.oh, g.ow}, x.options().dtype(bf16Out ? at::kBFloat16 : at::kFloat),
                         at::MemoryFormat::ChannelsLast);
    auto arg = at::empty({n * g.oh * g.ow * g.c}, x.options().dtype(at::kByte));
    uint8_t *a = arg.data_ptr<uint8_t>();
    const float *in = x.data_ptr<float>(), *w = wt.data_ptr<float>(), *bp = b.data_ptr<float>();
    float *o = bf16Out ? nullptr : out.data_ptr<float>();
    uint16_t *o16 = bf16Out ? reinterpret_cast<uint16_t *>(out.data_ptr<at::BFloat16>()) : nullptr;
    const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / std::max<int64_t>(1, g.ow * g.c * g.taps()));
    at::parallel_for(0, n * g.oh, grain, [&](int64_t s, int64_t e) { forwardRows(in, w, bp, o, o16, a, s, e, g); });
    ctx->save_for_backward({x, arg, weight});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &arg = saved[1], &weight = saved[2];
    const Geometry g = geometryOf(x, weight);
    const torch::Tensor gout = grads[0].to(at::kFloat).contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t n = x.size(0), chunks = (n + kSamplesPerChunk - 1) / kSamplesPerChunk;
    const int64_t per = g.taps() * g.c + g.c;             // one chunk's partial sums: weights, then bias
    auto partial = at::empty({chunks, per}, x.options()); // every value written
    float *p = partial.data_ptr<float>();
    const float *in = x.data_ptr<float>(), *go = gout.data_ptr<float>();
    const uint8_t *a = arg.data_ptr<uint8_t>();
    at::parallel_for(0, chunks, 1, [&](int64_t s, int64_t e) {
      for (int64_t k = s; k < e; ++k) {
        const int64_t first = k * kSamplesPerChunk, last = std::min(n, first + kSamplesPerChunk);
        backwardSamples(in, go, a, p + k * per, p + k * per + g.taps() * g.c, first, last, g);
      }
    });
    // The chunks' sums in chunk order, then back to the weight's shape [C, Cin, k, k].
    auto total = at::empty({per}, partial.options());
    float *sum = total.data_ptr<float>();
    std::copy_n(p, per, sum);
    for (int64_t k = 1; k < chunks; ++k)
      for (int64_t i = 0; i < per; ++i)
        sum[i] += p[k * per + i];
    const torch::Tensor gw = total.narrow(0, 0, g.taps() * g.c)
                                 .view({g.k, g.k, g.cin, g.c})
                                 .permute({3, 2, 0, 1})
                                 .contiguous(weight.suggest_memory_format());
    return {torch::Tensor(), gw, total.narrow(0, g.taps() * g.c, g.c), torch::Tensor()};
  }
};

} // namespace conv_relu_pool

torch::Tensor maxPool2x2(const torch::Tensor &x, bool relu) {
  const bool fits = x.dim() == 4 && x.device().is_cpu() &&
                    (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) &&
                    x.is_contiguous(at::MemoryFormat::ChannelsLast) && x.size(0) > 0 && x.size(1) > 0 &&
                    x.size(2) >= 2 && x.size(3) >= 2;
  if (!fits)
    return relu ? torch::max_pool2d(x, 2).relu_() : torch::max_pool2d(x, 2);
  return channels_last_pool::MaxPool2x2::apply(x, relu);
}

void setConvReluPoolEnabled(bool on) {
  conv_relu_pool::enabled = on;
}

torch::Tensor convReluPool2x2(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias) {
  const int64_t k = weight.dim() == 4 ? weight.size(2) : 0;
  // Under bfloat16 autocast the kernels below give a bfloat16 output; under any other autocast
  // (float16) LibTorch's ops, which autocast casts.
  const bool autocast = at::autocast::is_cpu_enabled();
  const bool bf16 = autocast && at::autocast::get_autocast_cpu_dtype() == at::kBFloat16;
  const bool shapes = x.dim() == 4 && weight.dim() == 4 && bias.defined() && x.device().is_cpu() &&
                      weight.device().is_cpu() && bias.device().is_cpu() && weight.scalar_type() == at::kFloat &&
                      bias.scalar_type() == at::kFloat && k % 2 == 1 && weight.size(3) == k &&
                      weight.size(1) == x.size(1) && x.size(0) > 0 && x.size(2) >= 2 && x.size(3) >= 2 &&
                      (!autocast || bf16);
  const bool fits = conv_relu_pool::enabled && shapes && x.scalar_type() == at::kFloat &&
                    !(torch::GradMode::is_enabled() && x.requires_grad()) &&
                    weight.size(1) * k * k <= kConvReluPoolTaps && weight.size(0) % kConvReluPoolChannelBlock == 0 &&
                    conv_relu_pool::available();
  if (fits)
    return conv_relu_pool::ConvReluPool::apply(x, weight, bias, bf16);
  // A later layer: the convolution and the pool as one function (ConvPoolLayer); a bfloat16 input
  // only under bfloat16 autocast (the previous layer's output there).
  const bool layer = channels_last_pool::layerEnabled && shapes &&
                     (x.scalar_type() == at::kFloat || (bf16 && x.scalar_type() == at::kBFloat16));
  if (layer)
    return channels_last_pool::ConvPoolLayer::apply(x, weight, bias, bf16);
  return maxPool2x2(torch::conv2d(x, weight, bias, 1, k / 2), true);
}

void setConvPoolLayerEnabled(bool on) {
  channels_last_pool::layerEnabled = on;
}

} // namespace particle::nodes

#undef PARTICLE_POOL_CLONES
