// Dropout: zeroes elements with probability p while training.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace dropout {

class ModuleImpl : public NodeModuleImpl {
public:
  explicit ModuleImpl(double p) : p_(p) {}
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    return {torch::dropout(in[0], p_, is_training())};
  }

private:
  double p_;
};

} // namespace dropout

NodeType dropoutNodeType() {
  NodeType t;
  t.keepsTokens = true;
  t.type = "Dropout";
  t.category = "Layers";
  t.color = kLayerColor;
  t.doc = "Zeroes elements with probability p while training.";
  t.params = {floatField("p", 0.1, 0.0, 0.95, "Drop probability")};
  t.infer = sameShape;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<dropout::ModuleImpl>(paramValue(a.params, "p").get<double>());
  };
  t.pythonClass = R"PY(
class DropoutNode(nn.Module):
    """Zeroes elements with probability p while training."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    return "DropoutNode(" + pyNumber(paramValue(a.params, "p").get<double>()) + ")";
  };
  return t;
}

} // namespace particle::nodes
