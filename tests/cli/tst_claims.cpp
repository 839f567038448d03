// The write-up's claims over seeds (recipes/Claims, `particle robustness P --seeds S`): the
// verdict logic on constructed per-seed figures — a clear win holds, a tie is within noise, a
// clear loss does not hold, in both directions (accuracy higher is better, gaps and drops lower),
// a lone p just under 0.05 is within noise after Holm over the claims; noise on token ids and sharing in a graph that
// shares nothing are not applicable, parameter counts exact. Then one real small run of the weather example (2 seeds, 3
// epochs): claims.json and claims.csv as interface F has them, read back by readClaimsFile, a rerun takes the finished
// runs, other settings are refused, and a broken claims.json names its field; a graph without a
// baseline and mixed-up command lines are refused.

#include "TestSupport.h"

#include "recipes/Claims.h"

#include <QDir>
#include <QFile>
#include <QTest>

#include <set>

using namespace particle;
using namespace particle::test;

namespace {

ProcessRun cli(const QStringList &args) {
  return runProcess(PARTICLE_CLI, args, QProcessEnvironment::systemEnvironment());
}

const Claim &claimOf(const std::vector<Claim> &claims, const std::string &id) {
  for (const auto &c : claims)
    if (c.id == id)
      return c;
  throw std::runtime_error("no claim " + id);
}

// Per-seed figures: the graph's and the baseline's, three seeds, with sharing.
ClaimFigures figures(std::vector<double> test, std::vector<double> gap, int64_t unique, int64_t total) {
  ClaimFigures f;
  f.test = std::move(test);
  f.gap = std::move(gap);
  f.noiseDrop = {0.20, 0.21, 0.19};
  f.occlusionDrop = {0.10, 0.12, 0.11};
  f.uniqueParameters = unique;
  f.totalParameters = total;
  return f;
}

} // namespace

class TestClaims : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void clearWinHolds() {
    // The graph ahead by about 10 points on every seed, its gap 5 points smaller.
    const auto g = figures({0.90, 0.91, 0.925}, {0.01, 0.02, 0.015}, 800, 1200);
    const auto b = figures({0.80, 0.81, 0.82}, {0.06, 0.075, 0.062}, 1000, 1000);
    const auto claims = evaluateClaims(g, b);
    QCOMPARE(claims.size(), std::size_t{5});
    const Claim &acc = claimOf(claims, "accuracy");
    QCOMPARE(acc.verdict, std::string("holds"));
    QCOMPARE(acc.comparison.verdict, std::string("better"));
    QCOMPARE(acc.graph.n, 3);
    QVERIFY(std::abs(acc.graph.mean - (0.90 + 0.91 + 0.925) / 3) < 1e-12);
    QVERIFY(acc.comparison.low > 0 && acc.comparison.high > acc.comparison.low);
    QVERIFY(acc.comparison.difference > 0.09 && acc.comparison.difference < 0.11);
    const Claim &gap = claimOf(claims, "overfitting");
    QCOMPARE(gap.verdict, std::string("holds")); // smaller gap: the claim's good side
    QCOMPARE(gap.comparison.verdict, std::string("better"));
    QVERIFY(gap.comparison.high < 0);
    // The same drops on both sides: no difference at all, within noise.
    QCOMPARE(claimOf(claims, "noise").verdict, std::string("within noise"));
    QCOMPARE(claimOf(claims, "occlusion").verdict, std::string("within noise"));
    const Claim &sharing = claimOf(claims, "sharing");
    QCOMPARE(sharing.verdict, std::string("holds"));
    QCOMPARE(sharing.comparison.test, std::string("exact"));
    QCOMPARE(sharing.comparison.difference, -200.0);
    QVERIFY2(acc.sentence.find("holds") != std::string::npos, acc.sentence.c_str());
  }

  void tieIsWithinNoise() {
    const auto g = figures({0.80, 0.82, 0.81}, {0.05, 0.03, 0.04}, 1000, 1000);
    const auto b = figures({0.81, 0.81, 0.81}, {0.04, 0.04, 0.045}, 1000, 1000);
    const auto claims = evaluateClaims(g, b);
    const Claim &acc = claimOf(claims, "accuracy");
    QCOMPARE(acc.verdict, std::string("within noise"));
    QVERIFY(acc.comparison.low < 0 && acc.comparison.high > 0);
    QCOMPARE(claimOf(claims, "overfitting").verdict, std::string("within noise"));
    // A graph that shares nothing says nothing about sharing.
    QCOMPARE(claimOf(claims, "sharing").verdict, std::string("not applicable"));
    // One point ahead on each of three seeds: the sign test (p = 0.25), not a t of d/0.
    const auto even = evaluateClaims(figures({0.82, 0.83, 0.84}, {0.05, 0.03, 0.04}, 1000, 1000),
                                     figures({0.81, 0.82, 0.83}, {0.04, 0.04, 0.045}, 1000, 1000));
    QCOMPARE(claimOf(even, "accuracy").verdict, std::string("within noise"));
    QCOMPARE(claimOf(even, "accuracy").comparison.test, std::string("sign test over seeds"));
    // A lead with p ≈ 0.049 alone: within noise once Holm counts the four claims tested.
    const auto one = evaluateClaims(figures({0.82, 0.83, 0.845}, {0.05, 0.03, 0.04}, 1000, 1000),
                                    figures({0.80, 0.80, 0.80}, {0.04, 0.04, 0.045}, 1000, 1000));
    const Claim &lead = claimOf(one, "accuracy");
    QVERIFY2(lead.comparison.low > 0, lead.sentence.c_str()); // its own interval clears 0
    QVERIFY(lead.comparison.p > 0.05);
    QCOMPARE(lead.verdict, std::string("within noise"));
    QVERIFY2(lead.sentence.find("Holm's adjustment over 4 claims") != std::string::npos, lead.sentence.c_str());
  }

  void clearLossDoesNotHold() {
    // The baseline ahead on every seed; the graph's gap and its noise drop larger.
    auto g = figures({0.80, 0.81, 0.82}, {0.06, 0.075, 0.062}, 1200, 1500);
    const auto b = figures({0.90, 0.91, 0.925}, {0.01, 0.02, 0.015}, 1000, 1000);
    g.noiseDrop = {0.30, 0.33, 0.31};
    const auto claims = evaluateClaims(g, b);
    QCOMPARE(claimOf(claims, "accuracy").verdict, std::string("does not hold"));
    QCOMPARE(claimOf(claims, "accuracy").comparison.verdict, std::string("worse"));
    QVERIFY(claimOf(claims, "accuracy").comparison.high < 0);
    QCOMPARE(claimOf(claims, "overfitting").verdict, std::string("does not hold"));
    QCOMPARE(claimOf(claims, "noise").verdict, std::string("does not hold"));
    QCOMPARE(claimOf(claims, "sharing").verdict, std::string("does not hold"));
    for (const char *id : {"accuracy", "overfitting", "noise", "sharing"}) {
      QCOMPARE(claimDirection(claimOf(claims, id)), std::string("graph worse"));
      QCOMPARE(claimVerdictText(claimOf(claims, id)), std::string("does not hold"));
    }
    QCOMPARE(claimDirection(claimOf(claims, "occlusion")), std::string("no difference")); // the same drops
  }

  void tooFewSeedsAndNotApplicable() {
    auto g = figures({0.9}, {0.01}, 800, 1200);
    auto b = figures({0.8}, {0.05}, 1000, 1000);
    g.noiseDrop.clear();
    b.noiseDrop.clear();
    g.noiseApplies = b.noiseApplies = false; // token ids
    g.occlusionDrop = {0.1};
    b.occlusionDrop = {0.2};
    const auto claims = evaluateClaims(g, b);
    // One seed is no evidence either way, however large the difference.
    QCOMPARE(claimOf(claims, "accuracy").verdict, std::string("within noise"));
    QCOMPARE(claimOf(claims, "accuracy").comparison.verdict, std::string("too few seeds"));
    // ...and says so, not "within noise", with the side each difference favours read the
    // measure's way: ahead on accuracy, a smaller drop, a smaller gap.
    for (const char *id : {"accuracy", "overfitting", "occlusion"}) {
      QCOMPARE(claimVerdictText(claimOf(claims, id)), std::string("cannot tell with one seed"));
      QCOMPARE(claimDirection(claimOf(claims, id)), std::string("graph better"));
      QVERIFY2(claimOf(claims, id).sentence.find("from one seed: graph better on it, but one seed cannot tell") !=
                   std::string::npos,
               claimOf(claims, id).sentence.c_str());
    }
    QCOMPARE(claimVerdictText(claimOf(claims, "sharing")), std::string("holds"));
    QCOMPARE(claimDirection(claimOf(claims, "sharing")), std::string("graph better"));
    QCOMPARE(claimDirection(claimOf(claims, "noise")), std::string());
    QCOMPARE(claimOf(claims, "noise").verdict, std::string("not applicable"));
    QVERIFY(claimOf(claims, "noise").sentence.find("token ids") != std::string::npos);
  }

  void refusals() {
    QTemporaryDir dir;
    // A graph without a Split has no monolithic baseline: refused before any folder is made.
    Json doc = baseProject();
    doc["nodes"] = Json::parse(R"([{"id": "input", "type": "Input"},
        {"id": "a", "type": "MLP", "params": {"hidden": [16], "out": 8}}, {"id": "head", "type": "Classifier"}])");
    doc["edges"] = Json::parse(R"([{"from": "input", "to": "a"}, {"from": "a", "to": "head"}])");
    const QString p = QString::fromStdString(writeFile(dir, "nosplit.particle.json", doc.dump()));
    ProcessRun r = cli({"robustness", p, "--seeds", "2", "--out", dir.filePath("claims")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("no monolithic baseline"), qPrintable(r.all()));
    QVERIFY(!QDir(dir.filePath("claims")).exists());
    // Neither --checkpoint nor --seeds; claims options with one --checkpoint.
    r = cli({"robustness", p});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--checkpoint CKPT (one trained model) or --seeds S"), qPrintable(r.all()));
    r = cli({"robustness", p, "--checkpoint", "c.pt", "--seeds", "3"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--seeds is for the claims over seeds"), qPrintable(r.all()));
  }

  void weatherClaimsOverTwoSeeds() {
    const QString example = QStringLiteral(PARTICLE_SOURCE_DIR "/resources/examples/weather-parts.particle.json");
    if (!QFile::exists(QStringLiteral(PARTICLE_SOURCE_DIR "/data/seattle-weather.csv")))
      QSKIP("data/seattle-weather.csv is not here (scripts/fetch-data.sh)");
    QTemporaryDir dir;
    const QString out = dir.filePath("claims");
    ProcessRun r =
        cli({"robustness", example, "--seeds", "2", "--epochs", "3", "--jobs", "2", "--sigmas", "0.5", "--out", out});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    // The table: every claim with a verdict.
    for (const char *line : {"Decomposition is as accurate as one model", "Decomposition reduces over-fitting",
                             "Decomposition is more robust to input noise", "Sharing cuts parameters"})
      QVERIFY2(r.out.contains(line), qPrintable(r.out));
    QVERIFY2(r.out.contains("difference [95% interval]"), qPrintable(r.out));
    QVERIFY2(r.out.contains("pts, graph better") || r.out.contains("pts, graph worse"), qPrintable(r.out));

    const Json j = Json::parse(readTextFile((out + "/claims.json").toStdString()));
    QCOMPARE(j["project"].get<std::string>(), std::string("weather-parts"));
    QCOMPARE(j["baseline"].get<std::string>(), std::string("monolithic-w1"));
    QCOMPARE(j["seeds"].get<int>(), 2);
    QCOMPARE(j["epochs"].get<int>(), 3);
    QCOMPARE(j["models"].size(), std::size_t{2});
    for (const auto &m : j["models"]) {
      QCOMPARE(m["runs"].size(), std::size_t{2});
      for (const auto &run : m["runs"]) {
        QCOMPARE(run["status"].get<std::string>(), std::string("completed"));
        QVERIFY(run["measured"].get<bool>());
        QCOMPARE(run["noise"].size(), std::size_t{2});     // σ = 0 always measured, and 0.5
        QCOMPARE(run["occlusion"].size(), std::size_t{2}); // the graph's two parts, for the baseline too
        QVERIFY(QFile::exists(QString::fromStdString(run["run_dir"].get<std::string>() + "/robustness.json")));
        QVERIFY(std::abs(run["gap"].get<double>()) <= 1);
        QCOMPARE(run["noise"][1][0].get<double>(), 0.5);
      }
    }
    QCOMPARE(j["models"][0]["role"].get<std::string>(), std::string("graph"));
    QCOMPARE(j["models"][1]["unique_parameters"].get<int64_t>(), int64_t{773});
    QVERIFY(j["models"][0]["flops_per_sample"].get<double>() > 0);
    const std::set<std::string> verdicts = {"holds", "does not hold", "within noise", "not applicable"};
    QCOMPARE(j["claims"].size(), std::size_t{5});
    for (const auto &c : j["claims"]) {
      QVERIFY(verdicts.count(c["verdict"].get<std::string>()) == 1);
      for (const char *key : {"id", "claim", "measure", "graph", "baseline", "comparison", "sentence"})
        QVERIFY2(c.contains(key), key);
    }
    QCOMPARE(j["claims"][0]["graph"]["values"].size(), std::size_t{2});
    const std::string csv = readTextFile((out + "/claims.csv").toStdString());
    QVERIFY(
        csv.rfind("model,role,seed,status,test_accuracy,val_accuracy,train_accuracy,gap,noise_drop,occlusion_drop\n",
                  0) == 0);

    // The torch-free reader gives the same claims.
    const ClaimsResult read = readClaimsFile((out + "/claims.json").toStdString());
    QCOMPARE(read.models.size(), std::size_t{2});
    QCOMPARE(read.claims.size(), std::size_t{5});
    QCOMPARE(read.claims[0].verdict, j["claims"][0]["verdict"].get<std::string>());
    QCOMPARE(read.claims[0].graph.values.size(), std::size_t{2});

    // Again with the same settings: every run is taken, nothing trains.
    r = cli({"robustness", example, "--seeds", "2", "--epochs", "3", "--sigmas", "0.5", "--out", out});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QCOMPARE(r.out.count("[earlier]"), 4);
    QVERIFY2(!r.out.contains("trained:"), qPrintable(r.out));
    // Other settings in the same folder are refused.
    r = cli({"robustness", example, "--seeds", "2", "--epochs", "4", "--out", out});
    QVERIFY2(r.code != 0 && r.err.contains("other settings"), qPrintable(r.all()));

    // A claims.json whose field has the wrong shape names the file and the field.
    Json broken = j;
    broken["claims"][1]["verdict"] = "proven";
    const std::string file = writeFile(dir, "broken.json", broken.dump());
    try {
      readClaimsFile(file);
      QFAIL("a wrong verdict was read");
    } catch (const Error &e) {
      QVERIFY2(std::string(e.what()).find("claims[1].verdict") != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("broken.json") != std::string::npos, e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestClaims)
#include "tst_claims.moc"
