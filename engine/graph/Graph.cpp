#include "graph/Graph.h"

#include <algorithm>
#include <cctype>

namespace particle {

bool PortRef::isNumbered() const {
  return !port.empty() && std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
}

int PortRef::index() const {
  return isNumbered() ? std::stoi(port) : -1;
}

std::string PortRef::toString() const {
  return port == "0" ? node : node + ":" + port;
}

std::optional<PortRef> PortRef::parse(const std::string &text) {
  PortRef ref;
  const auto colon = text.find(':');
  ref.node = text.substr(0, colon);
  if (colon != std::string::npos) {
    ref.port = text.substr(colon + 1);
    if (ref.port.empty())
      return std::nullopt;
    if (ref.isNumbered()) {
      if (ref.port.size() > 6)
        return std::nullopt;
      ref.port = std::to_string(std::stoi(ref.port)); // "01" → "1"
    } else if (!Graph::isValidId(ref.port)) {
      return std::nullopt;
    }
  }
  if (!Graph::isValidId(ref.node))
    return std::nullopt;
  return ref;
}

const Node *Graph::find(const std::string &id) const {
  int i = indexOf(id);
  return i < 0 ? nullptr : &nodes[i];
}

Node *Graph::find(const std::string &id) {
  int i = indexOf(id);
  return i < 0 ? nullptr : &nodes[i];
}

int Graph::indexOf(const std::string &id) const {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].id == id)
      return static_cast<int>(i);
  return -1;
}

std::vector<const Edge *> Graph::incoming(const std::string &id) const {
  std::vector<const Edge *> out;
  for (const auto &e : edges)
    if (e.to.node == id)
      out.push_back(&e);
  return out;
}

std::vector<const Edge *> Graph::outgoing(const std::string &id) const {
  std::vector<const Edge *> out;
  for (const auto &e : edges)
    if (e.from.node == id)
      out.push_back(&e);
  return out;
}

bool Graph::removeNode(const std::string &id) {
  const int i = indexOf(id);
  if (i < 0)
    return false;
  nodes.erase(nodes.begin() + i);
  edges.erase(
      std::remove_if(edges.begin(), edges.end(), [&](const Edge &e) { return e.from.node == id || e.to.node == id; }),
      edges.end());
  return true;
}

std::string Graph::uniqueId(const std::string &stem) const {
  std::string base;
  for (char c : stem)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_')
      base += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (base.empty() || std::isdigit(static_cast<unsigned char>(base[0])))
    base = "n" + base;
  for (int n = 1;; ++n) {
    std::string id = base + std::to_string(n);
    if (indexOf(id) < 0)
      return id;
  }
}

bool Graph::isValidId(const std::string &id) {
  if (id.empty() || !(std::isalpha(static_cast<unsigned char>(id[0])) || id[0] == '_'))
    return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

} // namespace particle
