// Classifier: a linear layer to class logits; the graph's loss is cross-entropy on them.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace classifier {

InferResult infer(const InferInput &in) {
  int64_t classes = intParam(in.params, "classes");
  if (classes == 0)
    classes = in.data.classes;
  if (classes < 2)
    return fail("the number of classes is unknown; set \"classes\" or fix the data set", "classes");
  InferResult r;
  r.parameters = adaptableLayer(r, shapeNumel(in.inputs.at(0)), classes);
  r.flops = linearFlops(shapeNumel(in.inputs.at(0)), classes);
  r.outputs = {{classes}};
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  ModuleImpl(int64_t in, int64_t classes) : linear_(register_module("linear", torch::nn::Linear(in, classes))) {}
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    return {linear_(flat(in[0]))};
  }

private:
  torch::nn::Linear linear_;
};

} // namespace classifier

NodeType classifierNodeType() {
  NodeType t;
  t.type = "Classifier";
  t.category = "Output";
  t.color = kOutputColor;
  t.role = NodeRole::Output;
  t.doc = "Linear layer to class logits; trained with cross-entropy.";
  t.hasOutput = false;
  t.params = {zeroMeans(intField("classes", 0, 0, 100000, "Number of classes"), "from data")};
  t.infer = classifier::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<classifier::ModuleImpl>(shapeNumel(a.info.inputs[0]), a.info.outputs[0][0]);
  };
  t.pythonClass = R"PY(
class ClassifierNode(nn.Module):
    """A linear layer to class logits (trained with cross-entropy)."""

    def __init__(self, width, classes):
        super().__init__()
        self.linear = nn.Linear(width, classes)

    def forward(self, x):
        return self.linear(flat(x))
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    return "ClassifierNode(" + std::to_string(shapeNumel(a.info.inputs.at(0))) + ", " +
           std::to_string(a.info.outputs.at(0).at(0)) + ")";
  };
  return t;
}

} // namespace particle::nodes
