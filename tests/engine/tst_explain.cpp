// Explanations: completeness, exactness on a linear combiner, batch invariance, ground truth,
// symmetry, sanity under re-initialisation, attention rollout, integrated gradients.

#include "TestSupport.h"
#include "explain/ContributionHook.h"
#include "explain/Explainer.h"
#include "explain/Saliency.h"
#include "recipes/ExplainSession.h"
#include "train/Trainer.h"

#include <QtTest>

#include <set>

using namespace particle;
using namespace particle::test;

namespace {
torch::Tensor randomBatch(const Shape &sample, int64_t n) {
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), sample.begin(), sample.end());
  return torch::rand(shape);
}

double spearman(const torch::Tensor &a, const torch::Tensor &b) {
  auto rank = [](const torch::Tensor &t) { return std::get<1>(t.flatten().argsort().sort()).to(torch::kDouble); };
  auto ra = rank(a), rb = rank(b);
  ra = ra - ra.mean();
  rb = rb - rb.mean();
  return ((ra * rb).sum() / (ra.norm() * rb.norm())).item<double>();
}

// Linear sub-models: the whole model is affine in every branch input.
Json linearProject() {
  Json doc = baseProject();
  for (int i = 2; i <= 5; ++i) {
    doc["nodes"][i]["type"] = "Linear";
    doc["nodes"][i]["params"] = {{"out", 8}};
  }
  return doc;
}
} // namespace

class TestExplain : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { torch::manual_seed(1); }
  void gaussLegendreIsExact();
  void completeness_data();
  void completeness();
  void sampledShapleyKeepsCompleteness();
  void linearCombinerIsExact_data();
  void linearCombinerIsExact();
  void disconnectedBranchGetsZero();
  void batchInvariance();
  void tiedBranchesWithSameInputAreSymmetric();
  void groundTruthOnSyntheticData();
  void reinitialisationChangesExplanations();
  void attentionAndRollout();
  void integratedGradientsConverge();
  void gateKeepsOrRenormalisesWeights();
  void trainerReportsShares();
  void explainedSamplesSpanTheClasses();
};

void TestExplain::gaussLegendreIsExact() {
  const auto [x, w] = gaussLegendre01(32);
  double sum = 0, poly = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sum += w[i];
    poly += w[i] * std::pow(x[i], 9);
  }
  QVERIFY(std::abs(sum - 1.0) < 1e-13);
  QVERIFY(std::abs(poly - 0.1) < 1e-13); // ∫₀¹ x⁹ dx
}

void TestExplain::completeness_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QString>("baseline");
  for (const char *name : kExamples)
    for (const char *baseline : {"mean", "zero", "background"})
      QTest::newRow((std::string(name) + "/" + baseline).c_str()) << QString(name) << QString(baseline);
}

void TestExplain::completeness() {
  QFETCH(QString, name);
  QFETCH(QString, baseline);
  const Project project = loadProject(examplePath(name.toStdString()));
  ParticleModel model(project);
  const Shape sample = model->validation().data.sampleShape;
  ExplainOptions opt;
  opt.baseline = parseBaseline(baseline.toStdString());
  Explainer explainer(model, randomBatch(sample, 64), opt);
  const Explanation e = explainer.explain(randomBatch(sample, 9));
  QVERIFY(!e.combines.empty());
  for (const auto &c : e.combines) {
    QVERIFY(c.exact);
    const double tolerance = 1e-4 * (1 + c.fx.abs().max().item<double>());
    QVERIFY2(c.completenessMaxError <= tolerance, std::to_string(c.completenessMaxError).c_str());
    QCOMPARE(c.phi.sizes().vec(), (std::vector<int64_t>{9, static_cast<int64_t>(c.branches.size())}));
  }
}

void TestExplain::sampledShapleyKeepsCompleteness() {
  ParticleModel model(loadProject(examplePath("synthetic-parts")));
  ExplainOptions opt;
  opt.maxExactBranches = 2; // force sampling with K = 4
  opt.permutations = 64;
  const auto reference = torch::randn({50, 32});
  Explainer sampled(model, reference, opt);
  const auto x = torch::randn({7, 32});
  const Explanation e = sampled.explain(x);
  const auto &c = e.combines.at(0);
  QVERIFY(!c.exact);
  QVERIFY(c.standardError.defined());
  QVERIFY(c.completenessMaxError <= 1e-4 * (1 + c.fx.abs().max().item<double>()));
  // And it estimates the exact values within a few standard errors.
  Explainer exact(model, reference);
  const auto truth = exact.explain(x).combines.at(0).phi;
  const auto gap = (c.phi - truth).abs() - (5 * c.standardError + 1e-5);
  QVERIFY(gap.max().item<double>() <= 0);
}

void TestExplain::linearCombinerIsExact_data() {
  QTest::addColumn<QString>("method");
  QTest::newRow("shapley") << "shapley";
  QTest::newRow("ablation") << "ablation";
  QTest::newRow("gradxact") << "gradxact";
}

void TestExplain::linearCombinerIsExact() {
  QFETCH(QString, method);
  ParticleModel model(projectFromJson(baseProject(), "t.json")); // concat → Classifier (linear)
  ExplainOptions opt;
  opt.method = parseMethod(method.toStdString());
  opt.baseline = ExplainBaseline::Zero;
  Explainer explainer(model, {}, opt);
  const auto x = torch::randn({6, 32});
  const Explanation e = explainer.explain(x);
  torch::NoGradGuard noGrad;
  model->eval();
  const auto out = model->forward(x);
  const auto w = model->named_parameters()["head.linear.weight"]; // [classes, 32]
  const auto &c = e.combines.at(0);
  const char *branches[] = {"a", "b", "c", "d"};
  for (int k = 0; k < 4; ++k) {
    const auto h = out.outputs.at(branches[k])[0];                    // [6, 8]
    const auto wk = w.narrow(1, 8 * k, 8).index_select(0, e.targets); // [6, 8]
    const auto expected = (wk * h).sum(1);
    QVERIFY2(torch::allclose(c.phi.select(1, k), expected, 1e-5, 1e-5), branches[k]);
  }
}

void TestExplain::disconnectedBranchGetsZero() {
  ParticleModel model(projectFromJson(baseProject(), "t.json"));
  {
    torch::NoGradGuard noGrad;
    model->named_parameters()["head.linear.weight"].narrow(1, 24, 8).zero_(); // branch d reaches nothing
  }
  for (const char *method : {"shapley", "ablation", "gradxact"}) {
    ExplainOptions opt;
    opt.method = parseMethod(method);
    Explainer explainer(model, torch::randn({40, 32}), opt);
    const auto phi = explainer.explain(torch::randn({5, 32})).combines.at(0).phi;
    QVERIFY2(phi.select(1, 3).abs().max().item<double>() < 1e-6, method);
    QVERIFY(phi.select(1, 0).abs().max().item<double>() > 1e-6);
  }
}

void TestExplain::batchInvariance() {
  ParticleModel model(loadProject(examplePath("fashion-patches")));
  const auto reference = randomBatch({1, 28, 28}, 32);
  Explainer explainer(model, reference);
  const auto batch = randomBatch({1, 28, 28}, 6);
  const auto together = explainer.explain(batch).combines.at(0).phi;
  for (int64_t i = 0; i < 6; ++i) {
    const auto alone = explainer.explain(batch.narrow(0, i, 1)).combines.at(0).phi;
    QVERIFY(torch::allclose(alone[0], together[i], 1e-4, 1e-5));
  }
}

void TestExplain::tiedBranchesWithSameInputAreSymmetric() {
  Json doc = baseProject();
  doc["nodes"][6]["params"] = {{"mode", "mean"}}; // a symmetric combiner
  ParticleModel model(projectFromJson(doc, "t.json"));
  auto x = torch::randn({5, 32});
  x.narrow(1, 8, 8).copy_(x.narrow(1, 0, 8)); // parts 0 and 1 identical: a and b (tied) see the same
  auto reference = torch::randn({40, 32});
  reference.narrow(1, 8, 8).copy_(reference.narrow(1, 0, 8)); // and so do their baselines
  for (const char *method : {"shapley", "ablation", "gradxact"}) {
    ExplainOptions opt;
    opt.method = parseMethod(method);
    Explainer explainer(model, reference, opt);
    const auto phi = explainer.explain(x).combines.at(0).phi;
    QVERIFY2(torch::allclose(phi.select(1, 0), phi.select(1, 1), 1e-5, 1e-6), method);
  }
}

void TestExplain::groundTruthOnSyntheticData() {
  Json doc = baseProject();
  doc["dataset"] = Json::parse(
      R"({"kind":"synthetic","parts":4,"part_dim":8,"informative":[0,2],"classes":4,"samples":5000,"noise":0.0})");
  for (int i = 2; i <= 5; ++i)
    doc["nodes"][i].erase("share");
  doc["training"] = {{"epochs", 12}, {"batch_size", 64}, {"lr", 0.003}, {"threads", 2}, {"seed", 0}};
  Trainer trainer(projectFromJson(doc, "gt.json"), TrainOptions{});
  const RunSummary s = trainer.run();
  QVERIFY2(s.testAccuracy > 0.85, std::to_string(s.testAccuracy).c_str());
  ParticleModel model = trainer.model();
  Explainer explainer(model, trainer.data().trainX);
  const Explanation e = explainer.explain(trainer.data().testX.narrow(0, 0, 500));
  const auto agg = Explainer::aggregate(e.combines.at(0), e.targets, 4);
  QCOMPARE(agg[1].branch, std::string("b"));
  QVERIFY2(agg[1].share < 0.05, std::to_string(agg[1].share).c_str()); // part 1: uninformative
  QVERIFY2(agg[3].share < 0.05, std::to_string(agg[3].share).c_str()); // part 3: uninformative
  QVERIFY(agg[0].share > 0.3 && agg[2].share > 0.3);
}

void TestExplain::reinitialisationChangesExplanations() {
  Json doc = linearProject();
  doc["dataset"] = Json::parse(
      R"({"kind":"synthetic","parts":4,"part_dim":8,"informative":[0,2],"classes":4,"samples":4000,"noise":0.0})");
  doc["training"] = {{"epochs", 8}, {"batch_size", 64}, {"lr", 0.003}, {"threads", 2}};
  Trainer trainer(projectFromJson(doc, "sanity.json"), TrainOptions{});
  trainer.run();
  const auto x = trainer.data().testX.narrow(0, 0, 64);
  ParticleModel trained = trainer.model();
  Explainer a(trained, trainer.data().trainX);
  const auto ea = a.explain(x);
  const auto igA = a.integratedGradients(x, ea.targets, "combine");
  torch::manual_seed(12345);
  ParticleModel fresh(projectFromJson(doc, "sanity.json"));
  fresh->fitNormalization(trainer.data().trainX);
  Explainer b(fresh, trainer.data().trainX);
  const auto eb = b.explain(x);
  const auto igB = b.integratedGradients(x, ea.targets, "combine");
  torch::Tensor mapA = torch::zeros({32}), mapB = torch::zeros({32});
  for (std::size_t i = 0; i < igA.size(); ++i) {
    mapA += igA[i].map.abs().mean(0);
    mapB += igB[i].map.abs().mean(0);
  }
  const double rho = spearman(mapA, mapB);
  QVERIFY2(rho < 0.5, std::to_string(rho).c_str());
}

void TestExplain::attentionAndRollout() {
  ParticleModel model(loadProject(examplePath("fashion-tokens")));
  Explainer explainer(model, {});
  const auto maps = explainer.attentionMaps(randomBatch({1, 28, 28}, 3));
  QCOMPARE(static_cast<int>(maps.size()), 2);
  for (const auto &[node, layers] : maps) {
    for (const auto &a : layers)
      QVERIFY(torch::allclose(a.sum(-1), torch::ones({3, 4, 8}), 1e-5, 1e-6));
    const auto rolled = Explainer::rollout(layers);
    QCOMPARE(rolled.sizes().vec(), (std::vector<int64_t>{3, 8, 8}));
    QVERIFY(torch::allclose(rolled.sum(-1), torch::ones({3, 8}), 1e-5, 1e-6));
    const auto tokens = Explainer::tokenImportance(rolled);
    QCOMPARE(tokens.sizes().vec(), (std::vector<int64_t>{3, 8})); // one value per token
    QVERIFY(torch::allclose(tokens.sum(-1), torch::ones({3}), 1e-5, 1e-6));
  }
}

void TestExplain::integratedGradientsConverge() {
  ParticleModel model(projectFromJson(linearProject(), "lin.json"));
  Explainer explainer(model, {});
  const auto x = torch::randn({4, 32});
  const auto targets = torch::tensor({0, 1, 2, 3}, torch::kLong);
  const auto sal = explainer.integratedGradients(x, targets, "combine");
  QCOMPARE(static_cast<int>(sal.size()), 4);
  for (const auto &s : sal) {
    QVERIFY2(s.delta.abs().max().item<double>() <= 1e-5, s.branch.c_str());
    QCOMPARE(s.input.node, std::string("split"));
    QCOMPARE(s.map.sizes().vec(), (std::vector<int64_t>{4, 32}));
  }
  // Branch c reads part 2: its map is zero outside features 16..23.
  const auto &c = sal[2];
  QVERIFY(c.map.narrow(1, 0, 16).abs().max().item<double>() == 0);
  QVERIFY(c.map.narrow(1, 16, 8).abs().max().item<double>() > 0);
  // Stitching patches back into an image.
  ParticleModel image(loadProject(examplePath("fashion-patches")));
  Explainer imageExplainer(image, {});
  const auto imgs = randomBatch({1, 28, 28}, 2);
  const auto patches = imageExplainer.integratedGradients(imgs, torch::tensor({1, 2}, torch::kLong), "combine");
  QCOMPARE(patches[3].map.sizes().vec(), (std::vector<int64_t>{2, 1, 28, 28}));
  QVERIFY(patches[3].map.narrow(2, 0, 14).abs().max().item<double>() == 0); // bottom-right patch only
  QVERIFY(patches[3].map.narrow(2, 14, 14).narrow(3, 14, 14).abs().max().item<double>() > 0);
}

void TestExplain::gateKeepsOrRenormalisesWeights() {
  ParticleModel model(loadProject(examplePath("synthetic-parts")));
  const auto x = torch::randn({5, 32});
  for (bool renormalize : {false, true}) {
    ExplainOptions opt;
    opt.renormalizeGates = renormalize;
    Explainer explainer(model, torch::randn({30, 32}), opt);
    const auto e = explainer.explain(x);
    const auto &c = e.combines.at(0);
    QVERIFY(c.weights.defined());
    QVERIFY(torch::allclose(c.weights.sum(1), torch::ones({5}), 1e-5, 1e-6));
    QVERIFY(c.completenessMaxError <= 1e-4 * (1 + c.fx.abs().max().item<double>()));
  }
}

void TestExplain::trainerReportsShares() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"threads", 1}, {"contribution_samples", 64}};
  TrainOptions options;
  options.epochHooks.push_back(contributionSharesHook());
  Trainer trainer(projectFromJson(doc, "t.json"), options);
  struct Grab : TrainObserver {
    std::vector<BranchShare> shares;
    void onEpoch(const EpochEvent &e) override { shares = e.shares; }
  } grab;
  trainer.run(&grab);
  QCOMPARE(static_cast<int>(grab.shares.size()), 4);
  double sum = 0;
  for (const auto &s : grab.shares)
    sum += s.share;
  QVERIFY(std::abs(sum - 1.0) < 1e-9);
}

// A folder data set's test split is class by class: the first N explained samples still cover
// every class, in proportion to its size, the same every time, and test sample 0 comes first.
void TestExplain::explainedSamplesSpanTheClasses() {
  // 3 classes stored one after another: 6 of class 2, then 3 of class 0, then 3 of class 1.
  const auto labels = torch::tensor(std::vector<int64_t>{2, 2, 2, 2, 2, 2, 0, 0, 0, 1, 1, 1}, torch::kLong);
  const std::vector<int64_t> order = explainOrder(labels);
  QCOMPARE(order, (std::vector<int64_t>{0, 6, 9, 1, 2, 7, 10, 3, 4, 8, 11, 5}));
  QCOMPARE(explainOrder(labels), order);
  std::set<int64_t> firstThree;
  for (int i = 0; i < 3; ++i)
    firstThree.insert(labels[order[i]].item<int64_t>());
  QCOMPARE(firstThree.size(), std::size_t(3));
  // A shuffled split keeps each class's samples in their order.
  QCOMPARE(explainOrder(torch::tensor(std::vector<int64_t>{1, 0, 1, 0}, torch::kLong)),
           (std::vector<int64_t>{0, 1, 2, 3}));
}

QTEST_GUILESS_MAIN(TestExplain)
#include "tst_explain.moc"
