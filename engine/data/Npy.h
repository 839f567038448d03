#pragma once
// NumPy's .npy arrays (format versions 1–3) and .npz archives of them (stored or deflated, ZIP64
// sizes as NumPy writes them), for the kind "npy". Torch-free. Every read is bounds-checked: a
// damaged file is an Error(File) naming it and what is wrong, never a crash (tst_data fuzzes it).

#include <cstdint>
#include <string>
#include <vector>

namespace particle {

struct NpyArray {
  std::vector<int64_t> shape;
  char kind = 'f';           // 'f' float, 'i' signed, 'u' unsigned, 'b' bool
  int itemSize = 4;          // bytes per element
  std::vector<uint8_t> data; // C order, little-endian (big-endian files are swapped on reading)

  int64_t count() const;
  // Element i as a double.
  double at(int64_t i) const;
  std::string dtype() const; // e.g. "float32", "uint8"
};

// Parses .npy bytes; `name` is what messages call the data ("x.npy", "data.npz: x.npy").
NpyArray parseNpy(const std::vector<uint8_t> &bytes, const std::string &name);

// Reads one .npy file.
NpyArray readNpy(const std::string &path);

// The names of the arrays in an .npz archive ("x" for the member "x.npy"), in archive order.
std::vector<std::string> npzArrayNames(const std::string &path);

// Reads array `array` ("x") from an .npz archive.
NpyArray readNpz(const std::string &path, const std::string &array);

// For the fuzz test: reads `array` from .npz bytes held in memory.
NpyArray parseNpz(const std::vector<uint8_t> &bytes, const std::string &path, const std::string &array);

} // namespace particle
