#pragma once
// The one error type the engine throws: what went wrong and where, with the kind that decides the
// CLI's exit code.

#include <stdexcept>
#include <string>

namespace particle {

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

} // namespace particle
