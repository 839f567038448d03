// The machine's matmul peak: measured once, cached per CPU, threads, precision and LibTorch in
// the user's cache folder, a damaged cache measured again and rewritten; measured again on demand,
// the cache keeping the higher figure; a run reads it from the cache only and summary.json keeps
// the achieved and peak GFLOP/s.

#include "TestSupport.h"
#include "project/Precision.h"
#include "train/Peak.h"
#include "train/RunFolder.h"
#include "train/Trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <torch/version.h>

#include <algorithm>
#include <thread>

using namespace particle;
using namespace particle::test;

namespace {
// A cache holding one figure for this machine's fp32 at `threads` (`format` 1: from before the
// peak was the faster of two routes).
void writeCache(const std::string &path, double gflops, int threads, int format = 2) {
  const Json doc = {{"format", format},
                    {"entries",
                     {{{"cpu", cpuFeatures().model},
                       {"threads", threads},
                       {"precision", "fp32"},
                       {"libtorch", TORCH_VERSION},
                       {"gflops", gflops}}}}};
  writeFileAtomically(path, doc.dump());
}
} // namespace

class TestPeak : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void init();
  void aMeasuredPeakIsCachedAndReadBack();
  void aCorruptCacheIsMeasuredAgainAndRewritten();
  void anUnsupportedPrecisionSaysWhy();
  void theCacheKeepsTheHighestMeasurement();
  void thePeakIsTheFasterRoute();
  void aFigureOfTheFirstFormatIsMeasuredAgain();
  void aRunNearOrAboveThePeakWantsItMeasured();
  void aRunTakesThePeakFromTheCacheOnly();
  void summaryKeepsTheFigures();

private:
  std::unique_ptr<QTemporaryDir> cache_;
};

void TestPeak::init() {
  cache_ = std::make_unique<QTemporaryDir>();
  qputenv("XDG_CACHE_HOME", cache_->path().toUtf8());
}

void TestPeak::aMeasuredPeakIsCachedAndReadBack() {
  const std::string path = peakCachePath();
  QCOMPARE(QString::fromStdString(path), cache_->path() + "/particle-studio/peak.json");
  const PeakFigure none = matmulPeak("fp32", 1, false);
  QCOMPARE(none.gflops, 0.0); // not cached, and not measured when not asked to
  QVERIFY(!QFile::exists(QString::fromStdString(path)));
  const PeakFigure measured = matmulPeak("fp32", 1, true);
  QVERIFY2(measured.gflops > 1, qPrintable(QString::number(measured.gflops)));
  QVERIFY(!measured.cached);
  const Json doc = Json::parse(readTextFile(path));
  QCOMPARE(doc["entries"].size(), std::size_t(1));
  QCOMPARE(doc["entries"][0]["cpu"].get<std::string>(), cpuFeatures().model);
  QCOMPARE(doc["entries"][0]["threads"].get<int>(), 1);
  QCOMPARE(doc["entries"][0]["libtorch"].get<std::string>(), std::string(TORCH_VERSION));
  const PeakFigure again = matmulPeak("fp32", 1, true);
  QVERIFY(again.cached);
  QCOMPARE(again.gflops, measured.gflops);
  // A figure in the cache is taken as it is, asked to measure or not: no second measurement could
  // come out at exactly this.
  writeCache(path, 12345.5, 1);
  QCOMPARE(matmulPeakGflops("fp32", 1, true), 12345.5);
  // Another thread count is another figure (where there are two cores to count).
  if (std::thread::hardware_concurrency() > 1)
    QCOMPARE(matmulPeakGflops("fp32", 2, false), 0.0);
}

void TestPeak::aCorruptCacheIsMeasuredAgainAndRewritten() {
  const std::string path = peakCachePath();
  QDir().mkpath(cache_->path() + "/particle-studio");
  for (const std::string &bad : {std::string("{\"format\": 1, \"entries\": [tru"), std::string("[1, 2]"),
                                 std::string(R"({"format": 1, "entries": [{"cpu": 3, "gflops": "fast"}]})")}) {
    writeFileAtomically(path, bad);
    QCOMPARE(matmulPeakGflops("fp32", 1, false), 0.0); // read as no figure, never an error
  }
  const double measured = matmulPeakGflops("fp32", 1, true);
  QVERIFY(measured > 1);
  const Json doc = Json::parse(readTextFile(path)); // whole again
  QCOMPARE(doc["format"].get<int>(), 2);
  QCOMPARE(doc["entries"].size(), std::size_t(1));
  QCOMPARE(doc["entries"][0]["gflops"].get<double>(), measured);
}

void TestPeak::anUnsupportedPrecisionSaysWhy() {
  const PeakFigure fp16 = matmulPeak("fp16", 1, true); // LibTorch 1.13 has no fast CPU fp16
  QCOMPARE(fp16.gflops, 0.0);
  QCOMPARE(fp16.unsupported, precisionUnsupported("fp16", "cpu"));
  QVERIFY(!fp16.unsupported.empty());
  QVERIFY(!QFile::exists(QString::fromStdString(peakCachePath())));
}

void TestPeak::theCacheKeepsTheHighestMeasurement() {
  const std::string path = peakCachePath();
  QDir().mkpath(cache_->path() + "/particle-studio");
  // A cached figure above anything this machine measures: the new, lower measurement is reported
  // and the cache keeps its figure.
  writeCache(path, 12345.5, 1);
  const PeakFigure lower = remeasureMatmulPeak("fp32", 1);
  QVERIFY2(lower.measured > 1 && lower.measured < 12345.5, qPrintable(QString::number(lower.measured)));
  QCOMPARE(lower.gflops, 12345.5);
  QVERIFY(lower.cached);
  Json doc = Json::parse(readTextFile(path));
  QCOMPARE(doc["entries"].size(), std::size_t(1));
  QCOMPARE(doc["entries"][0]["gflops"].get<double>(), 12345.5);
  // A cached figure below it (measured on a loaded machine): the higher measurement replaces it.
  writeCache(path, 0.5, 1);
  const PeakFigure higher = remeasureMatmulPeak("fp32", 1);
  QVERIFY2(higher.measured > 0.5, qPrintable(QString::number(higher.measured)));
  QCOMPARE(higher.gflops, higher.measured);
  QVERIFY(!higher.cached);
  doc = Json::parse(readTextFile(path));
  QCOMPARE(doc["entries"].size(), std::size_t(1));
  QCOMPARE(doc["entries"][0]["gflops"].get<double>(), higher.measured);
  QCOMPARE(matmulPeakGflops("fp32", 1, false), higher.measured);
  // Re-measuring where nothing is cached caches the measurement.
  QVERIFY(QFile::remove(QString::fromStdString(path)));
  const PeakFigure fresh = remeasureMatmulPeak("fp32", 1);
  QVERIFY(fresh.measured > 1);
  QCOMPARE(matmulPeakGflops("fp32", 1, false), fresh.measured);
}

// LibTorch multiplies float32 matrices through its BLAS (torch::mm) or through oneDNN, and which is
// faster depends on the CPU (OpenBLAS's AVX2 kernel on an AMD CPU it does not know, where oneDNN and
// the convolutions run AVX-512): the peak is the faster, and says which.
void TestPeak::thePeakIsTheFasterRoute() {
  const PeakFigure p = matmulPeak("fp32", 1, true);
  QVERIFY(p.routes.count("mm"));
  QVERIFY2(p.routes.size() == 2 && p.routes.count("oneDNN"), "Debian's LibTorch is built with oneDNN");
  double best = 0;
  for (const auto &[name, gflops] : p.routes) {
    QVERIFY2(gflops > 1, qPrintable(QString::fromStdString(name) + " " + QString::number(gflops)));
    best = std::max(best, gflops);
  }
  QCOMPARE(p.gflops, best);
  QCOMPARE(p.routes.at(p.route), best);
  // Cached with the route it came from, and read back with it.
  const Json doc = Json::parse(readTextFile(peakCachePath()));
  QCOMPARE(doc["entries"][0]["route"].get<std::string>(), p.route);
  QCOMPARE(doc["entries"][0]["routes"]["mm"].get<double>(), p.routes.at("mm"));
  const PeakFigure cached = matmulPeak("fp32", 1, false);
  QVERIFY(cached.cached);
  QCOMPARE(cached.route, p.route);
}

// A figure cached before the routes were compared timed torch::mm alone: read as none, so that it
// is measured again, and the file rewritten in the new format.
void TestPeak::aFigureOfTheFirstFormatIsMeasuredAgain() {
  QDir().mkpath(cache_->path() + "/particle-studio");
  writeCache(peakCachePath(), 12345.5, 1, 1);
  QCOMPARE(matmulPeakGflops("fp32", 1, false), 0.0);
  const PeakFigure measured = matmulPeak("fp32", 1, true);
  QVERIFY(!measured.cached && measured.gflops > 1 && measured.gflops < 12345.5);
  const Json doc = Json::parse(readTextFile(peakCachePath()));
  QCOMPARE(doc["format"].get<int>(), 2);
  QCOMPARE(doc["entries"].size(), std::size_t(1));
}

void TestPeak::aRunNearOrAboveThePeakWantsItMeasured() {
  QVERIFY(peakWantsMeasuring(105, 72.7)); // above the peak: the peak was measured on a busy machine
  QVERIFY(peakWantsMeasuring(95, 100));   // within 10% of it
  QVERIFY(peakWantsMeasuring(5, 0));      // none cached
  QVERIFY(!peakWantsMeasuring(50, 100));
  QVERIFY(!peakWantsMeasuring(0, 100)); // FLOPs not counted: nothing to compare
  QVERIFY(!peakWantsMeasuring(0, 0));
}

void TestPeak::aRunTakesThePeakFromTheCacheOnly() {
  QTemporaryDir runs;
  Json doc = baseProject();
  doc["dataset"]["samples"] = 600;
  doc["training"] = {{"epochs", 1}, {"batch_size", 32}, {"threads", 1}};
  TrainOptions options;
  options.outDir = runs.filePath("none").toStdString();
  const RunSummary none = Trainer(projectFromJson(doc, "p.json"), options).run();
  QVERIFY2(!none.failed(), none.message.c_str());
  QCOMPARE(none.peakGflops, 0.0); // nothing cached: the run measures nothing
  QVERIFY(!QFile::exists(QString::fromStdString(peakCachePath())));
  QVERIFY(none.flopsPerSample > 0 && none.samplesPerSecond > 0);
  // A trained sample is 3 × its forward FLOPs.
  QCOMPARE(none.achievedGflops, 3 * none.flopsPerSample * none.samplesPerSecond / 1e9);

  QDir().mkpath(cache_->path() + "/particle-studio");
  writeCache(peakCachePath(), 777, 1);
  options.outDir = runs.filePath("cached").toStdString();
  const RunSummary cached = Trainer(projectFromJson(doc, "p.json"), options).run();
  QCOMPARE(cached.peakGflops, 777.0);
  const Json summary = Json::parse(readTextFile(options.outDir + "/summary.json"));
  QCOMPARE(summary["peak_gflops"].get<double>(), 777.0);
  QCOMPARE(summary["achieved_gflops"].get<double>(), cached.achievedGflops);
}

void TestPeak::summaryKeepsTheFigures() {
  QTemporaryDir dir;
  RunRecord r;
  r.summary.achievedGflops = 12.25;
  r.summary.peakGflops = 203.5;
  r.summary.flopsPerSample = 8e6;
  RunFolder(dir.path().toStdString()).writeSummary(r);
  const RunRecord back = readRunSummary(dir.path().toStdString());
  QCOMPARE(back.summary.achievedGflops, 12.25);
  QCOMPARE(back.summary.peakGflops, 203.5);
  QCOMPARE(back.summary.flopsPerSample, 8e6);
  // A summary from before the figures reads them as unknown.
  Json old = Json::parse(readTextFile(dir.filePath("summary.json").toStdString()));
  old.erase("achieved_gflops");
  old.erase("peak_gflops");
  writeFileAtomically(dir.filePath("summary.json").toStdString(), old.dump());
  QCOMPARE(readRunSummary(dir.path().toStdString()).summary.peakGflops, 0.0);
  QCOMPARE(readRunSummary(dir.path().toStdString()).summary.achievedGflops, 0.0);
}

QTEST_GUILESS_MAIN(TestPeak)
#include "tst_peak.moc"
