// PyTorch and ONNX export through the command line, checked by Python: every example's model.py
// reproduces the engine's logits (python3 model.py --check, Debian's python3-torch), its ONNX file
// passes onnx.checker and, run by ONNX Runtime (npm's onnxruntime-node, which scripts/setup.sh
// installs), gives the engine's logits; a trained checkpoint exports as it predicts, train.py
// trains (alone, under torchrun, and in bf16 where the CPU has it; fp16 on the CPU refused as the
// engine refuses it), and bad input ends in a clear message with its exit code.

#include "TestSupport.h"
#include "project/Precision.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTest>

#include <filesystem>
#include <set>

using namespace particle;
using namespace particle::test;
namespace fs = std::filesystem;

namespace {

using Run = ProcessRun;

Run cli(const QStringList &args) {
  return runProcess(PARTICLE_CLI, args);
}

// Debian's Python, which has python3-torch (a python3 earlier on PATH may not).
const QString kPython = "/usr/bin/python3";

Run python(const QStringList &args) {
  return runProcess(kPython, args);
}

bool pythonHasTorch() {
  return python({"-c", "import torch"}).code == 0;
}

// ONNX Runtime where the export's check looks for it ($PARTICLE_ONNXRUNTIME, else the checkout's
// .deps/onnxruntime), with Node.js to run it; empty, with `why` said, when it cannot be had.
QString onnxRuntime(QString &why) {
  if (QStandardPaths::findExecutable("node").isEmpty()) {
    why = "no Node.js for ONNX Runtime's binding (scripts/setup.sh installs Debian's nodejs)";
    return {};
  }
  const QString home = qEnvironmentVariable("PARTICLE_ONNXRUNTIME", PARTICLE_SOURCE_DIR "/.deps/onnxruntime");
  if (!QFileInfo::exists(home + "/node_modules/onnxruntime-node/package.json")) {
    why = "ONNX Runtime is not installed in " + home +
          " (scripts/setup.sh: npm install --ignore-scripts --prefix .deps/onnxruntime onnxruntime-node)";
    return {};
  }
  return home;
}

// The figure of model.py's ONNX Runtime line ("onnx: onnxruntime-node … max |Δlogit| = X …"); -1
// when there is no such line.
double onnxDelta(const QString &out) {
  const QRegularExpressionMatch m =
      QRegularExpression("onnx: onnxruntime\\S* [^\\n]* max \\|Δlogit\\| = ([0-9.e+-]+)").match(out);
  return m.hasMatch() ? m.captured(1).toDouble() : -1;
}

// Every node type and mode the examples do not use: columns, Linear, LayerNorm, Activation,
// Dropout, Flatten, an Attention over a vector, a full share group, max with projections, a gate
// with its own input and top_k, and a node id that nn.Module already uses ("train").
Json vectorZoo() {
  return Json::parse(R"({
    "format": "particle-studio", "version": 1, "name": "zoo",
    "dataset": {"kind": "synthetic", "parts": 4, "part_dim": 8, "informative": [0, 2], "classes": 4, "samples": 600},
    "nodes": [
      {"id": "input", "type": "Input"},
      {"id": "split", "type": "Split", "params": {"mode": "columns", "groups": [[0,1,2,3,4,5,6,7], [8,9,10,11,12,13,14,15], [16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31], [3, 17]]}},
      {"id": "a1", "type": "MLP", "params": {"hidden": [16], "out": 8, "activation": "tanh"}, "share": "g"},
      {"id": "b", "type": "MLP", "params": {"hidden": [16], "out": 8, "activation": "tanh"}, "share": "g"},
      {"id": "lin", "type": "Linear", "params": {"out": 12}},
      {"id": "norm", "type": "LayerNorm"},
      {"id": "act", "type": "Activation", "params": {"fn": "gelu"}},
      {"id": "drop", "type": "Dropout", "params": {"p": 0.2}},
      {"id": "flat", "type": "Flatten"},
      {"id": "train", "type": "Attention", "params": {"dim": 8, "heads": 2, "layers": 1, "out": 6}},
      {"id": "mx", "type": "Combine", "params": {"mode": "max", "dim": 10}},
      {"id": "gate", "type": "Combine", "params": {"mode": "gate", "dim": 8, "top_k": 2}},
      {"id": "head", "type": "Classifier"}
    ],
    "edges": [
      {"from": "input", "to": "split"},
      {"from": "split", "to": "a1"}, {"from": "split:1", "to": "b"},
      {"from": "split:2", "to": "lin"}, {"from": "lin", "to": "norm"}, {"from": "norm", "to": "act"},
      {"from": "act", "to": "drop"}, {"from": "split:3", "to": "flat"}, {"from": "flat", "to": "train"},
      {"from": "a1", "to": "mx"}, {"from": "drop", "to": "mx:1"},
      {"from": "mx", "to": "gate"}, {"from": "b", "to": "gate:1"}, {"from": "train", "to": "gate:2"},
      {"from": "input", "to": "gate:gate"},
      {"from": "gate", "to": "head"}
    ],
    "training": {"epochs": 2, "batch_size": 32, "threads": 1, "lr": 0.01}
  })");
}

// Text: a shared Embedding, Conv1d, mean Pool, and an Attention over tokens with padding.
Json textZoo() {
  return Json::parse(R"({
    "format": "particle-studio", "version": 1, "name": "text-zoo",
    "dataset": {"kind": "text", "path": "t.jsonl", "text_column": "body", "label_column": "kind",
                "max_tokens": 12, "min_count": 1, "test_fraction": 0.25},
    "nodes": [
      {"id": "input", "type": "Input"},
      {"id": "split", "type": "Split", "params": {"mode": "chunks", "parts": 2}},
      {"id": "e0", "type": "Embedding", "params": {"dim": 8}, "share": "words"},
      {"id": "e1", "type": "Embedding", "params": {"dim": 8}, "share": "words"},
      {"id": "conv", "type": "Conv1d", "params": {"channels": 6, "kernel": 3}},
      {"id": "pool", "type": "Pool", "params": {"mode": "mean"}},
      {"id": "att", "type": "Attention", "params": {"dim": 8, "heads": 2, "layers": 1, "out": 6}},
      {"id": "combine", "type": "Combine", "params": {"mode": "attention"}},
      {"id": "head", "type": "Classifier"}
    ],
    "edges": [
      {"from": "input", "to": "split"},
      {"from": "split", "to": "e0"}, {"from": "split:1", "to": "e1"},
      {"from": "e0", "to": "conv"}, {"from": "conv", "to": "pool"}, {"from": "e1", "to": "att"},
      {"from": "pool", "to": "combine"}, {"from": "att", "to": "combine:1"},
      {"from": "combine", "to": "head"}
    ],
    "training": {"epochs": 2, "batch_size": 16, "threads": 1}
  })");
}

void writeTextData(const QTemporaryDir &dir) {
  const char *words[] = {"cheap", "offer", "meeting", "report", "winner", "lunch", "prize", "agenda"};
  std::string jsonl;
  for (int i = 0; i < 80; ++i) {
    std::string body;
    const int length = 2 + i % 9; // some texts shorter than a chunk: padding on both sides
    for (int w = 0; w < length; ++w)
      body += std::string(w ? " " : "") + words[(i * 3 + w * (i % 2 ? 2 : 1)) % 8];
    jsonl += Json{{"body", body}, {"kind", i % 2 ? "ham" : "spam"}}.dump() + "\n";
  }
  writeFile(dir, "t.jsonl", jsonl);
}

} // namespace

class TestExport : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    if (!pythonHasTorch())
      QSKIP("Debian's python3-torch is not installed (scripts/setup.sh installs it)");
    // model.py run by hand finds ONNX Runtime through $PARTICLE_ONNXRUNTIME, as the CLI tells it to.
    runtime_ = onnxRuntime(noRuntime_);
    if (!runtime_.isEmpty())
      qputenv("PARTICLE_ONNXRUNTIME", runtime_.toUtf8());
  }

  void everyExampleChecks_data() {
    QTest::addColumn<QString>("project");
    for (const auto &e : fs::directory_iterator(sourceDir() + "/resources/examples")) {
#ifdef __SANITIZE_ADDRESS__
      // Under the sanitizers one example per data kind and part kind (the node types are all in the
      // zoos below); the release build checks all of them.
      static const std::set<std::string> kinds = {
          "fashion-patches.particle.json",     "fashion-folder.particle.json",    "email-parts.particle.json",
          "text-halves.particle.json",         "weather-parts.particle.json",     "spoken-digits.particle.json",
          "torchscript-patches.particle.json", "transfer-fashion-a.particle.json"};
      if (!kinds.count(e.path().filename().string()))
        continue;
#endif
      QTest::newRow(e.path().filename().string().c_str()) << QString::fromStdString(e.path().string());
    }
  }

  // For every example: model.py reproduces the engine's logits, model.onnx passes the checker and
  // ONNX Runtime gives the same logits.
  void everyExampleChecks() {
    QFETCH(QString, project);
    const Run check = cli({"check", project});
    if (check.code == 3)
      QSKIP(qPrintable("its data set is not on this machine (scripts/fetch-data.sh): " + check.err.left(300)));
    QTemporaryDir dir;
    const QString out = dir.filePath("export");
    const Run exported = cli({"export", project, "--out", out});
    QVERIFY2(exported.code == 0, qPrintable(exported.all()));
    for (const char *file : {"model.py", "weights.pt", "reference.pt", "data.pt", "train.py", "project.particle.json"})
      QVERIFY2(QFile::exists(out + "/" + file), file);
    const Run r = python({out + "/model.py", "--check", "--onnx"});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QVERIFY2(r.out.contains("max |Δlogit|") && r.out.contains(": ok"), qPrintable(r.out));
    QVERIFY2(r.out.contains("onnx.checker passed"), qPrintable(r.all()));
    QVERIFY(QFile::exists(out + "/model.onnx"));
    if (!runtime_.isEmpty()) {
      const double delta = onnxDelta(r.out);
      QVERIFY2(delta >= 0 && delta <= 1e-4, qPrintable(r.out));
    }
  }

  // A fashion-patches-like project (four patches, one shared ConvNet trunk, attention), trained a
  // little: `export --to onnx` runs model.onnx in ONNX Runtime on the reference batch and prints the
  // figure; a damaged model.onnx fails model.py --check, naming the file.
  void onnxRuntimeRunsTheExport() {
    if (runtime_.isEmpty())
      QSKIP(qPrintable(noRuntime_));
    QTemporaryDir dir;
    Json doc = Json::parse(R"({
      "format": "particle-studio", "version": 1, "name": "tiny-patches",
      "dataset": {"kind": "fashion-mnist", "validation_fraction": 0.1, "limit": 512},
      "nodes": [
        {"id": "input", "type": "Input"},
        {"id": "split", "type": "Split", "params": {"mode": "patches", "rows": 2, "cols": 2}},
        {"id": "combine", "type": "Combine", "params": {"mode": "attention"}},
        {"id": "head", "type": "Classifier"}
      ],
      "edges": [{"from": "input", "to": "split"}, {"from": "combine", "to": "head"}],
      "training": {"epochs": 1, "batch_size": 64, "threads": 1, "seed": 0}
    })");
    for (int i = 0; i < 4; ++i) {
      const std::string id = "p" + std::to_string(i), port = i ? ":" + std::to_string(i) : "";
      doc["nodes"].push_back({{"id", id},
                              {"type", "ConvNet"},
                              {"params", {{"channels", {4, 8}}, {"kernel", 3}, {"pool", true}, {"out", 16}}},
                              {"share", "patch"},
                              {"share_scope", "trunk"}});
      doc["edges"].push_back({{"from", "split" + port}, {"to", id}});
      doc["edges"].push_back({{"from", id}, {"to", "combine" + port}});
    }
    const QString project = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump(2)));
    const Run check = cli({"check", project});
    if (check.code == 3)
      QSKIP(qPrintable("Fashion-MNIST is not on this machine (apt-get install dataset-fashion-mnist): " + check.err));
    const QString run = dir.filePath("run"), out = dir.filePath("onnx");
    const Run trained = cli({"train", project, "--out", run});
    QVERIFY2(trained.code == 0, qPrintable(trained.all()));
    const Run exported = cli({"export", project, "--checkpoint", run + "/checkpoint.pt", "--to", "onnx", "--out", out});
    QVERIFY2(exported.code == 0, qPrintable(exported.all()));
    QVERIFY2(exported.out.contains("onnx.checker passed"), qPrintable(exported.out));
    const double delta = onnxDelta(exported.out);
    QVERIFY2(delta >= 0 && delta <= 1e-4, qPrintable(exported.out));
    qInfo("%s", qPrintable(exported.out.split('\n').filter("onnxruntime").join("")));
    QVERIFY(QFile::exists(out + "/onnx_run.mjs"));

    // A damaged model.onnx: the check fails and says which file.
    const QString onnx = out + "/model.onnx";
    QFile file(onnx);
    QVERIFY(file.open(QIODevice::ReadWrite));
    file.resize(file.size() / 2);
    file.close();
    const Run damaged = python({out + "/model.py", "--check"});
    QCOMPARE(damaged.code, 1);
    QVERIFY2(damaged.out.contains("onnx: FAILED: " + onnx) && damaged.out.contains("ONNX Runtime could not run it"),
             qPrintable(damaged.all()));
  }

  // Without ONNX Runtime the export still succeeds, and says the logits were not compared, with the
  // install command: never a silent pass.
  void onnxWithoutRuntimeSaysSo() {
    QTemporaryDir dir;
    const std::string project = writeFile(dir, "p.particle.json", baseProject().dump(2));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PARTICLE_ONNXRUNTIME", dir.filePath("empty"));
    const Run r = runProcess(
        PARTICLE_CLI, {"export", QString::fromStdString(project), "--to", "onnx", "--out", dir.filePath("onnx")}, env);
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QVERIFY2(r.out.contains("onnx: SKIPPED, logits not compared") &&
                 r.out.contains("npm install --ignore-scripts --prefix DIR onnxruntime-node"),
             qPrintable(r.out));
    QCOMPARE(onnxDelta(r.out), -1.0);
  }

  // Every node type the examples leave out, a gate with its own input, ids that are not Python
  // attributes, a text graph with padding: trained, exported from the checkpoint, checked.
  void zoosTrainedExportAndCheck_data() {
    QTest::addColumn<bool>("text");
    QTest::addColumn<QString>("splitMode");
    QTest::newRow("vector zoo") << false << "columns";
    QTest::newRow("text zoo") << true << "chunks";
    // Each text cut at its own length (texts of 2 to 10 words, max_tokens 12, 3 parts of 4).
    QTest::newRow("text zoo, proportional") << true << "proportional";
  }
  void zoosTrainedExportAndCheck() {
    QFETCH(bool, text);
    QFETCH(QString, splitMode);
    QTemporaryDir dir;
    if (text)
      writeTextData(dir);
    Json zoo = text ? textZoo() : vectorZoo();
    if (splitMode == "proportional") {
      for (auto &n : zoo["nodes"])
        if (n["id"] == "split")
          n["params"] = {{"mode", "proportional"}, {"parts", 3}};
      zoo["nodes"].push_back({{"id", "e2"}, {"type", "Embedding"}, {"params", {{"dim", 8}}}, {"share", "words"}});
      zoo["nodes"].push_back({{"id", "pool2"}, {"type", "Pool"}, {"params", {{"mode", "max"}}}});
      for (const char *e : {R"({"from": "split:2", "to": "e2"})", R"({"from": "e2", "to": "pool2"})",
                            R"({"from": "pool2", "to": "combine:2"})"})
        zoo["edges"].push_back(Json::parse(e));
      for (auto &n : zoo["nodes"])
        if (n["id"] == "att")
          n["params"]["out"] = 8; // the Pools' width: the attention Combine needs equal branches
      for (auto &n : zoo["nodes"])
        if (n["id"] == "conv")
          n["params"]["channels"] = 8;
    }
    const std::string project = writeFile(dir, "zoo.particle.json", zoo.dump(2));
    const QString run = dir.filePath("run"), out = dir.filePath("export");
    const Run trained = cli({"train", QString::fromStdString(project), "--out", run});
    QVERIFY2(trained.code == 0, qPrintable(trained.all()));
    const Run exported =
        cli({"export", QString::fromStdString(project), "--checkpoint", run + "/checkpoint.pt", "--out", out});
    QVERIFY2(exported.code == 0, qPrintable(exported.all()));
    const Run r = python({out + "/model.py", "--check", "--onnx"});
    QVERIFY2(r.code == 0 && r.out.contains(": ok") && r.out.contains("onnx.checker passed"), qPrintable(r.all()));
    QFile model(out + "/model.py");
    QVERIFY(model.open(QIODevice::ReadOnly));
    const QString source = QString::fromUtf8(model.readAll());
    if (!text) {
      // An id nn.Module uses keeps its state-dict name; the tied member calls its owner's module.
      QVERIFY2(source.contains("self.a1 = Block(MLPTrunk("), qPrintable(source));
      QVERIFY2(source.contains("self._modules[\"train\"] = Block(AttentionTrunk("), qPrintable(source));
      QVERIFY2(source.contains("b = self.a1(split[1])"), qPrintable(source));
      QVERIFY2(source.contains("gate=input"), qPrintable(source));
    } else {
      QVERIFY2(source.contains("e1 = self.e0(split[1])"), qPrintable(source));
      if (splitMode == "proportional")
        QVERIFY2(source.contains("SplitNode(\"proportional\", sizes=[4, 4, 4])"), qPrintable(source));
    }
    // The check can fail: weights that are not the engine's do not pass it.
    const Run spoiled = python({"-c",
                                "import torch,sys; p=sys.argv[1]; d=torch.load(p); "
                                "k=[k for k in d if k.endswith('head.linear.bias')][0]; d[k]+=0.01; torch.save(d,p)",
                                out + "/weights.pt"});
    QVERIFY2(spoiled.code == 0, qPrintable(spoiled.all()));
    const Run failed = python({out + "/model.py", "--check"});
    QCOMPARE(failed.code, 1);
    QVERIFY2(failed.out.contains("FAILED"), qPrintable(failed.out));
  }

  // train.py trains the exported model with plain PyTorch, alone and data-parallel (DDP, gloo).
  void trainScriptTrains() {
    QTemporaryDir dir;
    Json doc = baseProject();
    doc["dataset"]["samples"] = 2000;
    const std::string project = writeFile(dir, "p.particle.json", doc.dump(2));
    const QString out = dir.filePath("export");
    const Run exported = cli({"export", QString::fromStdString(project), "--out", out});
    QVERIFY2(exported.code == 0, qPrintable(exported.all()));
    const Run single = python({out + "/train.py", "--epochs", "4", "--threads", "1", "--json"});
    QVERIFY2(single.code == 0, qPrintable(single.all()));
    const QJsonObject summary =
        QJsonDocument::fromJson(single.out.split('\n', Qt::SkipEmptyParts).last().toUtf8()).object();
    QCOMPARE(summary.value("processes").toInt(), 1);
    QVERIFY2(summary.value("test_accuracy").toDouble() > 0.5, qPrintable(single.out)); // 4 classes: chance is 0.25
    QVERIFY(summary.value("samples_per_second").toDouble() > 0);
    QVERIFY(QFile::exists(out + "/trained.pt"));
    // Two workers as torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT;
    // Debian 12's torchrun itself fails under Python 3.11 before starting any worker).
    QProcess workers[2];
    for (int rank = 0; rank < 2; ++rank) {
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("RANK", QString::number(rank));
      env.insert("LOCAL_RANK", QString::number(rank));
      env.insert("WORLD_SIZE", "2");
      env.insert("MASTER_ADDR", "127.0.0.1");
      env.insert("MASTER_PORT", "29613");
      workers[rank].setProcessEnvironment(env);
      workers[rank].start(kPython, {out + "/train.py", "--epochs", "2", "--threads", "1", "--json"});
    }
    for (auto &w : workers) {
      QVERIFY(w.waitForFinished(300000));
      QCOMPARE(w.exitCode(), 0);
    }
    const QString rank0 = QString::fromUtf8(workers[0].readAllStandardOutput());
    QVERIFY2(rank0.contains("2 process(es)") && rank0.contains("\"processes\": 2"), qPrintable(rank0));
    QVERIFY2(workers[1].readAllStandardOutput().isEmpty(), "only rank 0 reports");
  }

  // The project's training.precision bf16 goes into train.py: where this CPU has AVX512_BF16 or AMX
  // it trains under autocast and keeps float32 weights; elsewhere it stops with the engine's reason.
  // fp16 on the CPU is refused before any training, with the same words as the engine.
  void trainScriptTrainsInBf16() {
    QTemporaryDir dir;
    Json doc = baseProject();
    doc["dataset"]["samples"] = 2000;
    doc["training"]["precision"] = "bf16";
    const std::string project = writeFile(dir, "p.particle.json", doc.dump(2));
    const QString out = dir.filePath("export");
    const Run exported = cli({"export", QString::fromStdString(project), "--out", out});
    QVERIFY2(exported.code == 0, qPrintable(exported.all()));
    const QStringList args = {out + "/train.py", "--epochs", "4", "--threads", "1", "--device", "cpu", "--json"};
    const Run bf16 = python(args);
    if (const std::string why = precisionUnsupported("bf16", "cpu"); !why.empty()) {
      QCOMPARE(bf16.code, 1);
      QVERIFY2(bf16.err.contains(QString::fromStdString("training.precision: " + why)), qPrintable(bf16.err));
      QVERIFY(!QFile::exists(out + "/trained.pt"));
    } else {
      QVERIFY2(bf16.code == 0, qPrintable(bf16.all()));
      const QJsonObject summary =
          QJsonDocument::fromJson(bf16.out.split('\n', Qt::SkipEmptyParts).last().toUtf8()).object();
      QCOMPARE(summary.value("precision").toString(), QString("bf16"));
      QVERIFY2(summary.value("test_accuracy").toDouble() > 0.5, qPrintable(bf16.out)); // chance is 0.25
      const Run dtypes = python({"-c",
                                 "import sys, torch; print(sorted({str(t.dtype) for t in torch.load(sys.argv[1])"
                                 ".values() if t.is_floating_point()}))",
                                 out + "/trained.pt"});
      QCOMPARE(dtypes.out.trimmed(), QString("['torch.float32']"));
    }
    const Run fp16 = python(QStringList(args) << "--precision"
                                              << "fp16");
    QCOMPARE(fp16.code, 1);
    const QString fp16Why = QString::fromStdString("--precision fp16: " + precisionUnsupported("fp16", "cpu"));
    QVERIFY2(fp16.err.contains(fp16Why), qPrintable(fp16.err));
    QVERIFY2(!fp16.out.contains("epoch 1/"), qPrintable(fp16.out));
  }

  void badInput() {
    QTemporaryDir dir;
    const std::string project = writeFile(dir, "p.particle.json", baseProject().dump(2));
    const QString p = QString::fromStdString(project);
    // Usage: an unknown target, an occupied folder without --force.
    Run r = cli({"export", p, "--to", "tflite", "--out", dir.filePath("x")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--to needs pytorch or onnx"), qPrintable(r.err));
    QVERIFY(QDir().mkpath(dir.filePath("full")));
    writeFile(dir, "full/keep.txt", "x");
    r = cli({"export", p, "--out", dir.filePath("full")});
    QCOMPARE(r.code, 2);
    QVERIFY(QFile::exists(dir.filePath("full/keep.txt")));
    // An invalid project: exit 1 with the node named.
    Json bad = baseProject();
    bad["nodes"][1]["params"]["parts"] = 3;
    const std::string badPath = writeFile(dir, "bad.particle.json", bad.dump());
    r = cli({"export", QString::fromStdString(badPath), "--out", dir.filePath("bad")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("split"), qPrintable(r.err));
    // A checkpoint of another graph, and no checkpoint at all: exit 3 naming the file.
    const Run trained = cli({"train", p, "--out", dir.filePath("run")});
    QCOMPARE(trained.code, 0);
    Json other = baseProject();
    other["nodes"][2]["params"]["out"] = 4;
    other["nodes"][3]["params"]["out"] = 4;
    const std::string otherPath = writeFile(dir, "other.particle.json", other.dump());
    r = cli({"export", QString::fromStdString(otherPath), "--checkpoint", dir.filePath("run/checkpoint.pt"), "--out",
             dir.filePath("other")});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains("checkpoint.pt") && r.err.contains("different graph"), qPrintable(r.err));
    r = cli({"export", p, "--checkpoint", dir.filePath("run/none.pt"), "--out", dir.filePath("none")});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains("none.pt"), qPrintable(r.err));
    // --to onnx through the command line.
    r = cli({"export", p, "--checkpoint", dir.filePath("run/checkpoint.pt"), "--to", "onnx", "--out",
             dir.filePath("onnx")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QVERIFY2(r.out.contains("onnx.checker passed"), qPrintable(r.out));
    QVERIFY(QFile::exists(dir.filePath("onnx/model.onnx")));
  }

private:
  QString runtime_, noRuntime_; // ONNX Runtime's folder, or why there is none
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
