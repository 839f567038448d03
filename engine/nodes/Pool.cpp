// Pool: tokens [T, D] to one vector [D], the mean or the maximum over the tokens that are not
// padding (all-zero rows, as Embedding leaves them), so that an MLP can follow a sequence.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

#include <limits>

namespace particle::nodes {

namespace pool {

InferResult infer(const InferInput &in) {
  const Shape &x = in.inputs.at(0);
  if (x.size() != 2)
    return fail("needs tokens [T, D], got " + shapeToString(x) + " (e.g. after an Embedding)");
  InferResult r;
  r.outputs = {{x[1]}};
  r.flops = static_cast<double>(x[0]) * x[1]; // each token's features read once
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  explicit ModuleImpl(bool max) : max_(max) {}
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    const auto &x = in[0];                              // [B, T, D]
    const auto mask = tokenMask(x, true).unsqueeze(-1); // [B, T, 1]
    if (max_)
      return {x.masked_fill(mask.logical_not(), -std::numeric_limits<float>::infinity()).amax(1)};
    const auto m = mask.to(x.scalar_type());
    return {(x * m).sum(1) / m.sum(1).clamp_min(1)};
  }

private:
  bool max_;
};

} // namespace pool

NodeType poolNodeType() {
  NodeType t;
  t.type = "Pool";
  t.category = "Layers";
  t.color = kLayerColor;
  t.doc = "Tokens [T, D] to one vector [D]: the mean or the maximum over the tokens, padding left out.";
  t.params = {enumField("mode", {"mean", "max"}, "How the tokens are joined")};
  t.infer = pool::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<pool::ModuleImpl>(textParam(a.params, "mode") == "max");
  };
  t.pythonClass = R"PY(
class PoolNode(nn.Module):
    """Tokens [T, D] to one vector [D]: the mean or the maximum over the tokens that are not
    padding (a sequence of padding only counts every row)."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        mask = token_mask(x, True).unsqueeze(-1)
        if self.mode == "max":
            return x.masked_fill(~mask, float("-inf")).amax(1)
        m = mask.to(x.dtype)
        return (x * m).sum(1) / m.sum(1).clamp_min(1)
)PY";
  t.pythonModule = [](const PythonArgs &a) { return "PoolNode(" + pyString(textParam(a.params, "mode")) + ")"; };
  return t;
}

} // namespace particle::nodes
