// GUI event-loop latency while the engine thread trains at full speed, and training throughput
// in the app against the engine alone (what the CLI runs), same project, same machine.
//   QT_QPA_PLATFORM=offscreen build/bin/bench_gui [PROJECT] [--epochs N] [--repeats PAIRS (5)]

#include "MainWindow.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "train/Trainer.h"
#include "training/EngineWorker.h"
#include "training/TrainPanel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>

#include <QFileInfo>

#include <algorithm>
#include <cstdio>

using namespace particle;

namespace {
constexpr int kProbeMs = 10; // a timer that should fire every 10 ms
}

int main(int argc, char **argv) {
  QApplication app(argc, argv);
  QString project = QString(PARTICLE_SOURCE_DIR) + "/resources/examples/fashion-patches.particle.json";
  int epochs = 1, repeats = 5;
  for (int i = 1; i < argc; ++i) {
    const QString a = argv[i];
    if (a == "--epochs" && i + 1 < argc)
      epochs = std::atoi(argv[++i]);
    else if (a == "--repeats" && i + 1 < argc)
      repeats = std::atoi(argv[++i]);
    else if (!a.startsWith("--"))
      project = a;
  }
  ui::MainWindow window;
  window.resize(1500, 900);
  window.openProject(project);
  window.setCurrentTab("train");
  window.show();
  ui::TrainPanel *panel = window.trainPanel();
  window.undoStack()->push(ui::commands::setTrainingKey(window.document(), "epochs", Json(epochs)));
  QTemporaryDir runs;
  panel->setRunsFolder(runs.path());
  std::vector<double> lateness, cliRates, guiRates;
  QElapsedTimer clock;
  QTimer probe;
  probe.setTimerType(Qt::PreciseTimer);
  probe.setInterval(kProbeMs);
  QObject::connect(&probe, &QTimer::timeout, [&] {
    const double ms = clock.nsecsElapsed() / 1e6;
    lateness.push_back(std::max(0.0, ms - kProbeMs));
    clock.restart();
  });
  std::vector<double> epochRates;
  QObject::connect(panel, &ui::TrainPanel::epochReceived,
                   [&](const ui::EpochPoint &p) { epochRates.push_back(p.samplesPerSecond); });
  QSignalSpy done(panel, &ui::TrainPanel::runFinished);
  // Interleaved: engine alone (as the CLI runs it), then the same run from the Train tab with a
  // latency probe on the GUI thread; repeated, medians reported.
  for (int r = 0; r < repeats; ++r) {
    {
      TrainOptions options;
      options.epochs = epochs;
      Trainer trainer(loadProject(project.toStdString()), options);
      cliRates.push_back(trainer.run().samplesPerSecond);
    }
    epochRates.clear();
    panel->startButton()->click();
    clock.start();
    probe.start();
    done.wait(30 * 60 * 1000);
    probe.stop();
    double rate = 0;
    for (double e : epochRates)
      rate += e / static_cast<double>(epochRates.size());
    guiRates.push_back(rate);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double cliRate = median(cliRates), guiRate = median(guiRates);
  std::vector<double> ratios;
  for (int r = 0; r < repeats; ++r)
    ratios.push_back(cliRates[r] > 0 ? guiRates[r] / cliRates[r] : 0.0);
  std::sort(lateness.begin(), lateness.end());
  auto pct = [&](double p) {
    return lateness.empty() ? 0.0 : lateness[static_cast<std::size_t>(p * (lateness.size() - 1))];
  };
  std::printf("GUI latency while training %s (%d epoch(s) x %d runs), %zu probes of a %d ms timer\n",
              qPrintable(QFileInfo(project).fileName()), epochs, repeats, lateness.size(), kProbeMs);
  std::printf("  event-loop lateness p50 %6.2f ms, p99 %6.2f ms, max %6.2f ms   (goal p99 < 30 ms)\n", pct(0.5),
              pct(0.99), lateness.empty() ? 0.0 : lateness.back());
  for (int r = 0; r < repeats; ++r)
    std::printf("  pair %d: engine alone %8.0f samples/s, app %8.0f samples/s, ratio %.3f\n", r + 1, cliRates[r],
                guiRates[r], ratios[r]);
  std::printf("  median throughput: app %8.0f samples/s, engine alone (CLI) %8.0f samples/s\n", guiRate, cliRate);
  std::printf("  median of the pairs' ratios %.3f   (goal >= 0.95)\n", median(ratios));
  window.close();
  return 0;
}
