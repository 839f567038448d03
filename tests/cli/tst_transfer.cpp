// The transfer experiment through the command line: on a tiny pair of projects (2 sizes, 1 seed,
// 1 epoch) `particle transfer` trains the source, then every mode at every size, and writes
// transfer.json (read back by the engine's reader) and transfer.csv; the trial projects carry the
// particle as the mode says; a second run in the same folder takes the finished trials; bad
// command lines end with a usage message.

#include "TestSupport.h"

#include "recipes/Transfer.h"

#include <QDir>
#include <QFile>
#include <QTest>

using namespace particle;
using namespace particle::test;

namespace {

ProcessRun cli(const QStringList &args) {
  return runProcess(PARTICLE_CLI, args, QProcessEnvironment::systemEnvironment());
}

// Task A and task B: the same graph on two synthetic data sets (other seeds, other informative parts).
QString project(const QTemporaryDir &dir, const std::string &name, int seed, const std::vector<int> &informative) {
  Json doc = baseProject();
  doc["name"] = name;
  doc["dataset"]["seed"] = seed;
  doc["dataset"]["informative"] = informative;
  return QString::fromStdString(writeFile(dir, name + ".particle.json", doc.dump(2)));
}

Json readJson(const QString &path) {
  return Json::parse(readTextFile(path.toStdString()));
}

} // namespace

class TestTransfer : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void tinyTransferWritesEveryMode() {
    QTemporaryDir dir;
    const QString a = project(dir, "a", 1, {0, 2}), b = project(dir, "b", 2, {1, 3});
    const QString out = dir.filePath("t");
    const QStringList args = {"transfer", a,   b,          "--nodes", "a",     "--sizes", "40,120",
                              "--seeds",  "1", "--epochs", "1",       "--out", out};
    const ProcessRun r = cli(args);
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    // Progress as it runs, then the table.
    QVERIFY2(r.out.contains("source: test") && r.out.contains("[1/10] frozen") && r.out.contains("[10/10] monolithic"),
             qPrintable(r.out));
    QVERIFY2(r.out.contains("mode") && r.out.contains("N=40") && r.out.contains("N=120"), qPrintable(r.out));

    const TransferResult t = readTransferFile((out + "/transfer.json").toStdString());
    QCOMPARE(t.modes, transferModes());
    QCOMPARE(t.sizes, (std::vector<int64_t>{40, 120}));
    QCOMPARE(t.trials.size(), std::size_t{10});
    for (const auto &trial : t.trials)
      QVERIFY2(trial.ok(), qPrintable(QString::fromStdString(trial.mode + ": " + trial.message)));
    QVERIFY(t.sourceTestAccuracy > 0);
    QVERIFY(QFile::exists(QString::fromStdString(t.sourceCheckpoint)));
    // Frozen trains only what follows the particle; LoRA its adapters beside that; fine-tuning
    // and scratch the whole graph.
    const auto trained = t.trainedParameters;
    QVERIFY(trained.at("frozen") < trained.at("lora"));
    QVERIFY(trained.at("lora") < trained.at("finetune"));
    QCOMPARE(trained.at("finetune"), trained.at("scratch"));
    QVERIFY(trained.at("monolithic") > 0);
    const auto table = t.table();
    QCOMPARE(table.size(), std::size_t{10});
    for (const auto &c : table)
      QCOMPARE(c.runs, 1);
    const Json j = readJson(out + "/transfer.json");
    QCOMPARE(j["table"].size(), std::size_t{10});
    const QStringList csv =
        QString::fromStdString(readTextFile((out + "/transfer.csv").toStdString())).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(csv.size(), 11);
    QCOMPARE(csv[0], QString("mode,size,seed,test_accuracy,trained_parameters,status"));

    // The trial projects: the particle (and its share group) from the source checkpoint, frozen
    // or with adapters; N samples drawn with the seed; the baseline has no Split.
    const Json frozen = readJson(out + "/projects/frozen-n40-s0.particle.json");
    for (const auto &n : frozen["nodes"])
      if (n["id"] == "a" || n["id"] == "b") {
        QCOMPARE(n["init"]["node"].get<std::string>(), std::string("a"));
        QCOMPARE(n["init"]["from"].get<std::string>(), t.sourceCheckpoint);
        QVERIFY(n.value("freeze", false));
      } else {
        QVERIFY(!n.contains("init"));
      }
    QCOMPARE(frozen["dataset"]["limit"].get<int>(), 40);
    QCOMPARE(frozen["dataset"]["limit_seed"].get<int>(), 1);
    const Json lora = readJson(out + "/projects/lora-n120-s0.particle.json");
    for (const auto &n : lora["nodes"])
      if (n["id"] == "a")
        QCOMPARE(n["adapter"]["kind"].get<std::string>(), std::string("lora"));
    const std::string mono = readTextFile((out + "/projects/monolithic-n40-s0.particle.json").toStdString());
    QVERIFY(mono.find("\"Split\"") == std::string::npos);

    // Again in the same folder: every trial is taken from the earlier run, none trains.
    const ProcessRun again = cli(args);
    QVERIFY2(again.code == 0, qPrintable(again.all()));
    QCOMPARE(again.out.count("(from the earlier transfer)"), 10);
    QVERIFY(!again.out.contains("training the source"));
    // Other settings in that folder are refused.
    QStringList other = args;
    other[other.indexOf("--epochs") + 1] = "2";
    const ProcessRun refused = cli(other);
    QCOMPARE(refused.code, 3);
    QVERIFY2(refused.err.contains("holds a transfer with other settings"), qPrintable(refused.all()));
  }

  void usageErrors_data() {
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("expected");
    QTest::newRow("one project") << QStringList{"ONE"} << 2 << "transfer takes two project files";
    QTest::newRow("no nodes") << QStringList{} << 2 << "transfer needs --nodes";
    QTest::newRow("bad size") << QStringList{"--nodes", "a", "--sizes", "50,x"} << 2
                              << "--sizes needs whole numbers of samples ≥ 1";
    QTest::newRow("zero size") << QStringList{"--nodes", "a", "--sizes", "0"} << 2
                               << "--sizes needs whole numbers of samples ≥ 1";
    QTest::newRow("unknown mode") << QStringList{"--nodes", "a", "--modes", "frozen,magic"} << 2
                                  << "--modes takes frozen, lora, finetune, scratch, monolithic; got \"magic\"";
    QTest::newRow("seeds") << QStringList{"--nodes", "a", "--seeds", "0"} << 2 << "--seeds needs an integer ≥ 1";
    QTest::newRow("alpha") << QStringList{"--nodes", "a", "--lora-alpha", "-1"} << 2
                           << "--lora-alpha needs a number > 0";
    QTest::newRow("checkpoint") << QStringList{"--nodes", "a", "--source-checkpoint", "/nonexistent/c.pt"} << 2
                                << "--source-checkpoint: /nonexistent/c.pt is not a file";
    QTest::newRow("unknown option") << QStringList{"--nodes", "a", "--size", "5"} << 2 << "unknown option --size";
    QTest::newRow("node not in target") << QStringList{"--nodes", "zz"} << 1
                                        << "no node 'zz' in the target project 'b'";
    QTest::newRow("node not in source") << QStringList{"--nodes", "a=zz"} << 1
                                        << "no node 'zz' in the source project 'a'";
  }

  void usageErrors() {
    QFETCH(QStringList, extra);
    QFETCH(int, code);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString a = project(dir, "a", 1, {0, 2}), b = project(dir, "b", 2, {1, 3});
    QStringList args = {"transfer", a, b};
    if (extra.value(0) == "ONE")
      args = {"transfer", a, "--nodes", "a"};
    else
      args << extra << "--out" << dir.filePath("t");
    const ProcessRun r = cli(args);
    QCOMPARE(r.code, code);
    QVERIFY2(r.err.contains(expected), qPrintable(r.all()));
    QVERIFY2(!QFile::exists(dir.filePath("t/transfer.json")), "nothing trains after a bad command line");
  }
};

QTEST_GUILESS_MAIN(TestTransfer)
#include "tst_transfer.moc"
