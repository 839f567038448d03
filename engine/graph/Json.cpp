#include "graph/Json.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace particle {

std::string readTextFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorKind::File, path + ": cannot open file for reading");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad())
    throw Error(ErrorKind::File, path + ": read error");
  return out.str();
}

void writeFileAtomically(const std::string &path, const std::string &contents) {
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw Error(ErrorKind::File, path + ": cannot write (" + temp + " could not be created)");
    out << contents;
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      throw Error(ErrorKind::File, path + ": write failed (disk full?)");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw Error(ErrorKind::File, path + ": cannot replace the file");
  }
}

Json parseJson(const std::string &text, const std::string &fileName) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error &e) {
    // nlohmann reports a byte offset; users want line and column.
    std::size_t offset = e.byte == 0 ? 0 : e.byte - 1;
    if (offset > text.size())
      offset = text.size();
    int line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: " prefix.
    if (auto colon = what.find(": "); colon != std::string::npos)
      what = what.substr(colon + 2);
    throw Error(ErrorKind::File,
                fileName + ":" + std::to_string(line) + ":" + std::to_string(column) + ": malformed JSON: " + what);
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
