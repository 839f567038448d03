// `particle-studio [P] [--screenshot PNG --tab design|train|explain]`: the desktop application.

#include "AppPaths.h"
#include "MainWindow.h"
#include "ProjectFiles.h"
#include "editor/GraphScene.h"
#include "editor/GraphView.h"
#include "explain/ExplainPanel.h"
#include "training/TrainPanel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QPushButton>
#include <QTimer>

#include <iostream>

int main(int argc, char **argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("ParticleStudio");
  QApplication::setApplicationName("Particle Studio");
  QApplication::setApplicationVersion("0.2.0");

  QCommandLineParser parser;
  parser.setApplicationDescription("Design, train and explain particle-ized neural networks.");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("project", "Project file to open (default: a copy of the fashion-patches example).");
  QCommandLineOption screenshot("screenshot", "Render the window to PNG after loading, then exit.", "png");
  QCommandLineOption tab("tab", "Tab to show: design, train, explain or experiments.", "name", "design");
  QCommandLineOption size("size", "With --screenshot: the window size, e.g. 1600x1000.", "WxH", "1600x1000");
  QCommandLineOption trainFor("train-for",
                              "With --screenshot: start training and take the picture after this many "
                              "seconds (mid-run).",
                              "seconds", "0");
  QCommandLineOption checkpoint("checkpoint",
                                "Checkpoint for the Explain tab (with --tab explain and --screenshot, "
                                "the explanation is computed before the picture).",
                                "file");
  QCommandLineOption select("select", "With --screenshot: select this node (the inspector shows it).", "id");
  parser.addOption(screenshot);
  parser.addOption(tab);
  parser.addOption(size);
  parser.addOption(trainFor);
  parser.addOption(checkpoint);
  parser.addOption(select);
  parser.process(app);

  QString project = parser.positionalArguments().value(0);
  if (project.isEmpty()) {
    const QString example = particle::ui::examplesFolder() + "/fashion-patches.particle.json";
    if (QFileInfo::exists(example))
      project = example;
  }

  const bool shot = parser.isSet(screenshot);
  particle::ui::MainWindow window;
  if (!project.isEmpty()) {
    QString error;
    // Scripts and CI take screenshots: a file that cannot be opened is an error message and an
    // exit code there, never a dialog waiting for a click.
    if (!window.files()->open(project, &error, shot) && shot) {
      std::cerr << "particle-studio: " << error.toStdString() << "\n";
      return error.contains(":1:") || error.contains("cannot open") || error.contains("malformed") ? 3 : 1;
    }
  }
  window.setCurrentTab(parser.value(tab));
  if (parser.isSet(checkpoint))
    window.explainPanel()->setCheckpoint(parser.value(checkpoint));

  if (shot) {
    const QStringList wh = parser.value(size).split('x');
    window.resize(wh.value(0).toInt() > 0 ? wh.value(0).toInt() : 1600,
                  wh.value(1).toInt() > 0 ? wh.value(1).toInt() : 1000);
    window.show();
    auto take = [&] {
      const QString out = parser.value(screenshot);
      const bool ok = window.grab().save(out);
      std::cout << (ok ? "wrote " : "cannot write ") << out.toStdString() << "\n";
      QApplication::exit(ok ? 0 : 3);
    };
    if (parser.isSet(select))
      QTimer::singleShot(0, &window, [&] { window.scene()->selectOnly({parser.value(select)}); });
    if (parser.value(tab) == "explain" && parser.isSet(checkpoint)) {
      // Picture once the explanation and the first sample's details are in.
      QObject::connect(window.explainPanel(), &particle::ui::ExplainPanel::detailReady, &window,
                       [&] { QTimer::singleShot(300, &window, take); });
      QTimer::singleShot(0, &window, [&] { window.explainPanel()->compute(); });
      return QApplication::exec();
    }
    const int trainMs = static_cast<int>(parser.value(trainFor).toDouble() * 1000);
    if (trainMs > 0)
      QTimer::singleShot(0, &window, [&] { window.trainPanel()->startButton()->click(); });
    QTimer::singleShot(600 + trainMs, &window, [&] {
      window.view()->fitAll();
      QApplication::processEvents();
      take();
    });
    return QApplication::exec();
  }
  window.show();
  QTimer::singleShot(0, &window, [&] { window.files()->offerRecovery(); });
  return QApplication::exec();
}
