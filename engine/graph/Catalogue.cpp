#include "graph/Catalogue.h"

#include <algorithm>
#include <limits>

namespace particle {

int NodeType::outputs(const Json &effectiveParams) const {
  if (!hasOutput)
    return 0;
  return outputCount ? outputCount(effectiveParams) : 1;
}

std::vector<std::string> Catalogue::categories() const {
  std::vector<std::string> out;
  for (const auto &t : entries())
    if (std::find(out.begin(), out.end(), t.category) == out.end())
      out.push_back(t.category);
  return out;
}

} // namespace particle
