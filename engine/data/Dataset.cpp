#include "data/Dataset.h"

#include <cmath>
#include <random>

namespace particle {

namespace {
// Deterministic permutation from the data set's seed (std::mt19937_64 is the same everywhere).
std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> idx(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    idx[static_cast<std::size_t>(i)] = i;
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    std::uniform_int_distribution<int64_t> pick(0, i);
    std::swap(idx[static_cast<std::size_t>(i)], idx[static_cast<std::size_t>(pick(rng))]);
  }
  return idx;
}

// Splits (x, y) into parts of the given fractions (in order), the rest last.
std::vector<std::pair<torch::Tensor, torch::Tensor>> carve(const torch::Tensor &x, const torch::Tensor &y,
                                                           const std::vector<double> &fractions,
                                                           const std::vector<int64_t> &order) {
  const int64_t n = x.size(0);
  auto perm = torch::tensor(order, torch::kLong);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
  int64_t start = 0;
  for (double f : fractions) {
    const int64_t count = std::min(n - start, static_cast<int64_t>(std::llround(f * static_cast<double>(n))));
    auto idx = perm.narrow(0, start, count);
    out.emplace_back(x.index_select(0, idx), y.index_select(0, idx));
    start += count;
  }
  auto idx = perm.narrow(0, start, n - start);
  out.emplace_back(x.index_select(0, idx), y.index_select(0, idx));
  return out;
}
} // namespace

void Dataset::to(const torch::Device &device) {
  for (auto *t : {&trainX, &trainY, &valX, &valY, &testX, &testY})
    if (t->defined())
      *t = t->to(device);
}

void assignSplits(Dataset &d, const torch::Tensor &x, const torch::Tensor &y, const DatasetSpec &spec, bool needsTest,
                  double testFraction, const std::vector<std::string> *names) {
  const auto perm = permutation(x.size(0), spec.seed);
  if (needsTest) {
    auto parts = carve(x, y, {testFraction, spec.validationFraction}, perm);
    // carve's test part: the first of the permutation
    if (names && static_cast<int64_t>(names->size()) == x.size(0)) {
      d.testNames.clear();
      for (int64_t i = 0; i < parts[0].first.size(0); ++i)
        d.testNames.push_back((*names)[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)])]);
    }
    std::tie(d.testX, d.testY) = parts[0];
    std::tie(d.valX, d.valY) = parts[1];
    std::tie(d.trainX, d.trainY) = parts[2];
  } else {
    auto parts = carve(x, y, {spec.validationFraction}, perm);
    std::tie(d.valX, d.valY) = parts[0];
    std::tie(d.trainX, d.trainY) = parts[1];
  }
  if (spec.limit > 0 && d.trainX.size(0) > spec.limit) {
    d.trainX = d.trainX.narrow(0, 0, spec.limit).contiguous();
    d.trainY = d.trainY.narrow(0, 0, spec.limit).contiguous();
  }
}

namespace {
// Keeps the samples of the `kept` classes in each split, relabelled by their place in `kept`.
void keepClasses(Dataset &d, const std::vector<int64_t> &kept) {
  std::vector<int64_t> map(static_cast<std::size_t>(d.info.classes), -1);
  for (std::size_t i = 0; i < kept.size(); ++i)
    map[static_cast<std::size_t>(kept[i])] = static_cast<int64_t>(i);
  const auto relabel = torch::tensor(map, torch::kLong);
  for (auto [x, y] : {std::pair{&d.trainX, &d.trainY}, {&d.valX, &d.valY}, {&d.testX, &d.testY}}) {
    if (!y->defined())
      continue;
    const auto labels = relabel.index_select(0, *y);
    const auto idx = (labels >= 0).nonzero().flatten();
    if (y == &d.testY && static_cast<int64_t>(d.testNames.size()) == y->size(0)) {
      std::vector<std::string> kept;
      const auto keep = idx.accessor<int64_t, 1>();
      for (int64_t i = 0; i < keep.size(0); ++i)
        kept.push_back(d.testNames[static_cast<std::size_t>(keep[i])]);
      d.testNames = std::move(kept);
    }
    *x = x->index_select(0, idx);
    *y = labels.index_select(0, idx);
  }
  applyClassSelection(d.info, kept);
}
} // namespace

Dataset loadDataset(const DatasetSpec &spec) {
  if (!spec.type || !spec.type->load)
    badDatasetKey("kind", "\"" + spec.kind + "\" cannot be loaded");
  // A class selection or a drawn limit applies to the kind's whole training split, so the kind
  // loads without the limit (and learns what it learns from the data, a text kind's vocabulary,
  // from all of it, as probeDataset does) and the limit is applied here, after the classes.
  const bool here = !spec.selectClasses.empty() || spec.limitSeed != 0;
  DatasetSpec whole = spec;
  if (here)
    whole.limit = 0;
  Dataset d;
  if (!spec.type->loadSetsInfo)
    d.info = spec.type->probe(whole);
  spec.checkCancelled();
  spec.type->load(whole, d);
  spec.checkCancelled();
  if (!spec.selectClasses.empty())
    keepClasses(d, selectedClasses(spec, d.info));
  if (here && spec.limit > 0 && d.trainX.size(0) > spec.limit) {
    const int64_t n = d.trainX.size(0);
    const auto idx = spec.limitSeed == 0
                         ? torch::arange(spec.limit, torch::kLong)
                         : torch::tensor(permutation(n, spec.limitSeed), torch::kLong).narrow(0, 0, spec.limit);
    d.trainX = d.trainX.index_select(0, idx);
    d.trainY = d.trainY.index_select(0, idx);
  }
  d.info.trainCount = d.trainX.size(0);
  d.info.validationCount = d.valX.defined() ? d.valX.size(0) : 0;
  d.info.testCount = d.testX.defined() ? d.testX.size(0) : 0;
  d.description = spec.kind + ": " + std::to_string(d.info.trainCount) + " train, " +
                  std::to_string(d.info.validationCount) + " validation, " + std::to_string(d.info.testCount) +
                  " test, sample " + shapeToString(d.info.sampleShape, !d.info.vocabulary.empty()) + ", " +
                  std::to_string(d.info.classes) + " classes";
  if (!d.notes.empty())
    d.description += "; " + d.notes;
  return d;
}

} // namespace particle
