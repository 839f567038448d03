// Attention: a transformer encoder (pre-norm multi-head self-attention) over tokens or image
// patches, mean-pooled, then a linear layer. Records its attention maps for explanations.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

#include <cmath>
#include <limits>

namespace particle::nodes {

namespace attention {

struct Params {
  int64_t dim = 64, heads = 4, layers = 2, out = 64, patch = 7;
};

Params parse(const Json &p) {
  return Params{intParam(p, "dim"), intParam(p, "heads"), intParam(p, "layers"), intParam(p, "out"),
                intParam(p, "patch")};
}

// The token grid the encoder sees: [T, D].
Shape tokensOf(const Shape &input, int64_t patch) {
  if (input.size() == 3)
    return {(input[1] / patch) * (input[2] / patch), input[0] * patch * patch};
  if (input.size() == 1)
    return {1, input[0]}; // a vector is one token
  return input;
}

InferResult infer(const InferInput &in) {
  const Params s = parse(in.params);
  const Shape &x = in.inputs.at(0);
  if (isImage(x)) {
    if (x[1] % s.patch != 0 || x[2] % s.patch != 0)
      return fail("image " + shapeToString(x) + " is not divisible into " + std::to_string(s.patch) + "×" +
                      std::to_string(s.patch) + " patches",
                  "patch");
  } else if (x.size() != 1 && x.size() != 2) {
    return fail("needs tokens [T,D] or an image [C,H,W], got " + shapeToString(x));
  }
  const Shape tokens = tokensOf(x, s.patch);
  const int64_t t = tokens[0], d = tokens[1], dim = s.dim;
  if (dim % s.heads != 0)
    return fail("dim = " + std::to_string(dim) + " is not divisible by heads = " + std::to_string(s.heads), "heads");
  InferResult r;
  int64_t trunk = adaptableLayer(r, d, dim, true) + t * dim;
  for (int64_t l = 0; l < s.layers; ++l)
    trunk += 2 * dim + adaptableLayer(r, dim, 3 * dim, true) + adaptableLayer(r, dim, dim, true) + 2 * dim +
             adaptableLayer(r, dim, 2 * dim, true) + adaptableLayer(r, 2 * dim, dim, true);
  trunk += 2 * dim;
  r.trunkParameters = trunk;
  r.trunkWidth = dim;
  r.parameters = trunk + adaptableLayer(r, dim, s.out);
  // Token embedding and positions; per layer the two norms, q/k/v, the scores and their softmax
  // (per head), the weighted values, the projection, the 2× GELU MLP and two residual sums; then
  // the mean over tokens, the norm and the last layer.
  const double td = static_cast<double>(t) * dim, scores = static_cast<double>(t) * t;
  const double layer = 2 * td + linearFlops(dim, 3 * dim, true, t) + 2 * scores * dim + 2 * scores * s.heads +
                       2 * scores * dim + linearFlops(dim, dim, true, t) + linearFlops(dim, 2 * dim, true, t) + 2 * td +
                       linearFlops(2 * dim, dim, true, t) + 2 * td;
  r.flops = linearFlops(d, dim, true, t) + td + s.layers * layer + td + dim + linearFlops(dim, s.out);
  r.outputs = {{s.out}};
  return r;
}

// Pre-norm encoder layer with its own multi-head attention, so the weights can be returned.
class EncoderLayerImpl : public torch::nn::Module {
public:
  EncoderLayerImpl(int64_t dim, int64_t heads) : heads_(heads) {
    ln1_ = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    qkv_ = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
    proj_ = register_module("proj", torch::nn::Linear(dim, dim));
    ln2_ = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    fc1_ = register_module("fc1", torch::nn::Linear(dim, 2 * dim));
    fc2_ = register_module("fc2", torch::nn::Linear(2 * dim, dim));
  }
  // `keep` [B, T] (or undefined): the tokens that may be attended to; padding is not.
  torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &keep, torch::Tensor *attention) {
    const int64_t b = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads_;
    auto qkv = qkv_(ln1_(x)).reshape({b, t, 3, heads_, hd}).permute({2, 0, 3, 1, 4});
    auto q = qkv[0], k = qkv[1], v = qkv[2];
    auto logits = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd));
    if (keep.defined())
      logits = logits.masked_fill(keep.logical_not().view({b, 1, 1, t}), -std::numeric_limits<float>::infinity());
    auto att = torch::softmax(logits, -1);
    if (attention)
      *attention = att;
    auto y = torch::matmul(att, v).transpose(1, 2).reshape({b, t, d});
    auto h = x + proj_(y);
    return h + fc2_(torch::gelu(fc1_(ln2_(h))));
  }

private:
  int64_t heads_;
  torch::nn::LayerNorm ln1_{nullptr}, ln2_{nullptr};
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(EncoderLayer);

class TrunkModuleImpl : public TrunkImpl {
public:
  TrunkModuleImpl(const Shape &input, const Params &p) {
    if (input.size() == 3)
      patch_ = p.patch;
    const Shape tokens = tokensOf(input, p.patch);
    embed_ = register_module("embed", torch::nn::Linear(tokens[1], p.dim));
    pos_ = register_parameter("pos", torch::randn({tokens[0], p.dim}) * 0.02);
    layers_ = register_module("layers", torch::nn::ModuleList());
    for (int64_t i = 0; i < p.layers; ++i)
      layers_->push_back(EncoderLayer(p.dim, p.heads));
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({p.dim})));
  }
  torch::Tensor run(const torch::Tensor &x, NodeContext &ctx) override {
    torch::Tensor t = x;
    if (patch_ > 0)
      t = patchify(x, patch_);
    else if (x.dim() == 2)
      t = x.unsqueeze(1);
    // Tokens from an Embedding: all-zero rows are padding, neither attended to nor pooled.
    torch::Tensor keep;
    if (patch_ == 0 && x.dim() == 3)
      keep = tokenMask(t, true); // [B, T]
    torch::Tensor h = embed_(t) + pos_;
    for (const auto &layer : *layers_) {
      torch::Tensor att;
      h = layer->as<EncoderLayer>()->forward(h, keep, ctx.recordAttention ? &att : nullptr);
      if (ctx.recordAttention && ctx.attention)
        ctx.attention->push_back(att);
    }
    if (!keep.defined())
      return norm_(h.mean(1));
    const auto m = keep.unsqueeze(-1).to(h.scalar_type());
    return norm_((h * m).sum(1) / m.sum(1).clamp_min(1));
  }

private:
  int64_t patch_ = 0;
  torch::nn::Linear embed_{nullptr};
  torch::Tensor pos_;
  torch::nn::ModuleList layers_;
  torch::nn::LayerNorm norm_{nullptr};
};

} // namespace attention

NodeType attentionNodeType() {
  NodeType t;
  t.type = "Attention";
  t.category = "Sub-models";
  t.color = kSubModelColor;
  t.role = NodeRole::SubModel;
  t.doc = "Transformer encoder (pre-norm multi-head self-attention) over tokens or image patches, mean-pooled. "
          "Records its attention maps for explanations.";
  t.shareable = t.trunkShareable = true;
  t.params = {width(intField("dim", 64, 1, 4096, "Model width")), intField("heads", 4, 1, 64, "Attention heads"),
              intField("layers", 2, 1, 48, "Encoder layers"), width(intField("out", 64, 1, kMaxWidth, "Output width")),
              intField("patch", 7, 1, 1024, "Patch side when fed an image")};
  t.infer = attention::infer;
  t.build = [](const BuildArgs &a) {
    return makeBlock(
        a, [&] { return std::make_shared<attention::TrunkModuleImpl>(a.info.inputs[0], attention::parse(a.params)); });
  };
  t.pythonClass = R"PY(
class EncoderLayer(nn.Module):
    """Pre-norm transformer encoder layer: multi-head self-attention, then a 2× GELU MLP."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, x, keep=None):
        b, t, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        logits = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(hd)
        if keep is not None:  # padding tokens are not attended to
            logits = logits.masked_fill(~keep.view(b, 1, 1, t), float("-inf"))
        attention = torch.softmax(logits, -1)
        y = torch.matmul(attention, v).transpose(1, 2).reshape(b, t, d)
        h = x + self.proj(y)
        return h + self.fc2(F.gelu(self.fc1(self.ln2(h))))


class AttentionTrunk(nn.Module):
    """A transformer encoder over tokens [T, D], image patches or a vector (one token),
    with a learned position per token, mean-pooled over the tokens that are not padding."""

    def __init__(self, input_shape, dim, heads, layers, patch):
        super().__init__()
        self.patch = patch if len(input_shape) == 3 else 0
        if len(input_shape) == 3:
            tokens, width = (input_shape[1] // patch) * (input_shape[2] // patch), input_shape[0] * patch * patch
        elif len(input_shape) == 1:
            tokens, width = 1, input_shape[0]
        else:
            tokens, width = input_shape
        self.embed = nn.Linear(width, dim)
        self.pos = nn.Parameter(torch.randn(tokens, dim) * 0.02)
        self.layers = nn.ModuleList([EncoderLayer(dim, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        keep = None
        if self.patch > 0:
            t = patchify(x, self.patch)
        elif x.dim() == 2:
            t = x.unsqueeze(1)
        else:
            t = x
            keep = token_mask(t, True)
        h = self.embed(t) + self.pos
        for layer in self.layers:
            h = layer(h, keep)
        if keep is None:
            return self.norm(h.mean(1))
        m = keep.unsqueeze(-1).to(h.dtype)
        return self.norm((h * m).sum(1) / m.sum(1).clamp_min(1))
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    const attention::Params p = attention::parse(a.params);
    const std::string trunk = a.ownsTrunk ? "AttentionTrunk(" + pyInts(a.info.inputs.at(0)) + ", " +
                                                std::to_string(p.dim) + ", " + std::to_string(p.heads) + ", " +
                                                std::to_string(p.layers) + ", " + std::to_string(p.patch) + ")"
                                          : std::string("None");
    return "Block(" + trunk + ", " + std::to_string(a.info.trunkWidth) + ", " + std::to_string(p.out) + ")";
  };
  return t;
}

} // namespace particle::nodes
