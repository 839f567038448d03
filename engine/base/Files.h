#pragma once
// Reading and writing whole files: every file format and run folder goes through these.

#include <cstdint>
#include <string>

namespace particle {

// Reads a whole file; throws Error(File) naming the path.
std::string readTextFile(const std::string &path);
// Writes through a temporary file in the same folder and renames it over `path`, so a crash
// or a full disk never leaves a half-written project.
void writeFileAtomically(const std::string &path, const std::string &contents);
// zlib's CRC-32 of `bytes` from offset `from` on, and as 8 lower-case hex digits: the checksums
// that checkpoints and particle files carry in their first line.
uint32_t crc32Of(const std::string &bytes, std::size_t from = 0);
std::string crc32Hex(const std::string &bytes, std::size_t from = 0);

} // namespace particle
