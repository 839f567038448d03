#include "graph/Catalogue.h"

#include <algorithm>
#include <limits>

namespace particle {

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
