// Hardening of the command line against hostile names, kills and races (issue 21): folders named
// after a project stay inside their root; --force empties only folders particle wrote; a run,
// search or export claims its folder for its whole life; resuming a finished run keeps its
// results; a search killed at any moment and run again reaches the same winner; checkpoint
// headers and search.json are type-checked and checksummed; temporary files of killed saves are
// removed by the next run in the folder.

#include "TestSupport.h"
#include "recipes/RunPlan.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QTest>
#include <QThread>

#include <csignal>
#include <functional>
#include <vector>
#include <zlib.h>

using namespace particle;
using namespace particle::test;

namespace {

ProcessRun cli(const QStringList &args, const QString &cwd = {}) {
  return runProcess(PARTICLE_CLI, args, QProcessEnvironment::systemEnvironment(), 600000, cwd);
}

QString project(const QString &dir, const std::string &name, int epochs = 1, int samples = 400) {
  Json doc = baseProject();
  doc["name"] = name;
  doc["dataset"]["samples"] = samples;
  doc["training"] = {{"batch_size", 32}, {"threads", 1}, {"epochs", epochs}};
  const QString path = dir + "/p.particle.json";
  writeFileAtomically(path.toStdString(), doc.dump(2));
  return path;
}

// Every file and folder below `root`, relative to it.
QStringList tree(const QString &root) {
  QStringList out;
  QDirIterator it(root, QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System,
                  QDirIterator::Subdirectories);
  while (it.hasNext())
    out << QDir(root).relativeFilePath(it.next());
  out.sort();
  return out;
}

Json readJson(const QString &path) {
  return Json::parse(readTextFile(path.toStdString()));
}

// A checkpoint's parts: the header (JSON) and the payload after it.
struct CheckpointParts {
  Json header;
  QByteArray payload;
};
CheckpointParts splitCheckpoint(const QString &path) {
  QFile f(path);
  f.open(QIODevice::ReadOnly);
  const QByteArray bytes = f.readAll();
  const int first = bytes.indexOf('\n');
  const int second = bytes.indexOf('\n', first + 1);
  return {Json::parse(bytes.mid(first + 1, second - first - 1).toStdString()), bytes.mid(second + 1)};
}
uint32_t crc(const QByteArray &bytes) {
  return static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(bytes.data()), static_cast<uInt>(bytes.size())));
}
// Writes a format-2 checkpoint with a correct checksum (what an attacker can always do).
void writeCheckpoint(const QString &path, const Json &header, const QByteArray &payload) {
  const QByteArray rest = QByteArray::fromStdString(header.dump()) + "\n" + payload;
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write("PARTICLE-CHECKPOINT 2 " + QByteArray::number(crc(rest), 16).rightJustified(8, '0') + "\n" + rest);
}

// (variant@rung: val accuracy) of every trial, sorted.
QStringList trialResults(const Json &search) {
  QStringList out;
  for (const auto &t : search["trials"])
    out << QString::fromStdString(t["variant"].get<std::string>() + "@" + std::to_string(t["rung"].get<int>()) + " " +
                                  t["status"].get<std::string>() + " ") +
               QString::number(t["val_accuracy"].get<double>(), 'f', 6);
  out.sort();
  return out;
}

pid_t deadPid() {
  QProcess p;
  p.start("true", {});
  p.waitForStarted();
  const auto pid = static_cast<pid_t>(p.processId());
  p.waitForFinished();
  return pid;
}

} // namespace

class TestHardening : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void safeNamesStayInTheirFolder() {
    const std::string longName(5000, 'n');
    for (const std::string &bad : {std::string("../../x"), std::string("x/../../y"), std::string("/abs/x"),
                                   std::string(".."), std::string("-rf"), std::string("a\nb"), longName}) {
      const std::string safe = safeRunName(bad);
      QVERIFY2(!safe.empty() && safe.find('/') == std::string::npos && safe.find('\n') == std::string::npos,
               safe.c_str());
      QVERIFY2(safe.front() != '.' && safe.front() != '-', safe.c_str());
      QVERIFY(safe.size() <= 80);
    }
  }

  // train, export and search with the project's name as the default folder: whatever the name, what
  // they write stays in ./runs or ./search-<safe name> of the working folder.
  void hostileProjectNamesWriteNothingOutside() {
    const std::string longName(5000, 'n');
#ifdef __SANITIZE_ADDRESS__
    // Under the sanitizers (each CLI start ~3 s) a name that climbs, one with a newline and the long
    // one; the release build runs all seven.
    const std::vector<std::string> names = {"../../x", "a\nb", longName};
#else
    const std::vector<std::string> names = {"../../x", "x/../../y", "/abs/x", "..", "-rf", "a\nb", longName};
#endif
    for (const std::string &bad : names) {
      QTemporaryDir root;
      const QString work = root.filePath("a/b/work");
      QVERIFY(QDir().mkpath(work));
      const QString p = project(root.filePath("a/b"), bad);
      const QStringList before = tree(root.path());
      const ProcessRun train = cli({"train", p}, work);
      QVERIFY2(train.code == 0, qPrintable(QString::fromStdString(bad) + "\n" + train.all()));
      const ProcessRun exported = cli({"export", p}, work);
      QVERIFY2(exported.code == 0, qPrintable(exported.all()));
      const ProcessRun search = cli({"search", p, "--budget", "2trials"}, work);
      QVERIFY2(search.code == 0, qPrintable(search.all()));
      // Outside `work` nothing changed; inside it, only runs/ and the search folder.
      QStringList after = tree(root.path());
      QStringList outside;
      for (const QString &f : after)
        if (!f.startsWith("a/b/work/"))
          outside << f;
      QCOMPARE(outside, before);
      const QStringList top = QDir(work).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
      const QString searchFolder = QString::fromStdString("search-" + safeRunName(bad));
      QCOMPARE(top, (QStringList{"runs", searchFolder}));
      QVERIFY(QFile::exists(work + "/" + searchFolder + "/search.json"));
      for (const QString &run : QDir(work + "/runs").entryList(QDir::Dirs | QDir::NoDotAndDotDot))
        QVERIFY2(run.startsWith(QString::fromStdString(safeRunName(bad))), qPrintable(run));
    }
  }

  // --force empties only a folder that holds particle's marker; a user's folder is left alone.
  void forceEmptiesOnlyParticleFolders() {
    QTemporaryDir dir;
    const QString p = project(dir.path(), "t");
    const QString mine = dir.filePath("mine");
    QVERIFY(QDir().mkpath(mine));
    writeFileAtomically((mine + "/thesis.tex").toStdString(), "keep me");
    for (const QStringList &args :
         {QStringList{"train", p, "--out", mine, "--force"}, QStringList{"export", p, "--out", mine, "--force"},
          QStringList{"search", p, "--budget", "2trials", "--out", mine, "--force"}}) {
      const ProcessRun r = cli(args);
      QCOMPARE(r.code, 2);
      QVERIFY2(r.err.contains("--force empties only a folder particle wrote"), qPrintable(r.err));
      QCOMPARE(tree(mine), QStringList{"thesis.tex"});
    }
    // Without --force a search refuses a folder with other files too.
    const ProcessRun search = cli({"search", p, "--budget", "2trials", "--out", mine});
    QCOMPARE(search.code, 2);
    QCOMPARE(tree(mine), QStringList{"thesis.tex"});
    // A folder particle wrote is emptied and reused.
    const ProcessRun first = cli({"train", p, "--out", dir.filePath("run")});
    QVERIFY2(first.code == 0, qPrintable(first.all()));
    QVERIFY(QFile::exists(dir.filePath("run/.particle")));
    const ProcessRun again = cli({"train", p, "--out", dir.filePath("run"), "--force"});
    QVERIFY2(again.code == 0, qPrintable(again.all()));
  }

  // Resuming a run that holds every epoch trains nothing and keeps its results.
  void resumingAFinishedRunKeepsItsSummary() {
    QTemporaryDir dir;
    const QString p = project(dir.path(), "t", 2);
    const QString out = dir.filePath("run");
    const ProcessRun first = cli({"train", p, "--out", out});
    QVERIFY2(first.code == 0, qPrintable(first.all()));
    const Json before = readJson(out + "/summary.json");
    const QByteArray metrics = [&] {
      QFile f(out + "/metrics.csv");
      f.open(QIODevice::ReadOnly);
      return f.readAll();
    }();
    QVERIFY(before["val_accuracy"].get<double>() > 0);
    const ProcessRun resumed = cli({"train", p, "--out", out, "--resume", out + "/checkpoint.pt"});
    QVERIFY2(resumed.code == 0, qPrintable(resumed.all()));
    QVERIFY2(resumed.out.contains("nothing to resume"), qPrintable(resumed.out));
    const Json after = readJson(out + "/summary.json");
    for (const char *k : {"val_accuracy", "val_loss", "test_accuracy", "test_loss", "epochs", "steps", "status"})
      QVERIFY2(after[k] == before[k], k);
    QVERIFY(after["samples_per_second"].get<double>() > 0);
    QVERIFY(std::abs(after["samples_per_second"].get<double>() - before["samples_per_second"].get<double>()) <
            0.02 * before["samples_per_second"].get<double>());
    QFile f(out + "/metrics.csv");
    f.open(QIODevice::ReadOnly);
    QCOMPARE(f.readAll(), metrics);
    // Given more epochs, it trains on.
    const ProcessRun longer = cli({"train", p, "--out", out, "--resume", out + "/checkpoint.pt", "--epochs", "3"});
    QVERIFY2(longer.code == 0, qPrintable(longer.all()));
    QCOMPARE(readJson(out + "/summary.json")["epochs"].get<int>(), 3);
  }

  // A run that stopped early is finished too (at the epochs it was set to). A rate of 1e-30 leaves
  // the float32 weights as they are (lr 0 is refused), so the validation loss cannot improve.
  void resumingAnEarlyStoppedRunKeepsItsSummary() {
    QTemporaryDir dir;
    Json doc = baseProject();
    doc["training"] = {
        {"batch_size", 32}, {"threads", 1}, {"epochs", 6}, {"lr", 1e-30}, {"early_stopping_patience", 1}};
    const QString p = dir.filePath("p.particle.json");
    writeFileAtomically(p.toStdString(), doc.dump(2));
    const QString out = dir.filePath("run");
    const ProcessRun first = cli({"train", p, "--out", out});
    QVERIFY2(first.code == 0, qPrintable(first.all()));
    const Json before = readJson(out + "/summary.json");
    QCOMPARE(before["status"].get<std::string>(), std::string("early-stopped"));
    QVERIFY(before["epochs"].get<int>() < 6);
    const ProcessRun resumed = cli({"train", p, "--out", out, "--resume", out + "/checkpoint.pt"});
    QVERIFY2(resumed.code == 0 && resumed.out.contains("stopped early"), qPrintable(resumed.all()));
    const Json after = readJson(out + "/summary.json");
    for (const char *k : {"status", "val_accuracy", "test_accuracy", "epochs", "steps"})
      QVERIFY2(after[k] == before[k], k);
  }

  // Two runs started together on one --out: one trains, the other exits 3 naming the folder.
  void twoRunsCannotShareAFolder() {
    QTemporaryDir dir;
    // The winner trains for seconds (not a fraction of one): on a loaded machine the second
    // process, started at once, can be scheduled so late that a short run has already finished
    // and it finds a finished folder instead of a working one (seen under ctest -j2).
    const QString p = project(dir.path(), "t", 60, 4000);
#ifdef __SANITIZE_ADDRESS__
    const int attempts = 2; // each winner trains its 60 epochs, ~3x as long under the sanitizers
#else
    const int attempts = 5;
#endif
    for (int attempt = 0; attempt < attempts; ++attempt) {
      const QString out = dir.filePath("race" + QString::number(attempt));
      QProcess a, b;
      a.start(PARTICLE_CLI, {"train", p, "--out", out});
      b.start(PARTICLE_CLI, {"train", p, "--out", out});
      QVERIFY(a.waitForFinished(120000) && b.waitForFinished(120000));
      const int codes[] = {a.exitCode(), b.exitCode()};
      const QString errs[] = {QString::fromUtf8(a.readAllStandardError()), QString::fromUtf8(b.readAllStandardError())};
      const int loser = codes[0] == 0 ? 1 : 0;
      QVERIFY2(codes[1 - loser] == 0, qPrintable(errs[1 - loser]));
      QVERIFY2(codes[loser] == 3 && errs[loser].contains(out) &&
                   errs[loser].contains("another particle process is working in this folder"),
               qPrintable(QString::number(codes[loser]) + " " + errs[loser]));
    }
    // A search on a folder a run is working in, and a run on a searching folder: exit 3.
    const QString busy = dir.filePath("busy");
    QProcess run;
    // Long enough that it is still training when the search and the resume below try the folder
    // (30 epochs had finished by then once the fused optimiser made training faster); killed below.
    run.start(PARTICLE_CLI, {"train", project(dir.path(), "t", 3000, 4000), "--out", busy});
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(busy + "/project.particle.json"), 60000);
    const ProcessRun search = cli({"search", p, "--budget", "2trials", "--out", busy, "--force"});
    QCOMPARE(search.code, 3);
    QVERIFY2(search.err.contains("another particle process is working in this folder (run, pid " +
                                 QString::number(run.processId()) + ")"),
             qPrintable(search.err));
    const ProcessRun resume = cli({"train", p, "--out", busy, "--resume", busy + "/checkpoint.pt"});
    QCOMPARE(resume.code, 3);
    run.kill();
    run.waitForFinished();
    // The lock died with the process: the folder can be resumed now.
    QVERIFY(QFile::exists(busy + "/checkpoint.pt"));
    const ProcessRun after = cli({"train", project(dir.path(), "t"), "--out", busy, "--force"});
    QVERIFY2(after.code == 0, qPrintable(after.all()));
  }

  // A kill during a save leaves NAME.tmp-<pid>; the next run in the folder removes it, and never a
  // file of a process that is alive.
  void temporaryFilesOfDeadProcessesAreRemoved() {
    QTemporaryDir dir;
    const QString p = project(dir.path(), "t", 1);
    const QString out = dir.filePath("run");
    QVERIFY(cli({"train", p, "--out", out}).code == 0);
    const QString stale = out + "/checkpoint.pt.tmp-" + QString::number(deadPid());
    const QString live = out + "/summary.json.tmp-" + QString::number(QCoreApplication::applicationPid());
    writeFileAtomically(stale.toStdString(), "half a checkpoint");
    writeFileAtomically(live.toStdString(), "being written");
    const ProcessRun resumed = cli({"train", p, "--out", out, "--resume", out + "/checkpoint.pt", "--epochs", "2"});
    QVERIFY2(resumed.code == 0, qPrintable(resumed.all()));
    QVERIFY(!QFile::exists(stale));
    QVERIFY(QFile::exists(live));
  }

  // SIGKILL during training, again and again: no temporary file outlives the next run.
  void killedSavesLeaveNothingBehind() {
    QTemporaryDir dir;
    const QString p = project(dir.path(), "t", 40, 400);
    const QString out = dir.filePath("run");
    int kills = 0;
    for (int i = 0; i < 8; ++i) {
      QProcess run;
      const bool resume = QFile::exists(out + "/checkpoint.pt");
      QStringList args{"train", p, "--out", out};
      if (resume)
        args << "--resume" << out + "/checkpoint.pt";
      else if (QFileInfo::exists(out))
        args << "--force"; // a run killed before its first checkpoint left a folder to start afresh in
      run.start(PARTICLE_CLI, args);
      QVERIFY(run.waitForStarted());
      QThread::msleep(900 + 137 * i);
      ::kill(static_cast<pid_t>(run.processId()), SIGKILL);
      run.waitForFinished();
      ++kills;
    }
    QVERIFY(kills == 8);
    // On a slow machine (a sanitizer build beside other work) no run may have reached its first
    // checkpoint before its kill: the last run then starts afresh in the same folder, which the
    // CLI allows only with --force (a folder with files and no checkpoint is refused without it).
    QStringList lastArgs{"train", p, "--out", out};
    if (QFile::exists(out + "/checkpoint.pt"))
      lastArgs << "--resume" << out + "/checkpoint.pt";
    else
      lastArgs << "--force";
    const ProcessRun last = cli(lastArgs);
    QVERIFY2(last.code == 0, qPrintable(last.all()));
    for (const QString &f : QDir(out).entryList(QDir::Files | QDir::Hidden))
      QVERIFY2(!f.contains(".tmp-"), qPrintable(f));

    // A kill during the first checkpoint's save, made certain: the folder holds the run's files and
    // a dead process's half checkpoint, and no checkpoint.pt. Without --force the CLI says why it
    // cannot go on; with it the run starts afresh and nothing temporary is left.
    QVERIFY(QFile::remove(out + "/checkpoint.pt"));
    writeFileAtomically((out + "/checkpoint.pt.tmp-" + QString::number(deadPid())).toStdString(), "half");
    const ProcessRun refused = cli({"train", p, "--out", out});
    QCOMPARE(refused.code, 2);
    QVERIFY2(refused.err.contains("stopped before its first checkpoint") && refused.err.contains("--force"),
             qPrintable(refused.err));
    const ProcessRun afresh = cli({"train", p, "--out", out, "--force", "--epochs", "1"});
    QVERIFY2(afresh.code == 0, qPrintable(afresh.all()));
    QVERIFY(QFile::exists(out + "/checkpoint.pt"));
    for (const QString &f : QDir(out).entryList(QDir::Files | QDir::Hidden))
      QVERIFY2(!f.contains(".tmp-"), qPrintable(f));
  }

  void checkpointHeadersAreChecked() {
    QTemporaryDir dir;
    const QString p = project(dir.path(), "t", 1);
    const QString out = dir.filePath("run");
    QVERIFY(cli({"train", p, "--out", out}).code == 0);
    const CheckpointParts good = splitCheckpoint(out + "/checkpoint.pt");
    QCOMPARE(good.header["version"].get<int>(), 1);
    struct Case {
      const char *name;
      Json header;
      const char *message;
    };
    std::vector<Case> cases;
    Json h = good.header;
    h["graph_hash"] = 12;
    cases.push_back({"hash-number", h, "header.graph_hash must be a string"});
    h = good.header;
    h["format"] = Json::array();
    cases.push_back({"format-array", h, "header.format must be a string"});
    h = good.header;
    h["version"] = 99;
    cases.push_back({"future", h, "written by a newer Particle Studio (checkpoint version 99"});
    h = good.header;
    h["epoch"] = "three";
    cases.push_back({"epoch-string", h, "header.epoch must be a whole number"});
    h = good.header;
    h["step"] = -5;
    cases.push_back({"step-negative", h, "header.step is -5, out of range"});
    h = good.header;
    h["early_stopped"] = "yes";
    cases.push_back({"flag-string", h, "header.early_stopped must be true or false"});
    for (const auto &c : cases) {
      const QString file = dir.filePath(QString(c.name) + ".pt");
      writeCheckpoint(file, c.header, good.payload);
      for (const QStringList &args :
           {QStringList{"explain", p, "--checkpoint", file, "--samples", "4", "--out", dir.filePath("ex")},
            QStringList{"train", p, "--resume", file, "--out", dir.filePath("res")},
            QStringList{"export", p, "--checkpoint", file, "--out", dir.filePath("exp")}}) {
        const ProcessRun r = cli(args);
        QVERIFY2(r.code == 3 && r.err.contains(file) && r.err.contains(c.message) && !r.err.contains("json.exception"),
                 qPrintable(QString(c.name) + " " + args[0] + ": " + QString::number(r.code) + " " + r.err));
      }
    }
    // The header is inside the checksum: editing it without the checksum is damage.
    QFile f(out + "/checkpoint.pt");
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray bytes = f.readAll();
    f.close();
    bytes.replace("\"epoch\":1", "\"epoch\":0");
    const QString edited = dir.filePath("edited.pt");
    QFile e(edited);
    QVERIFY(e.open(QIODevice::WriteOnly));
    e.write(bytes);
    e.close();
    const ProcessRun r = cli({"explain", p, "--checkpoint", edited, "--samples", "4", "--out", dir.filePath("ex")});
    QVERIFY2(r.code == 3 && r.err.contains("checksum mismatch"), qPrintable(r.err));
    // A checkpoint of the earlier format (the CRC over the payload alone) still reads.
    Json legacy = good.header;
    legacy["payload_crc32"] = crc(good.payload);
    const QString old = dir.filePath("format1.pt");
    QFile o(old);
    QVERIFY(o.open(QIODevice::WriteOnly));
    o.write("PARTICLE-CHECKPOINT 1\n" + QByteArray::fromStdString(legacy.dump()) + "\n" + good.payload);
    o.close();
    const ProcessRun ok = cli({"explain", p, "--checkpoint", old, "--samples", "4", "--out", dir.filePath("ex")});
    QVERIFY2(ok.code == 0, qPrintable(ok.all()));
    // A newer file format is refused by name.
    QVERIFY(o.open(QIODevice::WriteOnly));
    o.write("PARTICLE-CHECKPOINT 7 00000000\n{}\n");
    o.close();
    const ProcessRun newer = cli({"explain", p, "--checkpoint", old, "--samples", "4"});
    QVERIFY2(newer.code == 3 && newer.err.contains("checkpoint file format 7"), qPrintable(newer.err));
  }

  void searchFilesOfTheWrongShapeAreRefused() {
    QTemporaryDir dir;
    const QString p = project(dir.path(), "t", 2);
    const QString s = dir.filePath("s");
    const ProcessRun first = cli({"search", p, "--budget", "3trials", "--out", s});
    QVERIFY2(first.code == 0, qPrintable(first.all()));
    const Json good = readJson(s + "/search.json");
    struct Case {
      std::function<void(Json &)> edit;
      const char *message;
    };
    const std::vector<Case> cases = {
        {[](Json &j) { j["settings"] = 5; }, "settings must be a JSON object"},
        {[](Json &j) { j["trials"] = "all"; }, "trials must be a JSON array"},
        {[](Json &j) { j["trials"][0]["variant"] = 3; }, "trials[0].variant must be a string"},
        {[](Json &j) { j["trials"][1]["rung"] = "one"; }, "trials[1].rung must be a whole number"},
        {[](Json &j) { j["trials"][0]["val_accuracy"] = Json::object(); }, "trials[0].val_accuracy must be a number"},
        {[](Json &j) { j = Json::array(); }, "the file is not a JSON object"},
        {[](Json &j) { j["trials"][0]["val_accuracy"] = 5.0; }, "trials[0].val_accuracy is 5.000000, not an accuracy"},
        {[](Json &j) { j["trials"][0]["status"] = "weird"; }, R"(trials[0].status is "weird", not one of)"},
        {[](Json &j) { j.erase("trials"); }, "trials is missing"},
    };
    for (const auto &c : cases) {
      Json edited = good;
      c.edit(edited);
      writeFileAtomically((s + "/search.json").toStdString(), edited.dump(2));
      const ProcessRun r = cli({"search", p, "--budget", "3trials", "--out", s});
      QVERIFY2(r.code == 3 && r.err.contains(s + "/search.json") && r.err.contains(c.message) &&
                   !r.err.contains("json.exception"),
               qPrintable(QString::number(r.code) + " " + r.err));
    }
  }

  // A project name that would close a Python string stays text in model.py and train.py.
  void exportedNamesCannotRunCode() {
    QTemporaryDir dir;
    const std::string evil = R"(Demo""";__import__("os").system("touch PWNED");""" x''' + )"
                             R"(str(__import__('os').system('touch PWNED')) + r''' \N{oops})";
    const QString p = project(dir.path(), evil);
    const ProcessRun r = cli({"export", p, "--out", dir.filePath("ex")});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    // Parsed (never run): model.py's docstring and train.py's CONFIG hold the name as text.
    const QString script = "import ast, json, sys\n"
                           "m = ast.parse(open(sys.argv[1]).read())\n"
                           "print(ast.get_docstring(m).split(': a particle-ized')[0])\n"
                           "t = ast.parse(open(sys.argv[2]).read())\n"
                           "c = [n for n in t.body if isinstance(n, ast.Assign) and n.targets[0].id == 'CONFIG'][0]\n"
                           "print(json.loads(c.value.args[0].value)['name'])\n";
    const ProcessRun parsed =
        runProcess("python3", {"-c", script, dir.filePath("ex/model.py"), dir.filePath("ex/train.py")});
    QVERIFY2(parsed.code == 0, qPrintable(parsed.all()));
    const QStringList lines = parsed.out.split('\n');
    QCOMPARE(lines.value(0), QString::fromStdString(evil));
    QCOMPARE(lines.value(1), QString::fromStdString(evil));
    QVERIFY(!QFile::exists(dir.filePath("PWNED")) && !QFile::exists("PWNED"));
  }

  // Numbers beyond what they set, devices and pipes, the marker's content, user files.
  void moreHostileInput() {
    QTemporaryDir dir;
    const QString p = project(dir.path(), "t", 1);
    for (const char *epochs : {"4294967296", "2147483648", "4294967297"}) {
      const ProcessRun r = cli({"train", p, "--epochs", epochs, "--out", dir.filePath("e")});
      QVERIFY2(r.code == 2 && r.err.contains("--epochs needs an integer"), qPrintable(r.err));
    }
    QVERIFY(!QDir(dir.filePath("e")).exists());
    QCOMPARE(cli({"search", p, "--budget", "2trials", "--jobs", "4294967297"}).code, 2);
    // /dev/zero as a project, a checkpoint and a data file: refused at once, never read.
    const ProcessRun zero = cli({"check", "/dev/zero"});
    QVERIFY2(zero.code == 3 && zero.err.contains("not a regular file") && zero.ms < 10000, qPrintable(zero.err));
    const ProcessRun ckpt = cli({"explain", p, "--checkpoint", "/dev/zero", "--samples", "4"});
    QVERIFY2(ckpt.code == 3 && ckpt.err.contains("not a regular file"), qPrintable(ckpt.err));
    Json csv = baseProject();
    csv["dataset"] = {{"kind", "csv"}, {"path", "/dev/zero"}, {"label_column", "label"}};
    const QString csvProject = dir.filePath("zero.particle.json");
    writeFileAtomically(csvProject.toStdString(), csv.dump());
    const ProcessRun data = cli({"check", csvProject});
    QVERIFY2(data.code == 1 && data.all().contains("not a regular file or folder") && data.ms < 10000,
             qPrintable(data.all()));
    // A marker of other content is not particle's: --force refuses the folder.
    const QString fake = dir.filePath("fake");
    QVERIFY(QDir().mkpath(fake));
    writeFileAtomically((fake + "/.particle").toStdString(), "garbage\n");
    writeFileAtomically((fake + "/keep.txt").toStdString(), "keep");
    const ProcessRun forced = cli({"train", p, "--out", fake, "--force"});
    QVERIFY2(forced.code == 2 && forced.err.contains("--force empties only a folder particle wrote"),
             qPrintable(forced.err));
    QVERIFY(QFile::exists(fake + "/keep.txt"));
    // --resume into a folder of the user's that holds no run is refused, and leaves no marker.
    const QString mine = dir.filePath("mine");
    QVERIFY(QDir().mkpath(mine));
    writeFileAtomically((mine + "/notes.txt").toStdString(), "precious");
    QVERIFY(cli({"train", p, "--out", dir.filePath("run")}).code == 0);
    const ProcessRun resumed = cli({"train", p, "--resume", dir.filePath("run/checkpoint.pt"), "--out", mine});
    QVERIFY2(resumed.code == 2 && resumed.err.contains("holds files but no run"), qPrintable(resumed.err));
    QCOMPARE(tree(mine), QStringList{"notes.txt"});
    // Only particle's own temporaries, and only in its own folders, are removed.
    const QString dead = QString::number(deadPid());
    writeFileAtomically((mine + "/thesis.tex.tmp-" + dead).toStdString(), "precious");
    writeFileAtomically((dir.filePath("run/userdoc.docx.tmp-") + dead).toStdString(), "precious");
    writeFileAtomically((dir.filePath("run/weights.pt.tmp-") + dead).toStdString(), "half");
    const ProcessRun longer =
        cli({"train", p, "--resume", dir.filePath("run/checkpoint.pt"), "--out", dir.filePath("run"), "--epochs", "2"});
    QVERIFY2(longer.code == 0, qPrintable(longer.all()));
    QVERIFY(QFile::exists(mine + "/thesis.tex.tmp-" + dead));
    QVERIFY(QFile::exists(dir.filePath("run/userdoc.docx.tmp-") + dead));
    QVERIFY(!QFile::exists(dir.filePath("run/weights.pt.tmp-") + dead));
    // A finished run resumed under a project of fewer epochs keeps its own count.
    const ProcessRun fewer =
        cli({"train", p, "--resume", dir.filePath("run/checkpoint.pt"), "--out", dir.filePath("run2")});
    QVERIFY2(fewer.code == 0, qPrintable(fewer.all()));
    QCOMPARE(readJson(dir.filePath("run2/summary.json"))["epochs"].get<int>(), 2);
    // A header without its epoch, or one that disagrees with the metrics it carries.
    const CheckpointParts good = splitCheckpoint(dir.filePath("run/checkpoint.pt"));
    Json h = good.header;
    h.erase("epoch");
    writeCheckpoint(dir.filePath("noepoch.pt"), h, good.payload);
    const ProcessRun missing = cli({"train", p, "--resume", dir.filePath("noepoch.pt"), "--out", dir.filePath("r3")});
    QVERIFY2(missing.code == 3 && missing.err.contains("header.epoch is missing"), qPrintable(missing.err));
    h = good.header;
    h["epoch"] = 1000;
    writeCheckpoint(dir.filePath("epoch1000.pt"), h, good.payload);
    const ProcessRun lying = cli({"train", p, "--resume", dir.filePath("epoch1000.pt"), "--out", dir.filePath("r4")});
    QVERIFY2(lying.code == 3 && lying.err.contains("its header says 1000 epoch(s) done, its metrics hold 2"),
             qPrintable(lying.err));
  }

  // SIGKILL of a search at several moments, then the same command again: the same trials, the same
  // accuracies, the same winner as the search that was never interrupted.
  void aKilledSearchReachesTheSameWinner() {
    QTemporaryDir dir;
    const QString p = project(dir.path(), "t", 2);
    QElapsedTimer timer;
    timer.start();
    const ProcessRun whole = cli({"search", p, "--budget", "7trials", "--out", dir.filePath("whole")});
    const qint64 duration = timer.elapsed();
    QVERIFY2(whole.code == 0, qPrintable(whole.all()));
    const Json reference = readJson(dir.filePath("whole/search.json"));
    QVERIFY(!reference["winner"].get<std::string>().empty());
#ifdef __SANITIZE_ADDRESS__
    // Under the sanitizers two moments (a search there takes ~3x as long); the release build three,
    // spread over the whole search's duration.
    const std::vector<double> moments = {0.45, 0.9};
#else
    const std::vector<double> moments = {0.2, 0.5, 0.85};
#endif
    for (const double at : moments) {
      const QString out = dir.filePath("killed-" + QString::number(at));
      QProcess search;
      search.start(PARTICLE_CLI, {"search", p, "--budget", "7trials", "--out", out});
      QVERIFY(search.waitForStarted());
      QThread::msleep(static_cast<unsigned long>(at * static_cast<double>(duration)));
      ::kill(static_cast<pid_t>(search.processId()), SIGKILL);
      search.waitForFinished();
      const ProcessRun again = cli({"search", p, "--budget", "7trials", "--out", out});
      QVERIFY2(again.code == 0, qPrintable(QString::number(at) + "\n" + again.all()));
      const Json s = readJson(out + "/search.json");
      QVERIFY2(s["winner"] == reference["winner"], qPrintable(QString::fromStdString(s["winner"].dump())));
      QCOMPARE(trialResults(s), trialResults(reference));
    }
  }
};

QTEST_GUILESS_MAIN(TestHardening)
#include "tst_hardening.moc"
