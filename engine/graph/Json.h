#pragma once
// JSON alias used across the engine, plus the small I/O helpers every file format shares.

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace particle {

// Ordered so that a loaded file is written back with its keys in the same order.
using Json = nlohmann::ordered_json;

// Kind of failure: maps onto the CLI exit codes (docs/FORMAT.md, "Command line").
enum class ErrorKind { Invalid = 1, Usage = 2, File = 3, Training = 4 };

// An error a user can act on: what went wrong and where (file, line, JSON path, node).
class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, const std::string &message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

private:
  ErrorKind kind_;
};

// Reads a whole file; throws Error(File) naming the path.
std::string readTextFile(const std::string &path);
// Writes through a temporary file in the same folder and renames it over `path`, so a crash
// or a full disk never leaves a half-written project.
void writeFileAtomically(const std::string &path, const std::string &contents);
// Limits on project files (docs/FORMAT.md "Limits"), checked before parsing.
constexpr int kMaxJsonDepth = 64;                            // nesting of arrays and objects
constexpr std::size_t kMaxJsonBytes = std::size_t(64) << 20; // 64 MiB

// Parses JSON text; a syntax error, nesting deeper than kMaxJsonDepth or more than kMaxJsonBytes
// becomes Error(File) "FILE:LINE:COL: message".
Json parseJson(const std::string &text, const std::string &fileName);
// Compact one-line rendering used for nested values in project files.
std::string compactJson(const Json &value);

} // namespace particle
