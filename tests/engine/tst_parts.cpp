// Particle files and a node's weights: the container read back field by field, truncated, damaged,
// edited and newer files refused naming the file; a node's weights from a run — a share group's
// later member gets the group's module, with scope "trunk" the shared trunk and its own last layer;
// a part saved from a trained run holds exactly the checkpoint's weights, its shapes and its
// provenance, and a selection with two ways in or out is refused naming the edges.

#include "TensorSupport.h"
#include "TestSupport.h"
#include "model/PartWeights.h"
#include "project/PartFile.h"
#include "recipes/Parts.h"
#include "train/Trainer.h"

#include <QtTest>

#include <torch/script.h>

#include <random>

using namespace particle;
using namespace particle::test;

namespace {

// Trains `doc` for one epoch into `dir`/run and returns the trained model's tensors by name.
std::map<std::string, torch::Tensor> trainInto(const QTemporaryDir &dir, Json doc, const std::string &run = "run") {
  doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}, {"seed", 5}};
  const std::string path = dir.filePath("p.particle.json").toStdString();
  writeFileAtomically(path, doc.dump());
  TrainOptions options;
  options.outDir = dir.filePath(QString::fromStdString(run)).toStdString();
  Trainer trainer(loadProject(path), options);
  const RunSummary summary = trainer.run();
  if (summary.status != RunSummary::Status::Completed)
    throw std::runtime_error("training failed: " + summary.message);
  std::map<std::string, torch::Tensor> out;
  for (const auto &p : trainer.model()->named_parameters())
    out[p.key()] = p.value().detach().clone();
  for (const auto &b : trainer.model()->named_buffers())
    out[b.key()] = b.value().detach().clone();
  return out;
}

// The tensors of `all` under "<node>." renamed to "<as>…".
std::map<std::string, torch::Tensor> under(const std::map<std::string, torch::Tensor> &all, const std::string &node,
                                           const std::string &as = "") {
  std::map<std::string, torch::Tensor> out;
  for (const auto &[key, t] : all)
    if (key.rfind(node + ".", 0) == 0)
      out[as + key.substr(node.size() + 1)] = t;
  return out;
}

std::string keysOf(const std::map<std::string, torch::Tensor> &m) {
  std::string out;
  for (const auto &[key, t] : m)
    out += key + " ";
  return out;
}

// baseProject with a second MLP after a: split → a → a2 → combine.
Json chainProject() {
  Json doc = baseProject();
  doc["nodes"].push_back({{"id", "a2"}, {"type", "MLP"}, {"params", {{"hidden", {12}}, {"out", 6}}}});
  doc["edges"][5] = {{"from", "a"}, {"to", "a2"}};
  doc["edges"].push_back({{"from", "a2"}, {"to", "combine"}});
  return doc;
}

// A small part written directly: one MLP node, its weights and two blobs.
PartInfo smallPart() {
  PartInfo part;
  Node n;
  n.id = "c";
  n.type = "MLP";
  n.params = {{"hidden", {16}}, {"out", 8}};
  part.nodes = {n};
  part.inputNode = part.outputNode = "c";
  part.inputShape = {8};
  part.outputShape = {8};
  part.parameters = 280;
  part.provenance = {{"project", "t"},
                     {"dataset", {{"kind", "synthetic"}, {"description", "synthetic parts"}}},
                     {"classes", {"0", "1"}},
                     {"run", "/runs/1"},
                     {"test_accuracy", 0.75},
                     {"date", "2026-12-05T06:00:00Z"},
                     {"particle_version", "0.1.0"}};
  return part;
}

} // namespace

class TestParts : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void aPartFileReadsBackWhatWasWritten() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("c.particle-part").toStdString();
    const std::map<std::string, torch::Tensor> weights = {{"c.trunk.layers.0.weight", torch::randn({16, 8})}};
    writePartFile(path, smallPart(), {{kPartWeightsBlob, tensorsToPickle(weights)}, {"notes", "free text"}});
    QVERIFY(looksLikePartFile(path));
    const PartInfo info = readPartInfo(path);
    QCOMPARE(info.nodes.size(), std::size_t(1));
    QCOMPARE(info.nodes[0].type, std::string("MLP"));
    QCOMPARE(info.nodes[0].params, smallPart().nodes[0].params);
    QCOMPARE(info.inputNode, std::string("c"));
    QCOMPARE(info.outputShape, Shape({8}));
    QCOMPARE(info.parameters, int64_t(280));
    QCOMPARE(info.provenance["test_accuracy"].get<double>(), 0.75);
    QCOMPARE(info.provenance["classes"][1].get<std::string>(), std::string("1"));
    QCOMPARE(info.header["format"].get<std::string>(), std::string("particle-part"));
    QCOMPARE(readPartBlob(path, "notes"), std::string("free text"));
    const auto back = loadNodeWeights(path, "");
    QVERIFY(back.count("trunk.layers.0.weight"));
    QVERIFY(torch::equal(back.at("trunk.layers.0.weight"), weights.at("c.trunk.layers.0.weight")));
    QVERIFY(sameTensors(loadNodeWeights(path, "c"), back));
    try {
      loadNodeWeights(path, "p9");
      QFAIL("a node the part does not have was taken");
    } catch (const Error &e) {
      QVERIFY2(QString(e.what()).contains(QString::fromStdString("no node p9 in " + path + "; it has c")), e.what());
    }
  }

  void damagedPartFilesAreRefusedNamingTheFile() {
    QTemporaryDir dir;
    const std::string good = dir.filePath("good.particle-part").toStdString();
    writePartFile(good, smallPart(), {{kPartWeightsBlob, tensorsToPickle({{"c.w", torch::ones({3})}})}});
    const std::string bytes = readTextFile(good);
    const std::size_t headerEnd = bytes.find('\n', bytes.find('\n') + 1);
    // What each edit must be refused with.
    const auto refused = [&](const std::string &name, const std::string &text, const std::string &fragment,
                             bool blob = false) {
      const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
      writeFileAtomically(path, text);
      try {
        if (blob)
          readPartBlob(path, kPartWeightsBlob);
        else
          readPartInfo(path);
        QFAIL(qPrintable(QString::fromStdString(name + " was read")));
      } catch (const Error &e) {
        QVERIFY2(e.kind() == ErrorKind::File, e.what());
        QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(path)) ||
                     QString(e.what()).contains(QString::fromStdString(path)),
                 e.what());
        QVERIFY2(QString(e.what()).contains(QString::fromStdString(fragment)), e.what());
      }
    };
    refused("truncated.particle-part", bytes.substr(0, bytes.size() - 5), "truncated");
    refused("cut.particle-part", bytes.substr(0, headerEnd - 10), "cut off");
    refused("extended.particle-part", bytes + "x", "truncated or extended");
    refused("notours.particle-part", "{\"format\": \"particle-part\"}\n", "not a particle file");
    refused("empty.particle-part", "", "not a particle file");
    std::string flipped = bytes;
    flipped[headerEnd - 3] ^= 1;
    refused("header.particle-part", flipped, "checksum mismatch");
    std::string weights = bytes;
    weights[weights.size() - 2] ^= 1;
    refused("blob.particle-part", weights, "checksum mismatch in blob \"weights\"", true);
    refused("newer.particle-part", "PARTICLE-PART 2 00000000\n{}\n", "newer Particle Studio");

    // A header edited and its checksum made to fit: every field is still type-checked.
    const auto edited = [&](const std::function<void(Json &)> &edit) {
      Json header = Json::parse(bytes.substr(bytes.find('\n') + 1, headerEnd - bytes.find('\n') - 1));
      edit(header);
      const std::string line = header.dump();
      return "PARTICLE-PART 1 " + crc32Hex(line) + "\n" + line + bytes.substr(headerEnd);
    };
    refused("version.particle-part", edited([](Json &h) { h["version"] = 7; }), "particle file version 7");
    refused("params.particle-part", edited([](Json &h) { h["parameters"] = "many"; }),
            "header.parameters must be a whole number");
    refused("shape.particle-part", edited([](Json &h) { h["input"]["shape"] = {8, -1}; }), "header.input.shape");
    refused("node.particle-part", edited([](Json &h) { h["output"]["node"] = "zz"; }),
            "header.output.node is \"zz\", not a node of the part (it has c)");
    refused("accuracy.particle-part", edited([](Json &h) { h["provenance"]["test_accuracy"] = "high"; }),
            "header.provenance.test_accuracy must be a number");
    refused("classes.particle-part", edited([](Json &h) {
              h["provenance"]["classes"] = {1, 2};
            }),
            "header.provenance.classes must hold names");
    refused("nodeid.particle-part", edited([](Json &h) { h["nodes"][0]["id"] = 3; }), "nodes[0].id");
    refused("offset.particle-part", edited([](Json &h) { h["blobs"][0]["offset"] = 4; }), "header.blobs[0].offset");
    refused("noweights.particle-part", edited([](Json &h) { h["blobs"][0]["name"] = "other"; }),
            "has no \"weights\" blob");
  }

  void aNodeTakesItsWeightsFromARun() {
    QTemporaryDir dir;
    const auto trained = trainInto(dir, baseProject());
    const std::string run = dir.filePath("run").toStdString();
    // A node of its own, from the folder and from its checkpoint.
    QVERIFY(sameTensors(loadNodeWeights(run, "c"), under(trained, "c")));
    QVERIFY(sameTensors(loadNodeWeights(run + "/checkpoint.pt", "c"), under(trained, "c")));
    // b shares a's module (scope "all"): registered under a, b's weights are a's.
    QVERIFY(!under(trained, "a").empty() && under(trained, "b").empty());
    QVERIFY2(sameTensors(loadNodeWeights(run, "b"), under(trained, "a")), keysOf(loadNodeWeights(run, "b")).c_str());
    try {
      loadNodeWeights(run, "p9");
      QFAIL("a node the run does not have was taken");
    } catch (const Error &e) {
      QVERIFY2(QString(e.what()).contains("no node p9 in ") &&
                   QString(e.what()).contains("; it has input, split, a, b, c, d, combine, head"),
               e.what());
    }
  }

  void aTrunkScopeMemberGetsTheSharedTrunkAndItsOwnHead() {
    QTemporaryDir dir;
    Json doc = baseProject();
    doc["nodes"][2]["share_scope"] = "trunk";
    doc["nodes"][3]["share_scope"] = "trunk";
    const auto trained = trainInto(dir, doc);
    const std::string run = dir.filePath("run").toStdString();
    std::map<std::string, torch::Tensor> expected = under(trained, "b");
    QVERIFY2(!expected.empty() && !under(trained, "a.trunk").empty(), keysOf(trained).c_str());
    for (const auto &[key, t] : under(trained, "a.trunk", "trunk."))
      expected[key] = t;
    const auto b = loadNodeWeights(run, "b");
    QVERIFY2(sameTensors(b, expected), keysOf(b).c_str());
    QVERIFY(sameTensors(loadNodeWeights(run, "a"), under(trained, "a")));
  }

  void aPartSavedFromARunHoldsItsWeightsShapesAndProvenance() {
    QTemporaryDir dir;
    const auto trained = trainInto(dir, chainProject());
    const std::string project = dir.filePath("p.particle.json").toStdString();
    const std::string run = dir.filePath("run").toStdString();
    const std::string out = dir.filePath("chain.particle-part").toStdString();
    const PartInfo saved = savePart(project, run, {"a", "a2"}, out);
    const PartInfo info = readPartInfo(out);
    QCOMPARE(info.header, saved.header);
    QCOMPARE(info.nodes.size(), std::size_t(2));
    QCOMPARE(info.nodes[0].id, std::string("a"));
    QVERIFY2(info.nodes[0].share.empty(), "a share group of one member is left behind");
    QCOMPARE(info.edges.size(), std::size_t(1));
    QCOMPARE(info.edges[0].to.node, std::string("a2"));
    QCOMPARE(info.inputNode, std::string("a"));
    QCOMPARE(info.outputNode, std::string("a2"));
    QCOMPARE(info.inputShape, Shape({8}));
    QCOMPARE(info.outputShape, Shape({6}));
    QCOMPARE(info.nodeInfo.at("a2").inputs, std::vector<Shape>({{8}}));
    int64_t parameters = 0;
    for (const char *node : {"a", "a2"})
      for (const auto &[key, t] : under(trained, node))
        parameters += t.numel();
    QCOMPARE(info.parameters, parameters);
    QCOMPARE(info.provenance["project"].get<std::string>(), std::string("t"));
    QCOMPARE(info.provenance["dataset"]["kind"].get<std::string>(), std::string("synthetic"));
    QCOMPARE(info.provenance["classes"].size(), std::size_t(4));
    QCOMPARE(info.provenance["run"].get<std::string>(), run);
    const Json summary = Json::parse(readTextFile(run + "/summary.json"));
    QCOMPARE(info.provenance["test_accuracy"].get<double>(), summary["test_accuracy"].get<double>());
    QVERIFY(!info.provenance["date"].get<std::string>().empty());
    // The weights are the checkpoint's, bit for bit, under each node's own names.
    QVERIFY(sameTensors(loadNodeWeights(out, "a"), under(trained, "a")));
    QVERIFY(sameTensors(loadNodeWeights(out, "a2"), under(trained, "a2")));
    QVERIFY(sameTensors(loadNodeWeights(out, "a2"), loadNodeWeights(run + "/checkpoint.pt", "a2")));

    // b runs a's module: its part holds a's weights, and the run's project is its own graph.
    const std::string b = dir.filePath("b.particle-part").toStdString();
    savePart(project, run + "/checkpoint.pt", {"b"}, b);
    QVERIFY(sameTensors(loadNodeWeights(b, ""), under(trained, "a")));
  }

  void aSelectionWithTwoWaysInOrOutIsRefused() {
    QTemporaryDir dir;
    trainInto(dir, chainProject());
    const std::string project = dir.filePath("p.particle.json").toStdString();
    const std::string run = dir.filePath("run").toStdString();
    const std::string out = dir.filePath("x.particle-part").toStdString();
    const auto refused = [&](const std::vector<std::string> &nodes, const std::string &fragment) {
      try {
        savePart(project, run, nodes, out);
        QFAIL(qPrintable(QString::fromStdString("saved " + nodes[0] + ",… despite " + fragment)));
      } catch (const Error &e) {
        QVERIFY2(QString(e.what()).contains(QString::fromStdString(fragment)), e.what());
      }
    };
    refused({"a", "c"}, "the nodes a, c have 2 ways in (split → a and split:2 → c): a particle takes one input");
    refused({"combine"}, "node combine has 4 ways in");
    refused({"input"}, "node input has no way in");
    refused({"combine", "head"}, "have 4 ways in");
    refused({"p9"}, "no node p9 to save");
    QVERIFY2(!QFile::exists(QString::fromStdString(out)), "a refused part writes nothing");
    // A checkpoint of another graph does not fit.
    Json other = chainProject();
    other["nodes"][4]["params"]["out"] = 7;
    writeFileAtomically(project, other.dump());
    refused({"a"}, "trained on a different graph");
  }

  void aTorchScriptNodeTravelsWithItsModuleFile() {
    QTemporaryDir dir;
    // A module scripted here in C++ (no Python needed): x @ weight, [8] → [8].
    torch::jit::Module module("Scale");
    module.register_parameter("weight", torch::eye(8), false);
    module.define("def forward(self, x):\n    return torch.matmul(x, self.weight)\n");
    const std::string moduleFile = dir.filePath("scale.pt").toStdString();
    module.save(moduleFile);
    Json doc = baseProject();
    doc["nodes"][4] = {{"id", "c"}, {"type", "TorchScript"}, {"params", {{"path", "scale.pt"}}}};
    const auto trained = trainInto(dir, doc);
    const std::string out = dir.filePath("c.particle-part").toStdString();
    const PartInfo info =
        savePart(dir.filePath("p.particle.json").toStdString(), dir.filePath("run").toStdString(), {"c"}, out);
    QVERIFY(info.blob(partModuleBlob("c")));
    QCOMPARE(readPartBlob(out, partModuleBlob("c")), readTextFile(moduleFile));
    QCOMPARE(info.parameters, int64_t(64));
    const auto weights = loadNodeWeights(out, "c");
    QVERIFY2(sameTensors(weights, under(trained, "c")) && weights.count("script.weight"), keysOf(weights).c_str());
    QVERIFY2(!torch::equal(weights.at("script.weight"), torch::eye(8)), "the trained weights, not the file's");
  }

  // 3,000 mutations of a sound file (bytes flipped, cut, inserted; header lines edited with their
  // CRC made to fit): each reads, or is refused with an Error naming the file — nothing else.
  void mutatedFilesAreReadOrRefused() {
    QTemporaryDir dir;
    const std::string good = dir.filePath("good.particle-part").toStdString();
    writePartFile(good, smallPart(), {{kPartWeightsBlob, tensorsToPickle({{"c.w", torch::ones({3})}})}});
    const std::string bytes = readTextFile(good);
    const std::size_t lineStart = bytes.find('\n') + 1, lineEnd = bytes.find('\n', lineStart);
    const std::string path = dir.filePath("m.particle-part").toStdString();
    std::mt19937 random(7);
    int refused = 0;
    for (int i = 0; i < 3000; ++i) {
      std::string m = bytes;
      const auto at = [&](std::size_t from, std::size_t to) { return from + random() % (to - from); };
      switch (i % 4) {
      case 0: m[at(0, m.size())] ^= static_cast<char>(1 + random() % 255); break;
      case 1: m.resize(at(0, m.size())); break;
      case 2: m.insert(at(0, m.size()), std::string(1 + random() % 8, static_cast<char>(random()))); break;
      default: { // an edited header whose checksum still fits
        std::string line = m.substr(lineStart, lineEnd - lineStart);
        line[at(0, line.size())] = "0123456789:{}[]\",-.aez "[random() % 24];
        m = "PARTICLE-PART 1 " + crc32Hex(line) + "\n" + line + m.substr(lineEnd);
      }
      }
      writeFileAtomically(path, m);
      try {
        const PartInfo part = readPartInfo(path);
        for (const PartBlob &blob : part.blobs)
          readPartBlob(path, blob.name);
      } catch (const Error &e) {
        ++refused;
        QVERIFY2(QString(e.what()).contains(QString::fromStdString(path)), e.what());
      }
    }
    QVERIFY2(refused > 2000, qPrintable(QString::number(refused)));
  }
};

QTEST_GUILESS_MAIN(TestParts)
#include "tst_parts.moc"
