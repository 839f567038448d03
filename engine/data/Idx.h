#pragma once
// IDX files (the MNIST family's format), gz-compressed or raw: header and unsigned-byte payload.
// Torch-free; used by the fashion-mnist and idx data kinds.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace particle {

struct IdxData {
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
};

// Dimensions from the header; throws Error(File) naming the file.
std::vector<int64_t> readIdxDims(const std::string &path);
// Header and payload. The payload is read in pieces, so a header that promises more than the file
// holds is refused without allocating what it promised. Throws Error(File) naming the file.
// `stop`, when given, is checked between pieces: once set, reading ends early with an empty payload
// (the caller, which set it, throws its own cancellation).
IdxData readIdx(const std::string &path, const std::atomic<bool> *stop = nullptr);

} // namespace particle
