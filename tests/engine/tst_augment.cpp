// Augmentation of training batches (training.augment_*, train/Augment.h): off is a no-op, shapes
// are kept, the draws follow the seed and the epoch, masks, shifts and warps stay within their
// bounds, samples that are not [C, H, W] are refused naming the key, and a run that augments is
// reproducible, differs from one that does not, and leaves its data and its validation as they are.

#include "TestSupport.h"
#include "export/PythonExport.h"
#include "project/AugmentSpec.h"
#include "project/ProjectCheck.h"
#include "project/TrainingSpec.h"
#include "train/Augment.h"
#include "train/Trainer.h"

#include <QtTest>

#include <set>

using namespace particle;
using namespace particle::test;

namespace {

// A batch [B, 1, H, W] of distinct positive values.
torch::Tensor batch(int64_t b = 6, int64_t h = 16, int64_t w = 20) {
  return torch::arange(b * h * w, torch::kFloat).add(1).view({b, 1, h, w});
}

AugmentSpec augment(const Json &training) {
  return parseAugmentSpec(training);
}

// A .npy file of float32 `shape` (as NumPy writes version 1.0).
std::string npy(const std::string &shape, const std::string &descr, const std::string &data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\0';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>((header.size() >> 8) & 0xFF);
  return out + header + data;
}

// A project on 240 "spectrograms" [1, 8, 12] (npy) with a ConvNet: the class is the row band of a
// bright stripe, placed at a random frame.
Json imageProject(const QTemporaryDir &dir, const Json &training) {
  const int64_t n = 240, h = 8, w = 12;
  torch::manual_seed(5);
  auto x = torch::randn({n, 1, h, w}).mul(0.3);
  std::vector<int64_t> y(n);
  for (int64_t i = 0; i < n; ++i) {
    y[static_cast<std::size_t>(i)] = i % 2;
    const int64_t row = (i % 2) * 4 + (i / 2) % 4, col = (i * 7) % (w - 3);
    x[i][0][row].narrow(0, col, 3).add_(2.0);
  }
  writeFile(dir, "x.npy",
            npy("(240, 1, 8, 12)", "<f4",
                std::string(reinterpret_cast<const char *>(x.data_ptr<float>()),
                            static_cast<std::size_t>(x.numel()) * sizeof(float))));
  writeFile(dir, "y.npy",
            npy("(240,)", "<i8", std::string(reinterpret_cast<const char *>(y.data()), y.size() * sizeof(int64_t))));
  Json doc = Json::parse(R"({
    "format": "particle-studio", "version": 1, "name": "aug",
    "nodes": [
      {"id": "input", "type": "Input"},
      {"id": "conv", "type": "ConvNet", "params": {"channels": [4], "pool": false, "out": 8, "reduce": "max"}},
      {"id": "head", "type": "Classifier"}
    ],
    "edges": [{"from": "input", "to": "conv"}, {"from": "conv", "to": "head"}]
  })");
  doc["dataset"] = {
      {"kind", "npy"}, {"x", dir.filePath("x.npy").toStdString()}, {"y", dir.filePath("y.npy").toStdString()}};
  doc["training"] = training;
  return doc;
}

struct Curves : TrainObserver {
  void onEpoch(const EpochEvent &e) override { epochs.push_back(e); }
  std::vector<EpochEvent> epochs;
};

} // namespace

class TestAugment : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void offIsANoOp();
  void sameSeedSameDrawsOtherEpochOthers();
  void masksStayWithinTheirBounds();
  void shiftWrapsWithinItsRange();
  void warpKeepsRowZeroAndStaysInRange();
  void badKeysAndShapesNameTheKey();
  void aMaskWiderThanItsAxisIsRefused();
  void aRunThatAugmentsIsReproducibleAndLeavesItsDataAlone();
  void exportedTrainScriptDrawsTheSameSamples();
};

void TestAugment::offIsANoOp() {
  const auto x = batch();
  auto gen = augmentGenerator(0, 0);
  const AugmentSpec off = augment(Json::object());
  QVERIFY(!off.on());
  QVERIFY(augmentBatch(x, off, gen).is_same(x)); // the batch itself, nothing drawn
  // The widths alone turn nothing on.
  QVERIFY(!augment({{"augment_time_mask_width", 4}, {"augment_freq_mask_width", 3}}).on());
  QCOMPARE(std::string(off.firstKey()), std::string());
}

void TestAugment::sameSeedSameDrawsOtherEpochOthers() {
  const AugmentSpec all = augment({{"augment_time_shift", 5},
                                   {"augment_freq_warp", 0.2},
                                   {"augment_time_masks", 2},
                                   {"augment_time_mask_width", 4},
                                   {"augment_freq_masks", 1},
                                   {"augment_freq_mask_width", 3}});
  const auto x = batch(), copy = x.clone();
  auto a = augmentGenerator(7, 3), b = augmentGenerator(7, 3), c = augmentGenerator(7, 4), d = augmentGenerator(8, 3);
  const auto ya = augmentBatch(x, all, a), yb = augmentBatch(x, all, b);
  QCOMPARE(ya.sizes(), x.sizes());
  QVERIFY(torch::equal(ya, yb));                       // seed and epoch: the same samples
  QVERIFY(!torch::equal(ya, augmentBatch(x, all, c))); // the next epoch: others
  QVERIFY(!torch::equal(ya, augmentBatch(x, all, d))); // another seed: others
  QVERIFY(!torch::equal(ya, augmentBatch(x, all, a))); // the next batch of the epoch: others
  QVERIFY(torch::equal(x, copy));                      // the batch itself untouched
  // Each key alone keeps the shape, with a channel axis of 3 too.
  const auto rgb = torch::rand({4, 3, 9, 11});
  for (const char *key : {"augment_time_shift", "augment_time_masks", "augment_freq_masks"}) {
    auto g = augmentGenerator(1, 0);
    QCOMPARE(augmentBatch(rgb, augment({{key, 2}}), g).sizes(), rgb.sizes());
  }
  auto g = augmentGenerator(1, 0);
  QCOMPARE(augmentBatch(rgb, augment({{"augment_freq_warp", 0.3}}), g).sizes(), rgb.sizes());
}

void TestAugment::masksStayWithinTheirBounds() {
  const int64_t b = 64, h = 16, w = 20;
  const auto x = batch(b, h, w); // no zero anywhere: every zero is a mask
  auto gen = augmentGenerator(2, 0);
  const auto times = augmentBatch(x, augment({{"augment_time_masks", 2}, {"augment_time_mask_width", 5}}), gen);
  const auto freqs = augmentBatch(x, augment({{"augment_freq_masks", 3}, {"augment_freq_mask_width", 4}}), gen);
  int64_t maskedAny = 0;
  for (int64_t i = 0; i < b; ++i) {
    // Time masks blank whole columns (every row), at most 2 × 5 of them, in at most 2 runs.
    const auto zeroCols = times[i][0].eq(0).all(0);
    QVERIFY(torch::equal(times[i][0].eq(0), zeroCols.unsqueeze(0).expand({h, w})));
    const int64_t cols = zeroCols.sum().item<int64_t>();
    QVERIFY2(cols <= 10, std::to_string(cols).c_str());
    int64_t runs = 0;
    for (int64_t t = 0; t < w; ++t)
      runs += zeroCols[t].item<bool>() && (t == 0 || !zeroCols[t - 1].item<bool>());
    QVERIFY(runs <= 2);
    // Elsewhere the sample is as it was.
    QVERIFY(torch::equal(times[i][0].masked_select(zeroCols.logical_not().unsqueeze(0).expand({h, w})),
                         x[i][0].masked_select(zeroCols.logical_not().unsqueeze(0).expand({h, w}))));
    // Frequency masks blank whole rows, at most 3 × 4.
    const auto zeroRows = freqs[i][0].eq(0).all(1);
    QVERIFY(torch::equal(freqs[i][0].eq(0), zeroRows.unsqueeze(1).expand({h, w})));
    QVERIFY(zeroRows.sum().item<int64_t>() <= 12);
    maskedAny += cols > 0;
  }
  QVERIFY(maskedAny > b / 2); // widths are drawn from 0: most samples lose something
  // A mask as wide as the sample may blank the whole of it.
  auto g = augmentGenerator(3, 0);
  const auto whole =
      augmentBatch(batch(8, 4, 6), augment({{"augment_time_masks", 1}, {"augment_time_mask_width", 6}}), g);
  QCOMPARE(whole.sizes(), batch(8, 4, 6).sizes());
}

// Fresh-eyes trial: a frequency-mask width of 100 on spectrograms of 64 mel rows was taken
// silently. A mask wider than its axis is refused naming the key, the value and the axis' size:
// by the trainer's augmentation, and by `particle check` and the app's validation once the data's
// sample shape is known (a width given, or one whose masks are on).
void TestAugment::aMaskWiderThanItsAxisIsRefused() {
  auto g = augmentGenerator(3, 0);
  try {
    augmentBatch(batch(8, 4, 6), augment({{"augment_time_masks", 1}, {"augment_time_mask_width", 50}}), g);
    QFAIL("a time mask of 50 on 6 frames was taken");
  } catch (const Error &e) {
    QVERIFY2(std::string(e.what()).find("training.augment_time_mask_width: 50 is wider than the samples' 6 time "
                                        "frames") == 0,
             e.what());
  }
  QTemporaryDir dir;
  auto problemsOf = [&](const Json &training) {
    Json section = {{"epochs", 1}, {"threads", 1}};
    for (const auto &[key, value] : training.items())
      section[key] = value;
    std::vector<Problem> out;
    for (const Problem &p : validate(projectFromJson(imageProject(dir, section), "wide.json")).problems)
      if (p.param.rfind("training.augment", 0) == 0)
        out.push_back(p);
    return out;
  };
  // Samples [1, 8, 12]: 8 frequency rows, 12 time frames.
  auto said = problemsOf({{"augment_freq_masks", 2}, {"augment_freq_mask_width", 100}});
  QCOMPARE(said.size(), std::size_t(1));
  QVERIFY(said[0].isError());
  QCOMPARE(said[0].param, std::string("training.augment_freq_mask_width"));
  QVERIFY2(said[0].message ==
               "training.augment_freq_mask_width: 100 is wider than the samples' 8 frequency rows (H of [1, 8, 12]); "
               "use at most 8",
           said[0].message.c_str());
  said = problemsOf({{"augment_time_mask_width", 13}}); // given, masks still off
  QCOMPARE(said.size(), std::size_t(1));
  QCOMPARE(said[0].param, std::string("training.augment_time_mask_width"));
  QVERIFY2(said[0].message.find("13 is wider than the samples' 12 time frames") != std::string::npos,
           said[0].message.c_str());
  QCOMPARE(problemsOf({{"augment_freq_masks", 1}, {"augment_freq_mask_width", 8}}).size(), std::size_t(0));
  QCOMPARE(problemsOf({{"augment_time_masks", 1}}).size(), std::size_t(0)); // default width 10 of 12
}

void TestAugment::shiftWrapsWithinItsRange() {
  const int64_t b = 64, h = 3, w = 20;
  // Every column holds its own index: a shifted row is a rotation of 0 … w − 1.
  const auto x = torch::arange(w, torch::kFloat).view({1, 1, 1, w}).expand({b, 1, h, w}).contiguous();
  auto gen = augmentGenerator(4, 0);
  const auto y = augmentBatch(x, augment({{"augment_time_shift", 3}}), gen);
  std::set<int64_t> seen;
  for (int64_t i = 0; i < b; ++i) {
    const int64_t first = static_cast<int64_t>(y[i][0][0][0].item<float>());
    const int64_t s = (w - first) % w; // column 0 reads column −s
    QVERIFY2(s <= 3 || s >= w - 3, std::to_string(s).c_str());
    seen.insert(s <= 3 ? s : s - w);
    for (int64_t t = 0; t < w; ++t)
      QCOMPARE(static_cast<int64_t>(y[i][0][1][t].item<float>()), ((t - (s <= 3 ? s : s - w)) % w + w) % w);
  }
  QCOMPARE(static_cast<int>(seen.size()), 7); // −3 … 3, each drawn
}

void TestAugment::warpKeepsRowZeroAndStaysInRange() {
  const int64_t b = 64, h = 16, w = 5;
  // Every row holds its own index: a warped row r holds min(r / f, h − 1).
  const auto x = torch::arange(h, torch::kFloat).view({1, 1, h, 1}).expand({b, 1, h, w}).contiguous();
  auto gen = augmentGenerator(5, 0);
  const double warp = 0.2;
  const auto y = augmentBatch(x, augment({{"augment_freq_warp", warp}}), gen);
  QVERIFY(torch::equal(y.select(2, 0), x.select(2, 0))); // row 0 stays
  bool stretched = false, squeezed = false;
  for (int64_t i = 0; i < b; ++i) {
    // Rows keep their order and the factor f = r / value lies in [1 − warp, 1 + warp].
    const auto rows = y[i][0].select(1, 0);
    QVERIFY(rows.slice(0, 1).ge(rows.slice(0, 0, h - 1)).all().item<bool>());
    const double last = rows[h - 1].item<double>();
    QVERIFY(last <= h - 1);
    const double f = static_cast<double>(h - 1) / last;
    if (last < h - 1) {
      QVERIFY2(f <= 1 + warp + 1e-5, std::to_string(f).c_str());
      stretched = true;
    } else {
      squeezed = true;
    }
    QVERIFY(rows[1].item<double>() >= 1 / (1 + warp) - 1e-5 && rows[1].item<double>() <= 1 / (1 - warp) + 1e-5);
    // Every column alike.
    QVERIFY(torch::equal(y[i][0], rows.unsqueeze(1).expand({h, w})));
  }
  QVERIFY(stretched && squeezed);
}

void TestAugment::badKeysAndShapesNameTheKey() {
  // Out-of-range values and unknown keys: errors naming training.<key>.
  for (const auto &[key, value] : std::vector<std::pair<std::string, Json>>{
           {"augment_freq_warp", 0.9}, {"augment_time_shift", -1}, {"augment_time_masks", "two"}}) {
    try {
      parseTrainingSpec({{key, value}});
      QFAIL(("accepted " + key).c_str());
    } catch (const KeyError &e) {
      QCOMPARE(e.key(), "training." + key);
      QVERIFY2(std::string(e.what()).find("training." + key) != std::string::npos, e.what());
    }
  }
  // Vectors [B, F] cannot be warped or shifted along time: the message names the key that is on.
  auto gen = augmentGenerator(0, 0);
  try {
    augmentBatch(torch::rand({4, 10}), augment({{"augment_time_shift", 2}}), gen);
    QFAIL("augmented vectors");
  } catch (const Error &e) {
    QVERIFY2(std::string(e.what()).find("training.augment_time_shift") != std::string::npos, e.what());
    QVERIFY2(std::string(e.what()).find("[10]") != std::string::npos, e.what());
  }
  // `particle check` and the app's validation say so on a project whose samples are vectors.
  Json doc = baseProject();
  doc["training"]["augment_freq_masks"] = 2;
  const Validation v = validate(projectFromJson(doc, "vectors.json"));
  bool said = false;
  for (const Problem &p : v.problems)
    if (p.param == "training.augment_freq_masks" && p.isError()) {
      said = true;
      QVERIFY2(p.message.find("[C, H, W]") != std::string::npos, p.message.c_str());
    }
  QVERIFY(said);
  doc["training"]["augment_freq_masks"] = 0; // off: nothing to say
  for (const Problem &p : validate(projectFromJson(doc, "vectors.json")).problems)
    QVERIFY2(p.param.rfind("training.augment", 0) != 0, p.message.c_str());
}

void TestAugment::aRunThatAugmentsIsReproducibleAndLeavesItsDataAlone() {
  QTemporaryDir dir;
  const Json plainTraining = {{"epochs", 2}, {"batch_size", 32}, {"lr", 0.01}, {"threads", 1}, {"seed", 1}};
  Json augTraining = plainTraining;
  augTraining["augment_time_shift"] = 3;
  augTraining["augment_freq_warp"] = 0.1;
  augTraining["augment_time_masks"] = 1;
  augTraining["augment_time_mask_width"] = 2;
  augTraining["augment_freq_masks"] = 1;
  augTraining["augment_freq_mask_width"] = 2;
  const Project plain = projectFromJson(imageProject(dir, plainTraining), dir.filePath("p.json").toStdString());
  const Project aug = projectFromJson(imageProject(dir, augTraining), dir.filePath("a.json").toStdString());
  QVERIFY(validate(aug).ok());
  auto run = [](const Project &p, Curves &curves) {
    auto t = std::make_unique<Trainer>(p, TrainOptions{});
    const RunSummary s = t->run(&curves);
    if (s.status != RunSummary::Status::Completed)
      qWarning("%s", s.message.c_str());
    return t;
  };
  Curves a, b, c;
  const auto ta = run(aug, a), tb = run(aug, b), tc = run(plain, c);
  QCOMPARE(a.epochs.size(), std::size_t(2));
  QCOMPARE(c.epochs.size(), std::size_t(2));
  for (std::size_t i = 0; i < 2; ++i) {
    QCOMPARE(a.epochs[i].trainLoss, b.epochs[i].trainLoss); // the same seed: the same run
    QCOMPARE(a.epochs[i].valLoss, b.epochs[i].valLoss);
  }
  QVERIFY(a.epochs[0].trainLoss != c.epochs[0].trainLoss); // augmenting changes what training sees
  // The training data are what was loaded (each batch is augmented, never the split), and the
  // validation loss is the model's on the validation split as it is.
  QVERIFY(torch::equal(ta->data().trainX, tc->data().trainX));
  QVERIFY(torch::equal(ta->data().valX, tc->data().valX));
  const auto ev = ta->evaluate(ta->data().valX, ta->data().valY);
  QVERIFY2(std::abs(ev.loss - a.epochs.back().valLoss) < 1e-6,
           (std::to_string(ev.loss) + " vs " + std::to_string(a.epochs.back().valLoss)).c_str());
}

// The exported train.py augments its training batches as the engine does: its augment_batch, with
// the generator of the same seed and epoch, gives the engine's samples bit for bit.
void TestAugment::exportedTrainScriptDrawsTheSameSamples() {
  const std::string python = findPythonWithTorch();
  if (python.empty())
    QSKIP("no Python with PyTorch (scripts/setup.sh installs Debian's python3-torch)");
  QTemporaryDir dir;
  const Json training = {{"epochs", 1},
                         {"seed", 9},
                         {"augment_time_shift", 4},
                         {"augment_freq_warp", 0.15},
                         {"augment_time_masks", 2},
                         {"augment_time_mask_width", 3},
                         {"augment_freq_masks", 1},
                         {"augment_freq_mask_width", 2}};
  const Project project = projectFromJson(imageProject(dir, training), dir.filePath("p.json").toStdString());
  ExportOptions options;
  options.outDir = dir.filePath("export").toStdString();
  options.writeData = false;
  exportPyTorch(project, options);
  const int64_t b = 12, h = 8, w = 12;
  const auto x = torch::randn({b, 1, h, w});
  writeFile(dir, "x.f32",
            std::string(reinterpret_cast<const char *>(x.data_ptr<float>()),
                        static_cast<std::size_t>(x.numel()) * sizeof(float)));
  const std::string script = R"PY(
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[1])
import train
x = torch.from_numpy(np.fromfile(sys.argv[2], dtype=np.float32).reshape(12, 1, 8, 12))
g = train.augment_generator(train.CONFIG["seed"], 2, 0)
first = train.augment_batch(x, train.CONFIG, g)
second = train.augment_batch(x, train.CONFIG, g)
torch.cat([first, second]).numpy().tofile(sys.argv[3])
)PY";
  const std::string scriptPath = writeFile(dir, "draw.py", script);
  QProcess p;
  p.start(QString::fromStdString(python), {QString::fromStdString(scriptPath), QString::fromStdString(options.outDir),
                                           dir.filePath("x.f32"), dir.filePath("y.f32")});
  QVERIFY(p.waitForFinished(120000));
  QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
  const std::string bytes = readTextFile(dir.filePath("y.f32").toStdString());
  QCOMPARE(bytes.size(), static_cast<std::size_t>(2 * x.numel()) * sizeof(float));
  const auto fromPython = torch::from_blob(const_cast<char *>(bytes.data()), {2 * b, 1, h, w}, torch::kFloat).clone();
  auto gen = augmentGenerator(9, 2);
  const AugmentSpec spec = augment(training);
  const auto first = augmentBatch(x, spec, gen), second = augmentBatch(x, spec, gen);
  QVERIFY(torch::equal(fromPython, torch::cat({first, second})));
}

QTEST_GUILESS_MAIN(TestAugment)
#include "tst_augment.moc"
