#include "Args.h"

#include <algorithm>
#include <sstream>

namespace particle::cli {

Args::Args(int argc, char **argv, int first, const std::vector<std::string> &known,
           const std::vector<std::string> &flags) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
      options[a] = "1";
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      std::string value;
      if (auto eq = a.find('='); eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
      } else {
        if (i + 1 >= argc)
          throw UsageError(a + " needs a value");
        value = argv[++i];
      }
      if (std::find(known.begin(), known.end(), a) == known.end())
        throw UsageError("unknown option " + a);
      options[a] = value;
      given.emplace_back(a, value);
    } else {
      positional.push_back(a);
    }
  }
}

std::optional<std::string> Args::get(const std::string &key) const {
  auto it = options.find(key);
  return it == options.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::vector<std::string> Args::all(const std::string &key) const {
  std::vector<std::string> out;
  for (const auto &[k, v] : given)
    if (k == key)
      out.push_back(v);
  return out;
}

std::optional<int64_t> Args::integer(const std::string &key, int64_t min, int64_t max) const {
  auto v = get(key);
  if (!v)
    return std::nullopt;
  try {
    std::size_t used = 0;
    const int64_t x = std::stoll(*v, &used);
    if (used != v->size() || x < min || x > max)
      throw std::invalid_argument("");
    return x;
  } catch (const std::exception &) {
    throw UsageError(key + " needs an integer ≥ " + std::to_string(min) + " and ≤ " + std::to_string(max) + ", got \"" +
                     *v + "\"");
  }
}

std::vector<std::string> commaList(const std::string &text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

} // namespace particle::cli
