// Conv1d: a convolution along the tokens, [T, D] to [T, channels] (same length, ReLU), for
// sequences from an Embedding. Padding (all-zero rows) stays all-zero in the output, so a Pool or
// Attention after it still leaves it out.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace conv1d {

InferResult infer(const InferInput &in) {
  const Shape &x = in.inputs.at(0);
  if (x.size() != 2)
    return fail("needs tokens [T, D], got " + shapeToString(x) + " (e.g. after an Embedding)");
  const int64_t channels = intParam(in.params, "channels"), kernel = intParam(in.params, "kernel");
  if (kernel % 2 == 0)
    return fail("kernel = " + std::to_string(kernel) + " must be odd (the output keeps the input's length)", "kernel");
  InferResult r;
  r.outputs = {{x[0], channels}};
  r.parameters = adaptableLayer(r, x[1] * kernel, channels);
  // The convolution at every token (padding included, as it is computed), its ReLU and the mask.
  r.flops = linearFlops(x[1] * kernel, channels, true, x[0]) + 2.0 * x[0] * channels;
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  ModuleImpl(int64_t in, int64_t channels, int64_t kernel) {
    conv_ =
        register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(in, channels, kernel).padding(kernel / 2)));
  }
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    const auto &x = in[0];                                                   // [B, T, D]
    const auto keep = tokenMask(x, false).unsqueeze(-1).to(x.scalar_type()); // [B, T, 1]
    const auto y = torch::relu(conv_(x.transpose(1, 2))).transpose(1, 2);
    return {y * keep};
  }

private:
  torch::nn::Conv1d conv_{nullptr};
};

} // namespace conv1d

NodeType conv1dNodeType() {
  NodeType t;
  t.keepsTokens = true;
  t.type = "Conv1d";
  t.category = "Layers";
  t.color = kLayerColor;
  t.doc = "Convolution along the tokens ([T, D] to [T, channels], ReLU, same length); padding stays padding.";
  t.shareable = true;
  t.params = {width(intField("channels", 64, 1, 4096, "Output channels per token")),
              intField("kernel", 3, 1, 63, "Tokens each output sees (odd)")};
  t.infer = conv1d::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<conv1d::ModuleImpl>(a.info.inputs.at(0).at(1), intParam(a.params, "channels"),
                                                intParam(a.params, "kernel"));
  };
  t.pythonClass = R"PY(
class Conv1dNode(nn.Module):
    """A convolution along the tokens, [T, D] to [T, channels] (same length, ReLU); padding
    rows (all zero) stay all zero."""

    def __init__(self, width, channels, kernel):
        super().__init__()
        self.conv = nn.Conv1d(width, channels, kernel, padding=kernel // 2)

    def forward(self, x):
        keep = token_mask(x, False).unsqueeze(-1).to(x.dtype)
        return torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2) * keep
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    return "Conv1dNode(" + std::to_string(a.info.inputs.at(0).at(1)) + ", " +
           std::to_string(intParam(a.params, "channels")) + ", " + std::to_string(intParam(a.params, "kernel")) + ")";
  };
  return t;
}

} // namespace particle::nodes
