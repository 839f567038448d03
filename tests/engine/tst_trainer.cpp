// The training engine: convergence, determinism, resume, control from another thread,
// divergence, data errors and the fused Adam/AdamW step against LibTorch's.

#include "TestSupport.h"
#include "data/Dataset.h"
#include "data/Idx.h"
#include "project/ProjectCheck.h"
#include "train/FusedAdam.h"
#include "train/RunFolder.h"
#include "train/Trainer.h"

#include <cmath>
#include <QtTest>

#include <sys/resource.h>

#include <condition_variable>
#include <fstream>
#include <future>
#include <thread>
#include <zlib.h>

using namespace particle;
using namespace particle::test;

namespace {

// An easy task: the label depends only on part 0 (linear), no noise.
Json easyProject(int epochs) {
  Json doc = baseProject();
  doc["dataset"] = Json::parse(
      R"({"kind":"synthetic","parts":4,"part_dim":8,"informative":[0],"classes":2,"samples":3000,"noise":0.0})");
  doc["training"] = {{"epochs", epochs}, {"batch_size", 32}, {"lr", 0.003}, {"threads", 1}, {"seed", 3}};
  return doc;
}

std::map<std::string, torch::Tensor> weightsOf(Trainer &t) {
  std::map<std::string, torch::Tensor> out;
  for (const auto &p : t.model()->named_parameters())
    out[p.key()] = p.value().detach().clone();
  return out;
}

class Recorder : public TrainObserver {
public:
  void onStep(const StepEvent &e) override {
    std::lock_guard<std::mutex> lock(mutex);
    steps.push_back(e);
    cv.notify_all();
  }
  void onEpoch(const EpochEvent &e) override {
    std::lock_guard<std::mutex> lock(mutex);
    epochs.push_back(e);
  }
  int64_t lastStep() {
    std::lock_guard<std::mutex> lock(mutex);
    return steps.empty() ? 0 : steps.back().step;
  }
  bool waitForStep(int64_t step) {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(60), [&] { return !steps.empty() && steps.back().step >= step; });
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<StepEvent> steps;
  std::vector<EpochEvent> epochs;
};

void writeGz(const std::string &path, const std::vector<uint8_t> &bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::vector<uint8_t> idxHeader(std::vector<uint32_t> dims) {
  std::vector<uint8_t> out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8)
      out.push_back(static_cast<uint8_t>(d >> s));
  return out;
}

// The fused Adam/AdamW step against LibTorch's: parameters of several shapes (odd sizes, one
// large enough to be split over two threads, an empty one, a channels-last one, one with
// channels-last strides forced on a dimension of size one as ConvNet's first layer has, one without
// a gradient) in two groups with their own lr, betas, eps and weight decay.
std::vector<torch::Tensor> adamParameters() {
  torch::manual_seed(11);
  const auto firstLayer = torch::randn({4, 1, 3, 3});
  return {torch::randn({7}),       torch::randn({3, 5}),
          torch::randn({129, 33}), torch::randn({301, 257}), // 77,357 elements: more than two threads' grain
          torch::randn({0, 4}),    torch::randn({8, 3, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast),
          torch::randn({1}),       torch::empty_like(firstLayer, torch::MemoryFormat::ChannelsLast).copy_(firstLayer),
          torch::randn({5})}; // never given a gradient
}

std::vector<torch::Tensor> clones(const std::vector<torch::Tensor> &ts) {
  std::vector<torch::Tensor> out;
  for (const auto &t : ts)
    out.push_back(t.detach().clone(torch::MemoryFormat::Preserve));
  return out;
}

template <typename Opt, typename Options>
std::unique_ptr<Opt> makeAdam(const std::vector<torch::Tensor> &p, double decay, bool amsgrad = false) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{p[0], p[2], p[4], p[6], p[8]},
                      std::make_unique<Options>(Options(1e-2).weight_decay(decay).amsgrad(amsgrad)));
  groups.emplace_back(
      std::vector<torch::Tensor>{p[1], p[3], p[5], p[7]},
      std::make_unique<Options>(Options(3e-3).betas({0.8, 0.99}).eps(1e-6).weight_decay(2 * decay).amsgrad(amsgrad)));
  return std::make_unique<Opt>(std::move(groups), Options(1e-3));
}

// The gradients of step k, the same for every optimiser: of each parameter's layout, magnitudes
// spread over four decades, some exactly zero.
void setGradients(const std::vector<torch::Tensor> &p, int k) {
  torch::manual_seed(100 + k);
  for (std::size_t i = 0; i + 1 < p.size(); ++i) {
    auto g = torch::randn_like(p[i]) * torch::exp(2 * torch::randn_like(p[i]));
    p[i].mutable_grad() = g * (torch::rand_like(p[i]) > 0.05).to(torch::kFloat);
  }
}

// The schedule sets each group's lr before every step.
void stepWithLr(torch::optim::Optimizer &opt, int k) {
  opt.param_groups()[0].options().set_lr(1e-2 * (1 - 0.1 * k));
  opt.param_groups()[1].options().set_lr(3e-3 * (1 + 0.2 * k));
  opt.step();
}

template <typename State> const State &adamState(const torch::optim::Optimizer &opt, const torch::Tensor &p) {
  return static_cast<const State &>(*opt.state().at(c10::guts::to_string(p.unsafeGetTensorImpl())));
}

// The largest difference between two tensors relative to the second's magnitude plus `floor`
// (1 where their shapes differ). Weights are compared with a floor of 1e-3 (where a weight crosses
// zero its last place is no measure of the step's rounding), the moments with none.
double apart(const torch::Tensor &a, const torch::Tensor &b, double floor) {
  if (a.sizes() != b.sizes())
    return 1;
  if (a.numel() == 0)
    return 0;
  return ((a - b).abs() / (b.abs() + std::max(floor, 1e-38))).max().item<double>();
}

// The tolerances: a LibTorch whose kernels round every product separately (no fused multiply-add)
// ends 12 steps at most 4.1e-6 (weights) and 2.4e-7 (moments) from the fused step, measured.
constexpr double kWeightTolerance = 1e-5, kMomentTolerance = 1e-6;

std::string savedOptimizer(const torch::optim::Optimizer &opt) {
  torch::serialize::OutputArchive archive;
  opt.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  return bytes.str();
}

void loadOptimizer(torch::optim::Optimizer &opt, const std::string &bytes) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  opt.load(archive);
}

void runSteps(torch::optim::Optimizer &opt, const std::vector<torch::Tensor> &p, int from, int to) {
  for (int k = from; k < to; ++k) {
    setGradients(p, k);
    stepWithLr(opt, k);
  }
}

// Eight steps straight through, against four, a checkpoint, and four more from it.
template <typename Fused, typename Plain, typename Options> void checkpointResumes() {
  const auto start = adamParameters();
  const auto straight = clones(start), plainStraight = clones(start);
  auto a = makeAdam<Fused, Options>(straight, 0.05);
  auto plainA = makeAdam<Plain, Options>(plainStraight, 0.05);
  runSteps(*a, straight, 0, 4);
  runSteps(*plainA, plainStraight, 0, 4);
  const std::string fusedBytes = savedOptimizer(*a), plainBytes = savedOptimizer(*plainA);
  const auto fusedMid = clones(straight), plainMid = clones(plainStraight);
  runSteps(*a, straight, 4, 8);
  runSteps(*plainA, plainStraight, 4, 8);

  // Resumed from the fused checkpoint by the fused step: the same bits.
  const auto resumed = clones(fusedMid);
  auto b = makeAdam<Fused, Options>(resumed, 0.05);
  loadOptimizer(*b, fusedBytes);
  runSteps(*b, resumed, 4, 8);
  QCOMPARE(b->stepCount().fused, int64_t(4)); // the loaded moments keep their layout
  for (std::size_t i = 0; i < resumed.size(); ++i)
    QVERIFY2(torch::equal(resumed[i], straight[i]), std::to_string(i).c_str());
  // By LibTorch's step from the fused checkpoint, and by the fused step from LibTorch's.
  const auto byPlain = clones(fusedMid), byFused = clones(plainMid);
  auto c = makeAdam<Plain, Options>(byPlain, 0.05);
  loadOptimizer(*c, fusedBytes);
  runSteps(*c, byPlain, 4, 8);
  auto d = makeAdam<Fused, Options>(byFused, 0.05);
  loadOptimizer(*d, plainBytes);
  runSteps(*d, byFused, 4, 8);
  QCOMPARE(d->stepCount().fused, int64_t(4));
  for (std::size_t i = 0; i < resumed.size(); ++i) {
    QVERIFY2(apart(byPlain[i], straight[i], 1e-3) <= kWeightTolerance, std::to_string(i).c_str());
    QVERIFY2(apart(byFused[i], plainStraight[i], 1e-3) <= kWeightTolerance, std::to_string(i).c_str());
  }
}

} // namespace

class TestTrainer : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void easyTaskConverges();
  void labelSmoothingSetsTheTrainingLossFloor();
  void sameSeedSameCurves();
  void resumeEqualsUninterrupted();
  void pauseResumeStopFromAnotherThread();
  void changedLrWhilePausedIsUsed();
  void divergenceStopsAndKeepsCheckpoint();
  void schedules();
  void dataErrors_data();
  void dataErrors();
  void idxDataLoads();
  void cancelledLoadEnds();
  void limitsOfARun();
  void stepsOnAnotherThreadReuseTheirMemory();
  void fusedAdamMatchesLibTorch_data();
  void fusedAdamMatchesLibTorch();
  void fusedAdamCheckpointsResume();
  void fusedAdamReadsOtherLayouts();
  void fusedAdamFallsBack();
};

void TestTrainer::easyTaskConverges() {
  QTemporaryDir dir;
  TrainOptions opt;
  opt.outDir = dir.path().toStdString();
  Trainer trainer(projectFromJson(easyProject(6), "easy.json"), opt);
  Recorder rec;
  const RunSummary s = trainer.run(&rec);
  QCOMPARE(s.status, RunSummary::Status::Completed);
  QCOMPARE(static_cast<int>(rec.epochs.size()), 6);
  QVERIFY2(s.testAccuracy > 0.95, std::to_string(s.testAccuracy).c_str());
  QVERIFY(rec.epochs.back().trainLoss < rec.epochs.front().trainLoss);
  QVERIFY(rec.epochs.back().valLoss < rec.epochs.front().valLoss);
  for (const char *f : {"metrics.csv", "summary.json", "checkpoint.pt", "weights.pt"})
    QVERIFY2(QFile::exists(dir.filePath(f)), f);
  const Json summary = Json::parse(readTextFile(dir.filePath("summary.json").toStdString()));
  for (const char *k : {"test_accuracy", "test_loss", "epochs", "samples_per_second", "parameters", "device"})
    QVERIFY2(summary.contains(k), k);
  QCOMPARE(summary["parameters"]["unique"].get<int64_t>(), s.uniqueParameters);
  // The test split's confusion matrix: one row per class, its counts the test samples, its diagonal
  // the test accuracy; read back as written.
  QCOMPARE(summary["test_confusion"].size(), std::size_t(2));
  int64_t tested = 0, right = 0;
  for (std::size_t t = 0; t < 2; ++t)
    for (std::size_t q = 0; q < 2; ++q) {
      tested += summary["test_confusion"][t][q].get<int64_t>();
      right += t == q ? summary["test_confusion"][t][q].get<int64_t>() : 0;
    }
  QCOMPARE(tested, trainer.data().testX.size(0));
  QVERIFY(std::abs(static_cast<double>(right) / static_cast<double>(tested) - s.testAccuracy) < 1e-9);
  QCOMPARE(readRunSummary(dir.path().toStdString()).summary.testConfusion, s.testConfusion);
  // Confusion matrix of the last epoch covers the whole validation set.
  int64_t total = 0;
  for (auto c : rec.epochs.back().confusion)
    total += c;
  QCOMPARE(total, trainer.data().valX.size(0));
}

// training.label_smoothing s: the training loss is the cross-entropy against targets 1 − s + s/K
// on the true class and s/K on each other, so it cannot fall below that target's entropy (0.423
// for K = 2, s = 0.3), where the unsmoothed loss of the same easy task does; validation and test
// losses stay plain cross-entropy and go below it.
void TestTrainer::labelSmoothingSetsTheTrainingLossFloor() {
  const double s = 0.3, on = 1 - s + s / 2, off = s / 2;
  const double floor = -(on * std::log(on) + off * std::log(off));
  auto run = [](double smoothing) {
    Json doc = easyProject(6);
    doc["training"]["label_smoothing"] = smoothing;
    Trainer t(projectFromJson(doc, "smooth.json"), TrainOptions{});
    Recorder rec;
    const RunSummary summary = t.run(&rec);
    return std::make_pair(summary, rec.epochs);
  };
  const auto [smoothed, smoothedEpochs] = run(s);
  QCOMPARE(smoothed.status, RunSummary::Status::Completed);
  QCOMPARE(static_cast<int>(smoothedEpochs.size()), 6);
  QVERIFY2(smoothed.testAccuracy > 0.95, std::to_string(smoothed.testAccuracy).c_str());
  for (const auto &e : smoothedEpochs)
    QVERIFY2(e.trainLoss >= floor - 1e-4, (std::to_string(e.trainLoss) + " < " + std::to_string(floor)).c_str());
  QVERIFY2(smoothedEpochs.back().valLoss < floor, std::to_string(smoothedEpochs.back().valLoss).c_str());
  const auto [plain, plainEpochs] = run(0.0);
  QCOMPARE(plain.status, RunSummary::Status::Completed);
  QVERIFY2(plainEpochs.back().trainLoss < floor, std::to_string(plainEpochs.back().trainLoss).c_str());
}

void TestTrainer::sameSeedSameCurves() {
  auto run = [] {
    Trainer t(projectFromJson(easyProject(2), "easy.json"), TrainOptions{});
    Recorder rec;
    t.run(&rec);
    return rec.epochs;
  };
  const auto a = run(), b = run();
  QCOMPARE(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    QCOMPARE(a[i].trainLoss, b[i].trainLoss);
    QCOMPARE(a[i].valLoss, b[i].valLoss);
    QCOMPARE(a[i].valAccuracy, b[i].valAccuracy);
  }
}

void TestTrainer::resumeEqualsUninterrupted() {
  Json doc = easyProject(2);
  doc["nodes"][4]["params"]["dropout"] = 0.2; // dropout draws random numbers: resume must replay them
  const Project project = projectFromJson(doc, "easy.json");
  QTemporaryDir straightDir, firstDir, resumedDir;
  TrainOptions straight;
  straight.outDir = straightDir.path().toStdString();
  Trainer a(project, straight);
  a.run();

  TrainOptions first;
  first.outDir = firstDir.path().toStdString();
  first.epochs = 1;
  Trainer b(project, first);
  b.run();

  TrainOptions resumed;
  resumed.outDir = resumedDir.path().toStdString();
  resumed.resumeFrom = firstDir.filePath("checkpoint.pt").toStdString();
  Trainer c(project, resumed);
  Recorder rec;
  const RunSummary s = c.run(&rec);
  QCOMPARE(s.epochs, 2);
  QCOMPARE(static_cast<int>(rec.epochs.size()), 1); // only the second epoch ran
  QCOMPARE(rec.epochs[0].epoch, 2);
  const auto wa = weightsOf(a), wc = weightsOf(c);
  QCOMPARE(wa.size(), wc.size());
  for (const auto &[name, t] : wa)
    QVERIFY2(torch::allclose(t, wc.at(name), 0, 1e-6), name.c_str());
  // The resumed run's metrics.csv continues the curve: both epochs are there.
  const std::string csv = readTextFile(resumedDir.filePath("metrics.csv").toStdString());
  QCOMPARE(static_cast<int>(std::count(csv.begin(), csv.end(), '\n')), 3);

  // A checkpoint of another graph is refused with a clear message.
  Json other = doc;
  other["nodes"][4]["params"]["out"] = 4;
  other["nodes"][5]["params"]["out"] = 4;
  TrainOptions wrong;
  wrong.resumeFrom = resumed.resumeFrom;
  Trainer d(projectFromJson(other, "other.json"), wrong);
  // Refused through the run's one error path: a failed summary naming the problem, kind File.
  const RunSummary refused = d.run();
  QCOMPARE(refused.status, RunSummary::Status::Failed);
  QCOMPARE(refused.errorKind, ErrorKind::File);
  QVERIFY2(refused.message.find("different graph") != std::string::npos, refused.message.c_str());
}

void TestTrainer::pauseResumeStopFromAnotherThread() {
  Json doc = easyProject(50);
  doc["training"]["batch_size"] = 8;
  QTemporaryDir dir;
  TrainOptions opt;
  opt.outDir = dir.path().toStdString();
  opt.reportEverySteps = 1;
  Trainer trainer(projectFromJson(doc, "long.json"), opt);
  ControlToken control;
  Recorder rec;
  RunSummary summary;
  std::thread worker([&] { summary = trainer.run(&rec, &control); });

  QVERIFY(rec.waitForStep(20));
  control.pause();
  const int64_t atPause = rec.lastStep();
  // A posted call runs on the training thread once it has reached the pause point.
  std::promise<void> reached;
  control.post([&] { reached.set_value(); });
  QVERIFY(reached.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  const int64_t paused = rec.lastStep();
  QVERIFY2(paused - atPause <= 1, "pause takes effect within one batch");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  QCOMPARE(rec.lastStep(), paused); // no steps while paused

  control.resume();
  QVERIFY(rec.waitForStep(paused + 10));
  {
    // Steps continue from where they paused, one by one.
    std::lock_guard<std::mutex> lock(rec.mutex);
    for (std::size_t i = 1; i < rec.steps.size(); ++i)
      QCOMPARE(rec.steps[i].step, rec.steps[i - 1].step + 1);
  }
  control.requestStop();
  const int64_t atStop = rec.lastStep();
  worker.join();
  QCOMPARE(summary.status, RunSummary::Status::Stopped);
  QVERIFY(summary.steps - atStop <= 1);
  // The stopped run leaves a checkpoint that a new run resumes from.
  QVERIFY(QFile::exists(dir.filePath("checkpoint.pt")));
  TrainOptions again;
  again.resumeFrom = dir.filePath("checkpoint.pt").toStdString();
  again.epochs = 1;
  Trainer resumed(projectFromJson(doc, "long.json"), again);
  const RunSummary r = resumed.run();
  QCOMPARE(r.status, RunSummary::Status::Completed);
  QVERIFY(r.steps > summary.steps);
}

void TestTrainer::changedLrWhilePausedIsUsed() {
  Json doc = easyProject(50);
  doc["training"]["batch_size"] = 8;
  TrainOptions opt;
  opt.reportEverySteps = 1;
  Trainer trainer(projectFromJson(doc, "long.json"), opt);
  ControlToken control;
  Recorder rec;
  std::thread worker([&] { trainer.run(&rec, &control); });
  QVERIFY(rec.waitForStep(5));
  control.pause();
  std::promise<void> applied;
  control.post([&] {
    trainer.setLearningRate(0.0123);
    applied.set_value();
  });
  QVERIFY(applied.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  const int64_t from = rec.lastStep();
  control.resume();
  QVERIFY(rec.waitForStep(from + 3));
  control.requestStop();
  worker.join();
  std::lock_guard<std::mutex> lock(rec.mutex);
  for (const auto &s : rec.steps)
    if (s.step > from)
      QCOMPARE(s.lr, 0.0123);
  QCOMPARE(trainer.currentLr(), 0.0123);
}

void TestTrainer::divergenceStopsAndKeepsCheckpoint() {
  Json doc = easyProject(3);
  doc["training"]["lr"] = 1e6;
  doc["training"]["optimizer"] = "sgd";
  QTemporaryDir dir;
  TrainOptions opt;
  opt.outDir = dir.path().toStdString();
  Trainer trainer(projectFromJson(doc, "diverge.json"), opt);
  const RunSummary s = trainer.run();
  QCOMPARE(s.status, RunSummary::Status::Diverged);
  QVERIFY2(s.message.find("step") != std::string::npos, s.message.c_str());
  QVERIFY2(s.message.find("lr 1000000") != std::string::npos, s.message.c_str());
  QVERIFY(!QFile::exists(dir.filePath("weights.pt"))); // no weights from a diverged model
  // The last good checkpoint is intact and holds finite weights.
  TrainOptions again;
  again.resumeFrom = dir.filePath("checkpoint.pt").toStdString();
  Json calm = doc;
  Trainer check(projectFromJson(calm, "diverge.json"), again);
  check.setLearningRate(0.0); // load only: lr 0 keeps the weights as stored
  check.run();
  for (const auto &p : check.model()->parameters())
    QVERIFY(torch::isfinite(p).all().item<bool>());
}

void TestTrainer::schedules() {
  TrainingSpec s;
  s.lr = 1.0;
  s.epochs = 4;
  s.schedule = "step";
  s.stepSize = 2;
  s.gamma = 0.5;
  QCOMPARE(scheduledLr(s, 0, 10), 1.0);
  QCOMPARE(scheduledLr(s, 19, 10), 1.0);
  QCOMPARE(scheduledLr(s, 20, 10), 0.5);
  s.schedule = "cosine";
  QCOMPARE(scheduledLr(s, 0, 10), 1.0);
  QVERIFY(std::abs(scheduledLr(s, 20, 10) - 0.5) < 1e-12);
  s.warmupSteps = 4;
  QCOMPARE(scheduledLr(s, 0, 10), 0.25);
  QCOMPARE(scheduledLr(s, 3, 10), 1.0);
}

void TestTrainer::dataErrors_data() {
  QTest::addColumn<QString>("kind");
  QTest::addColumn<QString>("fragment");
  QTest::newRow("truncated idx") << "truncated"
                                 << "truncated";
  QTest::newRow("missing idx") << "missing"
                               << "file not found";
  QTest::newRow("csv non-numeric") << "csv-text"
                                   << "t.csv:4: column \"b\": \"abc\" is not a number";
  QTest::newRow("csv wrong column count") << "csv-columns"
                                          << "t.csv:3: has 2 columns, the header has 3";
  QTest::newRow("csv bad label") << "csv-label"
                                 << "t.csv:2: label 7";
}

void TestTrainer::dataErrors() {
  QFETCH(QString, kind);
  QFETCH(QString, fragment);
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  Json section;
  if (kind == "truncated" || kind == "missing") {
    const std::string images = d + "/images.gz", labels = d + "/labels.gz";
    auto imageBytes = idxHeader({10, 4, 4});
    imageBytes.resize(imageBytes.size() + (kind == "truncated" ? 100 : 160)); // 160 promised
    writeGz(images, imageBytes);
    auto labelBytes = idxHeader({10});
    labelBytes.resize(labelBytes.size() + 10);
    writeGz(labels, labelBytes);
    section = {{"kind", "idx"}, {"images", images}, {"labels", kind == "missing" ? d + "/nope.gz" : labels}};
  } else {
    std::string csv = "a,b,label\n1,2,0\n3,4,1\n5,6,0\n";
    if (kind == "csv-text")
      csv = "a,b,label\n1,2,0\n3,4,1\n5,abc,0\n";
    if (kind == "csv-columns")
      csv = "a,b,label\n1,2,0\n3,4\n";
    if (kind == "csv-label")
      csv = "a,b,label\n1,2,7\n3,4,1\n";
    section = {{"kind", "csv"}, {"path", writeFile(dir, "t.csv", csv)}, {"label_column", "label"}};
    if (kind == "csv-label")
      section["classes"] = 2;
  }
  try {
    loadDataset(parseDatasetSpec(section, d));
    QFAIL("bad data must be refused");
  } catch (const Error &e) {
    QCOMPARE(e.kind(), ErrorKind::File);
    QVERIFY2(std::string(e.what()).find(fragment.toStdString()) != std::string::npos, e.what());
    QVERIFY2(std::string(e.what()).find(d) != std::string::npos, e.what());
  }
}

void TestTrainer::idxDataLoads() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  auto images = idxHeader({50, 4, 4});
  auto labels = idxHeader({50});
  for (int i = 0; i < 50; ++i) {
    for (int p = 0; p < 16; ++p)
      images.push_back(static_cast<uint8_t>((i * 7 + p) % 256));
    labels.push_back(static_cast<uint8_t>(i % 3));
  }
  writeGz(d + "/i.gz", images);
  writeGz(d + "/l.gz", labels);
  const Dataset data =
      loadDataset(parseDatasetSpec({{"kind", "idx"}, {"images", d + "/i.gz"}, {"labels", d + "/l.gz"}}, d));
  QCOMPARE(data.trainX.size(0) + data.valX.size(0) + data.testX.size(0), int64_t{50});
  QCOMPARE(data.trainX.sizes().vec(), (std::vector<int64_t>{data.trainX.size(0), 1, 4, 4}));
  QVERIFY(data.trainX.max().item<float>() <= 1.0f);
  QCOMPARE(data.testX.size(0), int64_t{10}); // test_fraction 0.2 when there is no test file
  // The probe (check, the editor) counts the classes from the labels (0..2 here), not 10.
  const Json section = {{"kind", "idx"}, {"images", d + "/i.gz"}, {"labels", d + "/l.gz"}};
  QCOMPARE(probeDataset(parseDatasetSpec(section, d)).classes, int64_t{3});
  // Headers that disagree with their files are refused before anything is read or allocated:
  // raw and gzip, a header promising 10^12 bytes, and a single image.
  auto probeError = [&](const std::string &images, const std::string &labels) {
    try {
      probeDataset(parseDatasetSpec({{"kind", "idx"}, {"images", images}, {"labels", labels}}, d));
    } catch (const Error &e) {
      return e.kind() == ErrorKind::File ? QString(e.what()) : QString("wrong kind: ") + e.what();
    }
    return QString();
  };
  auto huge = idxHeader({1000000, 1000, 1000});
  huge.resize(huge.size() + 64, 1);
  std::ofstream(d + "/huge.idx", std::ios::binary).write(reinterpret_cast<const char *>(huge.data()), huge.size());
  writeGz(d + "/huge.gz", huge);
  for (const char *file : {"/huge.idx", "/huge.gz"}) {
    const QString e = probeError(d + file, d + "/l.gz");
    QVERIFY2(e.contains(QString::fromStdString(d + file) + ": the header promises 1000000000000 bytes"), qPrintable(e));
  }
  auto one = idxHeader({1, 4, 4});
  one.resize(one.size() + 16, 3);
  auto oneLabel = idxHeader({1});
  oneLabel.push_back(0);
  writeGz(d + "/one.gz", one);
  writeGz(d + "/onel.gz", oneLabel);
  const QString e = probeError(d + "/one.gz", d + "/onel.gz");
  QVERIFY2(e.contains("one.gz: holds 1 image(s); training needs at least 2"), qPrintable(e));
}

// A load abandoned from another thread (the app's data preview) ends with LoadCancelled, for the
// binary and the text formats alike; an unset flag changes nothing.
void TestTrainer::cancelledLoadEnds() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  auto images = idxHeader({50, 4, 4});
  auto labels = idxHeader({50});
  images.resize(images.size() + 50 * 16, 7);
  for (int i = 0; i < 50; ++i)
    labels.push_back(static_cast<uint8_t>(i % 3));
  writeGz(d + "/i.gz", images);
  writeGz(d + "/l.gz", labels);
  {
    std::ofstream csv(d + "/t.csv");
    csv << "a,b,label\n";
    for (int i = 0; i < 10000; ++i)
      csv << i << "," << -i << "," << (i % 2 ? "odd" : "even") << "\n";
  }
  const std::vector<Json> sections = {{{"kind", "idx"}, {"images", d + "/i.gz"}, {"labels", d + "/l.gz"}},
                                      {{"kind", "csv"}, {"path", d + "/t.csv"}, {"label_column", "label"}}};
  for (const Json &section : sections) {
    DatasetSpec spec = parseDatasetSpec(section, d);
    auto flag = std::make_shared<std::atomic<bool>>(false);
    spec.cancel = flag;
    QVERIFY(loadDataset(spec).trainX.size(0) > 0);
    flag->store(true);
    QVERIFY_THROWS_EXCEPTION(LoadCancelled, loadDataset(spec));
  }
  // The reader itself stops between pieces.
  const std::atomic<bool> stop{true};
  const IdxData cut = readIdx(d + "/i.gz", &stop);
  QCOMPARE(cut.dims, (std::vector<int64_t>{50, 4, 4}));
  QVERIFY(cut.bytes.empty());
  QCOMPARE(readIdx(d + "/i.gz").bytes.size(), std::size_t{50 * 16});
}

// A run keeps what its steps free for the next step, on any thread. The app trains on a thread of
// its own, whose glibc arena is made of 64 MiB heaps: one emptied at a step's end was unmapped and
// the next step faulted fresh pages in again (fashion-patches in the app: ~27,000 page faults per
// second of its engine thread, none on the CLI's main thread). Here a step's observer, on the
// training thread, takes 80 MiB in blocks and frees them, as a step does its activations, round
// after round: once the arena has grown (twelve rounds), the next three must find their pages there.
void TestTrainer::stepsOnAnotherThreadReuseTheirMemory() {
#ifdef __SANITIZE_ADDRESS__
  QSKIP("AddressSanitizer's allocator replaces glibc's arenas (and quarantines what is freed)");
#endif
  struct Reuse : TrainObserver {
    long faults = -1; // the training thread's page faults in the last three rounds
    void onStep(const StepEvent &) override {
      if (faults >= 0)
        return;
      auto round = [] {
        std::vector<torch::Tensor> blocks;
        for (int i = 0; i < 10; ++i)
          blocks.push_back(torch::full({2 << 20}, 1.0f)); // 8 MiB, written
        while (!blocks.empty())
          blocks.pop_back(); // the last taken freed first
      };
      for (int i = 0; i < 12; ++i)
        round();
      rusage before{}, after{};
      getrusage(RUSAGE_THREAD, &before);
      for (int i = 0; i < 3; ++i)
        round();
      getrusage(RUSAGE_THREAD, &after);
      faults = after.ru_minflt - before.ru_minflt;
    }
  } reuse;
  Trainer trainer(projectFromJson(easyProject(1), "easy.json"), TrainOptions{});
  RunSummary s;
  std::thread([&] { s = trainer.run(&reuse); }).join();
  QCOMPARE(s.status, RunSummary::Status::Completed);
  QVERIFY(reuse.faults >= 0);
  // Three rounds of fresh pages would be 61,440 faults; here 0 with the top pad, 6,147 without it
  // (mallopt made a no-op by LD_PRELOAD).
  qInfo("page faults in three rounds: %ld", reuse.faults);
  QVERIFY2(reuse.faults < 1024, ("page faults in three rounds: " + std::to_string(reuse.faults)).c_str());
}

// Limits that keep a valid but extreme project from eating the machine: threads beyond the cores
// are clamped (with a note), no confusion matrix above 256 classes, a key given as null takes
// its default.
void TestTrainer::limitsOfARun() {
  Json doc = baseProject();
  doc["training"] = {{"epochs", 1}, {"threads", 1000}, {"lr", nullptr}, {"batch_size", nullptr}};
  doc["nodes"][7]["params"] = {{"classes", 300}};
  QTemporaryDir dir;
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  Recorder recorder;
  std::vector<std::string> log;
  struct Logger : TrainObserver {
    Recorder &r;
    std::vector<std::string> &log;
    Logger(Recorder &r, std::vector<std::string> &log) : r(r), log(log) {}
    void onStep(const StepEvent &e) override { r.onStep(e); }
    void onEpoch(const EpochEvent &e) override { r.onEpoch(e); }
    void onLog(const std::string &line) override { log.push_back(line); }
  } logger(recorder, log);
  Trainer trainer(loadProject(path), {});
  const RunSummary s = trainer.run(&logger);
  QCOMPARE(s.status, RunSummary::Status::Completed);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  QCOMPARE(s.threads, cores);
  QVERIFY(std::any_of(log.begin(), log.end(), [](const std::string &l) {
    return l.find("training.threads 1000 is more than this machine's") != std::string::npos;
  }));
  QCOMPARE(trainer.spec().lr, parseTrainingSpec(Json::object()).lr);
  QCOMPARE(recorder.epochs.size(), std::size_t(1));
  QCOMPARE(recorder.epochs[0].classes, int64_t(300));
  QVERIFY(recorder.epochs[0].confusion.empty());
  // A Split whose parts are null takes the default (2 parts) and infers its shapes.
  doc["nodes"][1]["params"]["parts"] = nullptr;
  const Validation v = validate(projectFromJson(doc, dir.path().toStdString() + "/q.particle.json"));
  QVERIFY(v.info("split") && v.info("split")->shapesKnown);
}

// N steps of the fused Adam/AdamW equal LibTorch's to float rounding: weights, both moments and
// the step count, with weight decay, lr changed before every step and two parameter groups.
void TestTrainer::fusedAdamMatchesLibTorch_data() {
  QTest::addColumn<bool>("decoupled");
  QTest::addColumn<double>("decay");
  QTest::addColumn<int>("threads");
  QTest::newRow("adam") << false << 0.0 << 2;
  QTest::newRow("adam, L2 decay") << false << 0.05 << 2;
  QTest::newRow("adam, L2 decay, 1 thread") << false << 0.05 << 1;
  QTest::newRow("adamw") << true << 0.0 << 2;
  QTest::newRow("adamw, decay") << true << 0.05 << 2;
}

void TestTrainer::fusedAdamMatchesLibTorch() {
  QFETCH(bool, decoupled);
  QFETCH(double, decay);
  QFETCH(int, threads);
  const int before = at::get_num_threads();
  at::set_num_threads(threads);
  const auto start = adamParameters();
  const auto ours = clones(start), theirs = clones(start);
  std::unique_ptr<torch::optim::Optimizer> mine, ref;
  const FusedStepCount *count = nullptr;
  if (decoupled) {
    auto fused = makeAdam<FusedAdamW, torch::optim::AdamWOptions>(ours, decay);
    count = &fused->stepCount();
    mine = std::move(fused);
    ref = makeAdam<torch::optim::AdamW, torch::optim::AdamWOptions>(theirs, decay);
  } else {
    auto fused = makeAdam<FusedAdam, torch::optim::AdamOptions>(ours, decay);
    count = &fused->stepCount();
    mine = std::move(fused);
    ref = makeAdam<torch::optim::Adam, torch::optim::AdamOptions>(theirs, decay);
  }
  constexpr int kSteps = 12;
  double worstWeights = 0, worstMoments = 0;
  int64_t equal = 0, values = 0; // how many weights and moments equal LibTorch's to the bit
  auto tally = [&](const torch::Tensor &a, const torch::Tensor &b) {
    equal += a.eq(b).sum().item<int64_t>();
    values += a.numel();
  };
  for (int k = 0; k < kSteps; ++k) {
    setGradients(ours, k);
    setGradients(theirs, k);
    stepWithLr(*mine, k);
    stepWithLr(*ref, k);
  }
  at::set_num_threads(before);
  QCOMPARE(count->fused, int64_t(kSteps)); // our step ran, not LibTorch's
  QCOMPARE(count->fallback, int64_t(0));
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const std::string what = "parameter " + std::to_string(i);
    QVERIFY2(ours[i].strides() == theirs[i].strides(), what.c_str());
    worstWeights = std::max(worstWeights, apart(ours[i], theirs[i], 1e-3));
    tally(ours[i], theirs[i]);
    if (i + 1 == ours.size()) { // no gradient: untouched, no state
      QVERIFY(torch::equal(ours[i], start[i]));
      QVERIFY(mine->state().count(c10::guts::to_string(ours[i].unsafeGetTensorImpl())) == 0);
      continue;
    }
    auto compare = [&](const auto &a, const auto &b) {
      QCOMPARE(a.step(), int64_t(kSteps));
      QCOMPARE(b.step(), int64_t(kSteps));
      worstMoments =
          std::max({worstMoments, apart(a.exp_avg(), b.exp_avg(), 0), apart(a.exp_avg_sq(), b.exp_avg_sq(), 0)});
      tally(a.exp_avg(), b.exp_avg());
      tally(a.exp_avg_sq(), b.exp_avg_sq());
    };
    if (decoupled)
      compare(adamState<torch::optim::AdamWParamState>(*mine, ours[i]),
              adamState<torch::optim::AdamWParamState>(*ref, theirs[i]));
    else
      compare(adamState<torch::optim::AdamParamState>(*mine, ours[i]),
              adamState<torch::optim::AdamParamState>(*ref, theirs[i]));
  }
  qInfo("after %d steps: %lld of %lld weights and moments equal LibTorch's to the bit; largest relative "
        "difference: weights %g, moments %g",
        kSteps, static_cast<long long>(equal), static_cast<long long>(values), worstWeights, worstMoments);
  QVERIFY2(worstWeights <= kWeightTolerance, std::to_string(worstWeights).c_str());
  QVERIFY2(worstMoments <= kMomentTolerance, std::to_string(worstMoments).c_str());
}

// A checkpoint of the fused step's state, saved mid-training, resumes it exactly; LibTorch's own
// Adam/AdamW reads that checkpoint, and the fused step reads LibTorch's.
void TestTrainer::fusedAdamCheckpointsResume() {
  checkpointResumes<FusedAdam, torch::optim::Adam, torch::optim::AdamOptions>();
  checkpointResumes<FusedAdamW, torch::optim::AdamW, torch::optim::AdamWOptions>();
}

// Gradients and moments laid out unlike their parameters are read in the parameter's layout, by
// the fused step: a contiguous gradient of a channels-last weight, the gradient of ConvNet's first
// layer (channels-last strides forced on [C, 1, k, k]; its backward returns the other stride for
// the dimension of size one), and moments made contiguous mid-training.
void TestTrainer::fusedAdamReadsOtherLayouts() {
  const auto start = adamParameters();
  const auto ours = clones(start), theirs = clones(start);
  auto mine = makeAdam<FusedAdam, torch::optim::AdamOptions>(ours, 0.05);
  auto ref = makeAdam<torch::optim::Adam, torch::optim::AdamOptions>(theirs, 0.05);
  QCOMPARE(ours[7].stride(1), int64_t(1));
  for (int k = 0; k < 4; ++k) {
    setGradients(ours, k);
    setGradients(theirs, k);
    for (int i : {5, 7}) {
      ours[i].mutable_grad() = ours[i].grad().contiguous();
      theirs[i].mutable_grad() = theirs[i].grad().contiguous();
    }
    if (k == 2) {
      auto &state = const_cast<torch::optim::AdamParamState &>(adamState<torch::optim::AdamParamState>(*mine, ours[5]));
      state.exp_avg(state.exp_avg().contiguous());
      state.exp_avg_sq(state.exp_avg_sq().contiguous());
    }
    stepWithLr(*mine, k);
    stepWithLr(*ref, k);
  }
  QCOMPARE(mine->stepCount().fused, int64_t(4));
  QCOMPARE(mine->stepCount().fallback, int64_t(0));
  QVERIFY(ours[5].grad().is_contiguous()); // the gradient itself is left as it was
  QVERIFY(adamState<torch::optim::AdamParamState>(*mine, ours[5]).exp_avg().strides() == ours[5].strides());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    QVERIFY2(ours[i].strides() == theirs[i].strides(), std::to_string(i).c_str());
    QVERIFY2(apart(ours[i], theirs[i], 1e-3) <= kWeightTolerance, std::to_string(i).c_str());
  }
}

// Where the fused step does not apply, LibTorch's runs for the whole optimiser, with its results
// to the bit: amsgrad, a float64 parameter beside float32 ones, a closure, a parameter that is a
// strided view; a sparse gradient is refused as LibTorch refuses it.
void TestTrainer::fusedAdamFallsBack() {
  auto same = [](const std::vector<torch::Tensor> &a, const std::vector<torch::Tensor> &b) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!torch::equal(a[i], b[i]))
        return false;
    return true;
  };
  using torch::optim::AdamOptions;
  using torch::optim::AdamWOptions;
  {
    const auto start = adamParameters();
    const auto ours = clones(start), theirs = clones(start);
    auto mine = makeAdam<FusedAdamW, AdamWOptions>(ours, 0.05, /*amsgrad=*/true);
    auto ref = makeAdam<torch::optim::AdamW, AdamWOptions>(theirs, 0.05, true);
    for (int k = 0; k < 3; ++k) {
      setGradients(ours, k);
      setGradients(theirs, k);
      stepWithLr(*mine, k);
      stepWithLr(*ref, k);
    }
    QCOMPARE(mine->stepCount().fallback, int64_t(3));
    QCOMPARE(mine->stepCount().fused, int64_t(0));
    QVERIFY(same(ours, theirs));
  }
  {
    auto start = adamParameters();
    start[2] = start[2].to(torch::kDouble);
    const auto ours = clones(start), theirs = clones(start);
    auto mine = makeAdam<FusedAdam, AdamOptions>(ours, 0.05);
    auto ref = makeAdam<torch::optim::Adam, AdamOptions>(theirs, 0.05);
    for (int k = 0; k < 3; ++k) {
      setGradients(ours, k);
      setGradients(theirs, k);
      stepWithLr(*mine, k);
      stepWithLr(*ref, k);
    }
    QCOMPARE(mine->stepCount().fallback, int64_t(3));
    QVERIFY(same(ours, theirs));
  }
  {
    const auto start = adamParameters();
    const auto ours = clones(start), theirs = clones(start);
    auto mine = makeAdam<FusedAdam, AdamOptions>(ours, 0.0);
    auto ref = makeAdam<torch::optim::Adam, AdamOptions>(theirs, 0.0);
    // A closure: LibTorch's step, which calls it. The next step without one is ours again.
    setGradients(ours, 0);
    setGradients(theirs, 0);
    int calls = 0;
    const auto loss = mine->step([&] {
      ++calls;
      return torch::ones({});
    });
    ref->step();
    QCOMPARE(calls, 1);
    QCOMPARE(loss.item<float>(), 1.0f);
    QCOMPARE(mine->stepCount().fallback, int64_t(1));
    QVERIFY(same(ours, theirs));
    setGradients(ours, 1);
    setGradients(theirs, 1);
    stepWithLr(*mine, 1);
    stepWithLr(*ref, 1);
    QCOMPARE(mine->stepCount().fused, int64_t(1));
    for (std::size_t i = 0; i < ours.size(); ++i)
      QVERIFY2(apart(ours[i], theirs[i], 1e-3) <= kWeightTolerance, std::to_string(i).c_str());
  }
  {
    // A parameter that is a strided view, not dense.
    auto whole = torch::randn({12, 10});
    const auto refWhole = whole.clone();
    const std::vector<torch::Tensor> ours{whole.slice(1, 0, 10, 2)}, theirs{refWhole.slice(1, 0, 10, 2)};
    FusedAdam mine(ours, AdamOptions(1e-2));
    torch::optim::Adam ref(theirs, AdamOptions(1e-2));
    for (int k = 0; k < 3; ++k) {
      const auto g = torch::randn({12, 5});
      ours[0].mutable_grad() = g.clone();
      theirs[0].mutable_grad() = g.clone();
      mine.step();
      ref.step();
    }
    QCOMPARE(mine.stepCount().fallback, int64_t(3));
    QVERIFY(torch::equal(whole, refWhole));
  }
  {
    auto w = torch::randn({6, 3});
    FusedAdam mine(std::vector<torch::Tensor>{w}, AdamOptions(1e-2));
    w.mutable_grad() = torch::randn({6, 3}).to_sparse();
    bool refused = false;
    try {
      mine.step();
    } catch (const c10::Error &e) {
      refused = std::string(e.what()).find("sparse") != std::string::npos;
    }
    QVERIFY(refused);
  }
}

QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
