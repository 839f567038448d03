#pragma once
// The graph document: nodes, ports, edges, params and share groups, addressed by id.
// Plain data with no Qt and no tensors; the editor, the CLI and the model builder all read it.

#include "base/Json.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace particle {

// One end of an edge: `node` (port "0"), `node:k` or `node:name`.
struct PortRef {
  std::string node;
  std::string port = "0";

  bool isNumbered() const;
  int index() const; // numbered ports only
  std::string toString() const;
  // Returns nullopt when the text is not of the form id[:port].
  static std::optional<PortRef> parse(const std::string &text);
  bool operator==(const PortRef &o) const { return node == o.node && port == o.port; }
};

// Where a node's starting weights come from (see FORMAT.md "init").
struct NodeInit {
  std::string from; // a .particle-part file, a run folder or a run's checkpoint.pt, as written
                    // (relative to the project's folder)
  std::string node; // the node in it to take; may be empty for a part with exactly one node
  bool operator==(const NodeInit &o) const { return from == o.from && node == o.node; }
  bool operator!=(const NodeInit &o) const { return !(*this == o); }
};

// Low-rank adapters on a node's Linear and convolution layers: only they train.
struct NodeAdapter {
  std::string kind = "lora";
  int64_t rank = 4;
  double alpha = 8;
  bool operator==(const NodeAdapter &o) const { return kind == o.kind && rank == o.rank && alpha == o.alpha; }
  bool operator!=(const NodeAdapter &o) const { return !(*this == o); }
};

struct Node {
  std::string id;
  std::string type;
  std::optional<std::array<double, 2>> pos;
  Json params = Json::object(); // as written by the user; defaults are not stored
  std::string share;            // share group name; empty when not shared
  std::string shareScope;       // "" (= "all") or "trunk"
  std::optional<NodeInit> init;
  bool freeze = false; // no gradient, eval mode: the weights stay exactly the ones it started with
  std::optional<NodeAdapter> adapter;

  bool operator==(const Node &o) const {
    return id == o.id && type == o.type && pos == o.pos && params == o.params && share == o.share &&
           shareScope == o.shareScope && init == o.init && freeze == o.freeze && adapter == o.adapter;
  }
  bool operator!=(const Node &o) const { return !(*this == o); }
};

struct Edge {
  PortRef from;
  PortRef to;
  bool operator==(const Edge &o) const { return from == o.from && to == o.to; }
  bool operator!=(const Edge &o) const { return !(*this == o); }
};

class Graph {
public:
  std::vector<Node> nodes;
  std::vector<Edge> edges;

  const Node *find(const std::string &id) const;
  Node *find(const std::string &id);
  int indexOf(const std::string &id) const;
  // Edges that end at `id`, in file order.
  std::vector<const Edge *> incoming(const std::string &id) const;
  std::vector<const Edge *> outgoing(const std::string &id) const;
  // Removes the node and every edge touching it; returns false when there is no such node.
  bool removeNode(const std::string &id);
  // A fresh id "<stem><n>" not used by any node.
  std::string uniqueId(const std::string &stem) const;
  static bool isValidId(const std::string &id);

  bool operator==(const Graph &o) const { return nodes == o.nodes && edges == o.edges; }
  bool operator!=(const Graph &o) const { return !(*this == o); }
};

} // namespace particle
