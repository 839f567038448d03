#pragma once
// The node catalogue: one registry, type string → NodeType (ports, param schema, shape rule with
// its parameter count, role, category, colour, doc and module factory). Each built-in type is one
// file under engine/nodes/ and one registration line in engine/nodes/Builtins.cpp; the palette,
// the inspector, validation, the model builder and the explainer all read this registry.
// Torch-free: the module factory is declared with forward declarations only.

#include "base/Error.h"
#include "base/Registry.h"
#include "graph/Graph.h"
#include "graph/Shape.h"
#include "schema/Schema.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace particle {

// What a node is for; the validator, the model builder and the explainer ask this rather than
// compare type names.
enum class NodeRole {
  Layer,      // a plain transformation
  DataSource, // the data set's samples (exactly one per graph)
  Decomposer, // cuts its input into parts, one output port per part
  SubModel,   // a trainable block with a trunk and a last layer (shareable with scope "trunk")
  Combiner,   // joins branches; each numbered input port is one branch
  Output,     // ends the graph with class logits (exactly one per graph)
};

// Everything a shape rule may look at.
struct InferInput {
  const Json &params;               // effective params (defaults filled in, already checked)
  const std::vector<Shape> &inputs; // numbered inputs, in port order
  const std::optional<Shape> &gate; // a named input (the Combine's `gate`), when connected
  const DataInfo &data;
};

// A Linear or convolution layer of a node, as a low-rank adapter sees it: `in` its inputs per
// output (in_features, or in_channels · kernel elements / groups), `out` its outputs.
struct LayerSize {
  int64_t in = 0, out = 0;
  bool trunk = false; // sub-models: part of the trunk (what share_scope "trunk" shares)
};

struct InferResult {
  std::vector<Shape> outputs;
  int64_t parameters = 0;      // trainable scalars of this node's module
  int64_t trunkParameters = 0; // of those, the ones shared under share_scope "trunk"
  int64_t trunkWidth = 0;      // sub-models: width of the trunk's output (the last layer's input)
  std::string error;           // empty when the shapes are fine
  std::string errorParam;      // the param the error is about, when there is one
  // The node's Linear and convolution layers (what an adapter adapts), as its module builds them.
  std::vector<LayerSize> adaptable;
  int64_t fixedParameters = 0;              // of `parameters`, the ones the type itself keeps from training
  ErrorKind errorKind = ErrorKind::Invalid; // File: a file the node reads is missing
  // Floating-point operations of one sample's forward pass (docs/FORMAT.md "FLOPs per sample"):
  // a multiply-add counts 2. False when the type cannot count them (a TorchScript module).
  double flops = 0;
  bool flopsKnown = true;
};

// One way a decomposer may cut its input, as the search of decompositions tries it
// (engine/recipes/Variants.cpp).
struct Decomposition {
  std::string label; // "2x2", "4 chunks", "per column": unique among those offered
  Json params;       // the decomposer's params for it
  int parts = 0;
};

struct Decompositions {
  std::vector<Decomposition> offered;
  std::string own; // the label of the params as written: an offered one's when they cut alike
};

struct NodeInfo;
class NodeModuleImpl;
class TrunkImpl;

// What a module factory gets: the node's effective params and its inferred shapes; for a later
// member of a share group with scope "trunk", the trunk built by the first member.
struct BuildArgs {
  const Json &params;
  const NodeInfo &info;
  std::shared_ptr<TrunkImpl> sharedTrunk;
  const DataInfo *data = nullptr; // the data set the graph was checked against
};
using ModuleFactory = std::function<std::shared_ptr<NodeModuleImpl>(const BuildArgs &)>;

// What the PyTorch exporter (engine/export/PythonExport.cpp) hands a node type to write one node
// as a Python constructor call.
struct PythonArgs {
  const Json &params;
  const NodeInfo &info;
  const DataInfo &data;
  bool ownsTrunk = true; // sub-models: false for a later member of a share group with scope "trunk"
  // Out: files model.py reads beside it, by their path in the export folder → the file to copy
  // there (a TorchScript node's module).
  std::map<std::string, std::string> *files = nullptr;
};

struct NodeType {
  std::string type;
  std::string category;
  std::string doc;
  uint32_t color = 0x6b7280; // 0xRRGGBB, the header colour on the canvas
  NodeRole role = NodeRole::Layer;
  int minInputs = 1;
  int maxInputs = 1;                    // -1: any number (Combine)
  std::vector<std::string> namedInputs; // extra inputs addressed by name (Combine's `gate`)
  bool hasOutput = true;                // the Classifier ends the graph
  bool shareable = false;               // may be in a share group
  bool trunkShareable = false;          // may use share_scope "trunk"
  bool keepsTokens = false;             // text: its output's first axis is still its input's tokens ([T=…,…])
  Schema params;
  // Number of output ports for these (effective) params; null means 1 (or 0 without output).
  std::function<int(const Json &)> outputCount;
  std::function<InferResult(const InferInput &)> infer;
  // Decomposers: for each output port, the flat indices into one input sample that the part is
  // made of, in the part's own element order. Explanations stitch attributions back through it;
  // the app draws part boundaries from it.
  std::function<std::vector<std::vector<int64_t>>(const Json &params, const Shape &input)> partIndices;
  // Decomposers: the cuts of `input` (token ids when `tokens`) a search tries, starting from
  // `params` as written, and the label of those params with `parts` of their parts connected.
  std::function<Decompositions(const Json &params, const Shape &input, bool tokens, int parts)> decompositions;
  // Decomposers: true when these (effective) params cut each sample at its own length, so that no
  // position belongs to one part for every sample (no part is padding by position).
  std::function<bool(const Json &params)> cutsEachSample;
  // The params this type takes for itself when an input of shape `input` is connected and the
  // user has not set them (`given`: the node's params as written); an empty object: none. The
  // editor applies them with the connection (a Split given a vector cuts it in chunks).
  std::function<Json(const Json &given, const Shape &input)> paramsForInput;
  ModuleFactory build;
  // PyTorch export: the Python source of the nn.Module class(es) this type's module becomes
  // (written once into model.py when the graph uses the type; the same state-dict names as the
  // LibTorch module), and the constructor call for one node, e.g. `LinearNode(64, 10, bias=True)`.
  std::string pythonClass;
  std::function<std::string(const PythonArgs &)> pythonModule;

  const Field *param(const std::string &name) const { return params.find(name); }
  int outputs(const Json &effectiveParams) const;
};

// Defined in engine/nodes/Builtins.cpp: one line per built-in node type.
std::vector<NodeType> builtinNodeTypes();

// A node's params less those written with their default value (or null): the same graph as one
// that leaves them out, for the run history's diff and the checkpoints' graph hash. Params of an
// unknown type stay as written.
Json paramsBeyondDefaults(const Node &node);

// Where a branch comes from: walking up from `source` (what feeds one input of a Combiner)
// through nodes with one input, the port of the decomposer or the data source it reads; or
// where the walk stops first, at a node with another number of inputs or of an unknown type, or
// before a step to `up` that `mayStep` refuses. Explanations map a branch onto the input by it.
PortRef branchOrigin(const Graph &graph, PortRef source, const std::function<bool(const PortRef &up)> &mayStep = {});

// The node types by name (base/Registry.h: instance, add, find, entries, names). The built-ins
// register themselves in engine/nodes/Builtins.cpp; a test may add a throw-away type with add.
class Catalogue : public Registry<Catalogue, NodeType, &NodeType::type> {
public:
  std::vector<std::string> categories() const;

  // Defaults merged with the given params (which must be an object or null).
  Json effectiveParams(const NodeType &type, const Json &given) const { return type.params.effective(given); }
  // Checks one param value against its schema; returns an empty string when it is fine.
  static std::string checkParam(const Field &spec, const Json &value) { return Schema::check(spec, value); }

private:
  friend class Registry<Catalogue, NodeType, &NodeType::type>;
  Catalogue() : Registry(builtinNodeTypes()) {}
};

} // namespace particle
