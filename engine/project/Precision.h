#pragma once
// Where each training precision (training.precision: fp32, bf16, fp16) can run. Torch-free, so
// that `particle check`, the Train tab and the trainer give one answer with the same words.

#include <string>

namespace particle {

// What the processor offers for bfloat16: AVX512_BF16 (dot products of bf16 pairs) or AMX (tile
// matrix multiplies). Only features the operating system has enabled count: a flag the kernel
// keeps off is of no use to oneDNN.
struct CpuFeatures {
  std::string model; // the brand string, e.g. "Intel(R) Xeon(R) Processor"; empty when unknown
  bool avx512f = false, avx512bf16 = false, amxbf16 = false;
};

// This machine's (cpuid), computed once.
CpuFeatures cpuFeatures();

// Empty when `precision` can train on a device of type `deviceType` ("cpu" | "cuda"); else the
// reason, naming what is missing, e.g. "bf16 on the CPU needs AVX512_BF16 or AMX; this CPU (Intel
// Xeon …) has neither". `cudaCapability` is the CUDA device's compute capability as major × 10 +
// minor (80 for 8.0), 0 when not known yet (the trainer checks again once it holds the device).
std::string precisionUnsupported(const std::string &precision, const std::string &deviceType,
                                 const CpuFeatures &cpu = cpuFeatures(), int cudaCapability = 0);

} // namespace particle
