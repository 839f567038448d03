// Patchify: an image as a sequence of flattened p×p patches (tokens).

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace patchify_node {

InferResult infer(const InferInput &in) {
  const Shape &x = in.inputs.at(0);
  const int64_t p = intParam(in.params, "patch");
  if (!isImage(x))
    return fail("needs an image input [C,H,W], got " + shapeToString(x));
  if (x[1] % p != 0 || x[2] % p != 0)
    return fail("image " + shapeToString(x) + " is not divisible into " + std::to_string(p) + "×" + std::to_string(p) +
                    " patches",
                "patch");
  InferResult r;
  r.outputs = {{(x[1] / p) * (x[2] / p), x[0] * p * p}};
  r.flops = 0; // a reshape: the pixels move, nothing is computed
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  explicit ModuleImpl(int64_t patch) : patch_(patch) {}
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    return {patchify(in[0], patch_)};
  }

private:
  int64_t patch_;
};

} // namespace patchify_node

NodeType patchifyNodeType() {
  NodeType t;
  t.type = "Patchify";
  t.category = "Decompose";
  t.color = kDecomposeColor;
  t.doc = "Turns an image into a sequence of flattened p×p patches (tokens).";
  t.params = {intField("patch", 7, 1, 1024, "Patch side in pixels")};
  t.infer = patchify_node::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<patchify_node::ModuleImpl>(intParam(a.params, "patch"));
  };
  t.pythonClass = R"PY(
class PatchifyNode(nn.Module):
    """An image as a sequence of flattened p×p patches (tokens), row-major over the grid."""

    def __init__(self, patch):
        super().__init__()
        self.patch = patch

    def forward(self, x):
        return patchify(x, self.patch)
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    return "PatchifyNode(" + std::to_string(intParam(a.params, "patch")) + ")";
  };
  return t;
}

} // namespace particle::nodes
