#include "graph/Shape.h"

#include <limits>

namespace particle {

std::string shapeToString(const Shape &shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ",";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string shapeToString(const Shape &shape, bool tokens) {
  std::string out = shapeToString(shape);
  return tokens && !shape.empty() ? "[T=" + out.substr(1) : out;
}

int64_t shapeNumel(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0)
      return 0;
    if (n > std::numeric_limits<int64_t>::max() / d)
      return std::numeric_limits<int64_t>::max();
    n *= d;
  }
  return n;
}

std::string className(const DataInfo &data, int64_t index) {
  if (index >= 0 && index < static_cast<int64_t>(data.classNames.size()))
    return data.classNames[static_cast<std::size_t>(index)];
  return std::to_string(index);
}

} // namespace particle
