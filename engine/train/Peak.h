#pragma once
// The machine's measured matmul peak, the figure a run's achieved GFLOP/s is a fraction of
// (`particle info`, summary.json's `peak_gflops`, the Train tab). Measured once per CPU model,
// thread count, precision and LibTorch version, and kept in the user's cache folder; measured
// again when a run comes near it or above it, the cache keeping the highest figure.

#include <map>
#include <string>

namespace particle {

struct PeakFigure {
  double gflops = 0;       // 0: unknown (not cached and not measured) or unsupported
  bool cached = false;     // the cache's figure, not the one measured now
  double measured = 0;     // measured now (0: not measured); below `gflops` when the cache's was higher
  std::string unsupported; // why `precision` cannot run here (precisionUnsupported), else empty
  std::string route; // the product `gflops` came from: "mm" (torch::mm) or "oneDNN" (mkldnn_linear); empty if unknown
  std::map<std::string, double> routes; // measured now: each route's GFLOP/s (the peak is the highest)
};

// The machine's measured matmul peak in GFLOP/s for `precision` at `threads` (0: all cores), the
// faster of LibTorch's matmul routes (its BLAS through torch::mm, and oneDNN):
// read from the cache ($XDG_CACHE_HOME or ~/.cache, particle-studio/peak.json, keyed by CPU
// model, threads, precision and LibTorch version); measured (0.8 s per route) and cached when
// `measure` is true and it is missing. 0 when unknown or unsupported.
double matmulPeakGflops(const std::string &precision, int threads, bool measure);
// The same, saying where the figure came from.
PeakFigure matmulPeak(const std::string &precision, int threads, bool measure);
// Measures the peak now, cached or not, and keeps the higher of this measurement and the cache's:
// a peak is a maximum, and a measurement on a busy machine only ever comes out low.
PeakFigure remeasureMatmulPeak(const std::string &precision, int threads);

// Whether a run that achieved `achievedGflops` calls for measuring the peak after it: none is
// cached (`peakGflops` 0), or the run came within 10% of the cached one or above it, the sign of a
// peak measured while the machine was busy (its fraction would read near or above 100%).
bool peakWantsMeasuring(double achievedGflops, double peakGflops);

// The cache file: $XDG_CACHE_HOME (or ~/.cache)/particle-studio/peak.json; empty without either.
std::string peakCachePath();

} // namespace particle
