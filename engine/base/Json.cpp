#include "base/Json.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace particle {

namespace {
// "FILE:LINE:COL" of a byte offset.
std::string positionOf(const std::string &text, std::size_t offset, const std::string &fileName) {
  offset = std::min(offset, text.size());
  int line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fileName + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// Where the nesting first goes deeper than kMaxJsonDepth (npos: it does not). Checked before
// parsing, so that nothing recursive (copies, dumps, destructors) ever meets a deep document.
std::size_t tooDeep(const std::string &text) {
  int depth = 0;
  bool inString = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}
} // namespace

Json parseJson(const std::string &text, const std::string &fileName) {
  if (text.size() > kMaxJsonBytes)
    throw Error(ErrorKind::File, fileName + ": " + std::to_string(text.size() >> 20) +
                                     " MiB; project files are limited to " + std::to_string(kMaxJsonBytes >> 20) +
                                     " MiB");
  if (const std::size_t at = tooDeep(text); at != std::string::npos)
    throw Error(ErrorKind::File, positionOf(text, at, fileName) + ": malformed JSON: nested deeper than " +
                                     std::to_string(kMaxJsonDepth) + " levels (the limit for project files)");
  try {
    return Json::parse(text);
  } catch (const Json::exception &e) {
    // nlohmann reports a byte offset; users want line and column.
    std::size_t offset = 0;
    std::string what = e.what();
    if (const auto *pe = dynamic_cast<const Json::parse_error *>(&e)) {
      offset = pe->byte == 0 ? 0 : pe->byte - 1;
    } else if (const auto q = what.find(" parsing '"); q != std::string::npos) {
      // "number overflow parsing '1e400'": no offset given; the number's first occurrence is it.
      const std::size_t end = what.find('\'', q + 10);
      const std::string number = what.substr(q + 10, end == std::string::npos ? std::string::npos : end - q - 10);
      if (const auto found = text.find(number); !number.empty() && found != std::string::npos)
        offset = found;
    }
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: " prefix.
    if (auto colon = what.find(": "); colon != std::string::npos)
      what = what.substr(colon + 2);
    if (auto bracket = what.find("] "); what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos)
      what = what.substr(bracket + 2);
    throw Error(ErrorKind::File, positionOf(text, offset, fileName) + ": malformed JSON: " + what);
  }
}

std::string compactJson(const Json &value) {
  // nlohmann's dump(-1) has no spaces after ':' and ','; project files read better with them.
  if (value.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!first)
        out += ", ";
      first = false;
      out += Json(it.key()).dump() + ": " + compactJson(it.value());
    }
    return out + "}";
  }
  if (value.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (i)
        out += ", ";
      out += compactJson(value[i]);
    }
    return out + "]";
  }
  return value.dump();
}

} // namespace particle
