#include "explain/Png.h"

#include "base/Json.h"

#include <algorithm>
#include <cmath>
#include <zlib.h>

namespace particle {

namespace {
Rgb mix(Rgb a, Rgb b, double t) {
  auto lerp = [&](uint8_t x, uint8_t y) { return static_cast<uint8_t>(std::lround(x + (y - x) * t)); };
  return {lerp(a.r, b.r), lerp(a.g, b.g), lerp(a.b, b.b)};
}

Rgb ramp(const std::vector<Rgb> &stops, double t) {
  t = std::clamp(t, 0.0, 1.0) * static_cast<double>(stops.size() - 1);
  const std::size_t i = std::min(stops.size() - 2, static_cast<std::size_t>(t));
  return mix(stops[i], stops[i + 1], t - static_cast<double>(i));
}

void put32(std::string &out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<char>((v >> s) & 0xff));
}

void chunk(std::string &out, const char *type, const std::string &data) {
  put32(out, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  put32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef *>(body.data()), body.size())));
}
} // namespace

Rgb sequentialColor(double t) {
  static const std::vector<Rgb> stops = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  return ramp(stops, t);
}

Rgb divergingColor(double t) {
  static const std::vector<Rgb> stops = {{33, 102, 172}, {247, 247, 247}, {178, 24, 43}};
  return ramp(stops, 0.5 * (t + 1));
}

void writePng(const std::string &path, int width, int height, const std::vector<Rgb> &pixels) {
  std::string raw;
  raw.reserve(static_cast<std::size_t>(height) * (1 + 3 * width));
  for (int y = 0; y < height; ++y) {
    raw.push_back(0); // filter: none
    for (int x = 0; x < width; ++x) {
      const Rgb &p = pixels[static_cast<std::size_t>(y) * width + x];
      raw.push_back(static_cast<char>(p.r));
      raw.push_back(static_cast<char>(p.g));
      raw.push_back(static_cast<char>(p.b));
    }
  }
  uLongf size = compressBound(raw.size());
  std::string packed(size, '\0');
  if (compress2(reinterpret_cast<Bytef *>(packed.data()), &size, reinterpret_cast<const Bytef *>(raw.data()),
                raw.size(), 6) != Z_OK)
    throw Error(ErrorKind::File, path + ": compression failed");
  packed.resize(size);
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string header;
  put32(header, static_cast<uint32_t>(width));
  put32(header, static_cast<uint32_t>(height));
  header += std::string("\x08\x02\x00\x00\x00", 5); // 8-bit RGB
  chunk(png, "IHDR", header);
  chunk(png, "IDAT", packed);
  chunk(png, "IEND", "");
  writeFileAtomically(path, png);
}

} // namespace particle
