// Embedding: token ids [T] (from a data set of kind text) to vectors [T, dim]. Id 0 is padding and
// stays an all-zero row (no gradient reaches it): the sequence nodes after it (Pool, Attention)
// read all-zero rows as padding, so the mask travels with the tensor.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

namespace particle::nodes {

namespace embedding {

InferResult infer(const InferInput &in) {
  const Shape &x = in.inputs.at(0);
  const auto vocabulary = static_cast<int64_t>(in.data.vocabulary.size());
  if (vocabulary == 0)
    return fail("needs token ids: a data set of kind \"text\" (this one has no vocabulary)");
  if (x.size() != 1)
    return fail("needs token ids [T], got " + shapeToString(x) + " (connect it to the Input or a Split of it)");
  InferResult r;
  const int64_t dim = intParam(in.params, "dim");
  r.outputs = {{x[0], dim}};
  r.parameters = vocabulary * dim;
  r.flops = 0; // a table lookup moves rows: no multiply-adds, whatever the width
  return r;
}

class ModuleImpl : public NodeModuleImpl {
public:
  ModuleImpl(int64_t vocabulary, int64_t dim) {
    table_ =
        register_module("table", torch::nn::Embedding(torch::nn::EmbeddingOptions(vocabulary, dim).padding_idx(0)));
  }
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    const auto ids = in[0].scalar_type() == torch::kLong ? in[0] : in[0].to(torch::kLong);
    return {table_(ids.clamp(0, table_->weight.size(0) - 1))};
  }

private:
  torch::nn::Embedding table_{nullptr};
};

} // namespace embedding

NodeType embeddingNodeType() {
  NodeType t;
  t.keepsTokens = true;
  t.type = "Embedding";
  t.category = "Layers";
  t.color = kLayerColor;
  t.doc = "Token ids [T] to vectors [T, dim], one learned vector per word of the data set's vocabulary; "
          "padding stays zero.";
  t.shareable = true;
  t.params = {width(intField("dim", 64, 1, 4096, "Width of each token's vector"))};
  t.infer = embedding::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    const auto vocabulary = a.data ? static_cast<int64_t>(a.data->vocabulary.size()) : int64_t(0);
    return std::make_shared<embedding::ModuleImpl>(std::max<int64_t>(vocabulary, 2), intParam(a.params, "dim"));
  };
  t.pythonClass = R"PY(
class EmbeddingNode(nn.Module):
    """Token ids [T] to vectors [T, dim]. Id 0 is padding and stays an all-zero row, which the
    sequence nodes after it (Pool, Attention, Conv1d) read as padding."""

    def __init__(self, vocabulary, dim):
        super().__init__()
        self.table = nn.Embedding(vocabulary, dim, padding_idx=0)

    def forward(self, x):
        return self.table(x.long().clamp(0, self.table.num_embeddings - 1))
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    const auto vocabulary = std::max<int64_t>(static_cast<int64_t>(a.data.vocabulary.size()), 2);
    return "EmbeddingNode(" + std::to_string(vocabulary) + ", " + std::to_string(intParam(a.params, "dim")) + ")";
  };
  return t;
}

} // namespace particle::nodes
