// Flatten: any sample shape to a vector.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace flatten {

InferResult infer(const InferInput &in) {
  InferResult r;
  r.outputs = {{shapeNumel(in.inputs.at(0))}};
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    return {flat(in[0])};
  }
};

} // namespace flatten

NodeType flattenNodeType() {
  NodeType t;
  t.type = "Flatten";
  t.category = "Layers";
  t.color = kLayerColor;
  t.doc = "Flattens to a vector.";
  t.infer = flatten::infer;
  t.build = [](const BuildArgs &) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<flatten::ModuleImpl>();
  };
  t.pythonClass = R"PY(
class FlattenNode(nn.Module):
    """Any sample shape to a vector."""

    def forward(self, x):
        return flat(x)
)PY";
  t.pythonModule = [](const PythonArgs &) { return std::string("FlattenNode()"); };
  return t;
}

} // namespace particle::nodes
