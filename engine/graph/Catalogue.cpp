#include "graph/Catalogue.h"

#include <algorithm>
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

int NodeType::outputs(const Json &effectiveParams) const {
  if (!hasOutput)
    return 0;
  return outputCount ? outputCount(effectiveParams) : 1;
}

Catalogue::Catalogue() {
  for (auto &t : builtinNodeTypes())
    types_.push_back(std::move(t));
}

Catalogue &Catalogue::mutableInstance() {
  static Catalogue catalogue;
  return catalogue;
}

const Catalogue &Catalogue::instance() {
  return mutableInstance();
}

void Catalogue::add(NodeType type) {
  Catalogue &c = mutableInstance();
  for (auto &t : c.types_)
    if (t.type == type.type) {
      t = std::move(type);
      return;
    }
  c.types_.push_back(std::move(type));
}

const NodeType *Catalogue::find(const std::string &type) const {
  for (const auto &t : types_)
    if (t.type == type)
      return &t;
  return nullptr;
}

std::vector<std::string> Catalogue::categories() const {
  std::vector<std::string> out;
  for (const auto &t : types_)
    if (std::find(out.begin(), out.end(), t.category) == out.end())
      out.push_back(t.category);
  return out;
}

std::string Catalogue::typeNames() const {
  std::string list;
  for (const auto &t : types_)
    list += (list.empty() ? "" : ", ") + t.type;
  return list;
}

} // namespace particle
