// The TorchScript node: a module scripted by Debian's python3-torch trains as the shared particle
// of each part (the loss goes down, its weights move, the user's file stays as it was), counts its
// parameters, survives a checkpoint, exports to a model.py whose --check passes, and each way a
// file can be wrong is said naming the file. Skipped without python3-torch (it writes the modules).

#include "TestSupport.h"

#include "base/Files.h"
#include "model/Model.h"
#include "project/ProjectCheck.h"
#include "project/ProjectPaths.h"
#include "train/RunFolder.h"
#include "train/Trainer.h"

#include <torch/script.h>

#include <QTest>

#include <cmath>
#include <filesystem>
#include <set>

using namespace particle;
using namespace particle::test;

namespace {

// Debian's Python, which has python3-torch (a python3 earlier on PATH may not).
const QString kPython = "/usr/bin/python3";

// Scripted modules for parts of 8 numbers: a small MLP with batch norm (the particle), and the
// ways a file can be wrong.
const char *kWriteModules = R"PY(
import sys, torch
from torch import nn
from typing import Dict, Tuple
out = sys.argv[1]
torch.manual_seed(0)

class Particle(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
        self.out = nn.Linear(16, 6)
    def forward(self, x):
        return self.out(self.body(x))

class Pair(nn.Module):
    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        return x, x

class Named(nn.Module):
    def forward(self, x) -> Dict[str, torch.Tensor]:
        return {"x": x}

class Pooled(nn.Module):
    def forward(self, x):
        return x.sum(0, keepdim=True)

torch.jit.save(torch.jit.script(Particle().eval()), out + "/particle.pt")
torch.jit.save(torch.jit.script(nn.Linear(10, 4)), out + "/wants10.pt")
torch.jit.save(torch.jit.script(Pair()), out + "/pair.pt")
torch.jit.save(torch.jit.script(Named()), out + "/named.pt")
torch.jit.save(torch.jit.script(Pooled()), out + "/pooled.pt")
torch.save(Particle().state_dict(), out + "/statedict.pt")
)PY";

// Four parts of 8 numbers, each through the same TorchScript module (one share group), concat.
Json particleProject(const std::string &path, bool trainable = true) {
  Json doc = baseProject();
  doc["dataset"] = Json::parse(
      R"({"kind":"synthetic","parts":4,"part_dim":8,"informative":[0,2],"classes":4,"samples":1200,"noise":0.3})");
  Json params = {{"path", path}};
  if (!trainable)
    params["trainable"] = false;
  for (auto &n : doc["nodes"])
    if (n["type"] == "MLP") {
      n["type"] = "TorchScript";
      n["params"] = params;
      n["share"] = "g";
    }
  doc["training"] = {{"epochs", 4}, {"batch_size", 32}, {"lr", 0.01}, {"threads", 1}, {"seed", 1}};
  return doc;
}

int64_t fileNumel(const std::string &path) {
  int64_t n = 0;
  for (const auto &p : torch::jit::load(path).named_parameters(true))
    n += p.value.numel();
  return n;
}

// The problem validation reports about node `a`.
const Problem *problemOf(const Validation &v, const std::string &node) {
  for (const auto &p : v.problems)
    if (p.isError() && p.node == node)
      return &p;
  return nullptr;
}

} // namespace

class TestTorchScript : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase();
  void countsTheModulesParameters();
  void trainsAsSharedParticle();
  void untrainableKeepsTheFilesWeights();
  void wrongFilesAreNamed_data();
  void wrongFilesAreNamed();
  void missingFileIsAFileProblem();
  void copiesElsewhereStillFindTheFile();
  void exportChecksAndExplains();
  void exampleChecks();
  void torchvisionResNetIsTheSharedParticle();

private:
  QTemporaryDir dir_;
  std::string modules_;

  std::string projectFile(const Json &doc, const std::string &name) { return writeFile(dir_, name, doc.dump(2)); }
};

void TestTorchScript::initTestCase() {
  if (runProcess(kPython, {"-c", "import torch"}).code != 0)
    QSKIP("Debian's python3-torch is not installed (scripts/setup.sh installs it); it writes the modules");
  modules_ = dir_.path().toStdString();
  // From a file: torch.jit.script reads the classes' source.
  const std::string script = writeFile(dir_, "write_modules.py", kWriteModules);
  const ProcessRun r = runProcess(kPython, {QString::fromStdString(script), QString::fromStdString(modules_)});
  QVERIFY2(r.code == 0, qPrintable(r.all()));
  writeFileAtomically(modules_ + "/text.pt", "not a module\n");
}

void TestTorchScript::countsTheModulesParameters() {
  const Validation v = validate(loadProject(projectFile(particleProject("particle.pt"), "count.particle.json")));
  QVERIFY2(v.ok(), v.problems.empty() ? "" : v.problems[0].message.c_str());
  const NodeInfo *a = v.info("a");
  QCOMPARE(a->outputs, std::vector<Shape>{Shape{6}});
  const int64_t numel = fileNumel(modules_ + "/particle.pt");
  QCOMPARE(numel, int64_t{8 * 16 + 16 + 16 * 2 + 16 * 6 + 6});
  QCOMPARE(a->parameters, numel);
  // Four members of one share group: the module is trained once.
  QCOMPARE(v.totalParameters - v.uniqueParameters, 3 * numel);
  // What validation counts is what the model trains.
  ParticleModel model(loadProject(projectFile(particleProject("particle.pt"), "count.particle.json")));
  int64_t distinct = 0;
  for (const auto &p : distinctParameters(*model))
    distinct += p.numel();
  QCOMPARE(distinct, v.uniqueParameters);
}

void TestTorchScript::trainsAsSharedParticle() {
  const std::string file = modules_ + "/particle.pt";
  const std::string before = crc32Hex(readTextFile(file));
  const std::string project = projectFile(particleProject("particle.pt"), "train.particle.json");
  QTemporaryDir out;
  TrainOptions options;
  options.outDir = out.path().toStdString();
  Trainer trainer(loadProject(project), options);
  const RunSummary s = trainer.run();
  QVERIFY2(s.status == RunSummary::Status::Completed, s.message.c_str());
  const auto epochs = readRunMetrics(options.outDir);
  QCOMPARE(epochs.size(), std::size_t{4});
  QVERIFY2(epochs.back().trainLoss < 0.8 * epochs.front().trainLoss,
           (std::to_string(epochs.front().trainLoss) + " → " + std::to_string(epochs.back().trainLoss)).c_str());
  QVERIFY(s.testAccuracy > 0.5);
  // The weights the model trained are registered as Python names them (self.script = …), moved
  // away from the file's, and the file itself is untouched.
  std::map<std::string, torch::Tensor> original;
  for (const auto &q : torch::jit::load(file).named_parameters(true))
    original["a.script." + q.name] = q.value;
  std::map<std::string, torch::Tensor> trained;
  for (const auto &p : trainer.model()->named_parameters())
    trained[p.key()] = p.value().detach();
  for (const auto &p : trainer.model()->named_buffers())
    trained[p.key()] = p.value().detach();
  for (const char *key : {"a.script.body.0.weight", "a.script.out.weight", "a.script.body.1.running_mean"})
    QVERIFY2(trained.count(key), key);
  QVERIFY(!trained.count("b.script.body.0.weight")); // b is a: one module
  QVERIFY(!torch::allclose(trained.at("a.script.body.0.weight"), original.at("a.script.body.0.weight")));
  // Batch norm's running statistics moved with training (the script's buffers are the module's).
  QVERIFY(trained.at("a.script.body.1.running_mean").abs().sum().item<double>() > 0);
  QCOMPARE(crc32Hex(readTextFile(file)), before);

  // The checkpoint holds them: a model loaded from it computes what the trained one does.
  const Project p = loadProject(project);
  ParticleModel loaded(p);
  Trainer::loadWeights(loaded, options.outDir + "/checkpoint.pt", p);
  for (const auto &q : loaded->named_parameters())
    QVERIFY2(torch::equal(q.value(), trained.at(q.key())), q.key().c_str());
  for (const auto &q : loaded->named_buffers())
    QVERIFY2(torch::equal(q.value(), trained.at(q.key())), q.key().c_str());
  trainer.model()->eval();
  loaded->eval();
  torch::NoGradGuard noGrad;
  const torch::Tensor x = torch::randn({5, 32});
  QVERIFY(torch::allclose(loaded->forward(x).logits, trainer.model()->forward(x).logits));
  // weights.pt carries the same names.
  const std::string bytes = readTextFile(options.outDir + "/weights.pt");
  const auto dict = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
  QVERIFY(dict.contains("a.script.body.0.weight"));
  QVERIFY(dict.contains("a.script.body.1.running_var"));
}

void TestTorchScript::untrainableKeepsTheFilesWeights() {
  const std::string file = modules_ + "/particle.pt";
  QTemporaryDir out;
  TrainOptions options;
  options.epochs = 1;
  Trainer trainer(loadProject(projectFile(particleProject("particle.pt", false), "fixed.particle.json")), options);
  const RunSummary s = trainer.run();
  QVERIFY2(s.status == RunSummary::Status::Completed, s.message.c_str());
  torch::jit::Module original = torch::jit::load(file);
  std::map<std::string, torch::Tensor> want;
  for (const auto &p : original.named_parameters(true))
    want["a.script." + p.name] = p.value;
  for (const auto &b : original.named_buffers(true))
    want["a.script." + b.name] = b.value;
  int checked = 0;
  for (const auto &p : trainer.model()->named_parameters()) {
    if (!want.count(p.key()))
      continue;
    QVERIFY2(!p.value().requires_grad(), p.key().c_str());
    QVERIFY2(torch::equal(p.value(), want.at(p.key())), p.key().c_str());
    ++checked;
  }
  // Its batch norm's statistics too: the module runs in eval mode while the rest trains.
  for (const auto &b : trainer.model()->named_buffers()) {
    if (!want.count(b.key()))
      continue;
    QVERIFY2(torch::equal(b.value(), want.at(b.key())), b.key().c_str());
    ++checked;
  }
  QCOMPARE(checked, static_cast<int>(want.size()));
}

void TestTorchScript::wrongFilesAreNamed_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QString>("says");
  QTest::newRow("not TorchScript") << "text.pt"
                                   << "text.pt: not a TorchScript file (";
  QTest::newRow("a state dict") << "statedict.pt"
                                << "statedict.pt: not a TorchScript file (";
  QTest::newRow("wrong input") << "wants10.pt"
                               << "wants10.pt: the module refused an input [8] (a batch of 2): mat1 and mat2 shapes "
                                  "cannot be multiplied (2x8 and 10x4)";
  QTest::newRow("a tuple") << "pair.pt"
                           << "pair.pt: the module returns a tuple; it must return one tensor";
  QTest::newRow("a dict") << "named.pt"
                          << "named.pt: the module returns a dict; it must return one tensor";
  QTest::newRow("not one per sample") << "pooled.pt"
                                      << "pooled.pt: the module returns a tensor [1,8] for a batch of 2; it must "
                                         "return one output per sample";
}

void TestTorchScript::wrongFilesAreNamed() {
  QFETCH(QString, file);
  QFETCH(QString, says);
  const Validation v = validate(loadProject(projectFile(particleProject(file.toStdString()), "wrong.particle.json")));
  QVERIFY(!v.ok());
  const Problem *p = problemOf(v, "a");
  QVERIFY(p);
  QVERIFY2(p->message.find(says.toStdString()) != std::string::npos, p->message.c_str());
  QCOMPARE(p->param, std::string("path"));
  QCOMPARE(v.exitCode(), 1);
  // One line: LibTorch's backtrace and the TorchScript traceback are left out.
  QVERIFY2(p->message.find('\n') == std::string::npos, p->message.c_str());
}

void TestTorchScript::missingFileIsAFileProblem() {
  const Validation v = validate(loadProject(projectFile(particleProject("nowhere/gone.pt"), "missing.particle.json")));
  const Problem *p = problemOf(v, "a");
  QVERIFY(p);
  QVERIFY2(p->message.find("nowhere/gone.pt: no such file") != std::string::npos, p->message.c_str());
  QCOMPARE(p->kind, ErrorKind::File);
  QCOMPARE(v.exitCode(), 3);
}

void TestTorchScript::copiesElsewhereStillFindTheFile() {
  // A run folder's or an export's copy of the project names the module by its absolute path.
  const Project p = loadProject(projectFile(particleProject("particle.pt"), "copy.particle.json"));
  Project copy = projectWithAbsolutePaths(p);
  const std::string path = copy.graph.find("a")->params["path"].get<std::string>();
  QCOMPARE(path, modules_ + "/particle.pt");
  QTemporaryDir elsewhere;
  copy.path = elsewhere.path().toStdString() + "/copy.particle.json";
  QVERIFY(validate(copy).ok());
}

void TestTorchScript::exportChecksAndExplains() {
  const std::string project = projectFile(particleProject("particle.pt"), "export.particle.json");
  QTemporaryDir out;
  const QString run = out.filePath("run"), exported = out.filePath("export");
  ProcessRun r = runProcess(
      PARTICLE_CLI, {"train", QString::fromStdString(project), "--out", run, "--epochs", "1", "--threads", "1"});
  QVERIFY2(r.code == 0, qPrintable(r.all()));
  r = runProcess(PARTICLE_CLI, {"export", QString::fromStdString(project), "--checkpoint", run + "/checkpoint.pt",
                                "--out", exported, "--to", "onnx"});
  QVERIFY2(r.code == 0, qPrintable(r.all()));
  // ONNX too: model.py traces the module whole (a script module alone is refused by the exporter).
  QVERIFY(QFile::exists(exported + "/model.onnx"));
  // The module travels with the export; the model.py loads that copy.
  QVERIFY(QFile::exists(exported + "/modules/particle.pt"));
  QVERIFY(readTextFile((exported + "/model.py").toStdString()).find("TorchScriptNode(\"modules/particle.pt\")") !=
          std::string::npos);
  r = runProcess(kPython, {exported + "/model.py", "--check"});
  QVERIFY2(r.code == 0 && r.out.contains(": ok"), qPrintable(r.all()));
  // Explanations see the particle like any sub-model.
  r = runProcess(PARTICLE_CLI, {"explain", QString::fromStdString(project), "--checkpoint", run + "/checkpoint.pt",
                                "--samples", "8", "--out", out.filePath("explain")});
  QVERIFY2(r.code == 0, qPrintable(r.all()));
  const Json explained = Json::parse(readTextFile(out.filePath("explain/explain.json").toStdString()));
  std::set<std::string> branches;
  for (const auto &b : explained["combines"][0]["branches"])
    branches.insert(b["node"].get<std::string>());
  QCOMPARE(branches, (std::set<std::string>{"a", "b", "c", "d"}));
}

void TestTorchScript::exampleChecks() {
  // The example reads ../modules/patch-cnn.pt beside the examples folder; here, a copy of it
  // beside a module written by scripts/make-modules.py.
  QTemporaryDir tree;
  const QString modules = tree.filePath("modules");
  ProcessRun r = runProcess(
      kPython, {QString::fromStdString(sourceDir() + "/scripts/make-modules.py"), modules, "--only", "patch-cnn"});
  QVERIFY2(r.code == 0, qPrintable(r.all()));
  QVERIFY(QDir().mkpath(tree.filePath("examples")));
  const std::string copy = tree.filePath("examples/torchscript-patches.particle.json").toStdString();
  writeFileAtomically(copy, readTextFile(examplePath("torchscript-patches")));
  const Validation v = validate(loadProject(copy));
  if (v.exitCode() == 3 && !v.ok() && problemOf(v, "input"))
    QSKIP("Fashion-MNIST is not on this machine (scripts/setup.sh installs it)");
  QVERIFY2(v.ok(), v.problems.empty() ? "" : v.problems[0].message.c_str());
  QCOMPARE(v.info("p0")->outputs, std::vector<Shape>{Shape{64}});
  QCOMPARE(v.info("p0")->parameters, fileNumel(modules.toStdString() + "/patch-cnn.pt"));
}

void TestTorchScript::torchvisionResNetIsTheSharedParticle() {
  // The issue's backbone: torchvision's ResNet-18 (random weights, one input channel), scripted by
  // scripts/make-modules.py, as the one module of the example's four patches.
  if (runProcess(kPython, {"-c", "import torchvision"}).code != 0)
    QSKIP("Debian's python3-torchvision is not installed (scripts/setup.sh installs it)");
  QTemporaryDir tree;
  const QString modules = tree.filePath("modules");
  ProcessRun r = runProcess(
      kPython, {QString::fromStdString(sourceDir() + "/scripts/make-modules.py"), modules, "--only", "resnet18"});
  QVERIFY2(r.code == 0, qPrintable(r.all()));
  QVERIFY(QDir().mkpath(tree.filePath("examples")));
  Json doc = Json::parse(readTextFile(examplePath("torchscript-patches")));
  for (auto &n : doc["nodes"])
    if (n["type"] == "TorchScript")
      n["params"]["path"] = "../modules/resnet18.pt";
  const std::string copy = tree.filePath("examples/resnet-patches.particle.json").toStdString();
  writeFileAtomically(copy, doc.dump(2));
  const Project project = loadProject(copy);
  const Validation v = validate(project);
  if (v.exitCode() == 3 && !v.ok() && problemOf(v, "input"))
    QSKIP("Fashion-MNIST is not on this machine (scripts/setup.sh installs it)");
  QVERIFY2(v.ok(), v.problems.empty() ? "" : v.problems[0].message.c_str());
  const int64_t numel = fileNumel(modules.toStdString() + "/resnet18.pt");
  QVERIFY(numel > 11'000'000);
  QCOMPARE(v.info("p0")->parameters, numel);
  QCOMPARE(v.info("p0")->outputs, std::vector<Shape>{Shape{64}});

  // One module for the four patches: its weights registered once, every patch's gradient in them,
  // and a step moves them.
  ParticleModel model(project, &v);
  model->train();
  std::map<std::string, torch::Tensor> params;
  for (const auto &p : model->named_parameters())
    params[p.key()] = p.value();
  QVERIFY(params.count("p0.script.conv1.weight"));
  QVERIFY(params.count("p0.script.layer4.1.conv2.weight"));
  QVERIFY(!params.count("p1.script.conv1.weight"));
  const torch::Tensor before = params.at("p0.script.conv1.weight").detach().clone();
  torch::optim::SGD sgd(distinctParameters(*model), torch::optim::SGDOptions(0.1));
  const torch::Tensor x = torch::randn({8, 1, 28, 28});
  const torch::Tensor y = torch::randint(0, model->classes(), {8});
  const torch::Tensor loss = torch::cross_entropy_loss(model->forward(x).logits, y);
  QVERIFY(std::isfinite(loss.item<double>()));
  loss.backward();
  QVERIFY(params.at("p0.script.conv1.weight").grad().abs().sum().item<double>() > 0);
  sgd.step();
  QVERIFY(!torch::equal(params.at("p0.script.conv1.weight").detach(), before));
}

QTEST_GUILESS_MAIN(TestTorchScript)
#include "tst_torchscript.moc"
