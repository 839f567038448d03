#include "train/Augment.h"

#include "base/Error.h"
#include "graph/Shape.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>

namespace particle {

at::Generator augmentGenerator(uint64_t seed, int epoch, int64_t rank) {
  // Apart from the epoch's shuffle (seed · 1000003 + epoch + 1): another odd multiplier and offset.
  const uint64_t s = seed * 2654435761ull + static_cast<uint64_t>(epoch) * 40503ull + 0x5a17ull +
                     static_cast<uint64_t>(rank) * 7919ull;
  return at::detail::createCPUGenerator(s);
}

namespace {

// [B] → a mask [B, L] of the positions in [start, start + width) of each row.
torch::Tensor spans(const torch::Tensor &start, const torch::Tensor &width, int64_t length) {
  const auto at = torch::arange(length, torch::kLong).unsqueeze(0);
  return at.ge(start.unsqueeze(1)).logical_and(at.lt((start + width).unsqueeze(1)));
}

// `count` masks of up to `maxWidth` positions along an axis of `length`: each sample's mask [B, length].
torch::Tensor drawMasks(int count, int64_t maxWidth, int64_t length, int64_t batch, at::Generator &gen) {
  auto masked = torch::zeros({batch, length}, torch::kBool);
  const int64_t most = std::min(maxWidth, length);
  for (int i = 0; i < count; ++i) {
    const auto width = torch::randint(0, most + 1, {batch}, gen, torch::kLong);
    // A start drawn uniformly among the places a mask of that width fits.
    const auto start = torch::rand({batch}, gen).mul((length - width + 1).to(torch::kFloat)).floor().to(torch::kLong);
    masked.logical_or_(spans(start, width, length));
  }
  return masked;
}

} // namespace

torch::Tensor augmentBatch(const torch::Tensor &x, const AugmentSpec &spec, at::Generator &gen) {
  if (!spec.on())
    return x;
  if (x.dim() != 4) {
    const std::string key = spec.firstKey();
    std::vector<int64_t> sample(x.sizes().begin() + std::min<int64_t>(1, x.dim()), x.sizes().end());
    throw Error(ErrorKind::Invalid, "training." + key +
                                        ": augmentation needs samples shaped [C, H, W] (a spectrogram or an "
                                        "image); this data set's are " +
                                        shapeToString(sample));
  }
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  // Checked with the project (ProjectCheck); here for a caller that did not check it.
  if (const std::string wide = spec.widthProblem({c, h, w}); !wide.empty())
    throw Error(ErrorKind::Invalid, wide);
  const auto device = x.device();
  torch::Tensor out = x;
  if (spec.freqWarp > 0) {
    // Row r of the result reads row r / f of the sample (linearly interpolated, the last row beyond
    // it), f drawn in [1 − warp, 1 + warp]: row 0 stays, the rest stretch (f > 1) or squeeze.
    const auto f = torch::rand({b}, gen).mul(2).sub(1).mul(spec.freqWarp).add(1);
    const auto rows = torch::arange(h, torch::kFloat).unsqueeze(0).div(f.unsqueeze(1)); // [B, H]
    const auto lo = rows.floor().clamp(0, static_cast<double>(h - 1));
    const auto frac = rows.sub(lo).clamp(0, 1).view({b, 1, h, 1}).to(device, x.scalar_type());
    const auto loIdx = lo.to(torch::kLong), hiIdx = (loIdx + 1).clamp_max(h - 1);
    const auto below = out.gather(2, loIdx.view({b, 1, h, 1}).to(device).expand({b, c, h, w}));
    const auto above = out.gather(2, hiIdx.view({b, 1, h, 1}).to(device).expand({b, c, h, w}));
    out = below + (above - below) * frac;
  }
  if (spec.timeShift > 0) {
    // Column t of the result is column t − s of the sample, wrapping around: s in [−shift, shift].
    const int64_t most = spec.timeShift;
    const auto s = torch::randint(-most, most + 1, {b}, gen, torch::kLong);
    const auto cols = torch::arange(w, torch::kLong).unsqueeze(0).sub(s.unsqueeze(1)).remainder(w); // [B, W]
    out = out.gather(3, cols.view({b, 1, 1, w}).to(device).expand({b, c, h, w}));
  }
  if (spec.timeMasks > 0) {
    const auto m = drawMasks(spec.timeMasks, spec.timeMaskWidth, w, b, gen);
    out = out.masked_fill(m.view({b, 1, 1, w}).to(device), 0.0);
  }
  if (spec.freqMasks > 0) {
    const auto m = drawMasks(spec.freqMasks, spec.freqMaskWidth, h, b, gen);
    out = out.masked_fill(m.view({b, 1, h, 1}).to(device), 0.0);
  }
  return out;
}

} // namespace particle
