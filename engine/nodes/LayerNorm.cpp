// LayerNorm: normalises the last dimension (learned scale and shift).

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace layernorm {

InferResult infer(const InferInput &in) {
  InferResult r = sameShape(in);
  r.parameters = 2 * in.inputs.at(0).back();
  r.flops = static_cast<double>(shapeNumel(in.inputs.at(0)));
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  explicit ModuleImpl(int64_t width)
      : norm_(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})))) {}
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    return {norm_(in[0])};
  }

private:
  torch::nn::LayerNorm norm_;
};

} // namespace layernorm

NodeType layerNormNodeType() {
  NodeType t;
  t.keepsTokens = true;
  t.type = "LayerNorm";
  t.category = "Layers";
  t.color = kLayerColor;
  t.doc = "Normalises the last dimension (learned scale and shift).";
  t.infer = layernorm::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<layernorm::ModuleImpl>(a.info.inputs[0].back());
  };
  t.pythonClass = R"PY(
class LayerNormNode(nn.Module):
    """Normalises the last dimension (learned scale and shift)."""

    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        return self.norm(x)
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    return "LayerNormNode(" + std::to_string(a.info.inputs.at(0).back()) + ")";
  };
  return t;
}

} // namespace particle::nodes
