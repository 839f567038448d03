// Linear: an affine map of the last dimension.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace linear {

InferResult infer(const InferInput &in) {
  Shape x = in.inputs.at(0);
  const int64_t out = intParam(in.params, "out");
  InferResult r;
  r.parameters = adaptableLayer(r, x.back(), out, false, boolParam(in.params, "bias"));
  r.flops = linearFlops(x.back(), out, boolParam(in.params, "bias"), x.back() > 0 ? shapeNumel(x) / x.back() : 0);
  x.back() = out;
  r.outputs = {x};
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  ModuleImpl(int64_t in, int64_t out, bool bias)
      : linear_(register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)))) {}
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    return {linear_(in[0])};
  }

private:
  torch::nn::Linear linear_;
};

} // namespace linear

NodeType linearNodeType() {
  NodeType t;
  t.keepsTokens = true;
  t.type = "Linear";
  t.category = "Layers";
  t.color = kLayerColor;
  t.doc = "Affine map of the last dimension.";
  t.shareable = true;
  t.params = {width(intField("out", 64, 1, kMaxWidth, "Output width")), boolField("bias", true, "Learn a bias")};
  t.infer = linear::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<linear::ModuleImpl>(a.info.inputs[0].back(), intParam(a.params, "out"),
                                                boolParam(a.params, "bias"));
  };
  t.pythonClass = R"PY(
class LinearNode(nn.Module):
    """An affine map of the last dimension."""

    def __init__(self, width, out, bias):
        super().__init__()
        self.linear = nn.Linear(width, out, bias=bias)

    def forward(self, x):
        return self.linear(x)
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    return "LinearNode(" + std::to_string(a.info.inputs.at(0).back()) + ", " +
           std::to_string(intParam(a.params, "out")) + ", bias=" + pyBool(boolParam(a.params, "bias")) + ")";
  };
  return t;
}

} // namespace particle::nodes
