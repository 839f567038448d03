#pragma once
// The command line of `particle`: "--key value" (or "--key=value") options and flags after the
// command's name, the positional arguments, and the bounded integers the commands take. A
// mistake is a UsageError: main.cpp prints it with the usage and exits with 2.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace particle::cli {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses "--key value" pairs after the positional arguments.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  std::vector<std::pair<std::string, std::string>> given; // every option in order (repeatable ones)

  // argv[first…]: `known` options take a value, `flags` none; anything else starting with "--"
  // is a UsageError.
  Args(int argc, char **argv, int first, const std::vector<std::string> &known,
       const std::vector<std::string> &flags = {});
  std::optional<std::string> get(const std::string &key) const;
  std::vector<std::string> all(const std::string &key) const;
  // A whole number in [min, max]; by default at most 2³¹ − 1, as the counts it sets are `int`s.
  std::optional<int64_t> integer(const std::string &key, int64_t min,
                                 int64_t max = std::numeric_limits<int>::max()) const;
};

// "a,b,,c" → {"a", "b", "c"}: the items of a comma-separated option value, empty ones skipped.
std::vector<std::string> commaList(const std::string &text);

} // namespace particle::cli
