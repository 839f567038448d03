// Starting from trained weights: a node's init from another project's run or from a particle
// file, freeze (the weights bit-identical after training, whatever the seed and optimiser) and
// LoRA adapters (fewer trained parameters, as check counts them, and the model still learns).

#include "TensorSupport.h"
#include "TestSupport.h"
#include "export/PythonExport.h"
#include "model/Model.h"
#include "model/PartWeights.h"
#include "project/PartFile.h"
#include "project/ProjectCheck.h"
#include "train/Trainer.h"

#include <QtTest>

using namespace particle;
using namespace particle::test;

namespace {

// The source task: the label depends on part 2 only, which node c reads.
Json sourceProject() {
  Json doc = baseProject();
  doc["dataset"] = Json::parse(
      R"({"kind":"synthetic","parts":4,"part_dim":8,"informative":[2],"classes":2,"samples":2000,"noise":0.0})");
  doc["training"] = {{"epochs", 2}, {"batch_size", 32}, {"lr", 0.003}, {"threads", 1}, {"seed", 3}};
  return doc;
}

// Another project: three classes from parts 0 and 2; its node c starts from the source's.
Json targetProject(const Json &init) {
  Json doc = baseProject();
  doc["dataset"] = Json::parse(
      R"({"kind":"synthetic","parts":4,"part_dim":8,"informative":[0,2],"classes":3,"samples":2400,"noise":0.0,"seed":5})");
  doc["training"] = {{"epochs", 3}, {"batch_size", 32}, {"lr", 0.003}, {"threads", 1}};
  if (!init.is_null())
    doc["nodes"][4]["init"] = init;
  return doc;
}

// The weights of one node's module by their names in it, adapters left out.
std::map<std::string, torch::Tensor> nodeWeights(ParticleModel &model, const std::string &id) {
  std::map<std::string, torch::Tensor> out;
  for (const auto &p : model->nodeModule(id)->named_parameters())
    if (p.key().rfind("lora.", 0) != 0)
      out[p.key()] = p.value().detach().clone();
  return out;
}

std::string problemsText(const Validation &v) {
  std::string out;
  for (const auto &p : v.problems)
    out += p.format("") + "\n";
  return out;
}

} // namespace

class TestTransferInit : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase();
  void frozenStaysBitIdentical_data();
  void frozenStaysBitIdentical();
  void freezingMidRunStopsTheWeights();
  void loraTrainsOnlyTheAdapters();
  void particleFileInitialisesANode();
  void shapeMismatchNamesBothSides();
  void adaptableLayersAreTheModules();
  void exportMergesOrKeepsAdapters();
  void exportedTrainScriptHoldsWhatTheEngineHolds();

private:
  QTemporaryDir dir_;
  std::string run_; // the source's run folder
};

void TestTransferInit::initTestCase() {
  run_ = dir_.path().toStdString() + "/runA";
  TrainOptions opt;
  opt.outDir = run_;
  Trainer trainer(projectFromJson(sourceProject(), dir_.path().toStdString() + "/source.particle.json"), opt);
  const RunSummary s = trainer.run();
  QCOMPARE(s.status, RunSummary::Status::Completed);
}

void TestTransferInit::frozenStaysBitIdentical_data() {
  QTest::addColumn<int>("seed");
  QTest::addColumn<QString>("training");
  // Weight decay, momentum and the optimisers' state are each a way a frozen weight could move.
  QTest::newRow("adamw, decay, seed 1") << 1 << R"({"optimizer":"adamw","weight_decay":0.1})";
  QTest::newRow("sgd, momentum, decay, seed 2")
      << 2 << R"({"optimizer":"sgd","momentum":0.9,"nesterov":true,"weight_decay":0.01,"lr":0.05})";
}

void TestTransferInit::frozenStaysBitIdentical() {
  QFETCH(int, seed);
  QFETCH(QString, training);
  Json doc = targetProject({{"from", "runA"}, {"node", "c"}});
  doc["nodes"][4]["freeze"] = true;
  doc["training"].update(Json::parse(training.toStdString()));
  doc["training"]["seed"] = seed;
  const Project project = projectFromJson(doc, dir_.path().toStdString() + "/target.particle.json");
  const Validation v = validate(project);
  QVERIFY2(v.ok(), problemsText(v).c_str());
  QCOMPARE(v.info("c")->trainableParameters, int64_t{0});
  QCOMPARE(v.trainableParameters, v.uniqueParameters - v.info("c")->parameters);

  Trainer trainer(project, TrainOptions{});
  const RunSummary s = trainer.run();
  QCOMPARE(s.status, RunSummary::Status::Completed);
  ParticleModel model = trainer.model();
  const auto source = loadNodeWeights(run_, "c");
  QVERIFY(!source.empty());
  QVERIFY2(sameTensors(nodeWeights(model, "c"), source), "the frozen node's weights moved");
  // The rest trained: d started from its own random weights and moved.
  ParticleModel fresh(project);
  QVERIFY(!sameTensors(nodeWeights(model, "d"), nodeWeights(fresh, "d")));
}

void TestTransferInit::freezingMidRunStopsTheWeights() {
  // The Train tab's freeze, after an epoch of training: the optimiser has momentum and gradients
  // for c by then, and neither may move it again.
  Json doc = targetProject({{"from", "runA"}, {"node", "c"}});
  doc["training"].update(Json::parse(R"({"optimizer":"adamw","weight_decay":0.1,"seed":4})"));
  TrainOptions opt;
  std::map<std::string, torch::Tensor> atFreeze;
  opt.epochHooks.push_back([&](Trainer &t, EpochEvent &ev) {
    if (ev.epoch != 1)
      return;
    ParticleModel model = t.model();
    atFreeze = nodeWeights(model, "c");
    t.setFrozen({"c"});
  });
  Trainer trainer(projectFromJson(doc, dir_.path().toStdString() + "/mid.particle.json"), opt);
  QCOMPARE(trainer.run().status, RunSummary::Status::Completed);
  ParticleModel model = trainer.model();
  QVERIFY(!atFreeze.empty());
  QVERIFY2(!sameTensors(atFreeze, loadNodeWeights(run_, "c")), "c trained in the first epoch");
  QVERIFY2(sameTensors(nodeWeights(model, "c"), atFreeze), "c moved after it was frozen");
}

void TestTransferInit::loraTrainsOnlyTheAdapters() {
  Json doc = targetProject({{"from", "runA"}, {"node", "c"}});
  doc["nodes"][4]["adapter"] = {{"kind", "lora"}, {"rank", 2}, {"alpha", 4}};
  for (int i : {2, 3}) // the share group g adapts once
    doc["nodes"][i]["adapter"] = {{"rank", 2}};
  doc["training"]["epochs"] = 4;
  const Project project = projectFromJson(doc, dir_.path().toStdString() + "/lora.particle.json");
  const Validation v = validate(project);
  QVERIFY2(v.ok(), problemsText(v).c_str());
  // MLP [8] → 16 → [8]: two layers, rank 2 · (8 + 16) + 2 · (16 + 8).
  QCOMPARE(v.info("c")->trainableParameters, int64_t{96});
  QCOMPARE(v.info("c")->parameters, int64_t{8 * 16 + 16 + 16 * 8 + 8 + 96});
  QVERIFY(v.trainableParameters < v.uniqueParameters);
  // Only what trains needs gradients and optimiser state.
  QCOMPARE(v.memory.gradients, 4 * v.trainableParameters);

  Trainer trainer(project, TrainOptions{});
  struct Epochs : TrainObserver {
    std::vector<EpochEvent> all;
    void onEpoch(const EpochEvent &e) override { all.push_back(e); }
  } epochs;
  const RunSummary s = trainer.run(&epochs);
  QCOMPARE(s.status, RunSummary::Status::Completed);
  ParticleModel model = trainer.model();
  // What trains is what check counts.
  int64_t trained = 0;
  for (const auto &p : distinctParameters(*model))
    if (p.requires_grad())
      trained += p.numel();
  QCOMPARE(trained, v.trainableParameters);
  // It learned: the loss went down and three classes are told apart well above chance.
  QVERIFY(epochs.all.back().trainLoss < epochs.all.front().trainLoss);
  QVERIFY2(s.testAccuracy > 0.6, std::to_string(s.testAccuracy).c_str());
  // The particle's own weights are as trained on the source task; its adapters moved.
  QVERIFY(sameTensors(nodeWeights(model, "c"), loadNodeWeights(run_, "c")));
  bool moved = false;
  for (const auto &p : model->nodeModule("c")->named_parameters())
    if (p.key().rfind("lora.", 0) == 0 && p.key().back() == 'B')
      moved = moved || p.value().abs().sum().item<double>() > 0;
  QVERIFY(moved);
  const auto names = model->named_parameters();
  QVERIFY(names.contains("c.lora.trunk_layers_0.A"));
  QVERIFY(names.contains("c.lora.head.B"));
}

void TestTransferInit::particleFileInitialisesANode() {
  // A particle file of one node, p0, holding the source run's node c.
  const auto weights = loadNodeWeights(run_, "c");
  std::map<std::string, torch::Tensor> blob;
  int64_t parameters = 0;
  for (const auto &[key, t] : weights) {
    blob["p0." + key] = t;
    parameters += t.numel();
  }
  PartInfo part;
  Node p0;
  p0.id = "p0";
  p0.type = "MLP";
  p0.params = Json::parse(R"({"hidden": [16], "out": 8})");
  part.nodes = {p0};
  part.inputNode = part.outputNode = "p0";
  part.inputShape = {8};
  part.outputShape = {8};
  part.parameters = parameters;
  part.provenance = {{"date", "2026-12-05"}};
  const std::string file = dir_.path().toStdString() + "/parts/enc.particle-part";
  QDir(dir_.path()).mkpath("parts");
  writePartFile(file, part, {{kPartWeightsBlob, tensorsToPickle(blob)}});

  const Project project =
      projectFromJson(targetProject({{"from", "parts/enc.particle-part"}}), dir_.path().toStdString() + "/p.json");
  const Validation v = validate(project);
  QVERIFY2(v.ok(), problemsText(v).c_str());
  ParticleModel model(project, &v);
  QVERIFY(!sameTensors(nodeWeights(model, "c"), weights));
  model->loadInitWeights();
  QVERIFY(sameTensors(nodeWeights(model, "c"), weights));

  // Cut in two parts, c reads 16 values: the particle no longer fits, and both sides are named.
  Json wide = targetProject({{"from", "parts/enc.particle-part"}});
  wide["nodes"][1]["params"]["parts"] = 2;
  wide["nodes"].erase(2); // a
  wide["nodes"].erase(2); // b
  wide["edges"] = Json::parse(R"([{"from":"input","to":"split"},{"from":"split","to":"c"},{"from":"split:1","to":"d"},
                                  {"from":"c","to":"combine"},{"from":"d","to":"combine:1"},
                                  {"from":"combine","to":"head"}])");
  const Validation bad = validate(projectFromJson(wide, dir_.path().toStdString() + "/wide.json"));
  const std::string text = problemsText(bad);
  QVERIFY2(text.find("node 'c': init.node: c takes [16] → [8]; node p0 of parts/enc.particle-part takes [8] → [8]") !=
               std::string::npos,
           text.c_str());
  QVERIFY(bad.has(ProblemCode::InitMismatch));
}

void TestTransferInit::shapeMismatchNamesBothSides() {
  // A run as the source: the node named, of the wrong type, or with other widths.
  Json other = targetProject({{"from", "runA/checkpoint.pt"}, {"node", "combine"}});
  Validation v = validate(projectFromJson(other, dir_.path().toStdString() + "/o.json"));
  std::string text = problemsText(v);
  QVERIFY2(text.find("c is an MLP; node combine of runA/checkpoint.pt is a Combine") != std::string::npos ||
               text.find("c is a MLP; node combine of runA/checkpoint.pt is a Combine") != std::string::npos,
           text.c_str());

  Json wider = targetProject({{"from", "runA"}, {"node", "c"}});
  wider["nodes"][4]["params"]["hidden"] = Json::array({32});
  v = validate(projectFromJson(wider, dir_.path().toStdString() + "/w.json"));
  text = problemsText(v);
  QVERIFY2(text.find("c has 552 weights; node c of runA has 280") != std::string::npos, text.c_str());

  Json missing = targetProject({{"from", "runA"}, {"node", "nothere"}});
  v = validate(projectFromJson(missing, dir_.path().toStdString() + "/m.json"));
  text = problemsText(v);
  QVERIFY2(text.find("the run runA has no node \"nothere\" (it has input, split, a, b, c, d, combine, head)") !=
               std::string::npos,
           text.c_str());
  QVERIFY(v.has(ProblemCode::InitUnavailable));

  // The model refuses weights that do not fit, naming both sides (past the check, by hand).
  ParticleModel plain(projectFromJson(targetProject(nullptr), "x.json"));
  try {
    copyNodeWeights(*plain->nodeModule("a"), loadNodeWeights(run_, "combine"), "a", "node combine of runA");
    QFAIL("weights of another node were taken");
  } catch (const Error &e) {
    const std::string what = e.what();
    QVERIFY2(what.find("a's ") != std::string::npos && what.find("node combine of runA") != std::string::npos,
             what.c_str());
  }
}

void TestTransferInit::adaptableLayersAreTheModules() {
  // Every type with Linear or convolution layers: the shape rule lists the layers the module builds.
  const std::vector<std::pair<const char *, const char *>> graphs = {
      {"[1,28,28]", R"([{"id":"x","type":"ConvNet","params":{"channels":[4,8],"out":16}}])"},
      {"[1,28,28]", R"([{"id":"x","type":"Attention","params":{"dim":16,"heads":2,"layers":2,"out":8}}])"},
      {"[6,10]", R"([{"id":"x","type":"Conv1d","params":{"channels":4,"kernel":3}}])"},
      {"[6,10]", R"([{"id":"x","type":"Linear","params":{"out":5}}])"},
      {"[12]", R"([{"id":"x","type":"MLP","params":{"hidden":[7,5],"out":3}}])"},
  };
  for (const auto &[sample, nodes] : graphs) {
    Json doc = baseProject();
    doc["nodes"] = Json::parse(nodes);
    doc["nodes"].insert(doc["nodes"].begin(), Json{{"id", "input"}, {"type", "Input"}});
    doc["nodes"].push_back({{"id", "head"}, {"type", "Classifier"}});
    doc["edges"] = Json::parse(R"([{"from":"input","to":"x"},{"from":"x","to":"head"}])");
    const Project project = projectFromJson(doc, "t.json");
    DataInfo data;
    for (const auto &d : Json::parse(sample))
      data.sampleShape.push_back(d.get<int64_t>());
    data.classes = 3;
    const Validation v = validate(project, &data);
    QVERIFY2(v.ok(), problemsText(v).c_str());
    ParticleModel model(project, &v);
    for (const char *id : {"x", "head"}) {
      const auto layers = adaptableLayers(*model->nodeModule(id));
      const auto &sizes = v.info(id)->adaptable;
      QVERIFY2(layers.size() == sizes.size(), (std::string(nodes) + " " + id).c_str());
      // Each layer's weight is out × in once flattened, as the adapter's B·A is.
      std::multiset<std::pair<int64_t, int64_t>> built, listed;
      for (const auto &[name, layer] : layers) {
        const torch::Tensor w = layer->named_parameters(false)["weight"];
        built.insert({w.size(0), w.numel() / w.size(0)});
      }
      for (const auto &s : sizes)
        listed.insert({s.out, s.in});
      QVERIFY2(built == listed, (std::string(nodes) + " " + id).c_str());
    }
  }
  // A Combine: its projections, its scorer (attention) or its gate.
  Json doc = baseProject();
  doc["nodes"][6]["params"] = Json::parse(R"({"mode":"gate","dim":4,"top_k":2})");
  const Project project = projectFromJson(doc, "t.json");
  const Validation v = validate(project);
  QVERIFY2(v.ok(), problemsText(v).c_str());
  ParticleModel model(project, &v);
  QCOMPARE(adaptableLayers(*model->nodeModule("combine")).size(), v.info("combine")->adaptable.size());
  QCOMPARE(v.info("combine")->adaptable.size(), std::size_t{5}); // four projections 8 → 4, the gate
}

void TestTransferInit::exportMergesOrKeepsAdapters() {
  Json doc = targetProject({{"from", "runA"}, {"node", "c"}});
  doc["nodes"][4]["adapter"] = {{"rank", 2}, {"alpha", 4}};
  const std::string root = dir_.path().toStdString();
  const Project project = projectFromJson(doc, root + "/export.particle.json");
  TrainOptions opt;
  opt.outDir = root + "/runL";
  QCOMPARE(Trainer(project, opt).run().status, RunSummary::Status::Completed);
  const std::string python = findPythonWithTorch();
  for (const bool keep : {false, true}) {
    ExportOptions options;
    options.checkpoint = opt.outDir + "/checkpoint.pt";
    options.outDir = root + (keep ? "/kept" : "/merged");
    options.keepAdapters = keep;
    options.writeData = false;
    exportPyTorch(project, options);
    const std::string model = readTextFile(options.outDir + "/model.py");
    QCOMPARE(model.find("adapt(self.c, 2, 4.0)") != std::string::npos, keep);
    if (python.empty())
      continue;
    QProcess check;
    check.start(QString::fromStdString(python), {QString::fromStdString(options.outDir + "/model.py"), "--check"});
    QVERIFY(check.waitForFinished(120000));
    const QString out = check.readAllStandardOutput() + check.readAllStandardError();
    QVERIFY2(check.exitCode() == 0 && out.contains(": ok"), qPrintable(out));
  }
  if (python.empty())
    QSKIP("no Python with PyTorch: model.py --check not run");
}

// The exported train.py trains what the engine trains: a frozen node's weights, and with kept
// adapters an adapted node's own weights, end its epoch exactly as they started; the rest moves.
void TestTransferInit::exportedTrainScriptHoldsWhatTheEngineHolds() {
  const std::string python = findPythonWithTorch();
  if (python.empty())
    QSKIP("no Python with PyTorch: train.py not run");
  const std::string root = dir_.path().toStdString();
  for (const bool adapter : {false, true}) {
    Json doc = targetProject({{"from", "runA"}, {"node", "c"}});
    if (adapter)
      doc["nodes"][4]["adapter"] = {{"rank", 2}, {"alpha", 4}};
    else
      doc["nodes"][4]["freeze"] = true;
    const Project project = projectFromJson(doc, root + "/script.particle.json");
    ExportOptions options;
    options.outDir = root + (adapter ? "/script-lora" : "/script-frozen");
    options.keepAdapters = adapter;
    exportPyTorch(project, options);
    QProcess train;
    train.start(QString::fromStdString(python),
                {QString::fromStdString(options.outDir + "/train.py"), "--epochs", "1", "--threads", "1", "--weights",
                 QString::fromStdString(options.outDir + "/weights.pt")});
    QVERIFY(train.waitForFinished(300000));
    QVERIFY2(train.exitCode() == 0, qPrintable(train.readAllStandardOutput() + train.readAllStandardError()));
    // Per tensor: "same" or "moved", node c's and the others'.
    QProcess compare;
    compare.start(QString::fromStdString(python), {"-c",
                                                   "import sys, torch\n"
                                                   "a = torch.load(sys.argv[1]); b = torch.load(sys.argv[2])\n"
                                                   "for k in sorted(a):\n"
                                                   "    if a[k].is_floating_point() and 'running' not in k:\n"
                                                   "        print(k, 'same' if torch.equal(a[k], b[k]) else 'moved')\n",
                                                   QString::fromStdString(options.outDir + "/weights.pt"),
                                                   QString::fromStdString(options.outDir + "/trained.pt")});
    QVERIFY(compare.waitForFinished(60000));
    const QStringList lines = QString::fromUtf8(compare.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
    int held = 0, moved = 0, adapters = 0;
    for (const QString &line : lines) {
      const bool ofC = line.startsWith("c."), lora = line.contains(".lora.");
      if (ofC && !lora) {
        QVERIFY2(line.endsWith(" same"), qPrintable(line));
        ++held;
      } else if (lora) {
        QVERIFY2(line.endsWith(" moved") || line.endsWith(".A same"), qPrintable(line)); // B starts at zero
        adapters += line.endsWith(" moved");
      } else {
        moved += line.endsWith(" moved");
      }
    }
    QVERIFY2(held > 0, qPrintable(lines.join("\n")));
    QVERIFY2(moved > 0, qPrintable(lines.join("\n")));
    if (adapter)
      QVERIFY2(adapters > 0, qPrintable(lines.join("\n")));
  }
}

QTEST_GUILESS_MAIN(TestTransferInit)
#include "tst_transferinit.moc"
