#pragma once
// Validation and shape inference: every problem at once, each with a code and the node (and
// param, port or edge) it is about, and a sentence the user can act on; per-node shapes and
// parameter counts. Linear in the size of the graph. These are the graph's checks; a whole
// project (its sections, the data set's probe, the memory estimate) is checked by
// project/ProjectCheck.h, which runs them.

#include "graph/Catalogue.h"
#include "graph/Graph.h"
#include "graph/Problem.h"
#include "graph/Sharing.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace particle {

struct NodeInfo {
  Json params;                // effective params (defaults filled in)
  std::vector<Shape> inputs;  // numbered inputs in port order
  std::optional<Shape> gate;  // Combine's gate input
  std::vector<Shape> outputs; // empty when unknown
  // Text data: per input and per output, 1 when its first axis is the text's tokens (shown "[T=…]").
  std::vector<uint8_t> inputTokens, outputTokens;
  int64_t parameters = 0; // what its module holds, an adapter's included
  int64_t trunkParameters = 0;
  // Of `parameters`, the ones training updates: none when frozen, only the adapter's with one.
  int64_t trainableParameters = 0;
  int64_t trunkTrainableParameters = 0;
  std::vector<LayerSize> adaptable; // its Linear and convolution layers
  int64_t trunkWidth = 0;           // sub-models: input width of their last layer
  double flops = 0;                 // one sample's forward pass (InferResult::flops)
  bool flopsKnown = false;          // shapes known and the type counts its operations
  bool shapesKnown = false;
  bool ok = true; // no error names this node
};

// Shape text of a node's input or output `port`, with "T=" on a token axis.
std::string inputShapeText(const NodeInfo &info, std::size_t port);
std::string outputShapeText(const NodeInfo &info, std::size_t port);

struct Validation {
  std::vector<Problem> problems;
  std::map<std::string, NodeInfo> nodes;
  std::vector<std::string> order; // topological order of the acyclic part
  DataInfo data;
  bool dataKnown = false;
  int64_t totalParameters = 0;     // as if nothing were shared
  int64_t uniqueParameters = 0;    // what the model holds
  int64_t trainableParameters = 0; // of those, what training updates (the rest frozen)
  // Forward FLOPs of one sample through the nodes that feed the output, a shared node counted at
  // each of its applications; known when every one of those nodes could count its own.
  double flopsPerSample = 0;
  bool flopsKnown = false;
  SharePlan sharing; // what training builds: the nodes that feed the output, shapes known
  // Training's memory at the batch size, in bytes (0: unknown, e.g. a bad training section):
  // weights, gradients, optimizer state, activations kept for the backward pass, the data set.
  struct Memory {
    int64_t weights = 0, gradients = 0, optimizer = 0, activations = 0, data = 0;
    int64_t total() const;
  } memory;

  bool ok() const; // no errors (warnings allowed)
  int errorCount() const;
  // 3 when any error is about files/data, else 1; 0 when ok.
  int exitCode() const;
  const NodeInfo *info(const std::string &id) const;
  bool has(ProblemCode code) const;
};

// The graph's checks: nodes and params, edges and ports, counts, cycles, shapes in topological
// order, reachability, part coverage, share groups, parameter counts. `data` is the data set
// the data source feeds in (null: unknown, so shapes stay unknown from the data source on).
Validation validateGraph(const Graph &graph, const DataInfo *data);

// The scalars a low-rank adapter adds to these layers: rank · (in + out) each (only the trunk's
// layers with `trunkOnly`).
int64_t adapterParameters(const NodeAdapter &adapter, const std::vector<LayerSize> &layers, bool trunkOnly = false);

// The graph's data source and output nodes (by role), or empty.
std::string inputNodeId(const Graph &graph);
std::string outputNodeId(const Graph &graph);

} // namespace particle
