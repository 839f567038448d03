// Mixed precision (training.precision): the key, where each precision may run (with made-up CPUs,
// so the refusals are tested on any machine), fp16's loss scaling, a bf16 run on this CPU that
// learns and keeps float32 weights and checkpoints, and the refusals of `particle train` and
// `particle check`.

#include "TestSupport.h"
#include "project/Precision.h"
#include "project/ProjectCheck.h"
#include "project/TrainingSpec.h"
#include "train/MixedPrecision.h"
#include "train/Trainer.h"

#include <ATen/autocast_mode.h>
#include <QtTest>

#include <fstream>
#include <set>
#include <sstream>

using namespace particle;
using namespace particle::test;

namespace {

// The label depends on part 0 only: learnt in a few epochs of a few hundred samples.
Json tinyProject(const std::string &precision) {
  Json doc = baseProject();
  doc["dataset"] = Json::parse(
      R"({"kind":"synthetic","parts":4,"part_dim":8,"informative":[0],"classes":2,"samples":1200,"noise":0.0})");
  doc["training"] = {{"epochs", 4}, {"batch_size", 32}, {"lr", 0.003},           {"threads", 1},
                     {"seed", 5},   {"device", "cpu"},  {"precision", precision}};
  return doc;
}

// The flags /proc/cpuinfo lists for the first processor (empty where there is no such file).
std::set<std::string> procCpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> flags;
      for (std::string w; words >> w;)
        flags.insert(w);
      return flags;
    }
  return {};
}

bool thisCpuHasBf16() {
  return precisionUnsupported("bf16", "cpu").empty();
}

} // namespace

class TestPrecision : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void keyParsesAndBadValueNamesIt();
  void decisionWithMadeUpCpus();
  void thisCpuMatchesProcCpuinfo();
  void checkAndTrainerRefuseUnsupported();
  void lossScalerSkipsOverflowAndUnscales();
  void bf16RunLearnsWithFloat32Weights();
  void cliOverridesAndRefuses();
};

void TestPrecision::keyParsesAndBadValueNamesIt() {
  QCOMPARE(parseTrainingSpec(Json::object()).precision, std::string("fp32"));
  QCOMPARE(parseTrainingSpec(Json{{"precision", "bf16"}}).precision, std::string("bf16"));
  QCOMPARE(parseTrainingSpec(Json{{"precision", "fp16"}}).precision, std::string("fp16"));
  QVERIFY(trainingSchema().find("precision"));
  try {
    parseTrainingSpec(Json{{"precision", "fp8"}});
    QFAIL("fp8 parsed");
  } catch (const KeyError &e) {
    QCOMPARE(e.key(), std::string("training.precision"));
    QVERIFY2(std::string(e.what()).find("bf16") != std::string::npos, e.what()); // the choices are listed
  }
}

void TestPrecision::decisionWithMadeUpCpus() {
  const CpuFeatures old{"Old Xeon E5", true, false, false}, avx{"New Xeon", true, true, false},
      amx{"AMX only", true, false, true};
  for (const auto &cpu : {old, avx, amx}) {
    QVERIFY(precisionUnsupported("fp32", "cpu", cpu).empty());
    QVERIFY(precisionUnsupported("fp32", "cuda", cpu).empty());
    QVERIFY(precisionUnsupported("fp16", "cuda", cpu).empty());
    const std::string fp16 = precisionUnsupported("fp16", "cpu", cpu);
    QVERIFY2(fp16.find("CUDA") != std::string::npos && fp16.find("CPU") != std::string::npos, fp16.c_str());
  }
  const std::string why = precisionUnsupported("bf16", "cpu", old);
  QVERIFY2(why.find("AVX512_BF16 or AMX") != std::string::npos, why.c_str());
  QVERIFY2(why.find("Old Xeon E5") != std::string::npos, why.c_str());
  QVERIFY(precisionUnsupported("bf16", "cpu", avx).empty());
  QVERIFY(precisionUnsupported("bf16", "cpu", amx).empty());
  // On CUDA the CPU does not matter; the GPU's compute capability does, once it is known.
  QVERIFY(precisionUnsupported("bf16", "cuda", old).empty());
  QVERIFY(precisionUnsupported("bf16", "cuda", old, 80).empty());
  QVERIFY(precisionUnsupported("bf16", "cuda", old, 90).empty());
  const std::string turing = precisionUnsupported("bf16", "cuda", old, 75);
  QVERIFY2(turing.find("compute capability 8.0") != std::string::npos && turing.find("7.5") != std::string::npos,
           turing.c_str());
  QVERIFY(precisionUnsupported("fp16", "cuda", old, 75).empty());
}

void TestPrecision::thisCpuMatchesProcCpuinfo() {
  const std::set<std::string> flags = procCpuFlags();
  if (flags.empty())
    QSKIP("no /proc/cpuinfo here");
  const CpuFeatures cpu = cpuFeatures();
  QVERIFY(!cpu.model.empty());
  QCOMPARE(cpu.avx512f, flags.count("avx512f") > 0);
  QCOMPARE(cpu.avx512bf16, flags.count("avx512_bf16") > 0);
  QCOMPARE(cpu.amxbf16, flags.count("amx_bf16") > 0);
}

void TestPrecision::checkAndTrainerRefuseUnsupported() {
  const Project project = projectFromJson(tinyProject("fp16"), "fp16.json");
  const Validation v = validate(project);
  QVERIFY(!v.ok());
  bool named = false;
  for (const Problem &p : v.problems)
    named = named || (p.param == "training.precision" && p.message.find("CUDA") != std::string::npos);
  QVERIFY(named);
  // The trainer refuses too (the app and callers that did not check), before any data loads.
  Trainer trainer(project, TrainOptions{});
  const RunSummary s = trainer.run();
  QCOMPARE(s.status, RunSummary::Status::Failed);
  QVERIFY2(s.message.rfind("training.precision: fp16", 0) == 0, s.message.c_str());
  QCOMPARE(s.steps, int64_t(0));
  // fp32 and, on a CPU that has them, bf16 pass the same check.
  QVERIFY(validate(projectFromJson(tinyProject("fp32"), "fp32.json")).ok());
  QCOMPARE(validate(projectFromJson(tinyProject("bf16"), "bf16.json")).ok(), thisCpuHasBf16());
}

void TestPrecision::lossScalerSkipsOverflowAndUnscales() {
  torch::manual_seed(1);
  auto w = torch::randn({4, 3}, torch::requires_grad());
  const auto x = torch::randn({8, 4});
  // The unscaled gradients are those of the plain loss: what clipping and the optimiser see.
  (x.matmul(w).pow(2).mean()).backward();
  const torch::Tensor plain = w.grad().clone();
  w.mutable_grad() = torch::Tensor();
  LossScaler scaler(1024.0, 2.0, 0.5, 2);
  scaler.scale(x.matmul(w).pow(2).mean()).backward();
  QVERIFY(!torch::allclose(w.grad(), plain));
  QVERIFY(scaler.unscale({w}));
  QVERIFY(torch::allclose(w.grad(), plain, 1e-5, 1e-6));
  QCOMPARE(scaler.value(), 1024.0);
  // An overflowed gradient: the step is to be skipped and the scale backs off.
  w.mutable_grad()[0][0] = std::numeric_limits<float>::infinity();
  QVERIFY(!scaler.unscale({w}));
  QCOMPARE(scaler.value(), 512.0);
  QCOMPARE(scaler.skipped(), int64_t(1));
  w.mutable_grad()[0][0] = std::nanf("");
  QVERIFY(!scaler.unscale({w}));
  QCOMPARE(scaler.value(), 256.0);
  // Two good steps in a row (the interval here) and it grows again.
  w.mutable_grad().zero_();
  QVERIFY(scaler.unscale({w}));
  QCOMPARE(scaler.value(), 256.0);
  QVERIFY(scaler.unscale({w}));
  QCOMPARE(scaler.value(), 512.0);
}

void TestPrecision::bf16RunLearnsWithFloat32Weights() {
  if (!thisCpuHasBf16())
    QSKIP("this CPU has neither AVX512_BF16 nor AMX: bf16 is refused here (decisionWithMadeUpCpus covers it)");
  QTemporaryDir dir;
  TrainOptions options;
  options.outDir = dir.path().toStdString();
  // Explanations run in an epoch hook, after the step's autocast has ended.
  std::vector<bool> autocastInHook;
  options.epochHooks.push_back(
      [&](Trainer &, EpochEvent &) { autocastInHook.push_back(at::autocast::is_cpu_enabled()); });
  const Project project = projectFromJson(tinyProject("bf16"), "bf16.json");
  Trainer trainer(project, options);
  struct Epochs : TrainObserver {
    void onEpoch(const EpochEvent &e) override { losses.push_back(e.trainLoss); }
    std::vector<double> losses;
  } epochs;
  const RunSummary s = trainer.run(&epochs);
  QVERIFY2(s.status == RunSummary::Status::Completed, s.message.c_str());
  QCOMPARE(s.precision, std::string("bf16"));
  QCOMPARE(epochs.losses.size(), std::size_t(4));
  QVERIFY2(epochs.losses.back() < 0.5 * epochs.losses.front(),
           (std::to_string(epochs.losses.front()) + " → " + std::to_string(epochs.losses.back())).c_str());
  QVERIFY2(s.testAccuracy > 0.9, std::to_string(s.testAccuracy).c_str());
  QCOMPARE(autocastInHook, std::vector<bool>(4, false));
  QVERIFY(!at::autocast::is_cpu_enabled());
  const Json summary = Json::parse(readTextFile(dir.filePath("summary.json").toStdString()));
  QCOMPARE(summary["precision"].get<std::string>(), std::string("bf16"));
  // Master weights float32, and so is every tensor of the checkpoint (loading takes their types).
  for (const auto &p : trainer.model()->parameters())
    QCOMPARE(p.scalar_type(), torch::kFloat);
  ParticleModel loaded(project);
  Trainer::loadWeights(loaded, dir.filePath("checkpoint.pt").toStdString(), project);
  for (const auto &p : loaded->named_parameters())
    QVERIFY2(p.value().scalar_type() == torch::kFloat, p.key().c_str());
  for (const auto &b : loaded->named_buffers())
    QVERIFY2(!b.value().is_floating_point() || b.value().scalar_type() == torch::kFloat, b.key().c_str());

  // The trained model's outputs in bf16 are its float32 outputs within bf16's resolution.
  torch::NoGradGuard noGrad;
  ParticleModel model = trainer.model();
  model->eval();
  const torch::Tensor x = trainer.data().testX.narrow(0, 0, 64);
  const torch::Tensor fp32 = model->forward(x).logits;
  torch::Tensor bf16;
  {
    const AutocastGuard autocast("bf16", torch::kCPU);
    bf16 = model->forward(x).logits;
  }
  QCOMPARE(fp32.scalar_type(), torch::kFloat);
  QCOMPARE(bf16.scalar_type(), torch::kBFloat16); // the products did run in bf16
  const double error = (bf16.to(torch::kFloat) - fp32).abs().max().item<double>();
  const double scale = fp32.abs().max().item<double>();
  QVERIFY2(error <= 0.05 * scale, (std::to_string(error) + " of " + std::to_string(scale)).c_str());
  QVERIFY(fp32.argmax(1).eq(bf16.argmax(1)).to(torch::kFloat).mean().item<double>() > 0.95);
}

void TestPrecision::cliOverridesAndRefuses() {
  QTemporaryDir dir;
  const std::string file = writeFile(dir, "p.particle.json", tinyProject("fp32").dump());
  const QString project = QString::fromStdString(file), out = dir.filePath("run");
  ProcessRun r = runProcess(PARTICLE_CLI, {"train", project, "--precision", "fp16", "--out", out});
  QCOMPARE(r.code, 1); // a bad project's exit code
  QVERIFY2(r.err.contains("training.precision: fp16") && r.err.contains("CUDA"), qPrintable(r.all()));
  QVERIFY(!QFileInfo::exists(out)); // refused before any folder is made
  r = runProcess(PARTICLE_CLI, {"train", project, "--precision", "fp8", "--out", out});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("--precision"), qPrintable(r.all()));
  Json doc = tinyProject("fp16");
  writeFile(dir, "p.particle.json", doc.dump());
  r = runProcess(PARTICLE_CLI, {"check", project});
  QCOMPARE(r.code, 1);
  QVERIFY2(r.all().contains("training.precision: fp16"), qPrintable(r.all()));
  if (!thisCpuHasBf16())
    return;
  // The command line's precision wins over the file's, and the summary says which ran.
  doc["training"]["precision"] = "fp32";
  doc["training"]["epochs"] = 1;
  writeFile(dir, "p.particle.json", doc.dump());
  r = runProcess(PARTICLE_CLI, {"train", project, "--precision", "bf16", "--out", out});
  QVERIFY2(r.code == 0, qPrintable(r.all()));
  const Json summary = Json::parse(readTextFile(dir.filePath("run/summary.json").toStdString()));
  QCOMPARE(summary["precision"].get<std::string>(), std::string("bf16"));
}

QTEST_GUILESS_MAIN(TestPrecision)
#include "tst_precision.moc"
