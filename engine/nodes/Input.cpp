// Input: the data set's samples, optionally standardised with the training set's statistics.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace input {

class ModuleImpl : public NodeModuleImpl {
public:
  ModuleImpl(const Shape &shape, bool normalize) : normalize_(normalize) {
    // Per channel for images, per feature for vectors and tokens.
    std::vector<int64_t> statShape(shape.begin(), shape.end());
    if (shape.size() == 3)
      statShape = {shape[0], 1, 1};
    mean_ = register_buffer("mean", torch::zeros(statShape));
    std_ = register_buffer("std", torch::ones(statShape));
  }
  void fit(const torch::Tensor &x) override {
    torch::NoGradGuard guard;
    if (!x.is_floating_point())
      return; // token ids are names, not quantities
    const auto xf = x.to(torch::kFloat);
    // One sample has no spread: keep the identity rather than divide by zero.
    if (xf.size(0) < 2)
      return;
    if (xf.dim() == 4) {
      mean_.copy_(xf.mean({0, 2, 3}).reshape(mean_.sizes()));
      std_.copy_(xf.std({0, 2, 3}).reshape(std_.sizes()).clamp_min(1e-6));
    } else {
      mean_.copy_(xf.mean(0).reshape(mean_.sizes()));
      std_.copy_(xf.std(0).reshape(std_.sizes()).clamp_min(1e-6));
    }
  }
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    return {normalize_ && in[0].is_floating_point() ? (in[0] - mean_) / std_ : in[0]};
  }

private:
  bool normalize_;
  torch::Tensor mean_, std_;
};

InferResult infer(const InferInput &in) {
  if (in.data.sampleShape.empty())
    return fail("the data set's sample shape is unknown (fix the data set: Data panel or \"dataset\" section)");
  InferResult r;
  r.outputs = {in.data.sampleShape};
  return r;
}

} // namespace input

NodeType inputNodeType() {
  NodeType t;
  t.type = "Input";
  t.category = "Data";
  t.color = kDataColor;
  t.role = NodeRole::DataSource;
  t.doc = "The data set's samples; its shape comes from the data set.";
  t.minInputs = t.maxInputs = 0;
  t.params = {boolField("normalize", true, "Standardise with the training set's mean and std")};
  t.infer = input::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<input::ModuleImpl>(a.info.outputs[0], a.params["normalize"].get<bool>());
  };
  t.pythonClass = R"PY(
class InputNode(nn.Module):
    """The data set's samples, standardised with the training set's mean and std (per channel
    for images, per feature otherwise). Token ids are names, not quantities: they pass as they are."""

    def __init__(self, stat_shape, normalize):
        super().__init__()
        self.normalize = normalize
        self.register_buffer("mean", torch.zeros(stat_shape))
        self.register_buffer("std", torch.ones(stat_shape))

    @torch.no_grad()
    def fit(self, x):
        """Sets mean and std from the training samples (train.py calls it before training)."""
        if not x.is_floating_point() or x.shape[0] < 2:
            return  # one sample has no spread: keep the identity
        x = x.float()
        dims = (0, 2, 3) if x.dim() == 4 else (0,)
        self.mean.copy_(x.mean(dims).reshape(self.mean.shape))
        self.std.copy_(x.std(dims).reshape(self.std.shape).clamp_min(1e-6))

    def forward(self, x):
        if self.normalize and x.is_floating_point():
            return (x - self.mean) / self.std
        return x
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    Shape stat = a.info.outputs.at(0);
    if (stat.size() == 3)
      stat = {stat[0], 1, 1};
    return "InputNode(stat_shape=" + pyInts(stat) + ", normalize=" + pyBool(boolParam(a.params, "normalize")) + ")";
  };
  return t;
}

} // namespace particle::nodes
