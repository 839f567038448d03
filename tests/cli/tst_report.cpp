// `particle report` on a folder of each kind: a run it trains (the weather table, and Fashion-MNIST
// and SpamAssassin when present), and search, claims, transfer and learning-curve folders built
// from constructed results with the engine's own writers (search.json by its keys). Each report is
// one self-contained file (no address, no script, every <svg> closed) with its sections, and is
// opened in headless Chromium: the screenshot is not blank and shows the charts' colours.

#include "TestSupport.h"

#include "explain/Chart.h"
#include "recipes/Claims.h"
#include "recipes/LearningCurve.h"
#include "recipes/Transfer.h"
#include "recipes/Verdict.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTest>

#include <set>

using namespace particle;
using namespace particle::test;

namespace {

ProcessRun cli(const QStringList &args) {
  return runProcess(PARTICLE_CLI, args, QProcessEnvironment::systemEnvironment());
}

// Writes the report of `dir` and returns its text, after checking that it is one file that opens
// offline.
QString report(const QString &dir, const QString &out, const QStringList &extra = {}) {
  const ProcessRun r = cli(QStringList{"report", dir, "--out", out} + extra);
  if (r.code != 0)
    qWarning("%s", qPrintable(r.all()));
  if (r.code != 0 || !QFile::exists(out))
    return {};
  return QString::fromStdString(readTextFile(out.toStdString()));
}

void checkSelfContained(const QString &html) {
  QVERIFY(html.startsWith("<!DOCTYPE html>"));
  for (const char *ref : {"http://", "https://", "file:", "<script", "<link", "<img", "url("})
    QVERIFY2(!html.contains(ref, Qt::CaseInsensitive), ref);
  const int open = html.count("<svg"), closed = html.count("</svg>");
  QVERIFY(open > 0);
  QCOMPARE(closed, open);
  QVERIFY(html.trimmed().endsWith("</html>"));
}

void checkSections(const QString &html, const QStringList &ids) {
  for (const auto &id : ids)
    QVERIFY2(html.contains("<section id=\"" + id + "\">"), qPrintable(id));
}

// Opens the report in headless Chromium and looks at the screenshot: it exists, its pixels vary
// (not a blank or error page) and `c`, a colour its charts draw with, appears.
void lookAtIt(const QString &html, const QString &shot, chart::Color c = chart::seriesColor(0)) {
  const QString chromium = QStandardPaths::findExecutable("chromium");
  if (chromium.isEmpty())
    QSKIP("chromium is not installed (scripts/setup.sh installs it)");
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("HOME", QFileInfo(shot).absolutePath()); // its profile goes beside the screenshot
  const ProcessRun r =
      runProcess(chromium,
                 {"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--screenshot=" + shot,
                  "--window-size=1280,4000", "file://" + QFileInfo(html).absoluteFilePath()},
                 env, 120000);
  QVERIFY2(QFile::exists(shot), qPrintable(r.all()));
  const QImage image(shot);
  QVERIFY(!image.isNull());
  QCOMPARE(image.width(), 1280);
  std::set<QRgb> colours;
  int64_t nonWhite = 0, series = 0;
  for (int y = 0; y < image.height(); y += 2)
    for (int x = 0; x < image.width(); ++x) {
      const QRgb p = image.pixel(x, y);
      colours.insert(p);
      nonWhite += qRed(p) < 245 || qGreen(p) < 245 || qBlue(p) < 245;
      series += std::abs(qRed(p) - c.r) < 12 && std::abs(qGreen(p) - c.g) < 12 && std::abs(qBlue(p) - c.b) < 12;
    }
  const int64_t sampled = int64_t(image.width()) * (image.height() / 2);
  QVERIFY2(colours.size() > 64, qPrintable(QString::number(colours.size())));
  QVERIFY2(nonWhite > sampled / 50, qPrintable(QString::number(nonWhite)));
  QVERIFY2(series > 20, qPrintable(QString::number(series)));
  // PARTICLE_REPORT_SHOTS=DIR keeps each report and its screenshot (docs/images/report-*.png).
  if (const QString keep = qEnvironmentVariable("PARTICLE_REPORT_SHOTS"); !keep.isEmpty()) {
    QDir().mkpath(keep);
    const QString stem = keep + "/" + QFileInfo(shot).completeBaseName();
    QFile::remove(stem + ".png");
    QFile::remove(stem + ".html");
    QVERIFY(QFile::copy(shot, stem + ".png") && QFile::copy(html, stem + ".html"));
  }
}

// A search's result as `particle search --seeds 3` writes it: two halving rungs, three finalists.
Json searchJson() {
  Json trials = Json::array(), variants = Json::array();
  const std::vector<std::string> names = {"own", "monolithic-w1", "parts2-w2-concat", "parts4-w1-sum"};
  const std::vector<double> params = {4200, 9100, 2600, 1500}, flops = {8400, 18200, 5200, 3000};
  for (std::size_t v = 0; v < names.size(); ++v) {
    variants.push_back({{"name", names[v]}, {"baseline", v == 1}, {"original", v == 0}, {"started", true}});
    for (int rung = 0; rung < 2; ++rung)
      trials.push_back({{"variant", names[v]},
                        {"phase", "halving"},
                        {"rung", rung},
                        {"epochs", 2 << rung},
                        {"status", "completed"},
                        {"val_accuracy", 0.6 + 0.03 * double(v) + 0.05 * rung},
                        {"test_accuracy", 0.58 + 0.03 * double(v) + 0.05 * rung},
                        {"unique_parameters", int64_t(params[v])},
                        {"total_parameters", int64_t(params[v])},
                        {"flops_per_sample", flops[v]},
                        {"us_per_sample", 3.5},
                        {"seconds", 4.0}});
  }
  // A variant the budget never let start.
  variants.push_back({{"name", "parts8-w1-sum"}, {"baseline", false}, {"original", false}, {"started", false}});
  trials.push_back({{"variant", "parts8-w1-sum"},
                    {"rung", 0},
                    {"epochs", 2},
                    {"status", "out of budget"},
                    {"message", "not started: the budget ran out"}});
  trials.push_back({{"variant", "parts4-w1-sum"},
                    {"rung", 1},
                    {"epochs", 4},
                    {"status", "failed"},
                    {"message", "diverged at epoch 3"}});
  Json finalists = Json::array();
  std::vector<std::vector<double>> val = {{0.71, 0.69, 0.72}, {0.70, 0.70, 0.69}, {0.66, 0.68, 0.65}};
  const std::vector<std::string> finals = {"parts2-w2-concat", "monolithic-w1", "own"};
  for (std::size_t f = 0; f < finals.size(); ++f) {
    const Spread s = spreadOf(val[f]);
    finalists.push_back({{"variant", finals[f]},
                         {"epochs", 8},
                         {"seeds", {0, 1, 2}},
                         {"val_accuracy_mean", s.mean},
                         {"val_accuracy_sd", s.sd},
                         {"val_accuracies", s.values},
                         {"test_accuracy_mean", s.mean - 0.01},
                         {"test_accuracy_sd", s.sd},
                         {"test_accuracies", {val[f][0] - 0.01, val[f][1] - 0.01, val[f][2] - 0.01}},
                         {"unique_parameters", f == 0   ? 2600
                                               : f == 1 ? 9100
                                                        : 4200},
                         {"flops_per_sample", f == 0   ? 5200
                                              : f == 1 ? 18200
                                                       : 8400},
                         {"us_per_sample", 3.1},
                         {"run_dirs", Json::array()}});
  }
  Comparison runnerUp = pairedComparison(finals[0], val[0], finals[1], val[1]);
  Comparison baseline = pairedComparison(finals[0], val[0], finals[1], val[1]);
  holmAdjust({&runnerUp, &baseline});
  return {{"project", "weather-parts"},
          {"settings", {{"seed", 0}, {"budget", "12trials"}, {"first_epochs", 2}, {"seeds", 3}, {"finalists", 1}}},
          {"variants", variants},
          {"trials", trials},
          {"rungs", 2},
          {"pareto", {"parts2-w2-concat", "parts4-w1-sum"}},
          {"winner", finals[0]},
          {"out_of_budget", true},
          {"seeds", 3},
          {"finalists", finalists},
          {"verdict",
           {{"runner_up", comparisonJson(runnerUp)},
            {"baseline", comparisonJson(baseline)},
            {"sentence", "parts2-w2-concat's lead is within noise."}}},
          {"reason", "parts2-w2-concat had the best mean validation accuracy at 8 epochs."},
          {"cost", {{"seconds", 120.0}, {"seed_seconds", 40.0}, {"full_seconds", 300.0}, {"saving", 0.6}}}};
}

ClaimsResult claimsResult(int seeds = 3) {
  ClaimsResult r;
  r.project = "fashion-patches";
  r.baseline = "monolithic-w1";
  r.seeds = seeds;
  r.epochs = 4;
  for (const auto &[name, role, base] :
       {std::tuple{"fashion-patches", "graph", 0.86}, std::tuple{"monolithic-w1", "baseline", 0.88}}) {
    ClaimModel m;
    m.name = name;
    m.role = role;
    m.uniqueParameters = role == std::string("graph") ? 60000 : 240000;
    m.totalParameters = role == std::string("graph") ? 120000 : 240000;
    m.flopsPerSample = 1.2e6;
    for (int seed = 0; seed < seeds; ++seed) {
      ClaimRun run;
      run.seed = seed;
      run.status = "completed";
      run.measured = true;
      run.testAccuracy = run.cleanAccuracy = base + 0.004 * seed;
      run.valAccuracy = base + 0.003 * seed;
      run.trainAccuracy = base + (role == std::string("graph") ? 0.04 : 0.06) + 0.003 * seed;
      run.gap = run.trainAccuracy - run.valAccuracy;
      for (double sigma : {0.0, 0.1, 0.25, 0.5, 1.0})
        run.noise.push_back({sigma, run.testAccuracy - sigma * (role == std::string("graph") ? 0.3 : 0.4)});
      run.occlusion = {{"p0", run.testAccuracy - 0.2}, {"p1", run.testAccuracy - 0.1}};
      m.runs.push_back(run);
    }
    r.models.push_back(m);
  }
  const auto figures = r.pairedFigures();
  r.claims = evaluateClaims(figures.first, figures.second);
  return r;
}

TransferResult transferResult() {
  TransferResult r;
  r.source = "transfer-fashion-a";
  r.target = "transfer-fashion-b";
  r.sourceTestAccuracy = 0.91;
  r.nodes = {"p0"};
  r.modes = transferModes();
  r.sizes = {50, 200, 1000};
  r.seeds = 3;
  r.epochs = 4;
  r.settings = Json::object();
  for (std::size_t m = 0; m < r.modes.size(); ++m) {
    r.trainedParameters[r.modes[m]] = int64_t(1000 * (m + 1));
    for (auto size : r.sizes)
      for (int seed = 0; seed < 3; ++seed) {
        TransferTrial t;
        t.mode = r.modes[m];
        t.size = size;
        t.seed = seed;
        t.status = "completed";
        t.testAccuracy = 0.5 + 0.1 * std::log10(double(size)) - 0.03 * double(m) + 0.01 * seed;
        t.valAccuracy = t.testAccuracy;
        r.trials.push_back(t);
      }
  }
  return r;
}

CurveResult curveResult(int seeds = 3) {
  CurveResult r;
  r.project = "weather-parts";
  r.sizes = {100, 300, 1000};
  r.seeds = seeds;
  r.epochs = 10;
  r.settings = Json::object();
  for (const auto &[name, role, lift] :
       {std::tuple{"weather-parts", "graph", 0.02}, std::tuple{"monolithic-w1", "baseline", 0.0}}) {
    CurveModel m;
    m.name = name;
    m.role = role;
    for (auto size : r.sizes) {
      CurvePoint p;
      p.size = size;
      for (int seed = 0; seed < seeds; ++seed) {
        CurveRun run;
        run.seed = seed;
        run.status = "completed";
        run.testAccuracy = 0.55 + 0.08 * std::log10(double(size)) + lift + 0.01 * seed;
        run.valAccuracy = run.testAccuracy;
        run.trainAccuracy = run.testAccuracy + 0.3 / std::log10(double(size)) + (lift > 0 ? 0.02 : -0.01) * seed;
        p.runs.push_back(run);
      }
      m.points.push_back(p);
    }
    r.models.push_back(m);
  }
  r.summarise();
  return r;
}

} // namespace

class TestReport : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // A run of the weather table: the graph, the data with its class names, the curves, the
  // confusion matrix and per-class metrics, the branches' shares and where they looked, the card.
  void runReport() {
    QTemporaryDir dir;
    // The project's description is the model card's intended use.
    Json doc = Json::parse(readTextFile(examplePath("weather-parts")));
    doc["dataset"]["path"] = sourceDir() + "/data/seattle-weather.csv";
    doc["ui"] = {{"description", "Tomorrow's weather <from> today's readings, for a demonstration."}};
    const QString project = QString::fromStdString(writeFile(dir, "weather.particle.json", doc.dump()));
    const QString run = dir.filePath("run");
    const ProcessRun trained = cli({"train", project, "--out", run, "--epochs", "3", "--threads", "1"});
    QVERIFY2(trained.code == 0, qPrintable(trained.all()));
    const QString out = dir.filePath("report.html");
    const QString html = report(run, out, {"--samples", "16"});
    QVERIFY(!html.isEmpty());
    checkSelfContained(html);
    checkSections(html, {"summary", "graph", "data", "training", "test", "submodels", "card"});
    // The confusion matrix names the classes (an SVG's text), as the per-class table does.
    for (const char *cls : {"drizzle", "fog", "rain", "snow", "sun"})
      QVERIFY2(html.contains(QString(">%1</text>").arg(cls)), cls);
    QVERIFY(html.contains("confusion matrix"));
    QVERIFY(html.contains("macro average"));
    QVERIFY(html.contains("precipitation")); // where each branch looked, per feature
    // The model card: intended use not stated, the seed, versions, the machine.
    for (const char *card : {"Intended use", "Tomorrow's weather &lt;from&gt; today's readings", "Limitations",
                             "How it was trained", "LibTorch", "One training run with one seed"})
      QVERIFY2(html.contains(card), card);
    QVERIFY(!html.contains("not stated"));
    // The sample counts the explanations say are those explained: --samples 16 for the shares, the
    // first 8 of them (the report's default) for the integrated gradients — in the figure and in
    // the card's limitations alike.
    for (const char *said : {"on the first 16 test samples", "averaged (absolute) over 8 test samples",
                             "Branch shares explain the first 16 test samples",
                             "(integrated gradients) is drawn over the first 8 of them"})
      QVERIFY2(html.contains(said), said);
    lookAtIt(out, dir.filePath("run.png"));
  }

  // Fashion-MNIST patches: per-branch heat maps over the image's pixels.
  void imageRunReport() {
    QTemporaryDir dir;
    Json doc = Json::parse(readTextFile(examplePath("fashion-patches")));
    doc["dataset"]["limit"] = 600;
    const QString project = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump()));
    const QString run = dir.filePath("run");
    const ProcessRun trained = cli({"train", project, "--out", run, "--epochs", "1", "--threads", "1"});
    if (trained.code == 3)
      QSKIP("Fashion-MNIST is not installed");
    QVERIFY2(trained.code == 0, qPrintable(trained.all()));
    const QString out = dir.filePath("report.html");
    const QString html = report(run, out, {"--samples", "16"});
    QVERIFY(!html.isEmpty());
    checkSelfContained(html);
    QVERIFY(html.contains(">Ankle boot</text>"));
    QVERIFY(html.contains("pixel column"));
    QVERIFY(html.contains("where in the input each sub-model looked"));
    QVERIFY(html.contains("<h3>Intended use</h3>\n<p>not stated</p>")); // the example states none
    lookAtIt(out, dir.filePath("image.png"));
  }

  // Text: which words of which part drove each decision.
  void textRunReport() {
    QTemporaryDir dir;
    Json doc = Json::parse(readTextFile(examplePath("text-halves")));
    doc["dataset"]["path"] = sourceDir() + "/data/spam-assassin";
    doc["dataset"]["limit"] = 400;
    doc["dataset"]["max_tokens"] = 128;
    if (!QFileInfo::exists(QString::fromStdString(sourceDir() + "/data/spam-assassin")))
      QSKIP("SpamAssassin is not fetched (scripts/fetch-data.sh)");
    const QString project = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump()));
    const QString run = dir.filePath("run");
    const ProcessRun trained = cli({"train", project, "--out", run, "--epochs", "1", "--threads", "1"});
    QVERIFY2(trained.code == 0, qPrintable(trained.all()));
    const QString out = dir.filePath("report.html");
    const QString html = report(run, out, {"--samples", "6"});
    QVERIFY(!html.isEmpty());
    checkSelfContained(html);
    QVERIFY(html.contains("test sample 0 · label"));
    QVERIFY(html.contains("spam") && html.contains("ham"));
  }

  void searchReport() {
    QTemporaryDir dir;
    writeFile(dir, "search.json", searchJson().dump(2));
    const QString out = dir.filePath("report.html");
    const QString html = report(dir.path(), out);
    QVERIFY(!html.isEmpty());
    checkSelfContained(html);
    checkSections(html, {"settings", "finalists", "pareto", "trials", "cost"});
    for (const char *text : {"parts2-w2-concat", "the best mean validation accuracy at 8 epochs", "within noise",
                             "Point size: FLOPs per sample", "trials at 4 epochs", "diverged at epoch 3", "60.0%"})
      QVERIFY2(html.contains(text), text);
    QVERIFY(html.contains("70.7% ± 1.5")); // the winner's mean ± sd over its three seeds

    // The Pareto set is taken among the finalists, at equal epochs: none of its members is
    // dominated by another finalist, and a variant that only reached 4 epochs in the halving (in
    // search.json's own set) is not among them.
    const QRegularExpression setLine("<p id=\"pareto-set\">Pareto set (among the finalists[^:]*): ([^<]*)\\. None");
    const auto match = setLine.match(html);
    QVERIFY2(match.hasMatch(), "no Pareto set line");
    QVERIFY2(match.captured(1).contains("all at 8 epochs"), qPrintable(match.captured(1)));
    const QStringList members = match.captured(2).split(", ");
    QVERIFY(!members.isEmpty());
    const Json finalists = searchJson()["finalists"];
    for (const QString &name : members) {
      const Json *member = nullptr;
      for (const Json &f : finalists)
        if (f["variant"].get<std::string>() == name.toStdString())
          member = &f;
      QVERIFY2(member, qPrintable(name + " is no finalist"));
      for (const Json &other : finalists) {
        const double acc = other["val_accuracy_mean"], memberAcc = (*member)["val_accuracy_mean"];
        const int64_t params = other["unique_parameters"], memberParams = (*member)["unique_parameters"];
        QVERIFY2(!(acc >= memberAcc && params <= memberParams && (acc > memberAcc || params < memberParams)),
                 qPrintable(name + " is dominated by " + QString::fromStdString(other["variant"])));
      }
    }
    QCOMPARE(members, QStringList{"parts2-w2-concat"});
    // Settings: the finalists setting says who is trained besides the best few, the budget is one row.
    QVERIFY(html.contains("<th>finalists</th><td>1 best + own + the monolithic baseline (3 trained)</td>"));
    QCOMPARE(html.count("<th>budget</th>"), 1);
    QVERIFY(html.contains("<th>budget</th><td>12trials (ran out before every rung finished)</td>"));
    QCOMPARE(html.count("<th>seeds"), 1);
    // A variant that never started has no figures: dashes, not zeros.
    const int row = html.indexOf("<td>parts8-w1-sum</td>");
    QVERIFY(row > 0);
    const QString cells = html.mid(row, html.indexOf("</tr>", row) - row);
    // validation, test, unique parameters, FLOPs, µs and seconds
    QVERIFY2(cells.endsWith(QString("<td>—</td>").repeated(6)) && !cells.contains("unknown"), qPrintable(cells));
    lookAtIt(out, dir.filePath("search.png"));
  }

  void claimsReport() {
    QTemporaryDir dir;
    writeFile(dir, "claims.json", claimsJson(claimsResult()).dump(2));
    const QString out = dir.filePath("report.html");
    const QString html = report(dir.path(), out);
    QVERIFY(!html.isEmpty());
    checkSelfContained(html);
    checkSections(html, {"settings", "claims", "models"});
    const ClaimsResult r = claimsResult();
    QVERIFY(!r.claims.empty());
    for (const auto &c : r.claims) {
      QVERIFY2(html.contains(QString::fromStdString(c.claim).toHtmlEscaped()), c.claim.c_str());
      QVERIFY(html.contains(QString::fromStdString(">" + c.verdict + "</span>")));
    }
    QVERIFY(html.contains("95% interval") && html.contains("on this data"));
    lookAtIt(out, dir.filePath("claims.png"), chart::Color{0xd0, 0x7a, 0x1f});
  }

  // One seed: every measured claim says it cannot tell, none "within noise", and each difference
  // says which side it favours (the graph 2 points less accurate, losing less to noise).
  void oneSeedClaimsReport() {
    QTemporaryDir dir;
    writeFile(dir, "claims.json", claimsJson(claimsResult(1)).dump(2));
    const QString html = report(dir.path(), dir.filePath("report.html"));
    const int claims = html.indexOf("<section id=\"claims\">");
    QVERIFY(claims > 0);
    const QString section = html.mid(claims, html.indexOf("</section>", claims) - claims);
    QCOMPARE(section.count(">cannot tell with one seed</span>"), 4);
    QVERIFY2(!section.contains(">within noise</span>"), qPrintable(section));
    QVERIFY2(section.contains("−2.0 pp, graph worse"), qPrintable(section));
    QVERIFY2(section.contains("pp, graph better"), qPrintable(section));
    QVERIFY2(section.contains("from one seed: graph worse on it"), qPrintable(section));
  }

  void transferReport() {
    QTemporaryDir dir;
    writeFile(dir, "transfer.json", transferJson(transferResult()).dump(2));
    const QString out = dir.filePath("report.html");
    const QString html = report(dir.path(), out);
    QVERIFY(!html.isEmpty());
    checkSelfContained(html);
    checkSections(html, {"settings", "table", "trials"});
    for (const auto &mode : transferModes())
      QVERIFY(html.contains(QString::fromStdString("<td>" + mode + "</td>")));
    QVERIFY(html.contains("N = 1,000"));
    lookAtIt(out, dir.filePath("transfer.png"));
  }

  void curveReport() {
    QTemporaryDir dir;
    writeFile(dir, "curve.json", curveJson(curveResult()).dump(2));
    const QString out = dir.filePath("report.html");
    const QString html = report(dir.path(), out);
    QVERIFY(!html.isEmpty());
    checkSelfContained(html);
    checkSections(html, {"settings", "curves", "verdicts"});
    QCOMPARE(html.count("<tr><td>1,000</td>"), 1); // one verdict per size
    QVERIFY(html.contains("monolithic-w1"));
    // This graph is drawn orange and the baseline red, as in the app's claims lab.
    QVERIFY(html.contains("#d07a1f") && html.contains("#d62728"));
    lookAtIt(out, dir.filePath("curve.png"), chart::Color{0xd0, 0x7a, 0x1f});
  }

  // With one seed a difference cannot be told from noise: no interval and no p, the verdict says so.
  void oneSeedCurveReport() {
    QTemporaryDir dir;
    writeFile(dir, "curve.json", curveJson(curveResult(1)).dump(2));
    const QString out = dir.filePath("report.html");
    const QString html = report(dir.path(), out);
    QVERIFY(!html.isEmpty());
    const int verdicts = html.indexOf("<section id=\"verdicts\">");
    QVERIFY(verdicts > 0);
    const QString section = html.mid(verdicts, html.indexOf("</section>", verdicts) - verdicts);
    QCOMPARE(section.count("too few seeds</span>"), 3);
    QVERIFY2(!section.contains(" pp, ") && !section.contains("[") && !section.contains("<td>1.000</td>"),
             qPrintable(section));
    QCOMPARE(section.count("<td>—</td><td>—</td>"), 3); // interval and p, per size
    QVERIFY(html.contains("one seed (no spread)") && !html.contains("mean ± sd over 1 seed"));
  }

  // A folder of none of these kinds: the message names it, and nothing is written.
  void notAReportFolder() {
    QTemporaryDir dir;
    const QString out = dir.filePath("report.html");
    const ProcessRun r = cli({"report", dir.path(), "--out", out});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains(dir.path()) && r.err.contains("summary.json") && r.err.contains("claims.json"),
             qPrintable(r.all()));
    QVERIFY(!QFile::exists(out));
    const ProcessRun none = cli({"report"});
    QCOMPARE(none.code, 2);
  }
};

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
