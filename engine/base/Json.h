#pragma once
// The JSON alias used across the engine and the strict parser every file format shares (the error
// type and the file helpers come with it).

#include "base/Error.h"
#include "base/Files.h"

#include <nlohmann/json.hpp>

#include <string>

namespace particle {

// Ordered so that a loaded file is written back with its keys in the same order.
using Json = nlohmann::ordered_json;

// Limits on project files (docs/FORMAT.md "Limits"), checked before parsing.
constexpr int kMaxJsonDepth = 64;                            // nesting of arrays and objects
constexpr std::size_t kMaxJsonBytes = std::size_t(64) << 20; // 64 MiB

// Parses JSON text; a syntax error, nesting deeper than kMaxJsonDepth or more than kMaxJsonBytes
// becomes Error(File) "FILE:LINE:COL: message".
Json parseJson(const std::string &text, const std::string &fileName);
// Compact one-line rendering used for nested values in project files.
std::string compactJson(const Json &value);

} // namespace particle
