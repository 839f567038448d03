// `particle-studio [P] [--screenshot PNG --tab design]`: the desktop application.

#include "MainWindow.h"
#include "editor/GraphView.h"
#include "explain/ExplainPanel.h"
#include "training/TrainPanel.h"

#include <QPushButton>

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>
#include <QTimer>

#include <iostream>

int main(int argc, char **argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("ParticleStudio");
  QApplication::setApplicationName("Particle Studio");
  QApplication::setApplicationVersion("0.1.0");

  QCommandLineParser parser;
  parser.setApplicationDescription("Design, train and explain particle-ized neural networks.");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("project", "Project file to open (default: the fashion-patches example).");
  QCommandLineOption screenshot("screenshot", "Render the window to PNG after loading, then exit.", "png");
  QCommandLineOption tab("tab", "Tab to show: design or train.", "name", "design");
  QCommandLineOption trainFor("train-for",
                              "With --screenshot: start training and take the picture after this many "
                              "seconds (mid-run).",
                              "seconds", "0");
  parser.addOption(screenshot);
  parser.addOption(tab);
  QCommandLineOption checkpoint("checkpoint",
                                "Checkpoint for the Explain tab (with --tab explain and --screenshot, "
                                "the explanation is computed before the picture).",
                                "file");
  parser.addOption(trainFor);
  parser.addOption(checkpoint);
  parser.process(app);

  QString project = parser.positionalArguments().value(0);
  if (project.isEmpty()) {
    for (const QString &candidate :
         {QString(PARTICLE_SOURCE_DIR) + "/resources/examples/fashion-patches.particle.json",
          QCoreApplication::applicationDirPath() + "/../share/particle-studio/examples/fashion-patches.particle.json"})
      if (QFileInfo::exists(candidate)) {
        project = candidate;
        break;
      }
  }

  particle::ui::MainWindow window;
  if (!project.isEmpty() && !window.openProject(project) && parser.isSet(screenshot))
    return 3;
  window.setCurrentTab(parser.value(tab));
  if (parser.isSet(checkpoint))
    window.explainPanel()->setCheckpoint(parser.value(checkpoint));

  if (parser.isSet(screenshot)) {
    window.resize(1500, 900);
    window.show();
    if (parser.value(tab) == "explain" && parser.isSet(checkpoint)) {
      // Picture once the explanation and the first sample's details are in.
      QObject::connect(window.explainPanel(), &particle::ui::ExplainPanel::detailReady, &window, [&] {
        QTimer::singleShot(200, &window, [&] {
          const QString out = parser.value(screenshot);
          const bool ok = window.grab().save(out);
          std::cout << (ok ? "wrote " : "cannot write ") << out.toStdString() << "\n";
          QApplication::exit(ok ? 0 : 3);
        });
      });
      QTimer::singleShot(0, &window, [&] { window.explainPanel()->compute(); });
      return QApplication::exec();
    }
    const int trainMs = static_cast<int>(parser.value(trainFor).toDouble() * 1000);
    if (trainMs > 0)
      QTimer::singleShot(0, &window, [&] { window.trainPanel()->startButton()->click(); });
    QTimer::singleShot(300 + trainMs, &window, [&] {
      window.view()->fitAll();
      QApplication::processEvents();
      const QString out = parser.value(screenshot);
      if (!window.grab().save(out)) {
        std::cerr << "particle-studio: cannot write " << out.toStdString() << "\n";
        QApplication::exit(3);
        return;
      }
      std::cout << "wrote " << out.toStdString() << "\n";
      QApplication::exit(0);
    });
    return QApplication::exec();
  }
  window.show();
  QTimer::singleShot(0, &window, [&] { window.offerRecovery(); });
  return QApplication::exec();
}
