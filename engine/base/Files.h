#pragma once
// Reading and writing whole files: every file format and run folder goes through these.

#include <string>

namespace particle {

// Reads a whole file; throws Error(File) naming the path.
std::string readTextFile(const std::string &path);
// Writes through a temporary file in the same folder and renames it over `path`, so a crash
// or a full disk never leaves a half-written project.
void writeFileAtomically(const std::string &path, const std::string &contents);

} // namespace particle
