// Decomposition search and the robustness figures, through the command line: a search under a
// budget of trials writes every variant, trial and the Pareto set; the finalists train with
// several seeds at equal epochs, the winner is the best mean among them with a verdict and a
// reason; the same seed picks the same variants; a search continues where it stopped (seed trials
// too); a failed trial is recorded and skipped; bad budgets and graphs without a Split end in a
// clear message. `particle robustness` writes the noise and occlusion curves and the
// generalisation gap.

#include "TestSupport.h"

#include "recipes/Search.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTest>
#include <QThread>

#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

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

// The environment that has a search run every trial through `dir`/wrapper.sh: a shell script that
// first does what `cases` says for the trial's project file ($2, named after the variant), as the
// body of a `case "$2" in … esac`, then runs the CLI with the trial's arguments.
QProcessEnvironment trialsThroughWrapper(const QTemporaryDir &dir, const QString &cases) {
  const QString wrapper = QString::fromStdString(writeFile(
      dir, "wrapper.sh",
      QString("#!/bin/sh\ncase \"$2\" in %1\nesac\nexec '%2' \"$@\"\n").arg(cases, PARTICLE_CLI).toStdString()));
  QFile::setPermissions(wrapper, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("PARTICLE_TRIAL_PROGRAM", wrapper);
  return env;
}

// (variant, phase, rung, seed, status) of every trial, in order.
QStringList trialList(const Json &search) {
  QStringList out;
  for (const auto &t : search["trials"])
    out << QString::fromStdString(t["variant"].get<std::string>() + "@" + t["phase"].get<std::string>() +
                                  std::to_string(t["rung"].get<int>()) + "/" + std::to_string(t["seed"].get<int>()) +
                                  ":" + t["status"].get<std::string>());
  return out;
}

// The trials of one phase ("halving" or "seeds").
std::vector<Json> phase(const Json &search, const std::string &name) {
  std::vector<Json> out;
  for (const auto &t : search["trials"])
    if (t["phase"] == name)
      out.push_back(t);
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
    QCOMPARE(phase(s, "halving").size(), std::size_t{7});      // 4 + 2 + 1
    QCOMPARE(phase(s, "seeds").size(), s["finalists"].size()); // one seed each by default
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
    for (const auto &t : phase(s, "halving"))
      if (t["rung"] == 0)
        rung0.emplace_back(-t["val_accuracy"].get<double>(), t["variant"]);
    std::sort(rung0.begin(), rung0.end());
    std::vector<std::string> rung1;
    for (const auto &t : phase(s, "halving"))
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
    // One seed: the verdict says it cannot tell.
    QVERIFY2(s["verdict"]["sentence"].get<std::string>().rfind("One seed cannot tell", 0) == 0,
             s["verdict"].dump().c_str());
    QVERIFY2(r.out.contains("Verdict: One seed cannot tell"), qPrintable(r.out));

    // Continued in the same folder: every trial is taken from the earlier search, none run again.
    const ProcessRun again = cli({"search", p, "--budget", "7trials", "--out", dir.filePath("s")});
    QVERIFY2(again.code == 0, qPrintable(again.all()));
    QCOMPARE(again.out.count("(from the earlier search)"), static_cast<int>(s["trials"].size()));
    QCOMPARE(trialList(readJson(dir.filePath("s/search.json"))), trialList(s));
    // Other settings in the same folder are refused; --force starts over.
    const ProcessRun other = cli({"search", p, "--budget", "7trials", "--seed", "5", "--out", dir.filePath("s")});
    QCOMPARE(other.code, 2);
    QVERIFY2(other.err.contains("holds a search with other settings (seed differs)"), qPrintable(other.err));
  }

  // After the halving the finalists train afresh to the top rung's epochs with S seeds each; the
  // winner is the best mean validation accuracy among them; the verdict, the reason and the cost
  // are written, read back and printed; a continued search reuses each finished seed trial.
  void finalistsTrainSeedsAtEqualEpochs() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    const QStringList args = {"search", p, "--budget", "7trials", "--seeds", "2", "--out", dir.filePath("s")};
    const ProcessRun r = cli(args);
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    const Json s = readJson(dir.filePath("s/search.json"));
    QCOMPARE(s["seeds"].get<int>(), 2);
    QCOMPARE(s["settings"]["seeds"].get<int>(), 2);
    const std::vector<Json> halving = phase(s, "halving"), seeds = phase(s, "seeds");
    QCOMPARE(halving.size(), std::size_t{7});
    int top = 0;
    for (const auto &t : halving)
      top = std::max(top, t["epochs"].get<int>());
    QCOMPARE(top, 4); // rungs of 1, 2 and 4 epochs (the project's 2 epochs ÷ 8, at least 1)

    // The finalists: the best 3 by (epochs reached, validation accuracy), then own and the baseline.
    std::map<std::string, Json> latest;
    for (const auto &t : halving)
      if (t["status"] == "completed" &&
          (!latest.count(t["variant"]) || latest[t["variant"]]["rung"].get<int>() < t["rung"].get<int>()))
        latest[t["variant"]] = t;
    // Ties as halving breaks them: fewer unique parameters, then the name.
    std::vector<std::tuple<int, double, int64_t, std::string>> ranked;
    ranked.reserve(latest.size());
    for (const auto &[name, t] : latest)
      ranked.emplace_back(-t["epochs"].get<int>(), -t["val_accuracy"].get<double>(),
                          t["unique_parameters"].get<int64_t>(), name);
    std::sort(ranked.begin(), ranked.end());
    std::set<std::string> expected = {"own", "monolithic-w1"};
    for (std::size_t i = 0; i < 3; ++i)
      expected.insert(std::get<3>(ranked[i]));
    std::set<std::string> finalists;
    for (const auto &f : s["finalists"])
      finalists.insert(f["variant"].get<std::string>());
    QCOMPARE(finalists, expected);
    QCOMPARE(seeds.size(), 2 * finalists.size());

    double bestMean = -1;
    for (const auto &f : s["finalists"]) {
      const std::string name = f["variant"];
      QCOMPARE(f["epochs"].get<int>(), top); // equal epochs
      const auto val = f["val_accuracies"].get<std::vector<double>>();
      const auto test = f["test_accuracies"].get<std::vector<double>>();
      const auto seedsOf = f["seeds"].get<std::vector<int>>();
      QCOMPARE(val.size(), std::size_t{2});
      QCOMPARE(test.size(), std::size_t{2});
      QCOMPARE(seedsOf, (std::vector<int>{1, 2})); // the project's seed 0 trained the halving
      QCOMPARE(f["run_dirs"].size(), std::size_t{2});
      // Each value is that seed's trial, trained from scratch to the top epochs.
      for (std::size_t i = 0; i < 2; ++i) {
        const auto t = std::find_if(seeds.begin(), seeds.end(),
                                    [&](const Json &x) { return x["variant"] == name && x["seed"] == seedsOf[i]; });
        QVERIFY(t != seeds.end());
        QCOMPARE((*t)["epochs"].get<int>(), top);
        QCOMPARE((*t)["val_accuracy"].get<double>(), val[i]);
        QCOMPARE((*t)["test_accuracy"].get<double>(), test[i]);
        QCOMPARE((*t)["run"].get<std::string>(), f["run_dirs"][i].get<std::string>());
        QVERIFY(QFile::exists(QString::fromStdString((*t)["run"].get<std::string>() + "/summary.json")));
        QVERIFY(readTextFile(dir.filePath(QString::fromStdString("s/logs/" + name + ".seed" +
                                                                 std::to_string(seedsOf[i]) + ".log"))
                                 .toStdString())
                    .find("4/4") != std::string::npos);
      }
      // Mean and sample standard deviation of the values.
      const double mean = (val[0] + val[1]) / 2;
      QVERIFY(std::abs(f["val_accuracy_mean"].get<double>() - mean) < 1e-12);
      QVERIFY(std::abs(f["val_accuracy_sd"].get<double>() - std::abs(val[0] - val[1]) / std::sqrt(2.0)) < 1e-12);
      QVERIFY(std::abs(f["test_accuracy_mean"].get<double>() - (test[0] + test[1]) / 2) < 1e-12);
      QVERIFY(std::abs(f["test_accuracy_sd"].get<double>() - std::abs(test[0] - test[1]) / std::sqrt(2.0)) < 1e-12);
      QVERIFY(f["unique_parameters"].get<int64_t>() > 0);
      QVERIFY(f["flops_per_sample"].get<double>() > 0);
      QVERIFY(f["us_per_sample"].get<double>() > 0);
      bestMean = std::max(bestMean, mean);
    }
    // The winner is the finalist with the best mean, listed first.
    const std::string winner = s["winner"];
    QCOMPARE(s["finalists"][0]["variant"].get<std::string>(), winner);
    QCOMPARE(s["finalists"][0]["val_accuracy_mean"].get<double>(), bestMean);

    // The verdict: the winner against the runner-up and the baseline, paired over the 2 seeds.
    const Json &verdict = s["verdict"];
    QCOMPARE(verdict["runner_up"]["a"].get<std::string>(), winner);
    QCOMPARE(verdict["runner_up"]["b"].get<std::string>(), s["finalists"][1]["variant"].get<std::string>());
    QCOMPARE(verdict["runner_up"]["n"].get<int>(), 2);
    if (winner == "monolithic-w1") {
      QVERIFY(verdict["baseline"].is_null());
    } else {
      QCOMPARE(verdict["baseline"]["a"].get<std::string>(), winner);
      QCOMPARE(verdict["baseline"]["b"].get<std::string>(), std::string("monolithic-w1"));
    }
    for (const char *key : {"runner_up", "baseline"})
      if (!verdict[key].is_null()) {
        const std::string v = verdict[key]["verdict"];
        QVERIFY2(v == "better" || v == "worse" || v == "within noise", v.c_str());
        QVERIFY(verdict[key]["low"].get<double>() <= verdict[key]["high"].get<double>());
        QVERIFY(verdict[key]["p"].get<double>() > 0 && verdict[key]["p"].get<double>() <= 1);
      }
    const std::string sentence = verdict["sentence"];
    QVERIFY2(sentence.rfind("On the test split", 0) == 0 && (sentence.find("within noise") != std::string::npos ||
                                                             sentence.find("significant") != std::string::npos),
             sentence.c_str());
    // The reason: one sentence naming the winner, its epochs and its mean.
    const std::string reason = s["reason"];
    std::ostringstream mean;
    mean << std::fixed << std::setprecision(2) << bestMean * 100 << "%";
    QVERIFY2(reason.rfind(winner + " won because after 4 epochs", 0) == 0 &&
                 reason.find(mean.str()) != std::string::npos && reason.back() == '.' &&
                 reason.find(". ") == std::string::npos,
             reason.c_str());
    // The cost: every trial's seconds against training every started variant 2 seeds to 4 epochs.
    double spent = 0;
    for (const auto &t : s["trials"])
      spent += t["seconds"].get<double>();
    const Json &cost = s["cost"];
    QVERIFY(std::abs(cost["seconds"].get<double>() - spent) < 1e-9);
    QVERIFY(cost["seed_seconds"].get<double>() > 0 && cost["seed_seconds"].get<double>() < spent);
    QVERIFY(cost["full_seconds"].get<double>() > 0);
    QVERIFY(std::abs(cost["saving"].get<double>() - (1 - spent / cost["full_seconds"].get<double>())) < 1e-9);
    // The CLI prints the finalists, the reason, the verdict and the cost.
    QVERIFY2(r.out.contains("Finalists (4 epochs, 2 seed(s) each") &&
                 r.out.contains("Why: " + QString::fromStdString(reason)) &&
                 r.out.contains("Verdict: " + QString::fromStdString(sentence)) && r.out.contains("% saved"),
             qPrintable(r.out));

    // Read back: every new field.
    const SearchFile file = readSearchFile(dir.filePath("s/search.json").toStdString());
    QCOMPARE(file.seeds, 2);
    QCOMPARE(file.finalists.size(), finalists.size());
    QCOMPARE(file.finalists[0].variant, winner);
    QCOMPARE(file.finalists[0].val.values, s["finalists"][0]["val_accuracies"].get<std::vector<double>>());
    QCOMPARE(file.finalists[0].val.n, 2);
    QCOMPARE(file.finalists[0].test.mean, s["finalists"][0]["test_accuracy_mean"].get<double>());
    QCOMPARE(file.finalists[0].epochs, 4);
    QCOMPARE(file.finalists[0].seeds, (std::vector<int>{1, 2}));
    QCOMPARE(file.finalists[0].runDirs.size(), std::size_t{2});
    QVERIFY(file.finalists[0].flopsPerSample > 0);
    QVERIFY(file.verdict.runnerUp && file.verdict.runnerUp->a == winner);
    QCOMPARE(file.verdict.runnerUp->p, verdict["runner_up"]["p"].get<double>());
    QCOMPARE(file.verdict.baseline.has_value(), !verdict["baseline"].is_null());
    QCOMPARE(file.verdict.sentence, sentence);
    QCOMPARE(file.reason, reason);
    QCOMPARE(file.cost.fullSeconds, cost["full_seconds"].get<double>());
    QCOMPARE(file.cost.seedSeconds, cost["seed_seconds"].get<double>());
    const auto seedTrial =
        std::find_if(file.trials.begin(), file.trials.end(), [](const TrialRecord &t) { return t.phase == "seeds"; });
    QVERIFY(seedTrial != file.trials.end() && seedTrial->seed >= 1 && seedTrial->flopsPerSample > 0);
    QVERIFY(file.trials.front().phase == "halving" && file.trials.front().flopsPerSample > 0);

    // Continued after the last seed trial was lost: the others are reused, that one runs again.
    Json cut = s;
    cut["trials"].erase(cut["trials"].size() - 1);
    writeFile(dir, "s/search.json", cut.dump(2));
    const ProcessRun again = cli(args);
    QVERIFY2(again.code == 0, qPrintable(again.all()));
    QCOMPARE(again.out.count("(from the earlier search)"), static_cast<int>(s["trials"].size()) - 1);
    QCOMPARE(trialList(readJson(dir.filePath("s/search.json"))), trialList(s));
    // Other seeds in the same folder are refused.
    QStringList three = args;
    three[5] = "3";
    const ProcessRun other = cli(three);
    QCOMPARE(other.code, 2);
    QVERIFY2(other.err.contains("holds a search with other settings (seeds differs)"), qPrintable(other.err));
  }

  void sameSeedSameVariants() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    const ProcessRun a = cli({"search", p, "--budget", "6trials", "--seed", "11", "--out", dir.filePath("a")});
    const ProcessRun b = cli({"search", p, "--budget", "6trials", "--seed", "11", "--out", dir.filePath("b")});
    const ProcessRun c = cli({"search", p, "--budget", "6trials", "--seed", "12", "--out", dir.filePath("c")});
    for (const ProcessRun *run : {&a, &b, &c}) // the exit code and the end of the output (the message is cut)
      QVERIFY2(run->code == 0, qPrintable(QString::number(run->code) + ": " + run->err + run->out.right(600)));
    const QStringList ta = trialList(readJson(dir.filePath("a/search.json")));
    QCOMPARE(trialList(readJson(dir.filePath("b/search.json"))), ta);
    QVERIFY(trialList(readJson(dir.filePath("c/search.json"))) != ta); // another seed, other variants
  }

  // Time left after a bracket starts another with the next variants; the budget ends the search.
  void timeBudgetRunsMoreBrackets() {
    if (qEnvironmentVariableIsSet("PARTICLE_TEST_BUDGET_ALONE"))
      QSKIP("runs alone, as the CTest tst_search_budget: it counts the brackets a time budget allows");
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    // Room for a second bracket on a busy machine: 15 s were spent on the first bracket and its
    // finalists in Release at load 5 (a trial ~1 s quiet), 21 s under ASan (trials of 5-6 s).
#ifdef __SANITIZE_ADDRESS__
    const int budgetS = 60;
#else
    const int budgetS = 30;
#endif
    const ProcessRun r =
        cli({"search", p, "--budget", QString("%1s").arg(budgetS), "--variants", "2", "--out", dir.filePath("s")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QVERIFY2(r.out.contains("time left: another bracket of 2 variant(s)"), qPrintable(r.out));
    const Json s = readJson(dir.filePath("s/search.json"));
    // The budget, and a trial's end at most, then the seed phase, which the budget does not bound.
    const double seedMs = s["cost"]["seed_seconds"].get<double>() * 1000;
    QVERIFY2(r.ms < budgetS * 1000 + 10000 + seedMs, qPrintable(QString::number(r.ms) + " " + QString::number(seedMs)));
    int started = 0;
    for (const auto &v : s["variants"])
      started += v["started"].get<bool>();
    QVERIFY(started > 2);
    // The finish line counts the trials that ran (cut ones too), apart from the variants the budget
    // left out before their trial started.
    int ran = 0, leftOut = 0;
    for (const auto &t : s["trials"]) {
      const bool notStarted =
          t["status"] == "out of budget" && t["message"].get<std::string>().rfind("not started", 0) == 0;
      ++(notStarted ? leftOut : ran);
    }
    QVERIFY2(r.out.contains(QString("\n%1 trial(s) in ").arg(ran)), qPrintable(r.out));
    QVERIFY2(leftOut == 0 || r.out.contains(QString("; %1 variant(s) left out, never trained)").arg(leftOut)),
             qPrintable(r.out));
  }

  // --jobs 2: trials train side by side, the cores shared among those running (the last of a rung
  // gets them all), and search.json holds what one at a time writes for the same seed: the same
  // trials in the same order with the same figures.
  void parallelTrialsOverlapAndMatchOneAtATime() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    // Trials through a wrapper that writes down when each starts and with what; each ends when its
    // log was last written.
    const QString times = dir.filePath("times.txt");
    const QProcessEnvironment env =
        trialsThroughWrapper(dir, QString("*) echo \"$(date +%s%3N) $*\" >> '%1';;").arg(times));
    const ProcessRun two = cli({"search", p, "--budget", "3trials", "--jobs", "2", "--out", dir.filePath("two")}, env);
    QVERIFY2(two.code == 0, qPrintable(two.all()));
    QVERIFY2(two.out.contains("2 job(s) at once"), qPrintable(two.out));
    std::vector<std::pair<qint64, qint64>> span; // ms
    std::map<QString, int> threads;              // by the trial's arguments
    for (const QString &line :
         QString::fromStdString(readTextFile(times.toStdString())).split('\n', Qt::SkipEmptyParts)) {
      const QStringList f = line.split(' '); // ms train variants/<name>.particle.json --out … --epochs E …
      const int epochs = f[f.indexOf("--epochs") + 1].toInt(), seed = f.indexOf("--seed");
      const QString log = dir.filePath("two/logs/" + QFileInfo(f[2]).fileName().remove(".particle.json") +
                                       (seed > 0 ? ".seed" + f[seed + 1] : ".rung" + QString::number(epochs / 2)) +
                                       ".log"); // rungs of 1 and 2 epochs
      QVERIFY2(QFile::exists(log), qPrintable(log));
      span.emplace_back(f[0].toLongLong(), QFileInfo(log).lastModified().toMSecsSinceEpoch());
      threads[f.mid(1).join(' ')] = f[f.indexOf("--threads") + 1].toInt();
    }
    const Json a = readJson(dir.filePath("two/search.json"));
    QCOMPARE(span.size(), a["trials"].size()); // 2 + 1 halving trials, then the finalists (both)
    const int cores = std::max(1, QThread::idealThreadCount());
    int overlapping = 0;
    for (std::size_t i = 0; i < span.size(); ++i)
      for (std::size_t j = i + 1; j < span.size(); ++j)
        overlapping += span[i].first < span[j].second && span[j].first < span[i].second;
    QVERIFY2(overlapping > 0, "no two trials ran at the same time");
    for (const auto &[key, n] : threads) // rung 1 (resumed): one trial, alone
      QVERIFY2(n == (key.contains("--resume") ? cores : std::max(1, cores / 2)), qPrintable(key));
    // The inference time is the variant's model's: rung 1 keeps its first trial's, not timed again.
    for (const auto &t : a["trials"])
      if (t["rung"] == 1)
        for (const auto &first : a["trials"])
          if (first["variant"] == t["variant"] && first["rung"] == 0 && first["phase"] == "halving")
            QCOMPARE(t["us_per_sample"].get<double>(), first["us_per_sample"].get<double>());

    const ProcessRun one = cli({"search", p, "--budget", "3trials", "--jobs", "1", "--out", dir.filePath("one")});
    QVERIFY2(one.code == 0, qPrintable(one.all()));
    const Json b = readJson(dir.filePath("one/search.json"));
    QCOMPARE(trialList(a), trialList(b));
    for (std::size_t i = 0; i < a["trials"].size(); ++i)
      for (const char *key : {"val_accuracy", "test_accuracy", "unique_parameters"})
        QVERIFY2(a["trials"][i][key] == b["trials"][i][key],
                 (a["trials"][i].dump() + "\n" + b["trials"][i].dump()).c_str());
    QCOMPARE(a["winner"].get<std::string>(), b["winner"].get<std::string>());
  }

  void failedTrialIsRecordedAndSkipped() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    // Trials run through a wrapper; for one variant it fails as a data set that cannot be read would.
    const QProcessEnvironment env =
        trialsThroughWrapper(dir, "*monolithic-w1*) echo \"data.csv: line 7: not a number\" >&2; exit 3;;");
    const ProcessRun r = cli({"search", p, "--budget", "7trials", "--jobs", "2", "--out", dir.filePath("s")}, env);
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
    QCOMPARE(failed, 1);                                  // never promoted, nor a finalist
    QCOMPARE(phase(s, "halving").size(), std::size_t{7}); // 4 (one failed) + the better half of the 3 others (2) + 1
    QVERIFY(r.out.contains("failed: exit 3: data.csv: line 7"));
  }

  // The trials load the data once: the first writes the split data set into <out>/data-cache and
  // every later one maps that file (its log says which). A trial that crashes is still a failed
  // trial of a search that goes on.
  void trialsShareOneDataCache() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    const QProcessEnvironment env = trialsThroughWrapper(dir, "*monolithic-w1*) kill -SEGV $$;;");
    const ProcessRun r = cli({"search", p, "--budget", "7trials", "--jobs", "2", "--out", dir.filePath("s")}, env);
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    const Json s = readJson(dir.filePath("s/search.json"));
    int crashed = 0, completed = 0;
    for (const auto &t : s["trials"]) {
      if (t["variant"] != "monolithic-w1") {
        completed += t["status"] == "completed";
        continue;
      }
      ++crashed;
      QCOMPARE(t["status"].get<std::string>(), std::string("failed"));
      QVERIFY2(t["message"].get<std::string>().find("ended by signal 11") == 0,
               t["message"].get<std::string>().c_str());
    }
    QCOMPARE(crashed, 1);
    QVERIFY(completed >= 6);
    const QStringList caches = QDir(dir.filePath("s/data-cache")).entryList({"*.split"}, QDir::Files);
    QCOMPARE(caches.size(), 1);
    int wrote = 0, read = 0;
    for (const QString &log : QDir(dir.filePath("s/logs")).entryList({"*.log"}, QDir::Files)) {
      const QString text = QString::fromStdString(readTextFile(dir.filePath("s/logs/" + log).toStdString()));
      if (log.startsWith("monolithic-w1."))
        continue; // crashed before it started
      wrote += text.contains("data: loaded; wrote the data cache " + dir.filePath("s/data-cache/" + caches[0]));
      read += text.contains("data: read from the data cache " + dir.filePath("s/data-cache/" + caches[0]));
    }
    QCOMPARE(wrote, 1);
    QCOMPARE(read, completed - 1);
  }

  // A run reads exactly the data it would load; a damaged cache file, or one holding another
  // split, is loaded again and replaced; another data section gets a file of its own.
  void dataCacheIsTheDataOrRebuilt() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json"), cache = dir.filePath("cache");
    const auto train = [&](const QString &project, const QString &out, bool cached) {
      QStringList args = {"train", project, "--out", dir.filePath(out), "--threads", "1"};
      if (cached)
        args << "--data-cache" << cache;
      const ProcessRun r = cli(args);
      return r.code == 0 ? r.out : "exit " + QString::number(r.code) + ": " + r.all();
    };
    const auto accuracies = [&](const QString &out) {
      const Json j = readJson(dir.filePath(out + "/summary.json"));
      return std::make_pair(j["val_accuracy"].get<double>(), j["test_accuracy"].get<double>());
    };
    QVERIFY2(train(p, "plain", false).contains("test accuracy"), "");
    QString out = train(p, "first", true);
    QVERIFY2(out.contains("data: loaded; wrote the data cache " + cache + "/"), qPrintable(out));
    out = train(p, "second", true);
    QVERIFY2(out.contains("data: read from the data cache " + cache + "/"), qPrintable(out));
    QCOMPARE(accuracies("first"), accuracies("plain")); // the same samples in the same splits
    QCOMPARE(accuracies("second"), accuracies("plain"));
    const QStringList files = QDir(cache).entryList({"*.split"}, QDir::Files);
    QCOMPARE(files.size(), 1);
    const QString file = cache + "/" + files[0];

    // Damaged: cut short.
    QVERIFY(QFile::resize(file, QFileInfo(file).size() / 2));
    out = train(p, "cut", true);
    QVERIFY2(out.contains("data: loaded; wrote the data cache " + file + " in place of one that is damaged"),
             qPrintable(out));
    QCOMPARE(accuracies("cut"), accuracies("plain"));
    QVERIFY2(train(p, "again", true).contains("data: read from the data cache " + file), "");

    // Another split seed: another key, so another file; put in the first one's place, it is refused.
    Json other = Json::parse(readTextFile(p.toStdString()));
    other["dataset"]["seed"] = 7;
    const QString q = QString::fromStdString(writeFile(dir, "q.particle.json", other.dump(2)));
    QVERIFY2(train(q, "other", true).contains("data: loaded; wrote the data cache"), "");
    const QStringList two = QDir(cache).entryList({"*.split"}, QDir::Files);
    QCOMPARE(two.size(), 2);
    const QString otherFile = cache + "/" + (two[0] == files[0] ? two[1] : two[0]);
    QVERIFY(QFile::remove(file));
    QVERIFY(QFile::copy(otherFile, file));
    out = train(p, "stale", true);
    QVERIFY2(out.contains("in place of one that holds another data set or split"), qPrintable(out));
    QCOMPARE(accuracies("stale"), accuracies("plain"));
  }

  // A trial that cannot be started (the user's: bin/particle being relinked; here its log is a
  // folder, so the start fails for that one trial alone) is failed with why, and the search goes
  // on; only when no trial of the first rung can be started is the search an error.
  void trialThatCannotStartIsRecordedAndSkipped() {
    QTemporaryDir dir;
    const QString p = project(dir, "p.particle.json");
    const QString out = dir.filePath("s"), blocked = dir.filePath("blocked.txt");
    // The first trial (the project's own graph: it starts first) blocks the first-rung log of the
    // baseline, which always starts in the first rung, before it starts.
    QProcessEnvironment env = trialsThroughWrapper(
        dir, QString("*monolithic-w1*) ;; *)\n"
                     "  [ -e '%2' ] || { mkdir '%1'/logs/monolithic-w1.rung0.log && echo monolithic-w1 > '%2'; };;")
                 .arg(out, blocked));
    ProcessRun r = cli({"search", p, "--budget", "7trials", "--out", out}, env);
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    QFile b(blocked);
    QVERIFY2(b.open(QIODevice::ReadOnly), qPrintable(trialList(readJson(out + "/search.json")).join(", ")));
    const std::string variant = b.readAll().trimmed().toStdString();
    const Json s = readJson(out + "/search.json");
    int failed = 0, completed = 0;
    for (const auto &t : phase(s, "halving")) {
      if (t["variant"] != variant) {
        completed += t["status"] == "completed";
        continue;
      }
      ++failed;
      QCOMPARE(t["rung"].get<int>(), 0);
      QCOMPARE(t["status"].get<std::string>(), std::string("failed"));
      const std::string message = t["message"].get<std::string>();
      QVERIFY2(message == "could not start " + dir.filePath("wrapper.sh").toStdString() + ": Is a directory",
               message.c_str());
    }
    QCOMPARE(failed, 1); // never promoted, nor a finalist
    QVERIFY(completed >= 3);
    QVERIFY(!s["winner"].get<std::string>().empty());
    QVERIFY2(r.out.contains("could not start"), qPrintable(r.out));

    // A program that cannot be executed: no trial of the first rung starts.
    const QString notExecutable = dir.filePath("particle");
    QFile n(notExecutable);
    QVERIFY(n.open(QIODevice::WriteOnly));
    n.write("#!/bin/sh\nexit 0\n");
    n.close();
    QFile::setPermissions(notExecutable, QFile::ReadOwner | QFile::WriteOwner);
    env.insert("PARTICLE_TRIAL_PROGRAM", notExecutable);
    r = cli({"search", p, "--budget", "7trials", "--out", dir.filePath("s2")}, env);
    QVERIFY2(r.code != 0, qPrintable(r.all()));
    QVERIFY2(r.err.contains("no trial of the first rung completed") &&
                 r.err.contains("could not start " + notExecutable + ": Permission denied"),
             qPrintable(r.err));
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
