#pragma once
// The node catalogue: one registry (type string → ports, parameter schema, shape rule, parameter
// count, category, doc) that drives the palette, the inspector, JSON loading, validation, the
// model builder and the exporter.

#include "graph/Json.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace particle {

// A tensor shape without the batch dimension: [D], [C,H,W] or [T,D].
using Shape = std::vector<int64_t>;
std::string shapeToString(const Shape &shape);
int64_t shapeNumel(const Shape &shape);

enum class ParamKind { Bool, Int, Float, Enum, IntList, IntListList };
const char *paramKindName(ParamKind kind);

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::Int;
  Json defaultValue; // null: no default (the param is optional and has no value)
  double min = 0;    // range for Int/Float and for the elements of lists
  double max = 0;
  std::vector<std::string> choices; // Enum
  std::string doc;
};

// What the data set tells a graph: sample shape and number of classes.
struct DataInfo {
  Shape sampleShape;
  int64_t classes = 0;
};

// Everything a shape rule may look at.
struct InferInput {
  const Json &params;               // effective params (defaults filled in)
  const std::vector<Shape> &inputs; // numbered inputs, in port order
  const std::optional<Shape> &gate; // Combine's named `gate` input, when connected
  const DataInfo &data;
};

struct InferResult {
  std::vector<Shape> outputs;
  int64_t parameters = 0;      // trainable scalars of this node's module
  int64_t trunkParameters = 0; // of those, the ones shared under share_scope "trunk"
  int64_t trunkWidth = 0;      // sub-models: width of the trunk's output (the last layer's input)
  std::string error;           // empty when the shapes are fine
  std::string errorParam;      // the param the error is about, when there is one
};

struct NodeType {
  std::string type;
  std::string category;
  std::string doc;
  int minInputs = 1;
  int maxInputs = 1;                    // -1: any number (Combine)
  std::vector<std::string> namedInputs; // extra inputs addressed by name (Combine's `gate`)
  bool hasOutput = true;                // the Classifier ends the graph
  bool shareable = false;               // may be in a share group
  bool trunkShareable = false;          // may use share_scope "trunk"
  std::vector<ParamSpec> params;
  // Number of output ports for these (effective) params; null means 1 (or 0 without output).
  std::function<int(const Json &)> outputCount;
  std::function<InferResult(const InferInput &)> infer;

  const ParamSpec *param(const std::string &name) const;
  int outputs(const Json &effectiveParams) const;
};

class Catalogue {
public:
  static const Catalogue &instance();
  const NodeType *find(const std::string &type) const;
  const std::vector<NodeType> &types() const { return types_; }
  std::vector<std::string> categories() const;

  // Defaults merged with the given params (which must be an object or null).
  Json effectiveParams(const NodeType &type, const Json &given) const;
  // Checks one param value against its schema; returns an empty string when it is fine.
  static std::string checkParam(const ParamSpec &spec, const Json &value);

private:
  Catalogue();
  std::vector<NodeType> types_;
};

} // namespace particle
