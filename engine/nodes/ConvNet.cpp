// ConvNet: convolutions (same padding, ReLU, optional 2×2 max-pool), the last feature map
// flattened or pooled over its positions, then a linear layer.

#include "model/NodeModule.h"
#include "nodes/ChannelsLastPool.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace convnet {

struct Params {
  std::vector<int64_t> channels;
  int64_t kernel = 3, out = 64;
  bool pool = true;
  // "flatten" (every position its own weights), "mean" or "max" (over the last map's H × W: the same
  // weights wherever a pattern sits, e.g. a word that starts later in a clip).
  std::string reduce = "flatten";
};

Params parse(const Json &p) {
  const std::string reduce = textParam(p, "reduce");
  return Params{intList(paramValue(p, "channels")), intParam(p, "kernel"), intParam(p, "out"), boolParam(p, "pool"),
                reduce.empty() ? "flatten" : reduce};
}

InferResult infer(const InferInput &in) {
  const Params s = parse(in.params);
  const Shape &x = in.inputs.at(0);
  if (!isImage(x))
    return fail("needs an image input [C,H,W], got " + shapeToString(x) + "; use an MLP for vectors");
  int64_t c = x[0], h = x[1], w = x[2];
  InferResult r;
  for (auto ch : s.channels) {
    r.trunkParameters += adaptableLayer(r, c * s.kernel * s.kernel, ch, true);
    h = h + 2 * (s.kernel / 2) - s.kernel + 1;
    w = w + 2 * (s.kernel / 2) - s.kernel + 1;
    // The kernel at every output pixel, then the ReLU and the pool reading each of them once.
    r.flops += linearFlops(c * s.kernel * s.kernel, ch, true, h * w) + (s.pool ? 2.0 : 1.0) * ch * h * w;
    c = ch;
    if (s.pool) {
      h /= 2;
      w /= 2;
    }
    if (h < 1 || w < 1)
      return fail("image " + shapeToString(x) + " is too small for " + std::to_string(s.channels.size()) +
                      " conv layers" + (s.pool ? " with pooling" : ""),
                  "channels");
  }
  const bool pooled = s.reduce != "flatten";
  if (pooled)
    r.flops += static_cast<double>(c * h * w); // the global pool reads each value once
  r.trunkWidth = pooled ? c : c * h * w;
  r.parameters = r.trunkParameters + adaptableLayer(r, r.trunkWidth, s.out);
  r.flops += linearFlops(r.trunkWidth, s.out);
  r.outputs = {{s.out}};
  return r;
}

class TrunkModuleImpl : public TrunkImpl {
public:
  TrunkModuleImpl(int64_t in, const Params &p) : pool_(p.pool), reduce_(p.reduce) {
    layers_ = register_module("layers", torch::nn::ModuleList());
    for (auto c : p.channels) {
      torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, c, p.kernel).padding(p.kernel / 2));
      // Channels-last weights make oneDNN compute the activations channels-last too (NHWC), faster
      // here in both precisions (bench_step --compare); the same computation in another layout.
      // Copied into channels-last strides rather than `.contiguous(ChannelsLast)`, a no-op where
      // the layout is ambiguous (one input channel: a grey image's first layer stayed NCHW, and
      // so did its pool).
      const torch::Tensor w = conv->weight.data();
      conv->weight.set_data(torch::empty_like(w, at::MemoryFormat::ChannelsLast).copy_(w));
      layers_->push_back(conv);
      in = c;
    }
  }
  torch::Tensor run(const torch::Tensor &x, NodeContext &) override {
    // relu(pool(h)) is pool(relu(h)) (the ReLU is monotone), on a quarter of the values: in the
    // pool's own pass (ChannelsLastPool), or in place, as nothing else reads the convolution's
    // output. A first layer on images (few channels, no gradient wanted for them) takes the
    // convolution into that pass too (convReluPool2x2). Measured in bench_step.
    torch::Tensor h = x;
    for (const auto &layer : *layers_) {
      const auto conv = layer->as<torch::nn::Conv2d>();
      if (pool_) {
        h = convReluPool2x2(h, conv->weight, conv->bias);
      } else {
        h = conv->forward(h);
        torch::relu_(h);
      }
    }
    if (reduce_ == "mean")
      return h.mean({2, 3});
    if (reduce_ == "max")
      return h.amax({2, 3});
    return flat(h);
  }

private:
  torch::nn::ModuleList layers_;
  bool pool_;
  std::string reduce_;
};

} // namespace convnet

NodeType convNetNodeType() {
  NodeType t;
  t.type = "ConvNet";
  t.category = "Sub-models";
  t.color = kSubModelColor;
  t.role = NodeRole::SubModel;
  t.doc = "Convolutions (same padding, ReLU, optional 2×2 max-pool), the last feature map flattened or pooled over "
          "its positions (`reduce`), then a linear layer.";
  t.shareable = t.trunkShareable = true;
  t.params = {
      width(listField("channels", FieldKind::IntList, Json::array({16, 32}), 1, 4096, "Channels per conv layer")),
      intField("kernel", 3, 1, 15, "Kernel size"), boolField("pool", true, "2×2 max-pool after each conv"),
      width(intField("out", 64, 1, kMaxWidth, "Output width")),
      enumField("reduce", {"flatten", "mean", "max"},
                "The last feature map: flattened (a weight per position) or its mean or max over H × W per channel "
                "(the same weights wherever a pattern sits)")};
  t.infer = convnet::infer;
  t.build = [](const BuildArgs &a) {
    return makeBlock(
        a, [&] { return std::make_shared<convnet::TrunkModuleImpl>(a.info.inputs[0][0], convnet::parse(a.params)); });
  };
  t.pythonClass = R"PY(
class ConvNetTrunk(nn.Module):
    """Convolutions (same padding, ReLU, optional 2×2 max-pool), flattened or pooled over H × W
    (the last linear layer is the Block's head)."""

    def __init__(self, in_channels, channels, kernel, pool, reduce="flatten"):
        super().__init__()
        self.pool = pool
        self.reduce = reduce
        self.layers = nn.ModuleList()
        for c in channels:
            self.layers.append(nn.Conv2d(in_channels, c, kernel, padding=kernel // 2))
            in_channels = c

    def forward(self, x):
        h = x
        for layer in self.layers:
            h = torch.relu(layer(h))
            if self.pool:
                h = F.max_pool2d(h, 2)
        if self.reduce == "mean":
            return h.mean((2, 3))
        if self.reduce == "max":
            return h.amax((2, 3))
        return flat(h)
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    const convnet::Params p = convnet::parse(a.params);
    const std::string trunk = a.ownsTrunk
                                  ? "ConvNetTrunk(" + std::to_string(a.info.inputs.at(0).at(0)) + ", " +
                                        pyInts(p.channels) + ", " + std::to_string(p.kernel) + ", " + pyBool(p.pool) +
                                        (p.reduce == "flatten" ? "" : ", \"" + p.reduce + "\"") + ")"
                                  : std::string("None");
    return "Block(" + trunk + ", " + std::to_string(a.info.trunkWidth) + ", " + std::to_string(p.out) + ")";
  };
  return t;
}

} // namespace particle::nodes
