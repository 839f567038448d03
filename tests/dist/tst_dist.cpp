// Data-parallel training over c10d (Gloo on the loopback), through the command line: two workers
// give the weights of one process with twice the batch; a killed worker ends the other with exit 4
// within 30 s; checkpoints move between distributed and single-process runs; bad settings end in
// a clear message and their exit code within 30 s.

#include "TestSupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTest>

#include <csignal>

using namespace particle;
using namespace particle::test;

namespace {

using Run = ProcessRun;

QProcessEnvironment workerEnv(int rank, int world, const QString &addr, int port, int timeoutSeconds = 0) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("RANK", QString::number(rank));
  env.insert("LOCAL_RANK", QString::number(rank));
  env.insert("WORLD_SIZE", QString::number(world));
  env.insert("MASTER_ADDR", addr);
  env.insert("MASTER_PORT", QString::number(port));
  if (timeoutSeconds > 0)
    env.insert("PARTICLE_DIST_TIMEOUT", QString::number(timeoutSeconds));
  return env;
}

Run cli(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment()) {
  return runProcess(PARTICLE_CLI, args, env);
}

// The largest difference between two weights.pt files (Debian's python3-torch reads them).
double maxDifference(const QString &a, const QString &b) {
  QProcess p;
  p.start("/usr/bin/python3",
          {"-c",
           "import torch,sys; a=torch.load(sys.argv[1]); b=torch.load(sys.argv[2]); "
           "assert a.keys()==b.keys(); print(max((a[k].float()-b[k].float()).abs().max().item() for k in a))",
           a, b});
  p.waitForFinished(120000);
  bool ok = false;
  const double d = QString::fromUtf8(p.readAllStandardOutput()).trimmed().toDouble(&ok);
  return ok && p.exitCode() == 0 ? d : 1e9;
}

std::string project(const QTemporaryDir &dir, const std::string &name, int samples, int batch, int epochs) {
  Json doc = baseProject();
  doc["dataset"]["samples"] = samples;
  doc["training"]["batch_size"] = batch;
  doc["training"]["epochs"] = epochs;
  return writeFile(dir, name, doc.dump(2));
}

} // namespace

class TestDist : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // Per-worker batch b on 2 workers = batch 2b in one process, over the same samples per step.
  void twoWorkersMatchOneProcessWithTwiceTheBatch() {
    QTemporaryDir dir;
    const QString two = QString::fromStdString(project(dir, "two.particle.json", 1000, 16, 1));
    const QString one = QString::fromStdString(project(dir, "one.particle.json", 1000, 32, 1));
    const Run a = cli({"train", two, "--nproc", "2", "--out", dir.filePath("two"), "--threads", "1"});
    QVERIFY2(a.code == 0, qPrintable(a.all()));
    QVERIFY2(a.out.contains("data-parallel: 2 workers") && a.out.contains("32 per step"), qPrintable(a.out));
    const Run b = cli({"train", one, "--out", dir.filePath("one"), "--threads", "1"});
    QVERIFY2(b.code == 0, qPrintable(b.all()));
    const double d = maxDifference(dir.filePath("two/weights.pt"), dir.filePath("one/weights.pt"));
    QVERIFY2(d <= 1e-4, qPrintable(QString("max |Δweight| = %1").arg(d)));
    for (const char *f : {"summary.json", "metrics.csv", "checkpoint.pt", "weights.pt"})
      QVERIFY2(QFile::exists(dir.filePath("two/") + f), f);
  }

  // A worker killed mid-epoch: the other ends with exit 4 and a message, well within 30 s.
  void killedWorkerEndsTheOther() {
    QTemporaryDir dir;
    const QString p = QString::fromStdString(project(dir, "long.particle.json", 20000, 16, 40));
    QProcess workers[2];
    for (int rank = 0; rank < 2; ++rank) {
      workers[rank].setProcessEnvironment(workerEnv(rank, 2, "127.0.0.1", 29671));
      QStringList args = {"train", p, "--threads", "1"};
      if (rank == 0)
        args << "--out" << dir.filePath("run");
      workers[rank].start(PARTICLE_CLI, args);
    }
    // Wait for rank 0's first epoch, then kill rank 1 without warning.
    QString seen;
    QElapsedTimer wait;
    wait.start();
    while (!seen.contains("epoch 1/") && wait.elapsed() < 120000) {
      workers[0].waitForReadyRead(1000);
      seen += QString::fromUtf8(workers[0].readAllStandardOutput());
    }
    QVERIFY2(seen.contains("epoch 1/"), qPrintable(seen + workers[0].readAllStandardError()));
    ::kill(static_cast<pid_t>(workers[1].processId()), SIGKILL);
    QElapsedTimer ending;
    ending.start();
    QVERIFY(workers[0].waitForFinished(30000));
    QVERIFY2(ending.elapsed() < 30000, qPrintable(QString::number(ending.elapsed())));
    QCOMPARE(workers[0].exitCode(), 4);
    const QString err = QString::fromUtf8(workers[0].readAllStandardError());
    QVERIFY2(err.contains("worker 0") && err.contains("a worker stopped or became unreachable"), qPrintable(err));
    workers[1].waitForFinished(5000);
    // The last epoch's checkpoint is kept.
    QVERIFY(QFile::exists(dir.filePath("run/checkpoint.pt")));
  }

  // A distributed run's checkpoint resumes in one process, and a single run's with two workers.
  void checkpointsCrossOver() {
    QTemporaryDir dir;
    const QString p = QString::fromStdString(project(dir, "p.particle.json", 1000, 16, 1));
    Run r = cli({"train", p, "--nproc", "2", "--out", dir.filePath("dist"), "--threads", "1"});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    r = cli(
        {"train", p, "--resume", dir.filePath("dist/checkpoint.pt"), "--out", dir.filePath("dist"), "--epochs", "2"});
    QVERIFY2(r.code == 0 && r.out.contains("after 2 epoch(s)"), qPrintable(r.all()));
    r = cli({"train", p, "--out", dir.filePath("single"), "--threads", "1"});
    QVERIFY2(r.code == 0, qPrintable(r.all()));
    r = cli({"train", p, "--nproc", "2", "--resume", dir.filePath("single/checkpoint.pt"), "--out",
             dir.filePath("single"), "--epochs", "2"});
    QVERIFY2(r.code == 0 && r.out.contains("after 2 epoch(s)"), qPrintable(r.all()));
    QFile metrics(dir.filePath("single/metrics.csv"));
    QVERIFY(metrics.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(metrics.readAll()).count('\n'), 3); // header + 2 epochs
  }

  // training.workers is the default of --nproc; --nproc 1 overrides it.
  void projectSetsTheWorkers() {
    QTemporaryDir dir;
    Json doc = Json::parse(readTextFile(project(dir, "w.particle.json", 600, 16, 1)));
    doc["training"]["workers"] = 2;
    const QString p = QString::fromStdString(writeFile(dir, "w.particle.json", doc.dump(2)));
    Run r = cli({"train", p, "--out", dir.filePath("two"), "--threads", "1"});
    QVERIFY2(r.code == 0 && r.out.contains("data-parallel: 2 workers"), qPrintable(r.all()));
    QCOMPARE(Json::parse(readTextFile(dir.filePath("two/summary.json").toStdString()))["workers"].get<int>(), 2);
    r = cli({"train", p, "--nproc", "1", "--out", dir.filePath("one"), "--threads", "1"});
    QVERIFY2(r.code == 0 && !r.out.contains("data-parallel"), qPrintable(r.all()));
    QCOMPARE(Json::parse(readTextFile(dir.filePath("one/summary.json").toStdString()))["workers"].get<int>(), 1);
  }

  void badSettings() {
    QTemporaryDir dir;
    const QString p = QString::fromStdString(project(dir, "p.particle.json", 400, 16, 1));
    Run r = cli({"train", p, "--nproc", "0"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--nproc needs an integer ≥ 1"), qPrintable(r.err));
    QProcessEnvironment noRank = QProcessEnvironment::systemEnvironment();
    noRank.insert("WORLD_SIZE", "2");
    noRank.remove("RANK");
    r = cli({"train", p}, noRank);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("RANK is not set"), qPrintable(r.err));
    // An unreachable MASTER_ADDR (a documentation-only address), with a short timeout.
    r = cli({"train", p}, workerEnv(1, 2, "192.0.2.1", 29672, 5));
    QCOMPARE(r.code, 4);
    QVERIFY2(r.err.contains("could not reach rank 0 at 192.0.2.1:29672"), qPrintable(r.err));
    QVERIFY2(r.ms < 30000, qPrintable(QString::number(r.ms)));
    // A WORLD_SIZE that never fills, with the default timeout.
    r = cli({"train", p, "--out", dir.filePath("alone")}, workerEnv(0, 2, "127.0.0.1", 29673));
    QCOMPARE(r.code, 4);
    QVERIFY2(r.err.contains("only 1 of 2 workers (WORLD_SIZE) joined"), qPrintable(r.err));
    QVERIFY2(r.ms < 30000, qPrintable(QString::number(r.ms)));
  }
};

QTEST_GUILESS_MAIN(TestDist)
#include "tst_dist.moc"
