#include "graph/Catalogue.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

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

int64_t shapeNumel(const Shape &shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
}

const char *paramKindName(ParamKind kind) {
  switch (kind) {
  case ParamKind::Bool: return "a boolean";
  case ParamKind::Int: return "an integer";
  case ParamKind::Float: return "a number";
  case ParamKind::Enum: return "one of the listed words";
  case ParamKind::IntList: return "a list of integers";
  case ParamKind::IntListList: return "a list of lists of integers";
  }
  return "?";
}

const ParamSpec *NodeType::param(const std::string &name) const {
  for (const auto &p : params)
    if (p.name == name)
      return &p;
  return nullptr;
}

int NodeType::outputs(const Json &effectiveParams) const {
  if (!hasOutput)
    return 0;
  return outputCount ? outputCount(effectiveParams) : 1;
}

namespace {

constexpr double kMaxWidth = 1 << 20;

ParamSpec boolParam(std::string name, bool def, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamKind::Bool;
  p.defaultValue = def;
  p.doc = std::move(doc);
  return p;
}

ParamSpec intParam(std::string name, Json def, double min, double max, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamKind::Int;
  p.defaultValue = std::move(def);
  p.min = min;
  p.max = max;
  p.doc = std::move(doc);
  return p;
}

ParamSpec floatParam(std::string name, double def, double min, double max, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamKind::Float;
  p.defaultValue = def;
  p.min = min;
  p.max = max;
  p.doc = std::move(doc);
  return p;
}

ParamSpec enumParam(std::string name, std::vector<std::string> choices, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamKind::Enum;
  p.defaultValue = choices.front();
  p.choices = std::move(choices);
  p.doc = std::move(doc);
  return p;
}

ParamSpec listParam(std::string name, ParamKind kind, Json def, double min, double max, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = kind;
  p.defaultValue = std::move(def);
  p.min = min;
  p.max = max;
  p.doc = std::move(doc);
  return p;
}

InferResult fail(std::string message, std::string param = {}) {
  InferResult r;
  r.error = std::move(message);
  r.errorParam = std::move(param);
  return r;
}

int64_t linearParams(int64_t in, int64_t out, bool bias = true) {
  return in * out + (bias ? out : 0);
}

std::vector<int64_t> intList(const Json &j) {
  std::vector<int64_t> out;
  if (j.is_array())
    for (const auto &v : j)
      out.push_back(v.get<int64_t>());
  return out;
}

bool isImage(const Shape &s) {
  return s.size() == 3;
}

// ---- shape rules -------------------------------------------------------------------------

InferResult inferInput(const InferInput &in) {
  InferResult r;
  if (in.data.sampleShape.empty())
    return fail("the dataset's sample shape is unknown (fix the \"dataset\" section)");
  r.outputs = {in.data.sampleShape};
  return r;
}

int splitCount(const Json &p) {
  const std::string mode = p.value("mode", "patches");
  if (mode == "patches")
    return static_cast<int>(p.value("rows", 1) * p.value("cols", 1));
  if (mode == "chunks")
    return p.contains("sizes") && p["sizes"].is_array() ? static_cast<int>(p["sizes"].size())
                                                        : static_cast<int>(p.value("parts", 1));
  return p.contains("groups") && p["groups"].is_array() ? static_cast<int>(p["groups"].size()) : 0;
}

InferResult inferSplit(const InferInput &in) {
  const Shape &x = in.inputs.at(0);
  const std::string mode = in.params["mode"];
  InferResult r;
  if (mode == "patches") {
    if (!isImage(x))
      return fail("mode \"patches\" needs an image input [C,H,W], got " + shapeToString(x) +
                      "; use mode \"chunks\" or \"columns\" for vectors",
                  "mode");
    const int64_t rows = in.params["rows"], cols = in.params["cols"];
    if (x[1] % rows != 0)
      return fail("height " + std::to_string(x[1]) + " of " + shapeToString(x) +
                      " is not divisible by rows = " + std::to_string(rows),
                  "rows");
    if (x[2] % cols != 0)
      return fail("width " + std::to_string(x[2]) + " of " + shapeToString(x) +
                      " is not divisible by cols = " + std::to_string(cols),
                  "cols");
    r.outputs.assign(rows * cols, Shape{x[0], x[1] / rows, x[2] / cols});
    return r;
  }
  if (x.size() != 1)
    return fail("mode \"" + mode + "\" needs a vector input [D], got " + shapeToString(x) +
                    " (add a Flatten node first, or use mode \"patches\" for images)",
                "mode");
  const int64_t d = x[0];
  if (mode == "chunks") {
    if (in.params.contains("sizes") && !in.params["sizes"].is_null()) {
      auto sizes = intList(in.params["sizes"]);
      const int64_t sum = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
      if (sum != d)
        return fail("sizes add up to " + std::to_string(sum) + " but the input has " + std::to_string(d) + " features",
                    "sizes");
      for (auto s : sizes)
        r.outputs.push_back({s});
      return r;
    }
    const int64_t parts = in.params["parts"];
    if (d % parts != 0)
      return fail("input width " + std::to_string(d) + " is not divisible by parts = " + std::to_string(parts) +
                      " (give explicit \"sizes\" instead)",
                  "parts");
    r.outputs.assign(parts, Shape{d / parts});
    return r;
  }
  // columns
  if (!in.params.contains("groups") || in.params["groups"].is_null() || in.params["groups"].empty())
    return fail("mode \"columns\" needs \"groups\": a list of feature-index lists", "groups");
  for (const auto &g : in.params["groups"]) {
    if (g.empty())
      return fail("every group in \"groups\" needs at least one feature index", "groups");
    for (const auto &i : g)
      if (i.get<int64_t>() >= d)
        return fail("feature index " + std::to_string(i.get<int64_t>()) + " is out of range for an input of " +
                        std::to_string(d) + " features",
                    "groups");
    r.outputs.push_back({static_cast<int64_t>(g.size())});
  }
  return r;
}

InferResult inferPatchify(const InferInput &in) {
  const Shape &x = in.inputs.at(0);
  const int64_t p = in.params["patch"];
  if (!isImage(x))
    return fail("needs an image input [C,H,W], got " + shapeToString(x));
  if (x[1] % p != 0 || x[2] % p != 0)
    return fail("image " + shapeToString(x) + " is not divisible into " + std::to_string(p) + "×" + std::to_string(p) +
                    " patches",
                "patch");
  InferResult r;
  r.outputs = {{(x[1] / p) * (x[2] / p), x[0] * p * p}};
  return r;
}

InferResult inferMlp(const InferInput &in) {
  int64_t prev = shapeNumel(in.inputs.at(0));
  InferResult r;
  for (auto h : intList(in.params["hidden"])) {
    r.trunkParameters += linearParams(prev, h);
    prev = h;
  }
  const int64_t out = in.params["out"];
  r.trunkWidth = prev;
  r.parameters = r.trunkParameters + linearParams(prev, out);
  r.outputs = {{out}};
  return r;
}

InferResult inferConvNet(const InferInput &in) {
  const Shape &x = in.inputs.at(0);
  if (!isImage(x))
    return fail("needs an image input [C,H,W], got " + shapeToString(x) + "; use an MLP for vectors");
  const int64_t k = in.params["kernel"];
  const bool pool = in.params["pool"];
  int64_t c = x[0], h = x[1], w = x[2];
  InferResult r;
  for (auto ch : intList(in.params["channels"])) {
    r.trunkParameters += c * ch * k * k + ch;
    c = ch;
    h = h + 2 * (k / 2) - k + 1;
    w = w + 2 * (k / 2) - k + 1;
    if (pool) {
      h /= 2;
      w /= 2;
    }
    if (h < 1 || w < 1)
      return fail("image " + shapeToString(x) + " is too small for " + std::to_string(in.params["channels"].size()) +
                      " conv layers" + (pool ? " with pooling" : ""),
                  "channels");
  }
  const int64_t out = in.params["out"];
  r.trunkWidth = c * h * w;
  r.parameters = r.trunkParameters + linearParams(r.trunkWidth, out);
  r.outputs = {{out}};
  return r;
}

InferResult inferAttention(const InferInput &in) {
  Shape x = in.inputs.at(0);
  if (isImage(x)) {
    const int64_t p = in.params["patch"];
    if (x[1] % p != 0 || x[2] % p != 0)
      return fail("image " + shapeToString(x) + " is not divisible into " + std::to_string(p) + "×" +
                      std::to_string(p) + " patches",
                  "patch");
    x = {(x[1] / p) * (x[2] / p), x[0] * p * p};
  } else if (x.size() == 1) {
    x = {1, x[0]}; // a vector is one token
  } else if (x.size() != 2) {
    return fail("needs tokens [T,D] or an image [C,H,W], got " + shapeToString(x));
  }
  const int64_t t = x[0], d = x[1];
  const int64_t dim = in.params["dim"], heads = in.params["heads"], layers = in.params["layers"];
  const int64_t out = in.params["out"];
  if (dim % heads != 0)
    return fail("dim = " + std::to_string(dim) + " is not divisible by heads = " + std::to_string(heads), "heads");
  InferResult r;
  int64_t trunk = linearParams(d, dim) + t * dim;
  const int64_t perLayer = 2 * dim + linearParams(dim, 3 * dim) + linearParams(dim, dim) + 2 * dim +
                           linearParams(dim, 2 * dim) + linearParams(2 * dim, dim);
  trunk += layers * perLayer + 2 * dim;
  r.trunkParameters = trunk;
  r.trunkWidth = dim;
  r.parameters = trunk + linearParams(dim, out);
  r.outputs = {{out}};
  return r;
}

InferResult inferLinear(const InferInput &in) {
  Shape x = in.inputs.at(0);
  const int64_t out = in.params["out"];
  InferResult r;
  r.parameters = linearParams(x.back(), out, in.params["bias"].get<bool>());
  x.back() = out;
  r.outputs = {x};
  return r;
}

InferResult inferSame(const InferInput &in) {
  InferResult r;
  r.outputs = {in.inputs.at(0)};
  return r;
}

InferResult inferLayerNorm(const InferInput &in) {
  InferResult r;
  r.outputs = {in.inputs.at(0)};
  r.parameters = 2 * in.inputs.at(0).back();
  return r;
}

InferResult inferFlatten(const InferInput &in) {
  InferResult r;
  r.outputs = {{shapeNumel(in.inputs.at(0))}};
  return r;
}

InferResult inferCombine(const InferInput &in) {
  const std::string mode = in.params["mode"];
  const int64_t k = static_cast<int64_t>(in.inputs.size());
  std::vector<int64_t> widths;
  for (const auto &s : in.inputs)
    widths.push_back(shapeNumel(s));
  if (in.gate && mode != "gate")
    return fail("the `gate` input is only used by mode \"gate\"; disconnect it or change the mode", "mode");
  InferResult r;
  if (mode == "concat") {
    r.outputs = {{std::accumulate(widths.begin(), widths.end(), int64_t{0})}};
    return r;
  }
  int64_t dim = in.params["dim"];
  if (dim == 0) {
    if (std::adjacent_find(widths.begin(), widths.end(), std::not_equal_to<>()) != widths.end()) {
      std::string list;
      for (std::size_t i = 0; i < in.inputs.size(); ++i)
        list += (i ? ", " : "") + shapeToString(in.inputs[i]);
      return fail("branches have different widths (" + list + "); set \"dim\" to project them to a common width",
                  "dim");
    }
    dim = widths.front();
  }
  for (auto w : widths)
    if (w != dim)
      r.parameters += linearParams(w, dim);
  if (mode == "attention") {
    r.parameters += k * dim + linearParams(dim, dim) + dim;
  } else if (mode == "gate") {
    const int64_t topK = in.params["top_k"];
    if (topK > k)
      return fail("top_k = " + std::to_string(topK) + " exceeds the number of branches (" + std::to_string(k) + ")",
                  "top_k");
    const int64_t gateWidth =
        in.gate ? shapeNumel(*in.gate) : std::accumulate(widths.begin(), widths.end(), int64_t{0});
    r.parameters += k * dim + linearParams(gateWidth, k);
  }
  r.outputs = {{dim}};
  return r;
}

InferResult inferClassifier(const InferInput &in) {
  int64_t classes = in.params["classes"];
  if (classes == 0)
    classes = in.data.classes;
  if (classes < 2)
    return fail("the number of classes is unknown; set \"classes\" or fix the dataset", "classes");
  InferResult r;
  r.parameters = linearParams(shapeNumel(in.inputs.at(0)), classes);
  r.outputs = {{classes}};
  return r;
}

} // namespace

Catalogue::Catalogue() {
  const std::vector<std::string> activations = {"relu", "gelu", "tanh"};
  {
    NodeType t;
    t.type = "Input";
    t.category = "Data";
    t.doc = "The dataset's samples. Shape comes from the dataset.";
    t.minInputs = t.maxInputs = 0;
    t.params = {boolParam("normalize", true, "Standardise with the training set's mean and std")};
    t.infer = inferInput;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Split";
    t.category = "Decompose";
    t.doc = "Cuts the input into parts, one output port per part: image patches, vector chunks or "
            "column groups.";
    t.params = {enumParam("mode", {"patches", "chunks", "columns"}, "How to cut the input"),
                intParam("rows", 2, 1, 64, "patches: rows of the patch grid"),
                intParam("cols", 2, 1, 64, "patches: columns of the patch grid"),
                intParam("parts", 2, 1, 4096, "chunks: number of equal chunks"),
                listParam("sizes", ParamKind::IntList, nullptr, 1, kMaxWidth, "chunks: explicit chunk widths"),
                listParam("groups", ParamKind::IntListList, nullptr, 0, kMaxWidth,
                          "columns: lists of feature indices, one list per part")};
    t.outputCount = splitCount;
    t.infer = inferSplit;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Patchify";
    t.category = "Decompose";
    t.doc = "Turns an image into a sequence of flattened p×p patches (tokens).";
    t.params = {intParam("patch", 7, 1, 1024, "Patch side in pixels")};
    t.infer = inferPatchify;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "MLP";
    t.category = "Sub-models";
    t.doc = "Multi-layer perceptron over the flattened input.";
    t.shareable = t.trunkShareable = true;
    t.params = {listParam("hidden", ParamKind::IntList, Json::array({128}), 1, kMaxWidth, "Hidden layer widths"),
                intParam("out", 64, 1, kMaxWidth, "Output width"),
                enumParam("activation", activations, "Hidden activation"),
                floatParam("dropout", 0.0, 0.0, 0.95, "Dropout after each hidden layer")};
    t.infer = inferMlp;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "ConvNet";
    t.category = "Sub-models";
    t.doc = "Convolutions (same padding, ReLU, optional 2×2 max-pool), then a linear layer.";
    t.shareable = t.trunkShareable = true;
    t.params = {listParam("channels", ParamKind::IntList, Json::array({16, 32}), 1, 4096, "Channels per conv layer"),
                intParam("kernel", 3, 1, 15, "Kernel size"), boolParam("pool", true, "2×2 max-pool after each conv"),
                intParam("out", 64, 1, kMaxWidth, "Output width")};
    t.infer = inferConvNet;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Attention";
    t.category = "Sub-models";
    t.doc = "Transformer encoder (pre-norm multi-head self-attention) over tokens or image patches, mean-pooled. "
            "Records its attention maps for explanations.";
    t.shareable = t.trunkShareable = true;
    t.params = {intParam("dim", 64, 1, 4096, "Model width"), intParam("heads", 4, 1, 64, "Attention heads"),
                intParam("layers", 2, 1, 48, "Encoder layers"), intParam("out", 64, 1, kMaxWidth, "Output width"),
                intParam("patch", 7, 1, 1024, "Patch side when fed an image")};
    t.infer = inferAttention;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Linear";
    t.category = "Layers";
    t.doc = "Affine map of the last dimension.";
    t.shareable = true;
    t.params = {intParam("out", 64, 1, kMaxWidth, "Output width"), boolParam("bias", true, "Learn a bias")};
    t.infer = inferLinear;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Activation";
    t.category = "Layers";
    t.doc = "Element-wise non-linearity.";
    t.params = {enumParam("fn", {"relu", "gelu", "tanh", "sigmoid"}, "Function")};
    t.infer = inferSame;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Dropout";
    t.category = "Layers";
    t.doc = "Zeroes elements with probability p while training.";
    t.params = {floatParam("p", 0.1, 0.0, 0.95, "Drop probability")};
    t.infer = inferSame;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "LayerNorm";
    t.category = "Layers";
    t.doc = "Normalises the last dimension (learned scale and shift).";
    t.infer = inferLayerNorm;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Flatten";
    t.category = "Layers";
    t.doc = "Flattens to a vector.";
    t.infer = inferFlatten;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Combine";
    t.category = "Combine";
    t.doc = "Joins K ≥ 2 branches (one per input port): concat, sum, mean, max, attention over branches, "
            "or a gate (mixture of experts). Explanations are reported per branch.";
    t.minInputs = 2;
    t.maxInputs = -1;
    t.namedInputs = {"gate"};
    t.params = {enumParam("mode", {"concat", "sum", "mean", "max", "attention", "gate"}, "How branches are joined"),
                intParam("dim", 0, 0, kMaxWidth, "Common width branches are projected to (0: automatic)"),
                intParam("top_k", 0, 0, 64, "gate: experts kept per sample (0: all)"),
                floatParam("balance_weight", 0.01, 0.0, 10.0, "gate: weight of the load-balancing loss")};
    t.infer = inferCombine;
    types_.push_back(t);
  }
  {
    NodeType t;
    t.type = "Classifier";
    t.category = "Output";
    t.doc = "Linear layer to class logits; trained with cross-entropy.";
    t.hasOutput = false;
    t.params = {intParam("classes", 0, 0, 100000, "Number of classes (0: from the dataset)")};
    t.infer = inferClassifier;
    types_.push_back(t);
  }
}

const Catalogue &Catalogue::instance() {
  static const Catalogue catalogue;
  return catalogue;
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

Json Catalogue::effectiveParams(const NodeType &type, const Json &given) const {
  Json out = Json::object();
  for (const auto &p : type.params) {
    if (given.is_object() && given.contains(p.name))
      out[p.name] = given[p.name];
    else
      out[p.name] = p.defaultValue;
  }
  return out;
}

namespace {
std::string rangeText(const ParamSpec &s) {
  auto fmt = [&](double v) {
    if (s.kind == ParamKind::Float)
      return Json(v).dump();
    return std::to_string(static_cast<int64_t>(v));
  };
  return "[" + fmt(s.min) + ", " + fmt(s.max) + "]";
}

bool isInteger(const Json &v) {
  if (v.is_number_integer())
    return true;
  return v.is_number_float() && std::floor(v.get<double>()) == v.get<double>();
}
} // namespace

std::string Catalogue::checkParam(const ParamSpec &spec, const Json &value) {
  auto inRange = [&](double v) { return v >= spec.min && v <= spec.max; };
  switch (spec.kind) {
  case ParamKind::Bool:
    if (!value.is_boolean())
      return "must be true or false, got " + value.dump();
    return {};
  case ParamKind::Int:
    if (!isInteger(value))
      return "must be an integer, got " + value.dump();
    if (!inRange(value.get<double>()))
      return "is " + value.dump() + ", outside the allowed range " + rangeText(spec);
    return {};
  case ParamKind::Float:
    if (!value.is_number())
      return "must be a number, got " + value.dump();
    if (!inRange(value.get<double>()))
      return "is " + value.dump() + ", outside the allowed range " + rangeText(spec);
    return {};
  case ParamKind::Enum: {
    std::string list;
    for (const auto &c : spec.choices)
      list += (list.empty() ? "" : ", ") + c;
    if (!value.is_string() ||
        std::find(spec.choices.begin(), spec.choices.end(), value.get<std::string>()) == spec.choices.end())
      return "is " + value.dump() + "; choose one of: " + list;
    return {};
  }
  case ParamKind::IntList:
    if (value.is_null() && spec.defaultValue.is_null())
      return {};
    if (!value.is_array())
      return "must be a list of integers, got " + value.dump();
    for (const auto &v : value) {
      if (!isInteger(v))
        return "must be a list of integers, got " + value.dump();
      if (!inRange(v.get<double>()))
        return "has " + v.dump() + ", outside the allowed range " + rangeText(spec);
    }
    return {};
  case ParamKind::IntListList:
    if (value.is_null() && spec.defaultValue.is_null())
      return {};
    if (!value.is_array())
      return "must be a list of lists of integers, got " + value.dump();
    for (const auto &inner : value) {
      if (!inner.is_array())
        return "must be a list of lists of integers, got " + value.dump();
      for (const auto &v : inner) {
        if (!isInteger(v))
          return "must be a list of lists of integers, got " + value.dump();
        if (!inRange(v.get<double>()))
          return "has " + v.dump() + ", outside the allowed range " + rangeText(spec);
      }
    }
    return {};
  }
  return {};
}

} // namespace particle
