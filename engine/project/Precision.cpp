#include "project/Precision.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace particle {

namespace {

#if defined(__x86_64__) || defined(__i386__)
// The register state the operating system saves on a context switch (XCR0): a feature whose
// registers it does not save cannot be used, whatever cpuid says.
uint64_t enabledStateMask() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) // OSXSAVE
    return 0;
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

std::string brandString() {
  unsigned regs[12] = {};
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000004u)
    return {};
  for (unsigned i = 0; i < 3; ++i)
    __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
  char text[sizeof regs + 1] = {};
  std::memcpy(text, regs, sizeof regs);
  // Vendors pad the string with spaces on either side.
  std::string out(text);
  const auto first = out.find_first_not_of(' '), last = out.find_last_not_of(' ');
  return first == std::string::npos ? std::string() : out.substr(first, last - first + 1);
}

CpuFeatures detect() {
  CpuFeatures f;
  f.model = brandString();
  const uint64_t xcr0 = enabledStateMask();
  constexpr uint64_t kAvx512State = 0xe6;      // SSE, AVX, opmask, upper ZMM halves, ZMM16-31
  constexpr uint64_t kAmxState = 0x3ull << 17; // tile configuration and tile data
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7 || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return f;
  const bool avx512State = (xcr0 & kAvx512State) == kAvx512State;
  f.avx512f = avx512State && (ebx & (1u << 16));
  f.amxbf16 = (xcr0 & kAmxState) == kAmxState && (edx & (1u << 22)) && (edx & (1u << 24)); // AMX-BF16, AMX-TILE
  const unsigned subleaves = eax;
  if (subleaves >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx))
    f.avx512bf16 = f.avx512f && (eax & (1u << 5));
  return f;
}
#else
// No x86 features to ask for: bf16 on such a CPU would be emulated, slower than fp32.
CpuFeatures detect() {
  return {};
}
#endif

} // namespace

CpuFeatures cpuFeatures() {
  static const CpuFeatures features = detect();
  return features;
}

std::string precisionUnsupported(const std::string &precision, const std::string &deviceType, const CpuFeatures &cpu,
                                 int cudaCapability) {
  const bool cuda = deviceType == "cuda";
  if (precision == "fp16" && !cuda)
    return "fp16 trains on CUDA devices only: LibTorch 1.13 has no fast fp16 kernels for the CPU (use bf16 or fp32 "
           "there)";
  if (precision == "bf16" && cuda && cudaCapability > 0 && cudaCapability < 80)
    return "bf16 on CUDA needs compute capability 8.0 or later (Ampere); this GPU has " +
           std::to_string(cudaCapability / 10) + "." + std::to_string(cudaCapability % 10) + " (use fp16 or fp32)";
  if (precision == "bf16" && !cuda && !cpu.avx512bf16 && !cpu.amxbf16)
    return "bf16 on the CPU needs AVX512_BF16 or AMX; this CPU (" + (cpu.model.empty() ? "model unknown" : cpu.model) +
           ") has neither (use fp32)";
  return {};
}

} // namespace particle
