// Combine: joins K ≥ 2 branches (one per numbered input port) by concat, sum, mean, max, attention
// over the branches, or a gate (mixture of experts, optionally fed by its own `gate` input).
// Attention and gate add a learned per-branch position embedding: a weighted sum over tied
// sub-models could not otherwise tell which part each one saw.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

#include <cmath>
#include <limits>
#include <numeric>

namespace particle::nodes {

namespace combine {

enum class Mode { Concat, Sum, Mean, Max, Attention, Gate };
const std::vector<std::string> kModeNames = {"concat", "sum", "mean", "max", "attention", "gate"};

struct Params {
  Mode mode = Mode::Concat;
  int64_t dim = 0, topK = 0;
  double balanceWeight = 0.01;
};

Params parse(const Json &p) {
  Params s;
  const std::string mode = textParam(p, "mode");
  for (std::size_t i = 0; i < kModeNames.size(); ++i)
    if (kModeNames[i] == mode)
      s.mode = static_cast<Mode>(i);
  s.dim = intParam(p, "dim");
  s.topK = intParam(p, "top_k");
  const Json &balance = paramValue(p, "balance_weight");
  s.balanceWeight = balance.is_number() ? balance.get<double>() : 0.0;
  return s;
}

InferResult infer(const InferInput &in) {
  const Params s = parse(in.params);
  const int64_t k = static_cast<int64_t>(in.inputs.size());
  std::vector<int64_t> widths;
  for (const auto &shape : in.inputs)
    widths.push_back(shapeNumel(shape));
  if (in.gate && s.mode != Mode::Gate)
    return fail("the `gate` input is only used by mode \"gate\"; disconnect it or change the mode", "mode");
  InferResult r;
  if (s.mode == Mode::Concat) {
    r.outputs = {{std::accumulate(widths.begin(), widths.end(), int64_t{0})}};
    return r;
  }
  int64_t dim = s.dim;
  if (dim == 0) {
    if (std::adjacent_find(widths.begin(), widths.end(), std::not_equal_to<>()) != widths.end()) {
      std::string list;
      for (std::size_t i = 0; i < in.inputs.size(); ++i)
        list += (i ? ", " : "") + shapeToString(in.inputs[i]);
      return fail("branches have different widths (" + list + "); set \"dim\" to project them to a common width",
                  "dim");
    }
    dim = widths.front();
  }
  for (auto w : widths)
    if (w != dim) {
      r.parameters += adaptableLayer(r, w, dim);
      r.flops += linearFlops(w, dim);
    }
  // sum, mean, max: one pass over the K branches; attention and gate: the positions added, the
  // weights found, the weighted sum.
  const double branches = static_cast<double>(k) * dim;
  r.flops += s.mode == Mode::Attention || s.mode == Mode::Gate ? 3 * branches + k : branches;
  if (s.mode == Mode::Attention) {
    r.parameters += k * dim + adaptableLayer(r, dim, dim) + dim;
    r.flops += linearFlops(dim, dim, true, k) + 3 * branches; // the scorer, its tanh, the query product
  } else if (s.mode == Mode::Gate) {
    if (s.topK > k)
      return fail("top_k = " + std::to_string(s.topK) + " exceeds the number of branches (" + std::to_string(k) + ")",
                  "top_k");
    const int64_t gateWidth =
        in.gate ? shapeNumel(*in.gate) : std::accumulate(widths.begin(), widths.end(), int64_t{0});
    r.parameters += k * dim + adaptableLayer(r, gateWidth, k);
    r.flops += linearFlops(gateWidth, k);
  }
  r.outputs = {{dim}};
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  ModuleImpl(const Json &p, const NodeInfo &info) : params_(parse(p)) {
    const int64_t k = static_cast<int64_t>(info.inputs.size());
    if (params_.mode == Mode::Concat)
      return;
    const int64_t dim = info.outputs[0][0];
    for (int64_t i = 0; i < k; ++i) {
      const int64_t w = shapeNumel(info.inputs[i]);
      torch::nn::Linear proj{nullptr};
      if (w != dim)
        proj = register_module("proj" + std::to_string(i), torch::nn::Linear(w, dim));
      projections_.push_back(proj);
    }
    if (params_.mode == Mode::Attention || params_.mode == Mode::Gate)
      position_ = register_parameter("position", torch::randn({k, dim}) * 0.02);
    if (params_.mode == Mode::Attention) {
      scorer_ = register_module("scorer", torch::nn::Linear(dim, dim));
      query_ = register_parameter("query", torch::randn({dim}) * (1.0 / std::sqrt(static_cast<double>(dim))));
    }
    if (params_.mode == Mode::Gate) {
      int64_t g = 0;
      if (info.gate)
        g = shapeNumel(*info.gate);
      else
        for (const auto &s : info.inputs)
          g += shapeNumel(s);
      gateNet_ = register_module("gate", torch::nn::Linear(g, k));
    }
  }

  WeightKind weightKind() const override {
    return params_.mode == Mode::Attention ? WeightKind::Attention
           : params_.mode == Mode::Gate    ? WeightKind::Gate
                                           : WeightKind::None;
  }

  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &gateInput,
                                 NodeContext &ctx) override {
    std::vector<torch::Tensor> flatIn;
    for (const auto &t : in)
      flatIn.push_back(flat(t));
    if (params_.mode == Mode::Concat)
      return {torch::cat(flatIn, 1)};
    std::vector<torch::Tensor> h;
    for (std::size_t i = 0; i < flatIn.size(); ++i)
      h.push_back(projections_[i] ? projections_[i](flatIn[i]) : flatIn[i]);
    torch::Tensor stacked = torch::stack(h, 1); // [B, K, D]
    switch (params_.mode) {
    case Mode::Sum: return {stacked.sum(1)};
    case Mode::Mean: return {stacked.mean(1)};
    case Mode::Max: return {std::get<0>(stacked.max(1))};
    default: break;
    }
    stacked = stacked + position_;
    torch::Tensor weights;
    if (ctx.fixedWeights) {
      weights = *ctx.fixedWeights;
    } else if (params_.mode == Mode::Attention) {
      weights = torch::softmax(torch::matmul(torch::tanh(scorer_(stacked)), query_), 1); // [B, K]
    } else {
      torch::Tensor logits = gateNet_(gateInput.defined() ? flat(gateInput) : torch::cat(flatIn, 1));
      const int64_t k = logits.size(1);
      torch::Tensor probs = torch::softmax(logits, 1);
      const int64_t topK = params_.topK;
      if (topK > 0 && topK < k) {
        auto top = std::get<1>(logits.topk(topK, 1));
        torch::Tensor mask = torch::zeros_like(logits).scatter_(1, top, 1.0);
        weights = torch::softmax(logits.masked_fill(mask == 0, -std::numeric_limits<float>::infinity()), 1);
        // Switch-style balance: K · Σ_k (share of assignments to k) · (mean gate probability of k).
        torch::Tensor load = mask.mean(0) / static_cast<double>(topK);
        ctx.auxLoss = params_.balanceWeight * static_cast<double>(k) * (load * probs.mean(0)).sum();
      } else {
        weights = probs;
        torch::Tensor load = probs.mean(0);
        ctx.auxLoss = params_.balanceWeight * static_cast<double>(k) * (load * load).sum();
      }
    }
    ctx.weights = weights;
    return {(stacked * weights.unsqueeze(2)).sum(1)};
  }

private:
  Params params_;
  std::vector<torch::nn::Linear> projections_;
  torch::Tensor position_, query_;
  torch::nn::Linear scorer_{nullptr}, gateNet_{nullptr};
};

} // namespace combine

NodeType combineNodeType() {
  NodeType t;
  t.type = "Combine";
  t.category = "Combine";
  t.color = kCombineColor;
  t.role = NodeRole::Combiner;
  t.doc = "Joins K ≥ 2 branches (one per input port): concat, sum, mean, max, attention over branches, or a gate "
          "(mixture of experts). Explanations are reported per branch.";
  t.minInputs = 2;
  t.maxInputs = -1;
  t.namedInputs = {"gate"};
  t.params = {
      // The search of decompositions tries four joins: mean is sum divided by K, and max is left to
      // graphs built by hand.
      searched(enumField("mode", combine::kModeNames, "How branches are joined"),
               {"concat", "sum", "attention", "gate"}),
      width(zeroMeans(when(intField("dim", 0, 0, kMaxWidth, "Common width the branches are projected to"), "mode",
                           {"sum", "mean", "max", "attention", "gate"}),
                      "automatic")),
      zeroMeans(when(intField("top_k", 0, 0, 64, "Experts kept per sample"), "mode", {"gate"}), "all"),
      when(floatField("balance_weight", 0.01, 0.0, 10.0, "Weight of the load-balancing loss"), "mode", {"gate"})};
  t.infer = combine::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<combine::ModuleImpl>(a.params, a.info);
  };
  t.pythonClass = R"PY(
class CombineNode(nn.Module):
    """Joins K branches (one per input) into one vector.
    concat: the flattened branches side by side. Otherwise each branch is projected to `dim`
    (a linear layer "proj<k>" only where its width differs) and stacked [B, K, dim]:
    sum / mean / max over K; attention: a learned position per branch is added, scores
    tanh(scorer(h)) · query are softmaxed over K, and the output is the weighted sum;
    gate: the same position, weights softmax(gate(g)) from the `gate` input (or the
    concatenated branches), optionally only the top_k experts per sample, plus a
    load-balancing term in self.aux_loss that training adds to the loss."""

    def __init__(self, mode, widths, dim, top_k=0, balance_weight=0.0, gate_width=0):
        super().__init__()
        self.mode, self.widths, self.dim = mode, widths, dim
        self.top_k, self.balance_weight = top_k, balance_weight
        self.aux_loss = None
        self.weights = None  # the last call's per-branch weights [B, K] (attention, gate)
        if mode == "concat":
            return
        for k, w in enumerate(widths):
            if w != dim:
                setattr(self, "proj%d" % k, nn.Linear(w, dim))
        if mode in ("attention", "gate"):
            self.position = nn.Parameter(torch.randn(len(widths), dim) * 0.02)
        if mode == "attention":
            self.scorer = nn.Linear(dim, dim)
            self.query = nn.Parameter(torch.randn(dim) / math.sqrt(dim))
        if mode == "gate":
            self.gate = nn.Linear(gate_width, len(widths))

    def forward(self, branches, gate=None):
        flats = [flat(b) for b in branches]
        if self.mode == "concat":
            return torch.cat(flats, 1)
        h = [getattr(self, "proj%d" % k)(f) if self.widths[k] != self.dim else f for k, f in enumerate(flats)]
        stacked = torch.stack(h, 1)
        if self.mode == "sum":
            return stacked.sum(1)
        if self.mode == "mean":
            return stacked.mean(1)
        if self.mode == "max":
            return stacked.max(1)[0]
        stacked = stacked + self.position
        if self.mode == "attention":
            weights = torch.softmax(torch.matmul(torch.tanh(self.scorer(stacked)), self.query), 1)
        else:
            logits = self.gate(flat(gate) if gate is not None else torch.cat(flats, 1))
            k = len(self.widths)
            probs = torch.softmax(logits, 1)
            if 0 < self.top_k < k:
                top = logits.topk(self.top_k, 1)[1]
                mask = torch.zeros_like(logits).scatter(1, top, 1.0)
                weights = torch.softmax(logits.masked_fill(mask == 0, float("-inf")), 1)
                load = mask.mean(0) / self.top_k
                self.aux_loss = self.balance_weight * k * (load * probs.mean(0)).sum()
            else:
                weights = probs
                load = probs.mean(0)
                self.aux_loss = self.balance_weight * k * (load * load).sum()
        self.weights = weights
        return (stacked * weights.unsqueeze(2)).sum(1)
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    const combine::Params s = combine::parse(a.params);
    std::vector<int64_t> widths;
    int64_t all = 0;
    for (const auto &in : a.info.inputs) {
      widths.push_back(shapeNumel(in));
      all += widths.back();
    }
    std::string call = "CombineNode(" + pyString(textParam(a.params, "mode")) + ", widths=" + pyInts(widths) +
                       ", dim=" + std::to_string(a.info.outputs.at(0).at(0));
    if (s.mode == combine::Mode::Gate)
      call += ", top_k=" + std::to_string(s.topK) + ", balance_weight=" + pyNumber(s.balanceWeight) +
              ", gate_width=" + std::to_string(a.info.gate ? shapeNumel(*a.info.gate) : all);
    return call + ")";
  };
  return t;
}

} // namespace particle::nodes
