// Trials and the learning curve through the command line: runTrials runs `particle train`
// processes a few at a time, records one that fails with its last error line and returns the
// outcomes in the order of the specs.

#include "TestSupport.h"

#include "recipes/Trials.h"

#include <QDir>
#include <QTest>

#include <set>

using namespace particle;
using namespace particle::test;

class TestLearningCurve : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void trialsRecordFailuresInSpecOrder() {
    QTemporaryDir dir;
    const std::string good = writeFile(dir, "good.particle.json", baseProject().dump(2));
    Json broken = baseProject();
    broken["nodes"][2]["params"]["hidden"] = "many";
    const std::string bad = writeFile(dir, "bad.particle.json", broken.dump(2));
    const std::string root = dir.path().toStdString();
    std::vector<TrialSpec> specs = {
        {"missing", trainArgs(root + "/none.particle.json", root + "/runs/missing", 1), root + "/logs/missing",
         root + "/runs/missing"},
        {"good", trainArgs(good, root + "/runs/good", 1, 1, 7), root + "/logs/good", root + "/runs/good"},
        {"bad", trainArgs(bad, root + "/runs/bad", 1), root + "/logs/bad", root + "/runs/bad"},
    };
    QCOMPARE(specs[1].args,
             (std::vector<std::string>{"train", good, "--out", root + "/runs/good", "--force", "--threads", "1",
                                       "--nproc", "1", "--epochs", "1", "--seed", "7"}));
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
};

QTEST_GUILESS_MAIN(TestLearningCurve)
#include "tst_learningcurve.moc"
