// GUI event-loop latency while the engine thread trains at full speed, and training throughput
// in the app against `particle train` (the CLI beside this program, a process of its own), same
// project, same machine.
//   QT_QPA_PLATFORM=offscreen build/bin/bench_gui [PROJECT] [--epochs N] [--repeats PAIRS (7)]
//                                                 [--tab design] [--probe-ms MS (50; 0: none)]
//
// Pairs alternate their order (the CLI first, then the app first), so that a machine that
// speeds up or slows down over the minutes favours neither. Besides samples/s, which the machine's
// other load moves by several per cent between minutes, each app run reports what the other load
// cannot distort: the GUI thread's own processor time and wake-ups while the engine trains, and
// how much processor time the rest of the machine took during each run.

#include "base/Median.h"
#include "MainWindow.h"
#include "charts/CustomPlot.h"
#include "ProjectFiles.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "training/EngineWorker.h"
#include "training/TrainPanel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace particle;

namespace {
// A timer that should fire every 50 ms: lateness is measured as well as with a faster one, and the
// probe itself wakes the GUI thread 20 times a second rather than 100 (each wake-up takes a core
// from the engine's intra-op threads, which the throughput ratio would charge to the app).
constexpr int kDefaultProbeMs = 50;
// A pair counts as quiet when the rest of the machine used less than this many cores during both
// of its runs.
constexpr double kQuietCores = 0.10;

double seconds(const timeval &t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

// The calling thread's processor time (user + system) and its context switches: voluntary ones
// are the thread going to sleep (one per wake-up of an event loop), involuntary ones it being
// pre-empted.
struct ThreadClock {
  double cpu = 0;
  long wakeups = 0, preempted = 0;
  static ThreadClock now() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return {seconds(u.ru_utime) + seconds(u.ru_stime), u.ru_nvcsw, u.ru_nivcsw};
  }
};

// The processor time of this process (every thread) and of the whole machine (/proc/stat: every
// core's busy time), so that a span can say how many cores the other processes used meanwhile.
// `children`: the CLI runs this program started and waited for.
struct MachineClock {
  double process = 0, children = 0, machine = 0;
  static MachineClock now() {
    rusage u{}, k{};
    getrusage(RUSAGE_SELF, &u);
    getrusage(RUSAGE_CHILDREN, &k);
    MachineClock c;
    c.process = seconds(u.ru_utime) + seconds(u.ru_stime);
    c.children = seconds(k.ru_utime) + seconds(k.ru_stime);
    QFile stat("/proc/stat");
    if (stat.open(QIODevice::ReadOnly)) {
      const QList<QByteArray> f = stat.readLine().simplified().split(' '); // "cpu user nice system idle …"
      const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
      for (int i = 1; i < f.size() && i <= 8; ++i)
        if (i != 4 && i != 5) // idle and iowait are not busy
          c.machine += f[i].toDouble() / tick;
    }
    return c;
  }
};

// Cores the other processes (neither this one nor its CLI runs) kept busy between a and b.
double otherCores(const MachineClock &a, const MachineClock &b, double wall) {
  const double ours = (b.process - a.process) + (b.children - a.children);
  return wall > 0 ? std::max(0.0, (b.machine - a.machine) - ours) / wall : 0;
}

// Processor time of each thread of a process, in seconds on a core by thread id
// (/proc/PID/task/TID/schedstat: nanoseconds, unlike the 10 ms ticks of stat), with its name.
struct ThreadTime {
  QString name;
  double cpu = 0;
  double faults = 0; // minor page faults (/proc/PID/task/TID/stat): fresh pages the thread touched
};
using ThreadTimes = std::map<long, ThreadTime>;
ThreadTimes threadTimes(qint64 pid) {
  ThreadTimes out;
  const QString dir = QString("/proc/%1/task").arg(pid);
  for (const QString &tid : QDir(dir).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    QFile sched(dir + "/" + tid + "/schedstat"), comm(dir + "/" + tid + "/comm"), stat(dir + "/" + tid + "/stat");
    if (!sched.open(QIODevice::ReadOnly) || !comm.open(QIODevice::ReadOnly) || !stat.open(QIODevice::ReadOnly))
      continue; // the thread ended meanwhile
    const QList<QByteArray> f = sched.readAll().simplified().split(' ');
    const QByteArray st = stat.readAll();
    // "pid (comm) state ppid pgrp session tty tpgid flags minflt …": minflt is the 8th field after the name.
    const QList<QByteArray> g = st.mid(st.lastIndexOf(')') + 2).simplified().split(' ');
    out[tid.toLong()] = {QString::fromUtf8(comm.readAll().trimmed()), f.value(0).toDouble() / 1e9,
                         g.value(7).toDouble()};
  }
  return out;
}
// Each thread's time in `b` less its time in `a` (a thread `a` did not see started in between).
ThreadTimes threadTimesBetween(const ThreadTimes &a, const ThreadTimes &b) {
  ThreadTimes out = b;
  for (auto &[tid, t] : out)
    if (auto before = a.find(tid); before != a.end()) {
      t.cpu -= before->second.cpu;
      t.faults -= before->second.faults;
    }
  return out;
}

// This process's resident memory in MiB (/proc/self/status VmRSS).
double residentMiB() {
  QFile status("/proc/self/status");
  if (!status.open(QIODevice::ReadOnly))
    return 0;
  for (const QByteArray &line : status.readAll().split('\n'))
    if (line.startsWith("VmRSS:"))
      return line.mid(6).simplified().split(' ').value(0).toDouble() / 1024;
  return 0;
}

// Where a run's processor time went, by thread: the thread that trains (the CLI's main thread,
// the app's engine thread), LibTorch's other intra-op threads (OpenMP's workers, started by the
// training thread: in the app they carry its name), the app's GUI thread, and the rest.
struct ThreadSplit {
  double training = 0, workers = 0, gui = 0, other = 0;
  double trainingFaults = 0, workersFaults = 0; // minor page faults of the training thread and its workers
  double total() const { return training + workers + gui + other; }
};

struct Pair {
  double cliRate = 0, appRate = 0;
  double cliOthers = 0, appOthers = 0; // cores the other processes used during each run
  // Processor time of each whole run (loading, training, validation, test), every thread: the
  // app's GUI thread is the only work the CLI run does not do.
  double cliCpu = 0, appCpu = 0;
  ThreadSplit cliThreads, appThreads;
  double appResidentMiB = 0;             // the app's resident memory once its run is over
  double cliSamples = 0, appSamples = 0; // samples trained (every epoch), for processor time per sample
  double trainSeconds = 0;               // the app run's training time (its epochs' seconds)
  double guiCpu = 0, guiWall = 0;        // the GUI thread from Start to the last epoch's event
  int draws = 0;                         // charts drawn meanwhile (QCustomPlot replots)
  double drawMs = 0;                     // their mean time (QCustomPlot's own measure)
  long guiWakeups = 0, guiPreempted = 0;
  double ratio() const { return cliRate > 0 ? appRate / cliRate : 0; }
  bool quiet() const { return cliOthers < kQuietCores && appOthers < kQuietCores; }
};
} // namespace

int main(int argc, char **argv) {
  QApplication app(argc, argv);
  QString project = QString(PARTICLE_SOURCE_DIR) + "/resources/examples/fashion-patches.particle.json";
  int epochs = 1, repeats = 7, probeMs = kDefaultProbeMs;
  QString tab = "train"; // --tab design: the same runs with the charts off screen
  for (int i = 1; i < argc; ++i) {
    const QString a = argv[i];
    if (a == "--epochs" && i + 1 < argc)
      epochs = std::atoi(argv[++i]);
    else if (a == "--repeats" && i + 1 < argc)
      repeats = std::max(1, std::atoi(argv[++i]));
    else if (a == "--tab" && i + 1 < argc)
      tab = argv[++i];
    else if (a == "--probe-ms" && i + 1 < argc)
      probeMs = std::max(0, std::atoi(argv[++i]));
    else if (!a.startsWith("--"))
      project = a;
  }
  ui::MainWindow window;
  window.resize(1500, 900);
  window.files()->open(project);
  window.setCurrentTab(tab);
  window.show();
  ui::TrainPanel *panel = window.trainPanel();
  window.undoStack()->push(ui::commands::setTrainingKey(window.document(), "epochs", Json(epochs)));
  QTemporaryDir runs;
  panel->setRunsFolder(runs.path());
  std::vector<double> lateness;
  QElapsedTimer clock;
  QTimer probe;
  probe.setTimerType(Qt::PreciseTimer);
  probe.setInterval(std::max(1, probeMs));
  QObject::connect(&probe, &QTimer::timeout, [&] {
    const double ms = static_cast<double>(clock.nsecsElapsed()) / 1e6;
    lateness.push_back(std::max(0.0, ms - probeMs));
    clock.restart();
  });
  int draws = 0, drawsAtEpoch = 0;
  double drawMs = 0, drawMsAtEpoch = 0;
  std::vector<EpochEvent> epochEvents;
  ThreadClock lastEpochClock;
  QElapsedTimer runWall;
  double lastEpochWall = 0;
  QObject::connect(panel, &ui::TrainPanel::epochReceived, [&](const EpochEvent &p) {
    epochEvents.push_back(p);
    lastEpochClock = ThreadClock::now();
    drawsAtEpoch = draws;
    drawMsAtEpoch = drawMs;
    lastEpochWall = static_cast<double>(runWall.nsecsElapsed()) / 1e9;
  });
  QSignalSpy done(panel, &ui::TrainPanel::runFinished);

  // The CLI as a user runs it: `particle train PROJECT --epochs N`, its samples/s from its summary.
  const QString cli = ui::EngineWorker::commandLineProgram();
  if (cli.isEmpty()) {
    std::fprintf(stderr, "bench_gui: no `particle` program beside this one or on PATH (set PARTICLE_CLI)\n");
    return 1;
  }
  int cliRuns = 0;
  auto engineAlone = [&](Pair &pair) {
    const MachineClock m0 = MachineClock::now();
    QElapsedTimer wall;
    wall.start();
    const QString out = runs.filePath(QString("cli-%1").arg(++cliRuns));
    QProcess process;
    process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    process.setStandardOutputFile(QProcess::nullDevice());
    process.start(cli, {"train", project, "--epochs", QString::number(epochs), "--out", out});
    // Its threads' times as last seen (every 50 ms): what they did in their last moments (the
    // process's exit) is missing, and counted as "other" from the process's total.
    ThreadTimes seen;
    const qint64 pid = process.processId();
    while (!process.waitForFinished(50))
      for (const auto &[tid, t] : threadTimes(pid))
        seen[tid] = t;
    const MachineClock m1 = MachineClock::now();
    pair.cliOthers = otherCores(m0, m1, static_cast<double>(wall.nsecsElapsed()) / 1e9);
    pair.cliCpu = m1.children - m0.children;
    for (const auto &[tid, t] : seen) {
      (tid == pid ? pair.cliThreads.training : pair.cliThreads.workers) += t.cpu;
      (tid == pid ? pair.cliThreads.trainingFaults : pair.cliThreads.workersFaults) += t.faults;
    }
    pair.cliThreads.other = std::max(0.0, pair.cliCpu - pair.cliThreads.total());
    QFile summary(out + "/summary.json");
    if (process.exitCode() != 0 || !summary.open(QIODevice::ReadOnly))
      std::fprintf(stderr, "bench_gui: %s train failed (exit %d)\n", qPrintable(cli), process.exitCode());
    else {
      const QJsonObject o = QJsonDocument::fromJson(summary.readAll()).object();
      pair.cliRate = o.value("samples_per_second").toDouble();
      pair.cliSamples = pair.cliRate * o.value("train_seconds").toDouble();
    }
  };
  // Every chart drawn during an app run, and how long it took (QCustomPlot's own measure).
  const QList<QCustomPlot *> plots = {panel->lossPlot(), panel->epochPlot(), panel->ratePlot(), panel->sharePlot(),
                                      panel->confusionPlot()};
  for (QCustomPlot *plot : plots)
    QObject::connect(plot, &QCustomPlot::afterReplot, [&draws, &drawMs, plot] {
      ++draws;
      drawMs += plot->replotTime();
    });
  // The engine thread's id, for the split of the app's processor time by thread.
  long engineTid = 0;
  QMetaObject::invokeMethod(
      panel->controller()->worker(), [&engineTid] { engineTid = static_cast<long>(::syscall(SYS_gettid)); },
      Qt::BlockingQueuedConnection);
  const qint64 appPid = QCoreApplication::applicationPid();
  auto inTheApp = [&](Pair &pair) {
    epochEvents.clear();
    draws = 0;
    drawMs = 0;
    const ThreadTimes threads0 = threadTimes(appPid);
    const MachineClock m0 = MachineClock::now();
    const ThreadClock t0 = ThreadClock::now();
    runWall.start();
    window.setCurrentTab("train");
    panel->startButton()->click();
    window.setCurrentTab(tab);
    clock.start();
    if (probeMs > 0)
      probe.start();
    done.wait(30 * 60 * 1000);
    probe.stop();
    // The engine thread may go on to measure the matmul peak after the run (EngineWorker::run): wait
    // for it, or it would take a core from the next run.
    std::atomic<bool> idle{false};
    QMetaObject::invokeMethod(
        panel->controller()->worker(), [&idle] { idle = true; }, Qt::QueuedConnection);
    while (!idle) {
      QCoreApplication::processEvents();
      QThread::msleep(10);
    }
    const MachineClock m1 = MachineClock::now();
    for (const auto &[tid, t] : threadTimesBetween(threads0, threadTimes(appPid))) {
      const bool worker = tid != engineTid && t.name == QLatin1String("engine");
      (tid == appPid      ? pair.appThreads.gui
       : tid == engineTid ? pair.appThreads.training
       : worker           ? pair.appThreads.workers
                          : pair.appThreads.other) += t.cpu;
      if (tid == engineTid)
        pair.appThreads.trainingFaults += t.faults;
      else if (worker)
        pair.appThreads.workersFaults += t.faults;
    }
    pair.appOthers = otherCores(m0, m1, static_cast<double>(runWall.nsecsElapsed()) / 1e9);
    pair.appCpu = m1.process - m0.process;
    pair.appResidentMiB = residentMiB();
    double samples = 0;
    for (const EpochEvent &e : epochEvents) {
      pair.trainSeconds += e.seconds;
      samples += e.seconds * e.samplesPerSecond;
    }
    pair.appSamples = samples;
    pair.appRate = pair.trainSeconds > 0 ? samples / pair.trainSeconds : 0;
    pair.guiCpu = lastEpochClock.cpu - t0.cpu;
    pair.guiWall = lastEpochWall;
    pair.guiWakeups = lastEpochClock.wakeups - t0.wakeups;
    pair.guiPreempted = lastEpochClock.preempted - t0.preempted;
    pair.draws = drawsAtEpoch;
    pair.drawMs = drawsAtEpoch > 0 ? drawMsAtEpoch / drawsAtEpoch : 0;
  };

  std::vector<Pair> pairs(static_cast<std::size_t>(repeats));
  for (int r = 0; r < repeats; ++r) {
    Pair &pair = pairs[static_cast<std::size_t>(r)];
    if (r % 2 == 0) {
      engineAlone(pair);
      inTheApp(pair);
    } else {
      inTheApp(pair);
      engineAlone(pair);
    }
    std::printf("  pair %d (%s first): CLI %6.0f samples/s, app %6.0f, ratio %.3f | GUI thread while training: "
                "%.2f%% of a core, %.1f wake-ups/s, %.1f charts drawn/s (%.1f ms each) | processor time of the run: "
                "CLI %.1f s, app %.1f s | other processes: %.2f / %.2f cores%s\n",
                r + 1, r % 2 == 0 ? "CLI" : "app", pair.cliRate, pair.appRate, pair.ratio(),
                pair.trainSeconds > 0 ? 100 * pair.guiCpu / pair.trainSeconds : 0.0,
                pair.trainSeconds > 0 ? static_cast<double>(pair.guiWakeups) / pair.trainSeconds : 0.0,
                pair.trainSeconds > 0 ? pair.draws / pair.trainSeconds : 0.0, pair.drawMs, pair.cliCpu, pair.appCpu,
                pair.cliOthers, pair.appOthers, pair.quiet() ? "" : "  (busy)");
    auto perSample = [](const ThreadSplit &t, double samples, bool app) {
      const double us = samples > 0 ? 1e6 / samples : 0;
      std::printf("%s %.1f us/sample: training thread %.1f, its workers %.1f%s, other threads %.1f | page faults "
                  "per 1,000 samples: training thread %.0f, its workers %.0f\n",
                  app ? "     app" : "     CLI", us * t.total(), us * t.training, us * t.workers,
                  app ? qPrintable(QString(", GUI thread %1").arg(us * t.gui, 0, 'f', 1)) : "", us * t.other,
                  1e3 * us / 1e6 * t.trainingFaults, 1e3 * us / 1e6 * t.workersFaults);
    };
    perSample(pair.cliThreads, pair.cliSamples, false);
    perSample(pair.appThreads, pair.appSamples, true);
    std::printf("     app resident after its run: %.0f MiB\n", pair.appResidentMiB);
    std::fflush(stdout);
  }

  std::vector<double> ratios, quietRatios, guiShare, wakeups, preempted, cliRates, appRates, cpuRatios;
  std::vector<double> cliUs, appUs, trainingUsRatios; // processor time per trained sample
  for (const Pair &p : pairs) {
    ratios.push_back(p.ratio());
    if (p.quiet())
      quietRatios.push_back(p.ratio());
    if (p.cliCpu > 0)
      cpuRatios.push_back(p.appCpu / p.cliCpu);
    if (p.cliSamples > 0 && p.appSamples > 0 && p.cliThreads.total() > 0) {
      const double cli = 1e6 / p.cliSamples, app = 1e6 / p.appSamples;
      cliUs.push_back(cli * p.cliThreads.total());
      appUs.push_back(app * p.appThreads.total());
      trainingUsRatios.push_back(app * (p.appThreads.training + p.appThreads.workers) /
                                 (cli * (p.cliThreads.training + p.cliThreads.workers)));
    }
    cliRates.push_back(p.cliRate);
    appRates.push_back(p.appRate);
    if (p.trainSeconds > 0) {
      guiShare.push_back(p.guiCpu / p.trainSeconds);
      wakeups.push_back(static_cast<double>(p.guiWakeups) / p.trainSeconds);
      preempted.push_back(static_cast<double>(p.guiPreempted) / p.trainSeconds);
    }
  }
  std::sort(lateness.begin(), lateness.end());
  auto pct = [&](double p) {
    return lateness.empty() ? 0.0 : lateness[static_cast<std::size_t>(p * static_cast<double>(lateness.size() - 1))];
  };
  const auto [minRatio, maxRatio] = std::minmax_element(ratios.begin(), ratios.end());
  std::printf("GUI latency while training %s (%d epoch(s) x %d pairs, %s tab shown), %zu probes of a %d ms timer\n",
              qPrintable(QFileInfo(project).fileName()), epochs, repeats, qPrintable(tab), lateness.size(), probeMs);
  std::printf("  event-loop lateness p50 %6.2f ms, p99 %6.2f ms, max %6.2f ms   (goal p99 < 30 ms)\n", pct(0.5),
              pct(0.99), lateness.empty() ? 0.0 : lateness.back());
  std::printf("  median throughput: app %6.0f samples/s, CLI %6.0f samples/s\n", median(appRates), median(cliRates));
  std::printf("  pairs' ratios app / CLI: median %.3f, range %.3f-%.3f over %d pairs   (goal >= 0.99)\n",
              median(ratios), *minRatio, *maxRatio, repeats);
  if (!quietRatios.empty())
    std::printf("  quiet pairs only (other processes < %.2f cores in both runs): median %.3f over %zu\n", kQuietCores,
                median(quietRatios), quietRatios.size());
  else
    std::printf("  no quiet pair (other processes used >= %.2f cores in every pair): the ratios are not a measurement "
                "of the app\n",
                kQuietCores);
  // On two cores both taken by training, each slice the GUI thread runs stalls a step at most for
  // as long (the other intra-op thread waits at the kernel's barrier), so the app trains at no
  // less than 1 - share of the CLI, whatever else runs on the machine.
  const double share = median(guiShare);
  std::printf("  GUI thread while training (Start to the last epoch's event, per second of training): median %.2f%% "
              "of one core (range %.2f-%.2f%%), %.1f wake-ups/s (%.1f of them the probe's), pre-empted %.1f/s\n",
              100 * share, guiShare.empty() ? 0.0 : 100 * *std::min_element(guiShare.begin(), guiShare.end()),
              guiShare.empty() ? 0.0 : 100 * *std::max_element(guiShare.begin(), guiShare.end()), median(wakeups),
              probeMs > 0 ? 1000.0 / probeMs : 0.0, median(preempted));
  std::printf("  processor time of a whole run, app / CLI: median %.3f\n", median(cpuRatios));
  std::printf("  processor time per trained sample (whole run, every thread): app median %.1f us, CLI %.1f us; the "
              "training thread and its workers, app / CLI: median %.3f\n",
              median(appUs), median(cliUs), median(trainingUsRatios));
  std::printf("  throughput the GUI thread's processor time allows: >= %.3f of the CLI's\n", 1 - share);
  std::fflush(stdout);
  window.undoStack()->setClean(); // the epochs edit is the benchmark's, not the user's: no save prompt
  window.close();
  return 0;
}
