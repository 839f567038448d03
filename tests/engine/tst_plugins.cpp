// One place is enough: a node type defined in this test file alone (its schema, shape rule,
// parameter count and module) appears in the catalogue, validates, builds and trains. Likewise a
// data kind defined here loads and trains.

#include "TestSupport.h"
#include "data/Dataset.h"
#include "project/ProjectCheck.h"
#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"
#include "train/Trainer.h"

#include <QtTest>

using namespace particle;
using namespace particle::test;

namespace {

// "Scale": multiplies its input by a learned vector (one weight per feature) and an optional
// learned offset.
class ScaleImpl : public NodeModuleImpl {
public:
  ScaleImpl(int64_t width, bool offset) {
    scale_ = register_parameter("scale", torch::ones({width}));
    if (offset)
      offset_ = register_parameter("offset", torch::zeros({width}));
  }
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    torch::Tensor y = flat(in[0]) * scale_;
    return {offset_.defined() ? y + offset_ : y};
  }

private:
  torch::Tensor scale_, offset_;
};

NodeType scaleNodeType() {
  NodeType t;
  t.type = "Scale";
  t.category = "Layers";
  t.doc = "Multiplies each feature by a learned weight.";
  t.params = {boolField("offset", true, "Also learn an offset per feature")};
  t.infer = [](const InferInput &in) {
    InferResult r;
    const int64_t width = shapeNumel(in.inputs.at(0));
    r.outputs = {{width}};
    r.parameters = width * (nodes::boolParam(in.params, "offset") ? 2 : 1);
    return r;
  };
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    return std::make_shared<ScaleImpl>(shapeNumel(a.info.inputs.at(0)), nodes::boolParam(a.params, "offset"));
  };
  return t;
}

// "stripes": vectors whose label is the stripe (0, 1 or 2) holding the largest value.
DataKind stripesDataKind() {
  DataKind k;
  k.name = "stripes";
  k.doc = "Three stripes of four features; the label is the stripe with the largest value.";
  k.keys = {intField("samples", 600, 30, 100000, "Samples"),
            floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing")};
  k.probe = [](const DatasetSpec &s) {
    DataInfo info;
    info.sampleShape = {12};
    info.classes = 3;
    info.classNames = {"left", "middle", "right"};
    setSplitCounts(info, s, s.integer("samples"), s.number("test_fraction"));
    return info;
  };
  k.load = [](const DatasetSpec &s, Dataset &d) {
    torch::manual_seed(static_cast<uint64_t>(s.seed));
    auto x = torch::rand({s.integer("samples"), 12});
    auto y = std::get<1>(x.reshape({-1, 3, 4}).amax(2).max(1));
    assignSplits(d, x, y, s, true, s.number("test_fraction"));
  };
  return k;
}

Json projectWithScale() {
  Json doc = baseProject();
  doc["nodes"].push_back({{"id", "scale"}, {"type", "Scale"}, {"params", {{"offset", true}}}});
  // combine → scale → head
  for (auto &e : doc["edges"])
    if (e["from"] == "combine")
      e["to"] = "scale";
  doc["edges"].push_back({{"from", "scale"}, {"to", "head"}});
  doc["training"] = {{"epochs", 2}, {"threads", 1}, {"lr", 0.01}};
  return doc;
}

} // namespace

class TestPlugins : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase();
  void nodeTypeFromOneFileIsCatalogued();
  void nodeTypeValidatesWithItsShapeRule();
  void nodeTypeBuildsAndCountsMatch();
  void nodeTypeTrains();
  void dataKindFromOneFileTrains();
};

void TestPlugins::initTestCase() {
  Catalogue::add(scaleNodeType());
  DataKinds::add(stripesDataKind());
}

void TestPlugins::nodeTypeFromOneFileIsCatalogued() {
  const NodeType *t = Catalogue::instance().find("Scale");
  QVERIFY(t);
  QCOMPARE(t->category, std::string("Layers"));
  QVERIFY(t->param("offset"));
  QVERIFY(hasModuleFactory("Scale"));
  QVERIFY(Catalogue::instance().names().find("Scale") != std::string::npos);
}

void TestPlugins::nodeTypeValidatesWithItsShapeRule() {
  const Validation v = validate(projectFromJson(projectWithScale(), "scale.json"));
  for (const auto &p : v.problems)
    qWarning() << p.format("scale").c_str();
  QVERIFY(v.ok());
  QCOMPARE(v.info("scale")->outputs.at(0), Shape({32}));
  QCOMPARE(v.info("scale")->parameters, int64_t{64});
  // Its schema is checked like any built-in's.
  Json bad = projectWithScale();
  bad["nodes"].back()["params"]["offset"] = 3;
  const Validation w = validate(projectFromJson(bad, "bad.json"));
  QVERIFY(!w.ok());
  QVERIFY(w.has(ProblemCode::BadParam));
}

void TestPlugins::nodeTypeBuildsAndCountsMatch() {
  ParticleModel model(projectFromJson(projectWithScale(), "scale.json"));
  int64_t numel = 0;
  for (const auto &p : model->nodeModule("scale")->parameters())
    numel += p.numel();
  QCOMPARE(numel, model->validation().info("scale")->parameters);
  model->eval();
  const auto out = model->forward(torch::rand({3, 32}));
  QCOMPARE(out.outputs.at("scale").at(0).sizes().vec(), (std::vector<int64_t>{3, 32}));
}

void TestPlugins::nodeTypeTrains() {
  Trainer trainer(projectFromJson(projectWithScale(), "scale.json"), TrainOptions{});
  const RunSummary s = trainer.run();
  QVERIFY2(!s.failed(), s.message.c_str());
  QCOMPARE(s.epochs, 2);
  // The new type's own weights moved.
  const auto scale = trainer.model()->nodeModule("scale")->named_parameters()["scale"];
  QVERIFY((scale - torch::ones_like(scale)).abs().max().item<double>() > 1e-4);
}

void TestPlugins::dataKindFromOneFileTrains() {
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "stripes"}, {"samples", 3000}};
  doc["nodes"][1]["params"] = {{"mode", "chunks"}, {"parts", 4}}; // 12 features → 4 × [3]
  doc["training"] = {{"epochs", 10}, {"threads", 1}, {"lr", 0.01}};
  const Project project = projectFromJson(doc, "stripes.json");
  const Validation v = validate(project);
  QVERIFY(v.ok());
  QCOMPARE(v.data.classNames, (std::vector<std::string>{"left", "middle", "right"}));
  QCOMPARE(v.data.trainCount + v.data.validationCount + v.data.testCount, int64_t{3000});
  Trainer trainer(project, TrainOptions{});
  const RunSummary s = trainer.run();
  QVERIFY2(!s.failed(), s.message.c_str());
  QVERIFY2(s.testAccuracy > 0.6, std::to_string(s.testAccuracy).c_str());
}

QTEST_GUILESS_MAIN(TestPlugins)
#include "tst_plugins.moc"
