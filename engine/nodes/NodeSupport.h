#pragma once
// Small torch-free helpers for the shape rules in engine/nodes/*.cpp.

#include "graph/Catalogue.h"
#include "graph/Validator.h"

#include <string>
#include <vector>

namespace particle::nodes {

// Category colours on the canvas (0xRRGGBB).
inline constexpr uint32_t kDataColor = 0x3b82c4;
inline constexpr uint32_t kDecomposeColor = 0x8e5cc2;
inline constexpr uint32_t kSubModelColor = 0x2e9d6b;
inline constexpr uint32_t kLayerColor = 0x6b7280;
inline constexpr uint32_t kCombineColor = 0xd07a1f;
inline constexpr uint32_t kOutputColor = 0xc23b5a;

// Widest output a param may ask for.
inline constexpr double kMaxWidth = 1 << 20;

inline InferResult fail(std::string message, std::string param = {}) {
  InferResult r;
  r.error = std::move(message);
  r.errorParam = std::move(param);
  return r;
}

// The shape rule of a node whose output has its input's shape (Activation, Dropout, LayerNorm).
inline InferResult sameShape(const InferInput &in) {
  InferResult r;
  r.outputs = {in.inputs.at(0)};
  return r;
}

// Trainable scalars of a linear layer (the one parameter-count rule every node builds on).
inline int64_t linearParams(int64_t in, int64_t out, bool bias = true) {
  return in * out + (bias ? out : 0);
}

// A Linear or convolution layer of the node (`in`: its inputs per output, a convolution's kernel
// included): its trainable scalars, and it joins the layers an adapter adapts.
inline int64_t adaptableLayer(InferResult &r, int64_t in, int64_t out, bool trunk = false, bool bias = true) {
  r.adaptable.push_back(LayerSize{in, out, trunk});
  return linearParams(in, out, bias);
}

// Forward FLOPs of a linear layer applied at `positions` places of one sample (tokens, pixels):
// 2 per multiply-add, 1 per bias added (docs/FORMAT.md "FLOPs per sample").
inline double linearFlops(int64_t in, int64_t out, bool bias = true, int64_t positions = 1) {
  return static_cast<double>(positions) *
         (2.0 * static_cast<double>(in) * static_cast<double>(out) + (bias ? static_cast<double>(out) : 0.0));
}

// Params reach a shape rule only after the schema accepted them, but the readers below never
// throw anyway: a rule that is handed something odd computes with 0 instead of aborting.

// The value of a param, or null when absent (never inserts, never throws).
inline const Json &paramValue(const Json &params, const char *name) {
  static const Json null;
  if (!params.is_object())
    return null;
  const auto it = params.find(name);
  return it == params.end() ? null : *it;
}

// An int param (JSON may hold it as 2.0).
inline int64_t intParam(const Json &params, const char *name) {
  const auto it = params.find(name);
  return it != params.end() && it->is_number() ? static_cast<int64_t>(it->get<double>()) : 0;
}

// An int list param; empty for null.
inline std::vector<int64_t> intList(const Json &j) {
  std::vector<int64_t> out;
  if (j.is_array())
    for (const auto &v : j)
      out.push_back(v.is_number() ? static_cast<int64_t>(v.get<double>()) : 0);
  return out;
}

inline bool boolParam(const Json &params, const char *name) {
  const auto it = params.find(name);
  return it != params.end() && it->is_boolean() && it->get<bool>();
}

inline std::string textParam(const Json &params, const char *name) {
  const auto it = params.find(name);
  return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline bool isImage(const Shape &s) {
  return s.size() == 3;
}

// ---- Python literals for the PyTorch exporter (NodeType::pythonModule) -------------------------

inline std::string pyBool(bool v) {
  return v ? "True" : "False";
}

inline std::string pyInts(const std::vector<int64_t> &v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i)
    out += (i ? ", " : "") + std::to_string(v[i]);
  return out + "]";
}

// A number as Python reads it back exactly (JSON's shortest round-trip form is valid Python).
inline std::string pyNumber(double v) {
  return Json(v).dump();
}

// A string literal (JSON's escapes are valid in Python).
inline std::string pyString(const std::string &v) {
  return Json(v).dump();
}

} // namespace particle::nodes
