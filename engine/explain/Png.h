#pragma once
// Minimal PNG writer (8-bit RGB, zlib) and a perceptual colour map, for the CLI's heat maps.

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

// Renders a rows × cols matrix of values as cells of `cell` pixels. `signedValues` picks the
// diverging map (scaled by max |v|), else the sequential one (scaled by max v).
void writeHeatmapPng(const std::string &path, const std::vector<std::vector<double>> &values, int cell,
                     bool signedValues);

} // namespace particle
