// Activation: an element-wise non-linearity.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace activation {

class ModuleImpl : public NodeModuleImpl {
public:
  explicit ModuleImpl(std::string fn) : fn_(std::move(fn)) {}
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    return {activate(in[0], fn_)};
  }

private:
  std::string fn_;
};

} // namespace activation

NodeType activationNodeType() {
  NodeType t;
  t.keepsTokens = true;
  t.type = "Activation";
  t.category = "Layers";
  t.color = kLayerColor;
  t.doc = "Element-wise non-linearity.";
  t.params = {enumField("fn", {"relu", "gelu", "tanh", "sigmoid"}, "Function")};
  t.infer = [](const InferInput &in) {
    InferResult r = sameShape(in);
    r.flops = static_cast<double>(shapeNumel(in.inputs.at(0))); // one function value per element
    return r;
  };
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<activation::ModuleImpl>(textParam(a.params, "fn"));
  };
  t.pythonClass = R"PY(
class ActivationNode(nn.Module):
    """An element-wise non-linearity."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return activate(x, self.fn)
)PY";
  t.pythonModule = [](const PythonArgs &a) { return "ActivationNode(" + pyString(textParam(a.params, "fn")) + ")"; };
  return t;
}

} // namespace particle::nodes
