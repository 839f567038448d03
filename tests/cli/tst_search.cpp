// Decomposition search and the robustness figures, through the command line: a search under a
// budget of trials writes every variant, trial and the Pareto set; the same seed picks the same
// variants; a search continues where it stopped; a failed trial is recorded and skipped; bad
// budgets and graphs without a Split end in a clear message. `particle robustness` writes the
// noise and occlusion curves and the generalisation gap.

#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QTest>

using namespace particle;
using namespace particle::test;

namespace {

ProcessRun cli(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment()) {
  return runProcess(PARTICLE_CLI, args, env);
}

QString project(const QTemporaryDir &dir, const std::string &name, int samples = 400, int batch = 32) {
  Json doc = baseProject();
  doc["dataset"]["samples"] = samples;
  doc["training"] = {{"batch_size", batch}, {"threads", 1}, {"epochs", 2}};
  return QString::fromStdString(writeFile(dir, name, doc.dump(2)));
}

Json readJson(const QString &path) {
  return Json::parse(readTextFile(path.toStdString()));
}

// (variant, rung, status) of every trial, in order.
QStringList trialList(const Json &search) {
  QStringList out;
  for (const auto &t : search["trials"])
    out << QString::fromStdString(t["variant"].get<std::string>() + "@" + std::to_string(t["rung"].get<int>()) + ":" +
                                  t["status"].get<std::string>());
  return out;
}

} // namespace

class TestSearch : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void searchWritesTrialsVariantsAndTheFront() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    const ProcessRun r = cli({"search", p, "--budget", "7trials", "--out", dir.filePath("s")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    const Json s = readJson(dir.filePath("s/search.json"));
    QCOMPARE(s["trials"].size(), std::size_t{7}); // 4 + 2 + 1
    QCOMPARE(s["rungs"].get<int>(), 3);
    // The user's graph and the monolithic baseline always start.
    std::vector<std::string> started;
    for (const auto &v : s["variants"])
      if (v["started"].get<bool>())
        started.push_back(v["name"]);
    QCOMPARE(started.size(), std::size_t{4});
    QVERIFY(std::find(started.begin(), started.end(), "own") != started.end());
    QVERIFY(std::find(started.begin(), started.end(), "monolithic-w1") != started.end());
    // Every variant is a project file that validates; the baseline has no Split and no Combine.
    for (const auto &name : started) {
      const QString file = dir.filePath(QString::fromStdString("s/variants/" + name + ".particle.json"));
      const ProcessRun check = cli({"check", file});
      QVERIFY2(check.code == 0, qPrintable(file + "\n" + check.all()));
    }
    const std::string mono = readTextFile(dir.filePath("s/variants/monolithic-w1.particle.json").toStdString());
    QVERIFY(mono.find("\"Split\"") == std::string::npos && mono.find("\"Combine\"") == std::string::npos);
    // Rung 1 trained the better half of rung 0 for twice the epochs, from their checkpoints.
    std::vector<std::pair<double, std::string>> rung0;
    for (const auto &t : s["trials"])
      if (t["rung"] == 0)
        rung0.emplace_back(-t["val_accuracy"].get<double>(), t["variant"]);
    std::sort(rung0.begin(), rung0.end());
    std::vector<std::string> rung1;
    for (const auto &t : s["trials"])
      if (t["rung"] == 1) {
        rung1.push_back(t["variant"]);
        QCOMPARE(t["epochs"].get<int>(), 2);
      }
    QCOMPARE(rung1.size(), std::size_t{2});
    QVERIFY(std::find(rung1.begin(), rung1.end(), rung0[0].second) != rung1.end());
    // Metrics of every completed trial; the Pareto set is non-dominated.
    for (const auto &t : s["trials"]) {
      QCOMPARE(t["status"].get<std::string>(), std::string("completed"));
      QVERIFY(t["unique_parameters"].get<int64_t>() > 0);
      QVERIFY(t["us_per_sample"].get<double>() > 0);
      QVERIFY(QFile::exists(QString::fromStdString(t["run"].get<std::string>() + "/checkpoint.pt")));
    }
    const Json front = readJson(dir.filePath("s/pareto.json"));
    QVERIFY(!front.empty());
    for (const auto &a : front)
      for (const auto &b : front)
        QVERIFY(!(b["val_accuracy"].get<double>() > a["val_accuracy"].get<double>() &&
                  b["unique_parameters"].get<int64_t>() < a["unique_parameters"].get<int64_t>()));
    QVERIFY(QFile::exists(dir.filePath("s/trials.csv")));
    QVERIFY2(r.out.contains("monolithic baseline (monolithic-w1)") && r.out.contains("this graph (own)"),
             qPrintable(r.out));

    // Continued in the same folder: every trial is taken from the earlier search, none run again.
    const ProcessRun again = cli({"search", p, "--budget", "7trials", "--out", dir.filePath("s")});
    QVERIFY2(again.code == 0, qPrintable(again.all()));
    QCOMPARE(again.out.count("(from the earlier search)"), 7);
    QCOMPARE(trialList(readJson(dir.filePath("s/search.json"))), trialList(s));
    // Other settings in the same folder are refused; --force starts over.
    const ProcessRun other = cli({"search", p, "--budget", "7trials", "--seed", "5", "--out", dir.filePath("s")});
    QCOMPARE(other.code, 2);
    QVERIFY2(other.err.contains("holds a search with other settings (seed differs)"), qPrintable(other.err));
  }

  void sameSeedSameVariants() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    const ProcessRun a = cli({"search", p, "--budget", "6trials", "--seed", "11", "--out", dir.filePath("a")});
    const ProcessRun b = cli({"search", p, "--budget", "6trials", "--seed", "11", "--out", dir.filePath("b")});
    const ProcessRun c = cli({"search", p, "--budget", "6trials", "--seed", "12", "--out", dir.filePath("c")});
    QVERIFY2(a.code == 0 && b.code == 0 && c.code == 0, qPrintable(a.all() + b.all() + c.all()));
    const QStringList ta = trialList(readJson(dir.filePath("a/search.json")));
    QCOMPARE(trialList(readJson(dir.filePath("b/search.json"))), ta);
    QVERIFY(trialList(readJson(dir.filePath("c/search.json"))) != ta); // another seed, other variants
  }

  // Time left after a bracket starts another with the next variants; the budget ends the search.
  void timeBudgetRunsMoreBrackets() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    const ProcessRun r = cli({"search", p, "--budget", "15s", "--variants", "2", "--out", dir.filePath("s")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QVERIFY2(r.out.contains("time left: another bracket of 2 variant(s)"), qPrintable(r.out));
    QVERIFY2(r.ms < 15000 + 10000, qPrintable(QString::number(r.ms))); // the budget, and a trial's end at most
    const Json s = readJson(dir.filePath("s/search.json"));
    int started = 0;
    for (const auto &v : s["variants"])
      started += v["started"].get<bool>();
    QVERIFY(started > 2);
  }

  void failedTrialIsRecordedAndSkipped() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    // Trials run through a wrapper; for one variant it fails as a data set that cannot be read would.
    const QString wrapper = dir.filePath("wrapper.sh");
    QFile w(wrapper);
    QVERIFY(w.open(QIODevice::WriteOnly));
    w.write(QString("#!/bin/sh\ncase \"$2\" in *monolithic-w1*) echo \"data.csv: line 7: not a number\" >&2; exit 3;; "
                    "esac\nexec '%1' \"$@\"\n")
                .arg(PARTICLE_CLI)
                .toUtf8());
    w.close();
    QFile::setPermissions(wrapper, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PARTICLE_TRIAL_PROGRAM", wrapper);
    const ProcessRun r = cli({"search", p, "--budget", "7trials", "--out", dir.filePath("s")}, env);
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    const Json s = readJson(dir.filePath("s/search.json"));
    int failed = 0;
    for (const auto &t : s["trials"])
      if (t["variant"] == "monolithic-w1") {
        ++failed;
        QCOMPARE(t["status"].get<std::string>(), std::string("failed"));
        QVERIFY2(t["message"].get<std::string>().find("data.csv: line 7: not a number") != std::string::npos,
                 t["message"].get<std::string>().c_str());
      }
    QCOMPARE(failed, 1);                          // never promoted
    QCOMPARE(s["trials"].size(), std::size_t{7}); // 4 (one failed) + the better half of the 3 others (2) + 1
    QVERIFY(r.out.contains("failed: exit 3: data.csv: line 7"));
  }

  void badInput() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    ProcessRun r = cli({"search", p, "--budget", "0trials"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("too small for one trial"), qPrintable(r.err));
    r = cli({"search", p, "--budget", "10"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("give a time (90s, 10m, 1h) or a number of trials"), qPrintable(r.err));
    r = cli({"search", p});
    QCOMPARE(r.code, 2);
    r = cli({"search", p, "--budget", "5trials", "--pin", "colour=red"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("axis parts, width, combine or sharing"), qPrintable(r.err));
    // A time budget that one trial cannot fit in: many small steps, one second.
    const QString slow = project(dir, "slow.particle.json", 60000, 4);
    r = cli({"search", slow, "--budget", "1s", "--out", dir.filePath("slow")});
    QCOMPARE(r.code, 4);
    QVERIFY2(r.err.contains("was too small for one trial") && r.err.contains("give more time"), qPrintable(r.err));
    QVERIFY(r.ms < 60000);
    // A graph with no Split to vary.
    Json flat = baseProject();
    flat["nodes"] = Json::parse(R"([{"id": "input", "type": "Input"}, {"id": "m", "type": "MLP"},
                                    {"id": "head", "type": "Classifier"}])");
    flat["edges"] = Json::parse(R"([{"from": "input", "to": "m"}, {"from": "m", "to": "head"}])");
    const QString noSplit = QString::fromStdString(writeFile(dir, "flat.particle.json", flat.dump(2)));
    r = cli({"search", noSplit, "--budget", "4trials", "--out", dir.filePath("flat")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("has no Split node, so there is no decomposition to vary"), qPrintable(r.err));
    QVERIFY(!QDir(dir.filePath("flat")).exists());
  }

  void robustnessFigures() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json", 800);
    ProcessRun r = cli({"train", p, "--out", dir.filePath("run")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    r = cli({"robustness", p, "--checkpoint", dir.filePath("run/checkpoint.pt"), "--sigmas", "0,0.5,2"});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    const Json j = readJson(dir.filePath("run/robustness.json"));
    QCOMPARE(j["noise"].size(), std::size_t{3});
    const double clean = j["clean_accuracy"].get<double>();
    QCOMPARE(j["noise"][0]["accuracy"].get<double>(), clean); // σ = 0 is the clean input
    QVERIFY(j["noise"][2]["accuracy"].get<double>() < clean); // σ = 2 data deviations hurts
    QCOMPARE(j["occlusion"].size(), std::size_t{4});          // one per part of the Split
    // The synthetic data's informative parts are 0 and 2: occluding one of them costs more than
    // occluding an uninformative one.
    const auto acc = [&](int i) { return j["occlusion"][static_cast<std::size_t>(i)]["accuracy"].get<double>(); };
    QVERIFY2(std::min(acc(0), acc(2)) < std::max(acc(1), acc(3)), j["occlusion"].dump().c_str());
    QCOMPARE(j["generalisation_gap"].size(), std::size_t{2});                                    // one row per epoch
    QVERIFY(j["parameters"]["unique"].get<int64_t>() < j["parameters"]["total"].get<int64_t>()); // a and b share
    QVERIFY(QFile::exists(dir.filePath("run/robustness.csv")));
    // A monolithic model: no Split of its own; --parts-from gives it the same parts.
    Json flat = baseProject();
    flat["dataset"]["samples"] = 800;
    flat["training"] = {{"threads", 1}, {"epochs", 1}};
    flat["nodes"] = Json::parse(R"([{"id": "input", "type": "Input"}, {"id": "m", "type": "MLP"},
                                    {"id": "head", "type": "Classifier"}])");
    flat["edges"] = Json::parse(R"([{"from": "input", "to": "m"}, {"from": "m", "to": "head"}])");
    const QString mono = QString::fromStdString(writeFile(dir, "mono.particle.json", flat.dump(2)));
    r = cli({"train", mono, "--out", dir.filePath("mono")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    r = cli({"robustness", mono, "--checkpoint", dir.filePath("mono/checkpoint.pt")});
    QVERIFY2(r.code == 0 && r.out.contains("--parts-from"), qPrintable(r.all()));
    r = cli({"robustness", mono, "--checkpoint", dir.filePath("mono/checkpoint.pt"), "--parts-from", p});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QCOMPARE(readJson(dir.filePath("mono/robustness.json"))["occlusion"].size(), std::size_t{4});
    // Bad input.
    r = cli({"robustness", p, "--checkpoint", dir.filePath("mono/checkpoint.pt")});
    QCOMPARE(r.code, 3); // a checkpoint of another graph
    r = cli({"robustness", p, "--checkpoint", dir.filePath("run/checkpoint.pt"), "--sigmas", "0,-1"});
    QCOMPARE(r.code, 2);
  }
};

QTEST_GUILESS_MAIN(TestSearch)
#include "tst_search.moc"
