#pragma once
// Minimal PNG writer (8-bit RGB, zlib) and the colour maps of heat maps (explain/Chart.h draws them).

#include <cstdint>
#include <string>
#include <vector>

namespace particle {

struct Rgb {
  uint8_t r, g, b;
};

// Sequential map for magnitudes in [0, 1] (dark blue → teal → yellow).
Rgb sequentialColor(double t);
// Diverging map for signed values in [-1, 1] (blue → white → red).
Rgb divergingColor(double t);

// Writes `pixels` (row-major, width × height) as a PNG; throws Error(File).
void writePng(const std::string &path, int width, int height, const std::vector<Rgb> &pixels);

} // namespace particle
