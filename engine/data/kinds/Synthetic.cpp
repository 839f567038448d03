// Kind "synthetic": Gaussian vectors made of `parts` parts; the label depends only on the
// `informative` parts, which gives explanations a known ground truth.

#include "data/Dataset.h"

#include <ATen/CPUGeneratorImpl.h>

namespace particle {

namespace synthetic {

DataInfo probe(const DatasetSpec &spec) {
  DataInfo info;
  info.sampleShape = {spec.integer("parts") * spec.integer("part_dim")};
  info.classes = spec.integer("classes");
  setSplitCounts(info, spec, spec.integer("samples"), spec.number("test_fraction"));
  return info;
}

std::vector<int64_t> informative(const DatasetSpec &spec) {
  std::vector<int64_t> parts;
  for (const auto &v : spec.value("informative"))
    parts.push_back(v.get<int64_t>());
  return parts;
}

void load(const DatasetSpec &spec, Dataset &out) {
  auto gen = at::detail::createCPUGenerator(spec.seed);
  const int64_t n = spec.integer("samples"), d = spec.integer("part_dim"), k = spec.integer("classes");
  const int64_t parts = spec.integer("parts");
  auto x = torch::randn({n, parts * d}, gen);
  auto scores = torch::zeros({n, k});
  for (auto p : informative(spec)) {
    auto w = torch::randn({d, k}, gen);
    scores += x.narrow(1, p * d, d).matmul(w);
  }
  if (spec.number("noise") > 0)
    scores += spec.number("noise") * torch::randn({n, k}, gen);
  assignSplits(out, x, scores.argmax(1), spec, true, spec.number("test_fraction"));
}

} // namespace synthetic

DataKind syntheticDataKind() {
  DataKind k;
  k.name = "synthetic";
  k.doc = "Generated vectors of `parts` parts; the label depends only on the informative parts (a known ground "
          "truth for explanations).";
  Field informative = listField("informative", FieldKind::IntList, Json::array({0}), 0, 1023,
                                "Parts that determine the label (0-based)");
  informative.placeholder = "e.g. 0, 2";
  k.keys = {intField("parts", 4, 1, 1024, "Number of parts"),
            intField("part_dim", 8, 1, 1 << 16, "Features per part"),
            informative,
            intField("classes", 2, 2, 100000, "Number of classes"),
            intField("samples", 4000, 10, 10000000, "Number of samples"),
            floatField("noise", 0.0, 0.0, 1e6, "Label noise (std of a random score added)"),
            floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing")};
  k.check = [](const DatasetSpec &s) {
    if (s.value("informative").empty())
      badDatasetKey("informative", "must list at least one part");
    for (auto i : synthetic::informative(s))
      if (i >= s.integer("parts"))
        badDatasetKey("informative", "part " + std::to_string(i) +
                                         " does not exist (parts = " + std::to_string(s.integer("parts")) + ")");
  };
  k.probe = synthetic::probe;
  k.load = synthetic::load;
  return k;
}

} // namespace particle
