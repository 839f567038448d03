// The `particle` executable end to end: exit codes, messages, files written.

// Its CLI processes look for leaks under ASan (TestSupport.h: other tests' children do not).
#define PARTICLE_TEST_CHILDREN_CHECK_LEAKS
#include "BadInputs.h"
#include "TestSupport.h"
#include "project/Precision.h"

#include <QDir>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QElapsedTimer>

#include <csignal>
#include <QtTest>

using namespace particle;
using namespace particle::test;

namespace {
struct Run {
  int code = -1;
  QString out, err;
};

Run runCli(const QStringList &args, int timeoutMs = 600000) {
  QProcess p;
  p.start(PARTICLE_CLI, args);
  p.waitForFinished(timeoutMs);
  Run r;
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

// How long the CLI takes to start, print its key table and end on this machine as it is now: a
// bound on "refused before anything is allocated" is this plus 5 s, so that it holds in a
// sanitizer build (~3 s to start) and beside another test, and still fails if the refusal came
// after a probe or an allocation.
qint64 startupMs() {
  QElapsedTimer clock;
  clock.start();
  runCli({"keys"});
  return clock.elapsed();
}

// A crash or an escaped exception shows as one of these.
void verifyNoCrashText(const Run &r) {
  for (const char *bad : {"terminate called", "what():", "Segmentation", "Aborted", "c10::Error", "Exception raised"})
    QVERIFY2(!r.err.contains(bad), qPrintable(r.err));
  QVERIFY2(r.code >= 0, "the process must exit normally");
}
} // namespace

class TestCli : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void checkExamples_data();
  void checkExamples();
  void checkBadFiles_data();
  void checkBadFiles();
  void badInputCorpus_data();
  void badInputCorpus();
  void usageErrors();
  void hugeDataPathRefusedBeforeAnyProbe();
  void memoryIsEstimated();
  void outOfMemoryInTheAppsWords();
  void info();
  void aPeakBelowARunIsMeasuredAgain();
  void trainWritesEverything();
  void trainSaysItsPrecision();
  void trainDivergesWithExitCode4();
  void fullDiskKeepsTheCheckpoint();
  void trainBadCsvExitsWith3();
  void checkWarnsAboutTables();
  void checkCountsTrainedAndFrozen();
  void checkCountsFlops();
  void trainBadDataExitsWith3_data();
  void trainBadDataExitsWith3();
  void weightsLoadInPython();
  void explainWritesJsonAndHeatmaps();
  void ctrlCStopsAndKeepsACheckpoint();
  void partSaveAndInfo();

private:
  QTemporaryDir corpusDir_;
  std::vector<BadInput> corpus_;
};

void TestCli::checkExamples_data() {
  QTest::addColumn<QString>("name");
  for (const char *name : kExamples)
    QTest::newRow(name) << QString(name);
}

void TestCli::checkExamples() {
  QFETCH(QString, name);
  const Run r = runCli({"check", QString::fromStdString(examplePath(name.toStdString()))});
  QVERIFY2(r.code == 0, qPrintable(r.err));
  QVERIFY(r.out.contains("ok:"));
  QVERIFY(r.out.contains("parameters:"));
  QVERIFY(r.out.contains("Classifier"));
}

void TestCli::checkBadFiles_data() {
  QTest::addColumn<QString>("text");
  QTest::addColumn<int>("code");
  QTest::addColumn<QString>("fragment");
  Json bad = baseProject();
  bad["nodes"][4]["params"]["out"] = 0;
  QTest::newRow("bad param") << QString::fromStdString(bad.dump()) << 1 << "bad.json: node 'c': param 'out': is 0";
  Json cyc = baseProject();
  cyc["edges"][4] = {{"from", "combine"}, {"to", "d"}}; // combine → d → combine
  QTest::newRow("cycle") << QString::fromStdString(cyc.dump()) << 1 << "node 'd': is part of a cycle (d → combine → d)";
  QTest::newRow("malformed") << "{\n  \"format\": \"particle-studio\",\n  \"nodes\": [}\n" << 3 << "bad.json:3:";
  Json unknown = baseProject();
  unknown["nodes"][0]["colour"] = 1;
  QTest::newRow("unknown key") << QString::fromStdString(unknown.dump()) << 1 << "nodes[0].colour: unknown key";
  Json data = baseProject();
  data["dataset"] = {{"kind", "fashion-mnist"}, {"path", "/nonexistent/folder"}};
  QTest::newRow("missing data") << QString::fromStdString(data.dump()) << 3 << "/nonexistent/folder";
  // Hostile files: every one a message naming the file (and line:column), none a crash.
  const std::string deep = std::string(70000, '[') + std::string(70000, ']');
  Json base = baseProject();
  std::string text = base.dump();
  QTest::newRow("70,000 levels in a param")
      << QString::fromStdString(text.substr(0, text.size() - 1) + ", \"x\": " + deep + "}") << 3
      << "bad.json:1:" + QString::number(text.size() + 70) + ": malformed JSON: nested deeper than 64 levels";
  QTest::newRow("deep ui") << QString::fromStdString("{\n\"ui\": " + deep + "}") << 3 << "bad.json:2:";
  Json overflow = baseProject();
  std::string big = overflow.dump();
  big.replace(big.find("\"epochs\""), 0, "\"lr\": 1e400, ");
  QTest::newRow("number overflow") << QString::fromStdString(big) << 3
                                   << "malformed JSON: number overflow parsing '1e400'";
  Json parts = baseProject();
  parts["nodes"][1]["params"] = {{"mode", "chunks"}, {"parts", "2"}};
  QTest::newRow("parts as text") << QString::fromStdString(parts.dump()) << 1
                                 << "node 'split': param 'parts': must be an integer, got \"2\"";
}

void TestCli::checkBadFiles() {
  QFETCH(QString, text);
  QFETCH(int, code);
  QFETCH(QString, fragment);
  QTemporaryDir dir;
  const std::string path = writeFile(dir, "bad.json", text.toStdString());
  const Run r = runCli({"check", QString::fromStdString(path)});
  verifyNoCrashText(r);
  QCOMPARE(r.code, code);
  QVERIFY2(r.err.contains(fragment), qPrintable(r.err));
}

// The corpus of malformed inputs (tests/common/BadInputs.h): each exits with its code and a
// message that names its file and says what is wrong; none is a crash.
void TestCli::badInputCorpus_data() {
  QTest::addColumn<int>("index");
  corpus_ = writeBadInputs(corpusDir_.path().toStdString());
  QVERIFY(corpus_.size() >= 60);
  for (std::size_t i = 0; i < corpus_.size(); ++i)
    QTest::newRow(corpus_[i].name.c_str()) << static_cast<int>(i);
}

void TestCli::badInputCorpus() {
  QFETCH(int, index);
  const BadInput &bad = corpus_.at(static_cast<std::size_t>(index));
  const QString project = QString::fromStdString(bad.project);
  const Run r = bad.stage == BadInput::Stage::Explain
                    ? runCli({"explain", project, "--checkpoint", QString::fromStdString(bad.checkpoint), "--out",
                              corpusDir_.filePath("explained")})
                    : runCli({"check", project});
  verifyNoCrashText(r);
  QVERIFY2(r.err.contains(QString::fromStdString(bad.file)), qPrintable(r.err));
  QVERIFY2(r.err.contains(QString::fromStdString(bad.fragment)), qPrintable(r.err));
  QCOMPARE(r.code, bad.code);
}

void TestCli::usageErrors() {
  Run r = runCli({});
  QCOMPARE(r.code, 2);
  r = runCli({"frobnicate"});
  QCOMPARE(r.code, 2);
  QVERIFY(r.err.contains("unknown command"));
  r = runCli({"train", QString::fromStdString(examplePath("synthetic-parts")), "--epochs", "zero"});
  QCOMPARE(r.code, 2);
  QVERIFY(r.err.contains("--epochs"));
  QTemporaryDir dir;
  for (const char *device : {"cpu:1", "gpu", "cuda:x", "cuda0"}) {
    r = runCli({"train", QString::fromStdString(examplePath("synthetic-parts")), "--device", device, "--out",
                dir.filePath(device)});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QString("--device: unknown device \"%1\"").arg(device)), qPrintable(r.err));
    QVERIFY(!QFileInfo::exists(dir.filePath(device))); // refused before any folder was made
  }
  r = runCli({"check", "/no/such/file.particle.json"});
  QCOMPARE(r.code, 3);
  QVERIFY(r.err.contains("/no/such/file.particle.json"));
  verifyNoCrashText(r);
}

// #21 item 7: a data path of 1 MB is refused by its length, before any file is looked at, by check
// and by train alike (the limit is the schema's, which the app shares).
void TestCli::hugeDataPathRefusedBeforeAnyProbe() {
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "csv"}, {"path", std::string(1 << 20, 'a') + ".csv"}, {"label_column", "label"}};
  doc["nodes"][1]["params"] = {{"mode", "chunks"}, {"parts", 4}};
  const QString project = QString::fromStdString(writeFile(dir, "long.particle.json", doc.dump()));
  const qint64 bound = startupMs() + 5000;
  for (const QString &command : {QString("check"), QString("train")}) {
    QStringList args = {command, project};
    if (command == "train")
      args << "--out" << dir.filePath("run");
    QElapsedTimer clock;
    clock.start();
    const Run r = runCli(args);
    const qint64 ms = clock.elapsed();
    verifyNoCrashText(r);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(project + ": node 'input': dataset.path: is 1048580 bytes long (\"aaaa"),
             qPrintable(r.err.left(400)));
    QVERIFY2(r.err.contains("paths are limited to 4096 bytes"), qPrintable(r.err.left(400)));
    QVERIFY2(r.err.size() < 2000, "the message quotes the path, it does not repeat it");
    QVERIFY2(ms < bound, qPrintable(QString("%1 took %2 ms (bound %3)").arg(command).arg(ms).arg(bound)));
    QVERIFY(!QFileInfo::exists(dir.filePath("run")));
  }
}

// #21 item 9: check estimates training's memory (weights, gradients, optimizer state, activations,
// data) and refuses, with the figures, a graph that cannot fit this machine; train refuses it
// before allocating anything.
void TestCli::memoryIsEstimated() {
  QTemporaryDir dir;
  // The base project: a few hundred KiB, printed with what the machine has.
  const QString small = QString::fromStdString(writeFile(dir, "small.particle.json", baseProject().dump()));
  Run r = runCli({"check", small});
  QCOMPARE(r.code, 0);
  QVERIFY2(r.out.contains(QRegularExpression("memory: about [0-9.]+ (KiB|MiB) to train \\(weights [0-9.]+ KiB, "
                                             "gradients [0-9.]+ KiB, optimizer state [0-9.]+ KiB, activations")),
           qPrintable(r.out));
  QVERIFY2(r.out.contains("this machine has"), qPrintable(r.out));
  // 10^12 parameters (node c: two hidden layers of 2^20): refused with the figure, naming the node.
  Json huge = baseProject();
  huge["nodes"][4]["params"]["hidden"] = {1 << 20, 1 << 20};
  const QString big = QString::fromStdString(writeFile(dir, "huge.particle.json", huge.dump()));
  r = runCli({"check", big});
  verifyNoCrashText(r);
  QCOMPARE(r.code, 1);
  QVERIFY2(r.err.contains(big + ": node 'c': training needs about 16 TiB of memory at batch size 32 (weights 4.0 TiB, "
                                "gradients 4.0 TiB, optimizer state 8.0 TiB"),
           qPrintable(r.err));
  QVERIFY2(r.err.contains(QRegularExpression("the largest part is this node, [0-9]{13} parameters")),
           qPrintable(r.err));
  QVERIFY2(r.err.contains("make the model narrower or lower training.batch_size"), qPrintable(r.err));
  const qint64 bound = startupMs() + 5000;
  QElapsedTimer clock;
  clock.start();
  r = runCli({"train", big, "--out", dir.filePath("huge")});
  verifyNoCrashText(r);
  QCOMPARE(r.code, 1);
  QVERIFY2(r.err.contains("training needs about 16 TiB"), qPrintable(r.err));
  QVERIFY2(clock.elapsed() < bound, "refused before anything is allocated");
  QVERIFY(!QFileInfo::exists(dir.filePath("huge")));
  // A machine of 1000 bytes (PARTICLE_MEMORY_BYTES stands for the machine's memory): the small
  // project no longer fits.
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("PARTICLE_MEMORY_BYTES", "1000");
  p.setProcessEnvironment(env);
  p.start(PARTICLE_CLI, {"check", small});
  QVERIFY(p.waitForFinished(60000));
  const QString err = QString::fromUtf8(p.readAllStandardError());
  QCOMPARE(p.exitCode(), 1);
  QVERIFY2(err.contains("more than the 1000 bytes this machine has"), qPrintable(err));
}

// #21 item 9: an allocation that fails during training is reported whole, in the app's words (the
// estimate and what the machine has), not as LibTorch's allocator text. The process gets 3 GB of
// address space; the estimate (node outputs) passes, but the MLP's hidden layer of 16384 over a
// batch of 40,000 samples needs 2.4 GiB more at step 1.
void TestCli::outOfMemoryInTheAppsWords() {
#ifdef __SANITIZE_ADDRESS__
  QSKIP("AddressSanitizer maps its shadow memory beyond any ulimit -v, so the program cannot start under one; the "
        "release build runs this test");
#endif
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["dataset"]["samples"] = 50000;
  doc["nodes"][4]["params"]["hidden"] = {16384};
  doc["training"]["batch_size"] = 40000;
  const QString project = QString::fromStdString(writeFile(dir, "wide.particle.json", doc.dump()));
  QProcess p;
  p.start(
      "bash",
      {"-c",
       QString("ulimit -v 3000000; exec '%1' train '%2' --out '%3'").arg(PARTICLE_CLI, project, dir.filePath("run"))});
  QVERIFY(p.waitForFinished(120000));
  Run r;
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.err = QString::fromUtf8(p.readAllStandardError());
  verifyNoCrashText(r);
  QCOMPARE(r.code, 4);
  QVERIFY2(r.err.contains(QRegularExpression(QRegularExpression::escape(project) +
                                             ": out of memory on cpu at step 1: training needs about [0-9.]+ MiB "
                                             "\\(weights [0-9.]+ [KM]iB, gradients")),
           qPrintable(r.err));
  QVERIFY2(r.err.contains("this machine has 2.9 GiB") && r.err.contains("Make the model narrower"), qPrintable(r.err));
  QVERIFY2(!r.err.contains("DefaultCPUAllocator") && !r.err.contains("Error code 12"), qPrintable(r.err));
  QVERIFY2(r.err.count('\n') == 1, qPrintable(r.err)); // one line, whole
}

void TestCli::info() {
  // The matmul peaks go to a cache of this test's own: measured by the first call (0.8 s per route
  // each), read back by the second; each names the route that gave it, and the other's figure.
  QTemporaryDir cache;
  const CacheHomeAt cacheHome(cache.path());
  const Run r = runCli({"info", "--threads", "1"});
  QCOMPARE(r.code, 0);
  QVERIFY(r.out.contains("libtorch"));
  QVERIFY(r.out.contains("cuda_available"));
  // The threads the peaks are measured at (the tests' OMP_NUM_THREADS is 2).
  QVERIFY2(r.out.contains(QRegularExpression(R"(\ntorch_threads\s+1\n)")), qPrintable(r.out));
  QVERIFY2(r.out.contains(QRegularExpression(R"(peak_fp32\s+[0-9.]+ GFLOP/s matmul \((mm|oneDNN)(; (mm|oneDNN) )"
                                             R"([0-9.]+)?\), 1 thread \(measured now\))")),
           qPrintable(r.out));
  QVERIFY2(r.out.contains(QRegularExpression(R"(peak_fp16\s+not supported here: fp16 trains on CUDA devices only)")),
           qPrintable(r.out));
  const Run again = runCli({"info", "--threads", "1"});
  QVERIFY2(again.out.contains(
               QRegularExpression(R"(peak_fp32\s+[0-9.]+ GFLOP/s matmul \((mm|oneDNN)\), 1 thread \(cached in )"
                                  R"(.*peak.json\))")),
           qPrintable(again.out));
}

// A cached peak below what a run achieves was measured on a busy machine: `particle train` measures
// it again after the run, `particle info --measure` on demand, and the cache keeps the higher figure;
// `particle info RUN` never shows a fraction above 100%.
void TestCli::aPeakBelowARunIsMeasuredAgain() {
  QTemporaryDir dir;
  const CacheHomeAt cacheHome(dir.filePath("cache"));
  QCOMPARE(runCli({"info", "--threads", "1"}).code, 0); // the cache's entries, with this machine's keys
  const std::string peakFile = dir.filePath("cache/particle-studio/peak.json").toStdString();
  auto setPeaks = [&](double gflops) {
    Json cache = Json::parse(readTextFile(peakFile));
    for (Json &e : cache["entries"])
      e["gflops"] = gflops;
    writeFileAtomically(peakFile, cache.dump());
  };
  auto fp32Peak = [&] {
    const Json cache = Json::parse(readTextFile(peakFile));
    for (const Json &e : cache["entries"])
      if (e["precision"] == "fp32")
        return e["gflops"].get<double>();
    return 0.0;
  };
  setPeaks(1e-6);
  const std::string path = writeFile(dir, "p.particle.json", baseProject().dump());
  const QString out = dir.filePath("run");
  const Run r = runCli({"train", QString::fromStdString(path), "--out", out, "--threads", "1"});
  QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
  QVERIFY2(
      r.out.contains(QRegularExpression(R"(\npeak: [0-9.e-]+ GFLOP/s is above the cached fp32 matmul peak \(1e-06 )"
                                        R"(GFLOP/s\); measured again: [0-9.]+ GFLOP/s, cached in .*peak.json\n)")),
      qPrintable(r.out));
  QVERIFY2(fp32Peak() > 1, qPrintable(QString::number(fp32Peak())));
  // The run's summary keeps the peak it found; its fraction would be far above 100%.
  const Run info = runCli({"info", out});
  QVERIFY2(info.out.contains(QRegularExpression(R"(achieved_gflops\s+[0-9.]+ GFLOP/s, above the fp32 peak cached )"
                                                R"(when it ran \(0.0 GFLOP/s at 1 thread; .*particle info --measure)")),
           qPrintable(info.out));
  QVERIFY(!info.out.contains("% of the"));
  // On demand: a higher measurement replaces the cached figure, a lower one leaves it.
  setPeaks(0.5);
  Run measured = runCli({"info", "--threads", "1", "--measure"});
  QCOMPARE(measured.code, 0);
  QVERIFY2(measured.out.contains(
               QRegularExpression(R"(peak_fp32\s+[0-9.]+ GFLOP/s matmul \([^)]*\), 1 thread \(measured now\))")),
           qPrintable(measured.out));
  QVERIFY(fp32Peak() > 1);
  setPeaks(99999);
  measured = runCli({"info", "--threads", "1", "--measure"});
  QVERIFY2(measured.out.contains(
               QRegularExpression(R"(peak_fp32\s+99999.0 GFLOP/s matmul \([^)]*\), 1 thread \(cached in )"
                                  R"(.*peak.json; measured now: [0-9.]+, lower, so the cache keeps its figure\))")),
           qPrintable(measured.out));
  QCOMPARE(fp32Peak(), 99999.0);
  // A run folder's figures are not measured.
  const Run wrong = runCli({"info", out, "--measure"});
  QCOMPARE(wrong.code, 2);
  QVERIFY2(wrong.err.contains("--measure is for the machine's peak"), qPrintable(wrong.err));
}

void TestCli::trainWritesEverything() {
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["training"]["epochs"] = 2;
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  const QString out = dir.filePath("run");
  const Run r = runCli({"train", QString::fromStdString(path), "--out", out, "--threads", "1", "--seed", "4"});
  QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
  QVERIFY(r.out.contains("test accuracy"));
  for (const char *f : {"metrics.csv", "summary.json", "checkpoint.pt", "weights.pt"})
    QVERIFY2(QFile::exists(out + "/" + f), f);
  const Json s = Json::parse(readTextFile((out + "/summary.json").toStdString()));
  QCOMPARE(s["epochs"].get<int>(), 2);
  QCOMPARE(s["seed"].get<int>(), 4);
  QVERIFY(s["test_accuracy"].get<double>() >= 0.0);
  // Its cost: FLOPs counted, µs the median of five timed passes at the run's one thread.
  QCOMPARE(s["flops_per_sample"].get<double>(), 2468.0);
  QCOMPARE(s["inference_us"]["passes"].get<int>(), 5);
  QCOMPARE(s["inference_us"]["threads"].get<int>(), 1);
  QCOMPARE(s["inference_us"]["median"].get<double>(), s["inference_us_per_sample"].get<double>());
  QVERIFY(s["inference_us"]["cpu_median"].get<double>() > 0);
  QVERIFY(r.out.contains("µs per sample (median of 5 passes), 2.47 k FLOPs per sample"));
  const Run info = runCli({"info", out});
  QVERIFY2(info.code == 0, qPrintable(info.err));
  QVERIFY2(info.out.contains(QRegularExpression(R"(flops_per_sample\s+2.47 k \(forward\))")), qPrintable(info.out));
  // Training's GFLOP/s, 3 × the forward FLOPs per trained sample.
  QCOMPARE(s["achieved_gflops"].get<double>(), 3 * 2468.0 * s["samples_per_second"].get<double>() / 1e9);
  QVERIFY2(info.out.contains(QRegularExpression(R"(achieved_gflops\s+[0-9.]+ GFLOP/s)")), qPrintable(info.out));
  QVERIFY2(info.out.contains(QRegularExpression(
               R"(inference_us\s+[0-9.]+ µs per sample \(median of 5 passes, 1 thread; [0-9.]+ µs processor time\))")),
           qPrintable(info.out));
  // Resume continues to the requested epoch count.
  const Run resumed = runCli({"train", QString::fromStdString(path), "--out", dir.filePath("run2"), "--epochs", "3",
                              "--resume", out + "/checkpoint.pt"});
  QVERIFY2(resumed.code == 0, qPrintable(resumed.err));
  const Json s2 = Json::parse(readTextFile(dir.filePath("run2/summary.json").toStdString()));
  QCOMPARE(s2["epochs"].get<int>(), 3);
}

// A bf16 run says so where it starts and where it ends; an fp32 run (the default) does not.
void TestCli::trainSaysItsPrecision() {
  if (const std::string why = precisionUnsupported("bf16", "cpu"); !why.empty())
    QSKIP(qPrintable(QString::fromStdString("this CPU cannot train in bf16: " + why)));
  QTemporaryDir dir;
  const std::string path = writeFile(dir, "p.particle.json", baseProject().dump());
  const Run bf16 = runCli(
      {"train", QString::fromStdString(path), "--out", dir.filePath("bf16"), "--threads", "1", "--precision", "bf16"});
  QVERIFY2(bf16.code == 0, qPrintable(bf16.err + bf16.out));
  QVERIFY2(bf16.out.contains(QRegularExpression(R"(\nmodel: .*, device cpu, 1 thread\(s\), precision bf16\n)")),
           qPrintable(bf16.out));
  QVERIFY2(bf16.out.contains(QRegularExpression(R"(\ntest accuracy .* after 1 epoch\(s\) in bf16, [0-9]+ samples/s)")),
           qPrintable(bf16.out));
  const Run fp32 = runCli({"train", QString::fromStdString(path), "--out", dir.filePath("plain"), "--threads", "1"});
  QVERIFY2(fp32.code == 0, qPrintable(fp32.err + fp32.out));
  QVERIFY2(fp32.out.contains(QRegularExpression(R"(\nmodel: .*, device cpu, 1 thread\(s\)\n)")), qPrintable(fp32.out));
  QVERIFY2(fp32.out.contains(QRegularExpression(R"(\ntest accuracy .* after 1 epoch\(s\), [0-9]+ samples/s)")),
           qPrintable(fp32.out));
  QVERIFY(!fp32.out.contains("fp32"));
}

// A disk that fills during a checkpoint save (injected: a file size limit, so write() fails with
// EFBIG): exit 3 naming the file, the previous checkpoint intact, no temporary file left.
void TestCli::fullDiskKeepsTheCheckpoint() {
  QTemporaryDir dir;
  Json doc = baseProject();
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  const QString out = dir.filePath("run");
  const Run first = runCli({"train", QString::fromStdString(path), "--out", out, "--threads", "1"});
  QVERIFY2(first.code == 0, qPrintable(first.err));
  const QString checkpoint = out + "/checkpoint.pt";
  QFile file(checkpoint);
  QVERIFY(file.open(QIODevice::ReadOnly));
  const QByteArray before = file.readAll();
  file.close();
  QVERIFY(before.size() > 16 * 1024); // larger than the limit below, the small files are not
  // Resume into the same folder with files limited to 16 KiB (SIGXFSZ ignored, as a full disk
  // gives ENOSPC rather than a signal).
  QProcess p;
  p.start("bash", {"-c", "ulimit -f 16; trap '' XFSZ; exec \"$0\" \"$@\"", PARTICLE_CLI, "train",
                   QString::fromStdString(path), "--out", out, "--epochs", "2", "--resume", checkpoint});
  QVERIFY(p.waitForFinished(600000));
  const Run r{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
              QString::fromUtf8(p.readAllStandardError())};
  verifyNoCrashText(r);
  QCOMPARE(r.code, 3);
  QVERIFY2(r.err.contains(checkpoint + ": write failed") && r.err.contains("the previous file is kept"),
           qPrintable(r.err));
  QVERIFY(file.open(QIODevice::ReadOnly));
  QCOMPARE(file.readAll(), before);
  QCOMPARE(QDir(out).entryList({"*.tmp*"}, QDir::Files | QDir::Hidden), QStringList());
}

void TestCli::trainDivergesWithExitCode4() {
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["training"] = {{"epochs", 2}, {"lr", 1e6}, {"optimizer", "sgd"}};
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  const Run r = runCli({"train", QString::fromStdString(path), "--out", dir.filePath("run")});
  verifyNoCrashText(r);
  QCOMPARE(r.code, 4);
  QVERIFY2(r.err.contains("step") && r.err.contains("lr 1000000"), qPrintable(r.err));
  QVERIFY(QFile::exists(dir.filePath("run/checkpoint.pt")));
}

void TestCli::trainBadCsvExitsWith3() {
  QTemporaryDir dir;
  std::string csv = "x0,x1,x2,x3,label\n";
  for (int i = 0; i < 30; ++i)
    csv += "1,2,3,4," + std::to_string(i % 2) + "\n";
  csv += "1,2,oops,4,0\n";
  writeFile(dir, "data.csv", csv);
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "csv"}, {"path", "data.csv"}, {"label_column", "label"}};
  doc["nodes"][1]["params"] = {{"mode", "chunks"}, {"sizes", {1, 1, 1, 1}}};
  doc["nodes"][2]["params"] = {{"hidden", {4}}, {"out", 2}};
  doc["nodes"][3]["params"] = {{"hidden", {4}}, {"out", 2}};
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  const Run r = runCli({"train", QString::fromStdString(path), "--out", dir.filePath("run")});
  verifyNoCrashText(r);
  QCOMPARE(r.code, 3);
  QVERIFY2(r.err.contains("data.csv:32:") && r.err.contains("oops"), qPrintable(r.err));
}

// #21 items 8 and 19: `check` on a table cut inside its last label warns about the one-row class;
// Split groups by column name are resolved (the table shows their widths), and overlapping or
// unused columns are warnings naming them. Warnings keep the exit code 0; a wrong name is exit 1.
void TestCli::checkCountsTrainedAndFrozen() {
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["nodes"][4]["freeze"] = true;                                           // c: 280 weights, none trained
  doc["nodes"][5]["adapter"] = {{"kind", "lora"}, {"rank", 2}, {"alpha", 4}}; // d: 96 adapter weights
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  Run r = runCli({"check", QString::fromStdString(path)});
  verifyNoCrashText(r);
  QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
  QVERIFY2(r.out.contains(QRegularExpression(R"(\bc\s+MLP\s+\[8\] → \[8\]\s+280 \(frozen\))")), qPrintable(r.out));
  QVERIFY2(r.out.contains(QRegularExpression(R"(\bd\s+MLP\s+\[8\] → \[8\]\s+376 \(96 trained\))")), qPrintable(r.out));
  // a and b share 280; c 280 frozen; d 280 frozen + 96; combine none; head 4 · 32 + 4 = 132.
  QVERIFY2(r.out.contains("parameters: 1,068 (508 trained, 560 frozen; "), qPrintable(r.out));
  // A frozen decomposer is refused, naming the node and the key.
  doc["nodes"][1]["freeze"] = true;
  writeFile(dir, "p.particle.json", doc.dump());
  r = runCli({"check", QString::fromStdString(path)});
  QCOMPARE(r.code, 1);
  QVERIFY2(r.err.contains("node 'split': freeze: a Split has no weights to start from, freeze or adapt"),
           qPrintable(r.err));
}

// FLOPs per sample beside the parameters; a TorchScript module's are not counted, and check says so.
void TestCli::checkCountsFlops() {
  QTemporaryDir dir;
  const std::string path = writeFile(dir, "p.particle.json", baseProject().dump());
  Run r = runCli({"check", QString::fromStdString(path)});
  QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
  // Four MLPs of 552 (the two tied ones each applied) and the Classifier's 260: 2,468.
  QVERIFY2(r.out.contains("\nFLOPs per sample: 2.47 k (forward)\n"), qPrintable(r.out));
  r = runCli({"check", QString::fromStdString(examplePath("torchscript-patches"))});
  QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
  QVERIFY2(r.out.contains("FLOPs per sample: not counted: node \"p0\" is a TorchScript module"), qPrintable(r.out));
}

void TestCli::checkWarnsAboutTables() {
  QTemporaryDir dir;
  std::string csv = "temp,wind,rain_mm,label\n";
  for (int i = 0; i < 30; ++i)
    csv += std::to_string(i) + "," + std::to_string(i % 4) + "," + std::to_string(i % 3) + "," +
           (i % 2 ? "rain" : "sun") + "\n";
  writeFile(dir, "weather.csv", csv + "7,1,2,rai");
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "csv"}, {"path", "weather.csv"}, {"label_column", "label"}};
  doc["nodes"][1]["params"] =
      Json::parse(R"({"mode": "columns", "groups": [["temp", "wind"], ["wind"], [0], ["temp"]]})");
  doc["nodes"][2].erase("share"); // the parts differ in width
  doc["nodes"][3].erase("share");
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  Run r = runCli({"check", QString::fromStdString(path)});
  verifyNoCrashText(r);
  QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
  QVERIFY2(r.out.contains("node 'input': warning: class \"rai\" has 1 sample of 31: too few"), qPrintable(r.out));
  QVERIFY2(r.out.contains("node 'split': param 'groups': warning: parts overlap: \"temp\" is in parts 0, 2 and 3"),
           qPrintable(r.out));
  QVERIFY2(r.out.contains("warning: 1 of 3 features are in no part, so never read: \"rain_mm\""), qPrintable(r.out));
  QVERIFY2(r.out.contains("4×[2]") || r.out.contains("[3] → 4×"), qPrintable(r.out));
  // A name the table does not have: an error naming it, exit 1.
  doc["nodes"][1]["params"]["groups"][1] = {"gust"};
  writeFile(dir, "p.particle.json", doc.dump());
  r = runCli({"check", QString::fromStdString(path)});
  verifyNoCrashText(r);
  QCOMPARE(r.code, 1);
  QVERIFY2(r.err.contains("node 'split': param 'groups': no feature column named \"gust\""), qPrintable(r.err));
}

void TestCli::trainBadDataExitsWith3_data() {
  QTest::addColumn<QString>("damage");
  QTest::addColumn<QString>("expected");
  QTest::newRow("truncated PNG") << "truncate"
                                 << "pets/cat/2.png: cannot decode the image";
  QTest::newRow("JPEG with a bad header") << "badjpeg"
                                          << "pets/dog/1.jpg: cannot decode the image";
  QTest::newRow("class folder without images") << "emptyclass"
                                               << "pets/bird: no PNG, JPEG or BMP images";
  QTest::newRow("empty root") << "emptyroot"
                              << "pets: no class folders";
  QTest::newRow("CSV quote never closed") << "csvquote"
                                          << "t.csv:4: a quoted field is never closed";
  QTest::newRow(".npy in Fortran order") << "fortran"
                                         << "x.npy: the array is in Fortran order";
  QTest::newRow(".npy header and data disagree") << "npyshape"
                                                 << "x.npy: the header says shape (12, 5)";
  QTest::newRow("JSON-lines line that is not JSON") << "jsonl"
                                                    << "t.jsonl:3: not JSON";
}

// Bad data in the kinds a user brings: `particle train` exits with 3 and names the file.
void TestCli::trainBadDataExitsWith3() {
  QFETCH(QString, damage);
  QFETCH(QString, expected);
  QTemporaryDir dir;
  const QString root = dir.filePath("pets");
  for (const char *cls : {"cat", "dog"}) {
    QVERIFY(QDir().mkpath(root + "/" + cls));
    for (int i = 0; i < 4; ++i) {
      QImage image(6, 6, QImage::Format_RGB32);
      image.fill(QColor(40 * i, 100, cls[0] == 'c' ? 20 : 220));
      QVERIFY(image.save(QString("%1/%2/%3.%4").arg(root, cls).arg(i).arg(i == 1 ? "jpg" : "png")));
    }
  }
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "image_folder"}, {"path", "pets"}, {"size", {4, 8}}, {"channels", 1}};
  doc["nodes"][1]["params"] = {{"mode", "patches"}, {"rows", 1}, {"cols", 4}};
  if (damage == "truncate") {
    QFile f(root + "/cat/2.png");
    QVERIFY(f.resize(f.size() / 2));
  } else if (damage == "badjpeg") {
    QFile f(root + "/dog/1.jpg");
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(2);
    f.write(QByteArray(4, '\0'));
  } else if (damage == "emptyclass") {
    QVERIFY(QDir().mkpath(root + "/bird"));
  } else if (damage == "emptyroot") {
    QVERIFY(QDir(root).removeRecursively() && QDir().mkpath(root));
  } else if (damage == "csvquote") {
    writeFile(dir, "t.csv", "a,b,c,d,label\n1,2,3,4,0\n5,6,7,8,1\n1,\"2,3,4,0\n");
    doc["dataset"] = {{"kind", "csv"}, {"path", "t.csv"}, {"label_column", "label"}};
    doc["nodes"][1]["params"] = {{"mode", "chunks"}, {"sizes", {1, 1, 1, 1}}};
  } else if (damage == "fortran" || damage == "npyshape") {
    // NumPy headers (version 1, padded to 64 bytes): 12×4 float32 samples, 12 uint8 labels.
    using badinputs::npy;
    const std::string order = damage == "fortran" ? "True" : "False";
    const std::string shape = damage == "npyshape" ? "(12, 5)" : "(12, 4)";
    writeFile(dir, "x.npy",
              npy("{'descr': '<f4', 'fortran_order': " + order + ", 'shape': " + shape + ", }",
                  std::string(12 * 4 * 4, '\0')));
    writeFile(
        dir, "y.npy",
        npy("{'descr': '|u1', 'fortran_order': False, 'shape': (12,), }", std::string("\0\1\0\1\0\1\0\1\0\1\0\1", 12)));
    doc["dataset"] = {{"kind", "npy"}, {"x", "x.npy"}, {"y", "y.npy"}};
  } else if (damage == "jsonl") {
    writeFile(dir, "t.jsonl", "{\"text\": \"a b\", \"label\": \"x\"}\n{\"text\": \"c\", \"label\": \"y\"}\n{text}\n");
    doc["dataset"] = {{"kind", "text"}, {"path", "t.jsonl"}, {"max_tokens", 4}};
  }
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  const Run r = runCli({"train", QString::fromStdString(path), "--out", dir.filePath("run")});
  verifyNoCrashText(r);
  QVERIFY2(r.err.contains(expected), qPrintable(r.err));
  QCOMPARE(r.code, 3);
}

void TestCli::weightsLoadInPython() {
  if (!QFile::exists("/usr/bin/python3"))
    QSKIP("python3 is not installed");
  QProcess probe;
  probe.start("/usr/bin/python3", {"-c", "import torch"});
  probe.waitForFinished();
  if (probe.exitCode() != 0)
    QSKIP("python3-torch is not installed (scripts/setup.sh installs it)");
  QTemporaryDir dir;
  const std::string path = writeFile(dir, "p.particle.json", baseProject().dump());
  const QString out = dir.filePath("run");
  QCOMPARE(runCli({"train", QString::fromStdString(path), "--out", out}).code, 0);
  QProcess py;
  py.start("/usr/bin/python3", {"-c",
                                "import sys, torch; d = torch.load(sys.argv[1]); "
                                "print(type(d).__name__, sorted(k.split('.')[0] for k in d), "
                                "tuple(d['head.linear.weight'].shape))",
                                out + "/weights.pt"});
  py.waitForFinished(120000);
  const QString printed = QString::fromUtf8(py.readAllStandardOutput());
  QVERIFY2(py.exitCode() == 0, qPrintable(QString::fromUtf8(py.readAllStandardError())));
  QVERIFY2(printed.startsWith("dict"), qPrintable(printed));
  for (const char *id : {"'a'", "'c'", "'d'", "'head'", "'input'"})
    QVERIFY2(printed.contains(id), qPrintable(printed));
  QVERIFY2(printed.contains("(4, 32)"), qPrintable(printed));
}

void TestCli::explainWritesJsonAndHeatmaps() {
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["training"]["epochs"] = 2;
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  const QString run = dir.filePath("run");
  QCOMPARE(runCli({"train", QString::fromStdString(path), "--out", run}).code, 0);
  const Run r = runCli({"explain", QString::fromStdString(path), "--checkpoint", run + "/checkpoint.pt", "--samples",
                        "40", "--out", dir.filePath("explain")});
  QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
  QVERIFY(r.out.contains("completeness max error"));
  // Which samples: drawn across the classes, not the split's first 40.
  QVERIFY2(QRegularExpression("attributions over 40 of \\d+ test samples, drawn across the 4 classes")
               .match(r.out)
               .hasMatch(),
           qPrintable(r.out));
  const Json j = Json::parse(readTextFile(dir.filePath("explain/explain.json").toStdString()));
  QCOMPARE(j["method"].get<std::string>(), std::string("shapley"));
  QCOMPARE(j["target"].get<std::string>(), std::string("predicted"));
  QCOMPARE(j["samples"].get<int>(), 40);
  const Json &c = j["combines"][0];
  QCOMPARE(c["node"].get<std::string>(), std::string("combine"));
  QVERIFY(c["completeness_max_error"].get<double>() <= c["completeness_tolerance"].get<double>());
  double shares = 0;
  for (const auto &b : c["branches"]) {
    shares += b["share"].get<double>();
    QVERIFY(b.contains("mean_abs"));
    QCOMPARE(static_cast<int>(b["per_class"].size()), 4);
  }
  QVERIFY(std::abs(shares - 1.0) < 1e-9);
  QVERIFY(QFile::exists(dir.filePath("explain/class_branch_combine.png")));
  // A figure (explain/Chart.h): axes, class and branch names and a colour bar on white, not bare
  // cells.
  QImage heat(dir.filePath("explain/class_branch_combine.png"));
  QCOMPARE(heat.width(), 640);
  QCOMPARE(heat.height(), 360); // the smallest figure: 4 classes
  QCOMPARE(heat.pixelColor(0, 0), QColor(Qt::white));
  QSet<QRgb> colours;
  for (int y = 0; y < heat.height(); ++y)
    for (int x = 0; x < heat.width(); ++x)
      colours.insert(heat.pixel(x, y));
  QVERIFY(colours.size() > 50); // the colour bar's ramp alone has more
  // Usage and file errors.
  QCOMPARE(runCli({"explain", QString::fromStdString(path), "--checkpoint", run + "/checkpoint.pt", "--method", "lime"})
               .code,
           2);
  const Run missing = runCli({"explain", QString::fromStdString(path), "--checkpoint", dir.filePath("nope.pt")});
  QCOMPARE(missing.code, 3);
  verifyNoCrashText(missing);
}

void TestCli::ctrlCStopsAndKeepsACheckpoint() {
  QTemporaryDir dir;
  Json doc = baseProject();
  doc["dataset"]["samples"] = 6000;
  doc["training"] = {{"epochs", 200}, {"batch_size", 4}, {"threads", 1}};
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  QProcess p;
  p.start(PARTICLE_CLI, {"train", QString::fromStdString(path), "--out", dir.filePath("run")});
  QVERIFY(p.waitForStarted());
  // Wait for the first progress output (plain lines: stdout is a pipe, not a terminal).
  QString out;
  QTRY_VERIFY_WITH_TIMEOUT((out += QString::fromUtf8(p.readAllStandardOutput())).contains("model:"), 60000);
  QTest::qWait(500);
  ::kill(static_cast<pid_t>(p.processId()), SIGINT);
  QVERIFY(p.waitForFinished(60000));
  out += QString::fromUtf8(p.readAllStandardOutput());
  QCOMPARE(p.exitStatus(), QProcess::NormalExit);
  QCOMPARE(p.exitCode(), 0);
  QVERIFY2(out.contains("stopped by request"), qPrintable(out));
  QVERIFY(QFile::exists(dir.filePath("run/checkpoint.pt")));
  const Json s = Json::parse(readTextFile(dir.filePath("run/summary.json").toStdString()));
  QCOMPARE(s["status"].get<std::string>(), std::string("stopped"));
}

// `part save` writes a particle file from a run; `part info` shows its nodes and provenance.
void TestCli::partSaveAndInfo() {
  QTemporaryDir dir;
  const QString project = QString::fromStdString(writeFile(dir, "p.particle.json", baseProject().dump()));
  QCOMPARE(runCli({"train", project, "--out", dir.filePath("run"), "--threads", "1"}).code, 0);
  const QString part = dir.filePath("c.particle-part");
  Run r = runCli({"part", "save", project, "--checkpoint", dir.filePath("run"), "--node", "c", "--out", part});
  QVERIFY2(r.code == 0 && r.out.contains("saved c ([8] → [8], 280 parameters; its run tested at"),
           qPrintable(r.err + r.out));
  r = runCli({"part", "info", part});
  QVERIFY2(r.code == 0, qPrintable(r.err));
  for (const char *line : {"1 node, 280 parameters", "c     MLP   [8] → [8]", "project        t (",
                           "classes        0, 1, 2, 3", "test accuracy  ", "by Particle Studio"})
    QVERIFY2(r.out.contains(line), qPrintable(line + QString(" in:\n") + r.out));
  r = runCli({"part", "info", part, "--json"});
  const Json header = Json::parse(r.out.toStdString());
  QCOMPARE(header["provenance"]["run"].get<std::string>(), QDir(dir.filePath("run")).absolutePath().toStdString());
  // Refusals: two ways in (exit 1, the edges named), an existing file, a wrong extension (exit 2).
  r = runCli({"part", "save", project, "--checkpoint", dir.filePath("run"), "--node", "a,c", "--out",
              dir.filePath("ac.particle-part")});
  QVERIFY2(r.code == 1 && r.err.contains("2 ways in (split → a and split:2 → c)"), qPrintable(r.err));
  r = runCli({"part", "save", project, "--checkpoint", dir.filePath("run"), "--node", "c", "--out", part});
  QVERIFY2(r.code == 2 && r.err.contains("pass --force"), qPrintable(r.err));
  r = runCli(
      {"part", "save", project, "--checkpoint", dir.filePath("run"), "--node", "c", "--out", dir.filePath("c.pt")});
  QVERIFY2(r.code == 2 && r.err.contains("--out must name a .particle-part file"), qPrintable(r.err));
  r = runCli({"part", "info", dir.filePath("run/checkpoint.pt")});
  QVERIFY2(r.code == 3 && r.err.contains("checkpoint.pt: not a particle file"), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
