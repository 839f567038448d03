// MLP: a multi-layer perceptron over the flattened input (a sub-model: hidden layers are the
// trunk, the output layer its own).

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace mlp {

struct Params {
  std::vector<int64_t> hidden;
  int64_t out = 64;
  std::string activation = "relu";
  double dropout = 0;
};

Params parse(const Json &p) {
  Params s;
  s.hidden = intList(paramValue(p, "hidden"));
  s.out = intParam(p, "out");
  s.activation = textParam(p, "activation");
  s.dropout = paramValue(p, "dropout").is_number() ? paramValue(p, "dropout").get<double>() : 0.0;
  return s;
}

InferResult infer(const InferInput &in) {
  const Params s = parse(in.params);
  int64_t prev = shapeNumel(in.inputs.at(0));
  InferResult r;
  for (auto h : s.hidden) {
    r.trunkParameters += adaptableLayer(r, prev, h, true);
    // The layer and its activation; dropout does nothing in inference.
    r.flops += linearFlops(prev, h) + static_cast<double>(h);
    prev = h;
  }
  r.trunkWidth = prev;
  r.parameters = r.trunkParameters + adaptableLayer(r, prev, s.out);
  r.flops += linearFlops(prev, s.out);
  r.outputs = {{s.out}};
  return r;
}

class TrunkModuleImpl : public TrunkImpl {
public:
  TrunkModuleImpl(int64_t in, const Params &p) : activation_(p.activation), dropout_(p.dropout) {
    layers_ = register_module("layers", torch::nn::ModuleList());
    for (auto h : p.hidden) {
      layers_->push_back(torch::nn::Linear(in, h));
      in = h;
    }
  }
  torch::Tensor run(const torch::Tensor &x, NodeContext &) override {
    torch::Tensor h = flat(x);
    for (const auto &layer : *layers_) {
      h = activate(layer->as<torch::nn::Linear>()->forward(h), activation_);
      if (dropout_ > 0)
        h = torch::dropout(h, dropout_, is_training());
    }
    return h;
  }

private:
  torch::nn::ModuleList layers_;
  std::string activation_;
  double dropout_;
};

} // namespace mlp

NodeType mlpNodeType() {
  NodeType t;
  t.type = "MLP";
  t.category = "Sub-models";
  t.color = kSubModelColor;
  t.role = NodeRole::SubModel;
  t.doc = "Multi-layer perceptron over the flattened input.";
  t.shareable = t.trunkShareable = true;
  t.params = {width(listField("hidden", FieldKind::IntList, Json::array({128}), 1, kMaxWidth, "Hidden layer widths")),
              width(intField("out", 64, 1, kMaxWidth, "Output width")),
              enumField("activation", {"relu", "gelu", "tanh"}, "Hidden activation"),
              floatField("dropout", 0.0, 0.0, 0.95, "Dropout after each hidden layer")};
  t.infer = mlp::infer;
  t.build = [](const BuildArgs &a) {
    return makeBlock(
        a, [&] { return std::make_shared<mlp::TrunkModuleImpl>(shapeNumel(a.info.inputs[0]), mlp::parse(a.params)); });
  };
  t.pythonClass = R"PY(
class MLPTrunk(nn.Module):
    """An MLP's hidden layers over the flattened input (its last layer is the Block's head)."""

    def __init__(self, width, hidden, activation, dropout):
        super().__init__()
        self.activation, self.dropout = activation, dropout
        self.layers = nn.ModuleList()
        for h in hidden:
            self.layers.append(nn.Linear(width, h))
            width = h

    def forward(self, x):
        h = flat(x)
        for layer in self.layers:
            h = activate(layer(h), self.activation)
            if self.dropout > 0:
                h = F.dropout(h, self.dropout, self.training)
        return h
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    const mlp::Params p = mlp::parse(a.params);
    const std::string trunk = a.ownsTrunk ? "MLPTrunk(" + std::to_string(shapeNumel(a.info.inputs.at(0))) + ", " +
                                                pyInts(p.hidden) + ", " + pyString(p.activation) + ", " +
                                                pyNumber(p.dropout) + ")"
                                          : std::string("None");
    return "Block(" + trunk + ", " + std::to_string(a.info.trunkWidth) + ", " + std::to_string(p.out) + ")";
  };
  return t;
}

} // namespace particle::nodes
