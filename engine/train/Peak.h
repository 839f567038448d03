#pragma once
// The machine's measured matmul peak, the figure a run's achieved GFLOP/s is a fraction of
// (`particle info`, summary.json's `peak_gflops`, the Train tab). Measured once per CPU model,
// thread count, precision and LibTorch version, and kept in the user's cache folder.

#include <string>

namespace particle {

struct PeakFigure {
  double gflops = 0;       // 0: unknown (not cached and not measured) or unsupported
  bool cached = false;     // read from the cache, not measured now
  std::string unsupported; // why `precision` cannot run here (precisionUnsupported), else empty
};

// The machine's measured matmul peak in GFLOP/s for `precision` at `threads` (0: all cores):
// read from the cache ($XDG_CACHE_HOME or ~/.cache, particle-studio/peak.json, keyed by CPU
// model, threads, precision and LibTorch version); measured (about a second) and cached when
// `measure` is true and it is missing. 0 when unknown or unsupported.
double matmulPeakGflops(const std::string &precision, int threads, bool measure);
// The same, saying where the figure came from.
PeakFigure matmulPeak(const std::string &precision, int threads, bool measure);

// The cache file: $XDG_CACHE_HOME (or ~/.cache)/particle-studio/peak.json; empty without either.
std::string peakCachePath();

} // namespace particle
