#pragma once
// Validation and shape inference: every problem at once, each with a code and the node (and
// param, port or edge) it is about, and a sentence the user can act on; per-node shapes and
// parameter counts. Linear in the size of the graph. These are the graph's checks; a whole
// project (its sections, the data set's probe, the memory estimate) is checked by
// project/ProjectCheck.h, which runs them.

#include "base/Error.h"
#include "graph/Catalogue.h"
#include "graph/Graph.h"
#include "graph/Sharing.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace particle {

// What a problem is about, for programs (the editor decides by code, never by wording).
enum class ProblemCode {
  DataUnavailable,    // the data set cannot be read (missing file, bad header…)
  BadDataset,         // a "dataset" key is wrong
  BadTraining,        // a "training" key is wrong
  UnknownType,        // no such node type
  UnknownParam,       // the type has no such param
  BadParam,           // a param value fails its schema
  ShareNotAllowed,    // the type has nothing to share
  TrunkNotAllowed,    // share_scope "trunk" on a type without a trunk
  ScopeWithoutGroup,  // share_scope without a share group
  ShareMismatch,      // members of a share group differ (type, scope, params, input shape)
  ShareAlone,         // warning: a share group with one member
  EdgeToMissingNode,  // an edge names a node that does not exist
  SelfLoop,           // an edge from a node to itself
  NoSuchOutputPort,   // an edge leaves from a port the node does not have
  NoSuchInputPort,    // an edge arrives at a port the node does not have
  InputTakenTwice,    // two edges into one input port
  NoInputNode,        // the graph has no data source
  ExtraInputNode,     // more than one data source
  NoClassifier,       // the graph has no output node
  ExtraClassifier,    // more than one output node
  Cycle,              // the node is part of a cycle
  InputNotConnected,  // a single-input node's input is free
  TooFewBranches,     // a Combiner has fewer branches than it needs
  PortGap,            // numbered input ports with a gap
  ShapeError,         // the node's shape rule refused its inputs or params
  NoPath,             // no path from the data source to the output
  DoesNotReachOutput, // warning: the node's output does not reach the output node
  UnusedOutputs,      // warning: some output ports of a node are not connected
  ClassCountMismatch, // the Classifier has fewer classes than the data set's labels
  PartMostlyPadding,  // warning: a decomposer's part over token ids is only padding for most training texts
  RareClass,          // warning: a class of the data set has very few samples (or none)
  PartsOverlap,       // warning: a decomposer puts some input elements in more than one part
  UnusedFeatures,     // warning: a decomposer leaves some input elements out of every part
  MemoryTooLarge,     // training needs more memory than the machine has (the estimate, not a guess)
  MemoryHigh,         // warning: training needs most of the machine's available memory
};
// A stable name for a code ("shape-error"), used in tests and machine-readable output.
const char *problemCodeName(ProblemCode code);

struct Problem {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  ProblemCode code = ProblemCode::ShapeError;
  ErrorKind kind = ErrorKind::Invalid; // File when data files are missing or unreadable
  std::string node;                    // empty for project-level problems
  std::string param;                   // the param (or "dataset.x", "training.x") when relevant
  std::string port;                    // the input port when relevant
  int edge = -1;                       // index into graph.edges when relevant
  std::string message;

  bool isError() const { return severity == Severity::Error; }
  // "FILE: node 'ID': message" (the CLI's format); without a file, "node 'ID': message".
  std::string format(const std::string &file) const;
};

struct NodeInfo {
  Json params;                // effective params (defaults filled in)
  std::vector<Shape> inputs;  // numbered inputs in port order
  std::optional<Shape> gate;  // Combine's gate input
  std::vector<Shape> outputs; // empty when unknown
  // Text data: per input and per output, 1 when its first axis is the text's tokens (shown "[T=…]").
  std::vector<uint8_t> inputTokens, outputTokens;
  int64_t parameters = 0;
  int64_t trunkParameters = 0;
  int64_t trunkWidth = 0; // sub-models: input width of their last layer
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
  int64_t totalParameters = 0;  // as if nothing were shared
  int64_t uniqueParameters = 0; // what is trained
  SharePlan sharing;            // what training builds: the nodes that feed the output, shapes known
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

// The graph's data source and output nodes (by role), or empty.
std::string inputNodeId(const Graph &graph);
std::string outputNodeId(const Graph &graph);

} // namespace particle
