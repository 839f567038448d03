// Split: cuts its input into parts, one output port per part: image patches (a rows × cols grid),
// vector chunks (equal parts or explicit sizes), column groups (lists of feature indices), text
// fields, or proportional parts of each text's own length (token ids: part k of N holds tokens
// [k·len/N, (k+1)·len/N) of the text's len tokens, left-aligned and padded to ceil(T/N)).
// Every interpretation of the modes lives here: shape rule, part geometry and module.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

#include <algorithm>
#include <numeric>

namespace particle::nodes {

namespace split {

enum class Mode { Patches, Chunks, Columns, Fields, Proportional };

struct Params {
  Mode mode = Mode::Patches;
  int64_t rows = 2, cols = 2, parts = 2;
  std::vector<int64_t> sizes;               // chunks, when given
  std::vector<std::vector<int64_t>> groups; // columns
};

Params parse(const Json &p) {
  Params s;
  const std::string mode = textParam(p, "mode");
  s.mode = mode == "chunks"         ? Mode::Chunks
           : mode == "columns"      ? Mode::Columns
           : mode == "fields"       ? Mode::Fields
           : mode == "proportional" ? Mode::Proportional
                                    : Mode::Patches;
  s.rows = intParam(p, "rows");
  s.cols = intParam(p, "cols");
  s.parts = intParam(p, "parts");
  s.sizes = intList(paramValue(p, "sizes"));
  if (paramValue(p, "groups").is_array())
    for (const auto &g : paramValue(p, "groups"))
      s.groups.push_back(intList(g));
  return s;
}

int64_t partCount(const Params &s) {
  switch (s.mode) {
  case Mode::Patches: return s.rows * s.cols; // both ≤ 64 by the schema
  case Mode::Chunks: return s.sizes.empty() ? s.parts : static_cast<int64_t>(s.sizes.size());
  case Mode::Columns: return static_cast<int64_t>(s.groups.size());
  case Mode::Fields:
  case Mode::Proportional: return s.parts;
  }
  return 0;
}

InferResult infer(const InferInput &in) {
  const Params s = parse(in.params);
  const Shape &x = in.inputs.at(0);
  InferResult r;
  if (s.mode == Mode::Patches) {
    if (!isImage(x))
      return fail("mode \"patches\" needs an image input [C,H,W], got " + shapeToString(x) +
                      "; use mode \"chunks\" or \"columns\" for vectors",
                  "mode");
    if (x[1] % s.rows != 0)
      return fail("height " + std::to_string(x[1]) + " of " + shapeToString(x) +
                      " is not divisible by rows = " + std::to_string(s.rows),
                  "rows");
    if (x[2] % s.cols != 0)
      return fail("width " + std::to_string(x[2]) + " of " + shapeToString(x) +
                      " is not divisible by cols = " + std::to_string(s.cols),
                  "cols");
    r.outputs.assign(static_cast<std::size_t>(s.rows * s.cols), Shape{x[0], x[1] / s.rows, x[2] / s.cols});
    return r;
  }
  if (s.mode == Mode::Fields) {
    // One part per text field of a `text` data set with several (dataset.text_columns).
    const auto fields = static_cast<int64_t>(in.data.featureNames.size());
    if (in.data.vocabulary.empty() || fields < 2 || x.size() != 1)
      return fail("mode \"fields\" needs text with several fields (data kind \"text\" with dataset.text_columns)",
                  "mode");
    if (s.parts != fields) {
      std::string names;
      for (const auto &n : in.data.featureNames)
        names += (names.empty() ? "" : ", ") + n;
      return fail("the data has " + std::to_string(fields) + " text fields (" + names + "); set parts to " +
                      std::to_string(fields),
                  "parts");
    }
    r.outputs.assign(static_cast<std::size_t>(fields), Shape{x[0] / fields});
    return r;
  }
  if (s.mode == Mode::Proportional) {
    // Token ids of one text: each part is a share of the text's own length, padded to ceil(T/parts).
    if (in.data.vocabulary.empty() || x.size() != 1 || in.data.featureNames.size() > 1)
      return fail("mode \"proportional\" needs the token ids of one text field (data kind \"text\" without "
                  "text_columns), got " +
                      shapeToString(x) + "; use mode \"chunks\" for vectors or \"fields\" for text fields",
                  "mode");
    r.outputs.assign(static_cast<std::size_t>(s.parts), Shape{(x[0] + s.parts - 1) / s.parts});
    return r;
  }
  const std::string mode = s.mode == Mode::Chunks ? "chunks" : "columns";
  if (x.size() != 1)
    return fail("mode \"" + mode + "\" needs a vector input [D], got " + shapeToString(x) +
                    " (add a Flatten node first, or use mode \"patches\" for images)",
                "mode");
  const int64_t d = x[0];
  if (s.mode == Mode::Chunks) {
    if (!s.sizes.empty()) {
      int64_t sum = 0;
      for (auto v : s.sizes)
        sum += v; // each ≤ 2^20 by the schema, and at most 4096 of them
      if (sum != d)
        return fail("sizes add up to " + std::to_string(sum) + " but the input has " + std::to_string(d) + " features",
                    "sizes");
      for (auto v : s.sizes)
        r.outputs.push_back({v});
      return r;
    }
    if (paramValue(in.params, "sizes").is_array())
      return fail("\"sizes\" is an empty list; give the widths of the chunks, or leave it out and set \"parts\"",
                  "sizes");
    if (d % s.parts != 0)
      return fail("input width " + std::to_string(d) + " is not divisible by parts = " + std::to_string(s.parts) +
                      " (give explicit \"sizes\" instead)",
                  "parts");
    r.outputs.assign(static_cast<std::size_t>(s.parts), Shape{d / s.parts});
    return r;
  }
  if (s.groups.empty())
    return fail("mode \"columns\" needs \"groups\": lists of feature indices or column names", "groups");
  for (const auto &g : s.groups) {
    if (g.empty())
      return fail("every group in \"groups\" needs at least one feature index", "groups");
    for (auto i : g)
      if (i >= d)
        return fail("feature index " + std::to_string(i) + " is out of range for an input of " + std::to_string(d) +
                        " features",
                    "groups");
    r.outputs.push_back({static_cast<int64_t>(g.size())});
  }
  return r;
}

std::vector<std::vector<int64_t>> partIndices(const Json &params, const Shape &x) {
  const Params s = parse(params);
  std::vector<std::vector<int64_t>> parts;
  if (s.mode == Mode::Patches && isImage(x)) {
    const int64_t c = x[0], h = x[1] / s.rows, w = x[2] / s.cols;
    for (int64_t r = 0; r < s.rows; ++r)
      for (int64_t q = 0; q < s.cols; ++q) {
        std::vector<int64_t> idx;
        idx.reserve(static_cast<std::size_t>(c * h * w));
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t y = 0; y < h; ++y)
            for (int64_t xx = 0; xx < w; ++xx)
              idx.push_back(ch * x[1] * x[2] + (r * h + y) * x[2] + q * w + xx);
        parts.push_back(std::move(idx));
      }
  } else if ((s.mode == Mode::Chunks || s.mode == Mode::Fields) && x.size() == 1) {
    std::vector<int64_t> sizes = s.sizes;
    if (sizes.empty())
      sizes.assign(static_cast<std::size_t>(s.parts), x[0] / s.parts);
    int64_t start = 0;
    for (auto size : sizes) {
      std::vector<int64_t> idx(static_cast<std::size_t>(size));
      std::iota(idx.begin(), idx.end(), start);
      parts.push_back(std::move(idx));
      start += size;
    }
  } else if (s.mode == Mode::Proportional && x.size() == 1) {
    // The geometry of a text that fills all T positions; a shorter text's part k starts at k·len/N
    // (the Explainer maps each sample's own positions through the module itself).
    const int64_t t = x[0], width = (t + s.parts - 1) / s.parts;
    for (int64_t k = 0; k < s.parts; ++k) {
      const int64_t start = k * t / s.parts, end = std::max((k + 1) * t / s.parts, start + 1);
      std::vector<int64_t> idx;
      for (int64_t j = 0; j < width; ++j)
        idx.push_back(std::min(start + j, end - 1)); // slots past the part repeat its last position
      parts.push_back(std::move(idx));
    }
  } else if (s.mode == Mode::Columns) {
    parts = s.groups;
  }
  return parts;
}

// The search's cuts: other grids for patches; equal chunks (and, for token ids, proportional
// shares) for a vector; one part per column for a few columns. `params` are as the user wrote
// them, so a mode left out means patches.
Decompositions decompositions(const Json &params, const Shape &in, bool tokens, int parts) {
  Decompositions d;
  auto &out = d.offered;
  const std::string mode = params.value("mode", std::string("patches"));
  auto add = [&](const std::string &label, Json cut, int count) {
    for (const auto &o : out)
      if (o.label == label)
        return;
    out.push_back({label, std::move(cut), count});
  };
  if (mode == "patches" && in.size() == 3) {
    for (auto [r, c] : std::vector<std::pair<int, int>>{{1, 2}, {2, 1}, {2, 2}, {4, 4}, {7, 7}})
      if (in[1] % r == 0 && in[2] % c == 0 && in[1] / r >= 4 && in[2] / c >= 4)
        add(std::to_string(r) + "x" + std::to_string(c), Json{{"mode", "patches"}, {"rows", r}, {"cols", c}}, r * c);
  } else if ((mode == "chunks" || mode == "columns" || mode == "proportional") && in.size() == 1) {
    for (int p : {2, 3, 4, 8})
      if (in[0] % p == 0 && in[0] / p >= (tokens ? 8 : 1))
        add(std::to_string(p) + " chunks", Json{{"mode", "chunks"}, {"parts", p}}, p);
    // Token ids: also each text cut at its own length.
    for (int p : {2, 3, 4, 8})
      if (tokens && in[0] / p >= 8)
        add(std::to_string(p) + " proportional", Json{{"mode", "proportional"}, {"parts", p}}, p);
    if (mode == "columns" && in[0] <= 16) { // one part per column
      Json groups = Json::array();
      for (int64_t i = 0; i < in[0]; ++i)
        groups.push_back(Json::array({i}));
      add("per column", Json{{"mode", "columns"}, {"groups", groups}}, static_cast<int>(in[0]));
    }
  }
  // The params' own label: an offered cut's when they match it.
  for (const auto &o : out)
    if (o.params == params) {
      d.own = o.label;
      return d;
    }
  // Explicit equal chunk sizes cut the input as `parts` equal chunks do: the same cut.
  if (params.value("mode", std::string()) == "chunks" && params.contains("sizes") && params["sizes"].is_array() &&
      !params["sizes"].empty()) {
    const Json &sizes = params["sizes"];
    if (std::all_of(sizes.begin(), sizes.end(), [&](const Json &v) { return v == sizes.front(); }))
      for (const auto &o : out)
        if (o.params.value("mode", std::string()) == "chunks" && o.parts == static_cast<int>(sizes.size())) {
          d.own = o.label;
          return d;
        }
  }
  d.own = "own " + std::to_string(parts) + " " +
          (mode == "patches"  ? "patches"
           : mode == "fields" ? "fields"
                              : "parts");
  return d;
}

class ModuleImpl : public NodeModuleImpl {
public:
  ModuleImpl(const Json &p, const NodeInfo &info) : params_(parse(p)) {
    if (params_.mode == Mode::Chunks || params_.mode == Mode::Fields || params_.mode == Mode::Proportional) {
      for (const auto &s : info.outputs)
        sizes_.push_back(s[0]);
    } else if (params_.mode == Mode::Columns) {
      int k = 0;
      for (const auto &g : params_.groups)
        indices_.push_back(register_buffer("group" + std::to_string(k++), torch::tensor(g, torch::kLong)));
    }
  }
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    const torch::Tensor &x = in[0];
    std::vector<torch::Tensor> out;
    switch (params_.mode) {
    case Mode::Patches: {
      const int64_t h = x.size(2) / params_.rows, w = x.size(3) / params_.cols;
      for (int64_t r = 0; r < params_.rows; ++r)
        for (int64_t c = 0; c < params_.cols; ++c)
          out.push_back(x.narrow(2, r * h, h).narrow(3, c * w, w));
      break;
    }
    case Mode::Chunks:
    case Mode::Fields: {
      int64_t start = 0;
      for (auto s : sizes_) {
        out.push_back(x.narrow(1, start, s));
        start += s;
      }
      break;
    }
    case Mode::Columns:
      for (const auto &idx : indices_)
        out.push_back(x.index_select(1, idx));
      break;
    case Mode::Proportional: {
      // A text's length: its last non-padding position + 1 (padding is id 0, at the end).
      const int64_t t = x.size(1), n = params_.parts, width = sizes_.at(0);
      const auto longOpts = x.options().dtype(torch::kLong);
      const auto len = ((x != 0).to(torch::kLong) * torch::arange(1, t + 1, longOpts)).amax(1, true); // [B, 1]
      const auto j = torch::arange(width, longOpts).unsqueeze(0);                                     // [1, W]
      for (int64_t k = 0; k < n; ++k) {
        const auto start = torch::div(len * k, n, "floor");
        const auto size = torch::div(len * (k + 1), n, "floor") - start;
        const auto at = (start + j).clamp_max(t - 1);
        out.push_back(x.gather(1, at) * j.lt(size).to(x.scalar_type()));
      }
      break;
    }
    }
    return out;
  }

private:
  Params params_;
  std::vector<int64_t> sizes_;
  std::vector<torch::Tensor> indices_;
};

// Groups name features by index or by column name (validation resolves names against the data; a
// categorical column stands for all its one-hot features).
Field groupsField() {
  Field f = listField("groups", FieldKind::IntListList, nullptr, 0, kMaxWidth,
                      "Lists of feature indices or column names (a categorical column: all its one-hot features), "
                      "one list per part");
  f.placeholder = "e.g. temp_max, temp_min; wind; 0, 3";
  return f;
}
bool cutsEachSample(const Json &params) {
  return parse(params).mode == Mode::Proportional;
}

// Patches, the default, cut only images: a vector or a text's token ids connected to a Split
// whose mode was never chosen are cut in chunks.
Json paramsForInput(const Json &given, const Shape &input) {
  if ((given.is_object() && given.contains("mode")) || input.size() != 1)
    return Json::object();
  return Json{{"mode", "chunks"}};
}

} // namespace split

NodeType splitNodeType() {
  NodeType t;
  t.keepsTokens = true;
  t.type = "Split";
  t.category = "Decompose";
  t.color = kDecomposeColor;
  t.role = NodeRole::Decomposer;
  t.doc = "Cuts the input into parts, one output port per part: image patches, vector chunks, column groups, text "
          "fields, or equal shares of each text's own length.";
  t.params = {
      enumField("mode", {"patches", "chunks", "columns", "fields", "proportional"},
                "How to cut the input (fields: one part per text field of the data; proportional: each text "
                "in parts of its own length, each padded to ceil(max_tokens / parts))"),
      when(intField("rows", 2, 1, 64, "Rows of the patch grid"), "mode", {"patches"}),
      when(intField("cols", 2, 1, 64, "Columns of the patch grid"), "mode", {"patches"}),
      when(intField("parts", 2, 1, 4096,
                    "Number of equal chunks (when no sizes are given), of text fields, or of shares of each text"),
           "mode", {"chunks", "fields", "proportional"}),
      when(listField("sizes", FieldKind::IntList, nullptr, 1, kMaxWidth, "Explicit chunk widths (instead of parts)"),
           "mode", {"chunks"}),
      when(split::groupsField(), "mode", {"columns"}),
  };
  t.outputCount = [](const Json &p) {
    return static_cast<int>(std::min<int64_t>(split::partCount(split::parse(p)), 1 << 20));
  };
  t.infer = split::infer;
  t.partIndices = split::partIndices;
  t.decompositions = split::decompositions;
  t.cutsEachSample = split::cutsEachSample;
  t.paramsForInput = split::paramsForInput;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<split::ModuleImpl>(a.params, a.info);
  };
  t.pythonClass = R"PY(
class SplitNode(nn.Module):
    """Cuts each sample into parts, one output per part:
    "patches" a rows × cols grid of image tiles (row-major), "chunks"/"fields" consecutive
    slices of a vector of the given sizes, "columns" the listed feature indices per part,
    "proportional" part k of len(sizes) holds token ids [k*n//N, (k+1)*n//N) of a text of n
    tokens (n: its last non-zero position + 1), left-aligned and zero-padded to sizes[k]."""

    def __init__(self, mode, grid=None, tile=None, sizes=None, groups=None):
        super().__init__()
        self.mode = mode
        self.grid, self.tile, self.sizes = grid, tile, sizes
        for k, group in enumerate(groups or []):
            self.register_buffer("group%d" % k, torch.tensor(group, dtype=torch.long))
        self.parts = len(groups or [])

    def forward(self, x):
        if self.mode == "patches":
            (rows, cols), (h, w) = self.grid, self.tile
            return [x[:, :, r * h:(r + 1) * h, c * w:(c + 1) * w] for r in range(rows) for c in range(cols)]
        if self.mode in ("chunks", "fields"):
            return list(torch.split(x, self.sizes, dim=1))
        if self.mode == "proportional":
            t, n = x.shape[1], len(self.sizes)
            length = ((x != 0).long() * torch.arange(1, t + 1, device=x.device)).amax(1, keepdim=True)
            j = torch.arange(self.sizes[0], device=x.device).unsqueeze(0)
            parts = []
            for k in range(n):
                start = torch.div(length * k, n, rounding_mode="floor")
                size = torch.div(length * (k + 1), n, rounding_mode="floor") - start
                parts.append(x.gather(1, (start + j).clamp(max=t - 1)) * (j < size).to(x.dtype))
            return parts
        return [x.index_select(1, getattr(self, "group%d" % k)) for k in range(self.parts)]
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    const split::Params s = split::parse(a.params);
    const std::string mode = pyString(textParam(a.params, "mode"));
    const Shape &x = a.info.inputs.at(0);
    if (s.mode == split::Mode::Patches)
      return "SplitNode(" + mode + ", grid=(" + std::to_string(s.rows) + ", " + std::to_string(s.cols) + "), tile=(" +
             std::to_string(x[1] / s.rows) + ", " + std::to_string(x[2] / s.cols) + "))";
    if (s.mode == split::Mode::Columns) {
      std::string groups = "[";
      for (std::size_t k = 0; k < s.groups.size(); ++k)
        groups += (k ? ", " : "") + pyInts(s.groups[k]);
      return "SplitNode(" + mode + ", groups=" + groups + "])";
    }
    std::vector<int64_t> sizes;
    for (const auto &o : a.info.outputs)
      sizes.push_back(o.at(0));
    return "SplitNode(" + mode + ", sizes=" + pyInts(sizes) + ")";
  };
  return t;
}

} // namespace particle::nodes
