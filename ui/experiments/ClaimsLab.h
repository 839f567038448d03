#pragma once
// The Experiments tab's claims lab: measures chosen variants of a search with `particle
// robustness`, one process after another, and shows accuracy under input noise and the
// generalisation gap per epoch, one curve per model beside the monolithic baseline, with a line per
// model (clean accuracy, the worst input part occluded, unique of total parameters). The results
// stay in the search folder (claims/<variant>/robustness.json) and are shown again when it is opened.

#include <QGroupBox>
#include <QStringList>

class QCustomPlot;
class QLabel;
class QProcess;
class QPushButton;

namespace particle::ui {

class ClaimsLab : public QGroupBox {
  Q_OBJECT

public:
  explicit ClaimsLab(QWidget *parent = nullptr);
  ~ClaimsLab() override;

  // "Measure robustness": the Experiments tab enables it when there are trials to measure.
  QPushButton *button() const { return button_; }
  QCustomPlot *noisePlot() const { return noise_; }
  QCustomPlot *gapPlot() const { return gap_; }
  bool measuring() const;
  // Measures `variants` of the search in `folder` (none given: its Pareto set, this graph and the
  // monolithic baseline); those without a checkpoint are skipped. Ignored while measuring.
  void measure(const QString &folder, const QStringList &variants);
  // Shows what was measured earlier in a search folder.
  void showMeasured(const QString &folder);
  // Forgets the models shown (a new search).
  void clear();
  // Stops a measurement in progress (window closing).
  void shutdown();

Q_SIGNALS:
  // The last variant asked for was measured (or failed).
  void finished();

private:
  void next();
  void draw();

  QPushButton *button_;
  QLabel *label_;
  QCustomPlot *noise_, *gap_;
  QString folder_;
  QStringList queue_, done_, errors_;
  QProcess *process_ = nullptr;
};

} // namespace particle::ui
