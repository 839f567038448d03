// Trials and the learning curve through the command line: runTrials runs `particle train`
// processes a few at a time, records one that fails with its last error line and returns the
// outcomes in the order of the specs; `particle learning-curve` on a tiny project (2 sizes, 2
// seeds, 1 epoch) trains the graph and its monolithic baseline on N samples each, writes
// curve.json (spreads that are the runs' own, the paired verdict per size), curve.csv and the
// charts, takes the finished runs when run again, and refuses bad sizes naming --sizes; a search's
// Pareto set joins the curve.

#include "TestSupport.h"

#include "recipes/LearningCurve.h"
#include "recipes/Trials.h"
#include "train/RunFolder.h"

#include <QDir>
#include <QFileInfo>
#include <QTest>

#include <cmath>
#include <set>

using namespace particle;
using namespace particle::test;

namespace {

ProcessRun cli(const QStringList &args) {
  return runProcess(PARTICLE_CLI, args, QProcessEnvironment::systemEnvironment());
}

double meanOf(const std::vector<double> &v) {
  double s = 0;
  for (double x : v)
    s += x;
  return s / static_cast<double>(v.size());
}

} // namespace

class TestLearningCurve : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void trialsRecordFailuresInSpecOrder() {
    QTemporaryDir dir;
    const std::string good = writeFile(dir, "good.particle.json", baseProject().dump(2));
    Json broken = baseProject();
    broken["nodes"][2]["params"]["hidden"] = "many";
    const std::string bad = writeFile(dir, "bad.particle.json", broken.dump(2));
    const std::string root = dir.path().toStdString(), cache = dataCacheFolder(root);
    std::vector<TrialSpec> specs = {
        {"missing", trainArgs(root + "/none.particle.json", root + "/runs/missing", 1, cache), root + "/logs/missing",
         root + "/runs/missing"},
        {"good", trainArgs(good, root + "/runs/good", 1, cache, 1, 7), root + "/logs/good", root + "/runs/good"},
        {"bad", trainArgs(bad, root + "/runs/bad", 1, cache), root + "/logs/bad", root + "/runs/bad"},
    };
    QCOMPARE(specs[1].args,
             (std::vector<std::string>{"train", good, "--out", root + "/runs/good", "--force", "--threads", "1",
                                       "--nproc", "1", "--data-cache", cache, "--epochs", "1", "--seed", "7"}));
    std::set<std::size_t> called;
    const auto outcomes = runTrials(PARTICLE_CLI, specs, 2, [&](std::size_t i, const TrialOutcome &o) {
      QVERIFY(i < specs.size());
      QVERIFY(!o.status.empty());
      called.insert(i);
    });
    QCOMPARE(called.size(), std::size_t{3});
    QCOMPARE(outcomes.size(), std::size_t{3});
    QCOMPARE(outcomes[0].status, std::string("failed"));
    QVERIFY2(outcomes[0].message.find("none.particle.json") != std::string::npos, outcomes[0].message.c_str());
    QVERIFY(!outcomes[0].summary);
    QVERIFY2(outcomes[1].ok(), outcomes[1].message.c_str());
    QVERIFY(outcomes[1].summary && outcomes[1].summary->epochs == 1);
    QVERIFY(outcomes[1].summary->testAccuracy > 0);
    QVERIFY(outcomes[1].seconds > 0);
    QCOMPARE(outcomes[2].status, std::string("failed"));
    QVERIFY2(outcomes[2].message.find("hidden") != std::string::npos, outcomes[2].message.c_str());
    QVERIFY(QFile::exists(QString::fromStdString(root + "/logs/good.log")));
  }

  // A trial that cannot be started (here its log is a folder; in a user's trial the program was
  // being relinked) is failed with why, and the trials after it still run; a program that cannot
  // be executed fails each trial with "Permission denied", and nothing throws.
  void trialsThatCannotStartAreFailed() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString(), cache = dataCacheFolder(root);
    QVERIFY(QDir().mkpath(dir.filePath("logs/blocked.log")));
    const std::vector<TrialSpec> specs = {
        {"blocked", trainArgs(root + "/none.particle.json", root + "/runs/blocked", 1, cache), root + "/logs/blocked",
         root + "/runs/blocked"},
        {"missing", trainArgs(root + "/none.particle.json", root + "/runs/missing", 1, cache), root + "/logs/missing",
         root + "/runs/missing"},
    };
    std::set<std::size_t> called;
    auto outcomes = runTrials(PARTICLE_CLI, specs, 1, [&](std::size_t i, const TrialOutcome &) { called.insert(i); });
    QCOMPARE(called.size(), std::size_t{2});
    QCOMPARE(outcomes[0].status, std::string("failed"));
    QVERIFY2(outcomes[0].message.find(std::string("could not start ") + PARTICLE_CLI + ": Is a directory") !=
                 std::string::npos,
             outcomes[0].message.c_str());
    QCOMPARE(outcomes[1].status, std::string("failed")); // it ran: the train command refused the file
    QVERIFY2(outcomes[1].message.find("none.particle.json") != std::string::npos, outcomes[1].message.c_str());

    const std::string notExecutable = writeFile(dir, "particle", "#!/bin/sh\nexit 0\n");
    called.clear();
    outcomes = runTrials(notExecutable, {specs[1], specs[1]}, 2,
                         [&](std::size_t i, const TrialOutcome &) { called.insert(i); });
    QCOMPARE(called.size(), std::size_t{2});
    for (const auto &o : outcomes) {
      QCOMPARE(o.status, std::string("failed"));
      QVERIFY2(o.message == "could not start " + notExecutable + ": Permission denied", o.message.c_str());
    }
  }

  void curveOfTwoSizesAndTwoSeeds() {
    QTemporaryDir dir;
    const QString project = QString::fromStdString(writeFile(dir, "t.particle.json", baseProject().dump(2)));
    const QString out = dir.filePath("curve");
    const QStringList args = {"learning-curve", project, "--sizes", "40,120", "--seeds", "2",
                              "--epochs",       "1",     "--out",   out};
    const ProcessRun r = cli(args);
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QVERIFY2(r.out.contains("[1/8] t") && r.out.contains("[8/8] monolithic-w1"), qPrintable(r.out));
    QVERIFY2(r.out.contains("N=40") && r.out.contains("N=120") && r.out.contains("generalisation gap"),
             qPrintable(r.out));
    QVERIFY2(r.out.contains("\n  N=40: ") && r.out.contains("\n  N=120: "), qPrintable(r.out)); // the verdicts

    const std::string file = (out + "/curve.json").toStdString();
    const Json j = Json::parse(readTextFile(file));
    QCOMPARE(j["type"].get<std::string>(), std::string("learning-curve"));
    QCOMPARE(j["project"].get<std::string>(), std::string("t"));
    QVERIFY(j["sizes"] == Json({40, 120}));
    QCOMPARE(j["seeds"].get<int>(), 2);
    QCOMPARE(j["epochs"].get<int>(), 1);
    QCOMPARE(j["models"].size(), std::size_t{2});
    QCOMPARE(j["models"][0]["role"].get<std::string>(), std::string("graph"));
    QCOMPARE(j["models"][1]["name"].get<std::string>(), std::string("monolithic-w1"));
    QCOMPARE(j["models"][1]["role"].get<std::string>(), std::string("baseline"));
    for (const auto &m : j["models"]) {
      QCOMPARE(m["points"].size(), std::size_t{2});
      for (const auto &p : m["points"]) {
        const int64_t size = p["size"].get<int64_t>();
        QCOMPARE(p["runs"].size(), std::size_t{2});
        std::vector<double> test, train, gap;
        for (int seed = 0; seed < 2; ++seed) {
          const Json &run = p["runs"][seed];
          QCOMPARE(run["seed"].get<int>(), seed);
          QCOMPARE(run["status"].get<std::string>(), std::string("completed"));
          // N samples trained: as the run's data set reports them, and as its project asks.
          QCOMPARE(run["train_samples"].get<int64_t>(), size);
          const std::string runDir = run["run_dir"].get<std::string>();
          const RunRecord record = readRunSummary(runDir);
          QVERIFY2(record.dataset.find(std::to_string(size) + " train,") != std::string::npos, record.dataset.c_str());
          const Json trained = Json::parse(readTextFile(runDir + "/project.particle.json"));
          QCOMPARE(trained["dataset"]["limit"].get<int64_t>(), size);
          QCOMPARE(trained["dataset"]["limit_seed"].get<int>(), seed + 1);
          QCOMPARE(run["test_accuracy"].get<double>(), record.summary.testAccuracy);
          const auto epochs = readRunMetrics(runDir);
          QCOMPARE(epochs.size(), std::size_t{1});
          QCOMPARE(run["train_accuracy"].get<double>(), epochs.back().trainAccuracy);
          QCOMPARE(run["val_accuracy"].get<double>(), epochs.back().valAccuracy);
          test.push_back(run["test_accuracy"].get<double>());
          train.push_back(run["train_accuracy"].get<double>());
          gap.push_back(train.back() - run["val_accuracy"].get<double>());
        }
        // The spreads are the runs' own: mean and sample sd over the two seeds, values in seed order.
        for (auto [key, values] : {std::pair{"test", &test}, {"train", &train}, {"gap", &gap}}) {
          const Json &s = p[key];
          QCOMPARE(s["n"].get<int>(), 2);
          QCOMPARE(s["values"].get<std::vector<double>>(), *values);
          QVERIFY(std::abs(s["mean"].get<double>() - meanOf(*values)) < 1e-12);
          QVERIFY(std::abs(s["sd"].get<double>() - std::abs((*values)[0] - (*values)[1]) / std::sqrt(2.0)) < 1e-12);
        }
      }
    }
    // Per size the graph against the baseline, paired over the seeds on test accuracy.
    QCOMPARE(j["comparisons"].size(), std::size_t{2});
    for (std::size_t i = 0; i < 2; ++i) {
      const Json &c = j["comparisons"][i];
      QVERIFY(c["size"] == j["sizes"][i]);
      QCOMPARE(c["comparison"]["a"].get<std::string>(), std::string("t"));
      QCOMPARE(c["comparison"]["b"].get<std::string>(), std::string("monolithic-w1"));
      QCOMPARE(c["comparison"]["n"].get<int>(), 2);
      const double difference = j["models"][0]["points"][i]["test"]["mean"].get<double>() -
                                j["models"][1]["points"][i]["test"]["mean"].get<double>();
      QVERIFY(std::abs(c["comparison"]["difference"].get<double>() - difference) < 1e-12);
      QVERIFY(!c["comparison"]["verdict"].get<std::string>().empty());
    }
    const CurveResult read = readCurveFile(file);
    QCOMPARE(read.models.size(), std::size_t{2});
    QCOMPARE(read.comparisons.size(), std::size_t{2});
    const QStringList csv =
        QString::fromStdString(readTextFile((out + "/curve.csv").toStdString())).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(csv.size(), 9);
    QCOMPARE(csv[0], QString("model,size,seed,test_accuracy,train_accuracy,gap,status"));
    for (const char *chart : {"curve.svg", "curve.png", "gap.svg", "gap.png"})
      QVERIFY2(QFileInfo(out + "/" + chart).size() > 1000, chart);
    QVERIFY(readTextFile((out + "/curve.svg").toStdString()).find("monolithic-w1") != std::string::npos);

    // Again in the same folder: every run is taken from the earlier curve, none trains.
    const ProcessRun again = cli(args);
    QVERIFY2(again.code == 0, qPrintable(again.all()));
    QCOMPARE(again.out.count("(from the earlier curve)"), 8);
    QVERIFY2(again.out.contains("[8/8] monolithic-w1"), qPrintable(again.out));
    QVERIFY(Json::parse(readTextFile(file))["models"] == j["models"]);
    // Other settings in that folder are refused.
    QStringList other = args;
    other[other.indexOf("--epochs") + 1] = "2";
    const ProcessRun refused = cli(other);
    QCOMPARE(refused.code, 3);
    QVERIFY2(refused.err.contains("holds a learning curve with other settings"), qPrintable(refused.all()));
  }

  // A search's Pareto set joins the curve, less the graph and the baseline (on it already).
  void paretoSetOfASearch() {
    QTemporaryDir dir;
    const QString project = QString::fromStdString(writeFile(dir, "t.particle.json", baseProject().dump(2)));
    Json variant = baseProject();
    variant["name"] = "t-4-sum";
    variant["nodes"][6]["params"]["mode"] = "sum";
    QVERIFY(QDir(dir.path()).mkpath("s/variants"));
    writeFile(dir, "s/variants/4-sum.particle.json", variant.dump(2));
    const auto search = [&](const std::string &hash) {
      const Json doc = {{"project", "t"},
                        {"settings", {{"graph_hash", hash}}},
                        {"variants",
                         {{{"name", "own"}, {"original", true}},
                          {{"name", "monolithic-w1"}, {"baseline", true}},
                          {{"name", "4-sum"}}}},
                        {"trials", Json::array()},
                        {"pareto", {"4-sum", "monolithic-w1", "own"}}};
      writeFile(dir, "s/search.json", doc.dump(2));
    };
    search(graphHash(loadProject(project.toStdString()).graph));
    const QString out = dir.filePath("curve");
    const QStringList args = {"learning-curve", project,           "--sizes", "40", "--seeds", "1", "--epochs", "1",
                              "--search",       dir.filePath("s"), "--out",   out};
    const ProcessRun r = cli(args);
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    const CurveResult c = readCurveFile((out + "/curve.json").toStdString());
    QCOMPARE(c.models.size(), std::size_t{3});
    QCOMPARE(c.models[2].name, std::string("4-sum"));
    QCOMPARE(c.models[2].role, std::string("pareto"));
    QVERIFY2(c.models[2].points[0].runs.at(0).ok(), c.models[2].points[0].runs.at(0).message.c_str());
    const Json trained = Json::parse(readTextFile(c.models[2].points[0].runs[0].runDir + "/project.particle.json"));
    QCOMPARE(trained["nodes"][6]["params"]["mode"].get<std::string>(), std::string("sum"));
    QCOMPARE(trained["dataset"]["limit"].get<int>(), 40);
    // A search of another graph is refused, naming the file.
    search("0000");
    QStringList again = args;
    again[again.indexOf("--out") + 1] = dir.filePath("other");
    const ProcessRun refused = cli(again);
    QCOMPARE(refused.code, 3);
    QVERIFY2(refused.err.contains("search.json is a search of another graph than t's"), qPrintable(refused.all()));
  }

  void badSizesNameTheField_data() {
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no sizes") << QStringList{} << "learning-curve needs --sizes";
    QTest::newRow("empty") << QStringList{"--sizes", ","} << "--sizes needs at least one number of training samples";
    QTest::newRow("zero") << QStringList{"--sizes", "100,0"}
                          << "--sizes needs whole numbers of training samples ≥ 1 separated by commas, got \"0\"";
    QTest::newRow("not a number") << QStringList{"--sizes", "1e3"}
                                  << "--sizes needs whole numbers of training samples ≥ 1 separated by commas, got "
                                     "\"1e3\"";
    QTest::newRow("larger than the split")
        << QStringList{"--sizes", "40,100000"} << "learning-curve --sizes: 100000 is more than the";
    QTest::newRow("seeds") << QStringList{"--sizes", "40", "--seeds", "0"} << "--seeds needs an integer ≥ 1";
  }

  void badSizesNameTheField() {
    QFETCH(QStringList, extra);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString project = QString::fromStdString(writeFile(dir, "t.particle.json", baseProject().dump(2)));
    const ProcessRun r = cli(QStringList{"learning-curve", project, "--out", dir.filePath("c")} + extra);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(expected), qPrintable(r.all()));
    QVERIFY(!QFile::exists(dir.filePath("c/curve.json")));
  }
};

QTEST_GUILESS_MAIN(TestLearningCurve)
#include "tst_learningcurve.moc"
