#pragma once
// The Experiments tab's claims lab. For the graph in the Design tab, with S seeds each:
// - Measure claims (`particle robustness P --seeds S`): the graph and its monolithic baseline
//   trained equally long and measured alike; a table of the write-up's claims, each with both
//   models' mean ± sd, the difference with its 95 % interval and the side it favours, and a
//   verdict (holds, does not hold, within noise, not applicable, cannot tell with one seed)
//   coloured, its sentence as the row's tooltip (claims.json). While it runs: the trial running,
//   of how many, and the time it has taken.
// - Learning curve (`particle learning-curve P --sizes … --seeds S`, with the search shown so that
//   its Pareto set is included): test accuracy ± sd and the generalisation gap against the number
//   of training samples, the verdict per size under the plots (curve.json).
// - Measure robustness: chosen variants of the search shown, one `particle robustness
//   --checkpoint` after another — accuracy under input noise and the gap per epoch, one curve per
//   model (claims/<variant>/robustness.json in the search folder, shown again when it is opened).
// Each runs as a process of its own; claims and curves go to a folder of their own in the runs
// folder and can be opened again (Open results…). Every legend lies below its axes, never over a
// curve, its entries wrapped to the plot's width.

#include <QElapsedTimer>
#include <QGroupBox>
#include <QStringList>

#include <functional>
#include <memory>

class QCustomPlot;
class QLabel;
class QLineEdit;
class QProcess;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableWidget;
class QTimer;
class QTemporaryDir;

namespace particle {
struct CurveResult;
}

namespace particle::ui {

class GraphDocument;

class ClaimsLab : public QGroupBox {
  Q_OBJECT

public:
  // `runsFolder`: where claims and curve folders are made; `searchFolder`: the search shown (empty:
  // none, or one still running).
  ClaimsLab(GraphDocument *doc, std::function<QString()> runsFolder, std::function<QString()> searchFolder,
            QWidget *parent = nullptr);
  ~ClaimsLab() override;

  // "Measure robustness": the Experiments tab enables it when there are trials to measure.
  QPushButton *button() const { return button_; }
  QSpinBox *seedsSpin() const { return seeds_; }
  QPushButton *claimsButton() const { return claimsButton_; }
  QLineEdit *sizesEdit() const { return sizes_; }
  QPushButton *curveButton() const { return curveButton_; }
  QPushButton *stopButton() const { return stop_; }
  QPushButton *openButton() const { return open_; }
  QLabel *statusLabel() const { return status_; }
  // Claims, Learning curve, Search variants.
  QTabWidget *views() const { return views_; }
  QTableWidget *claimsTable() const { return table_; }
  QCustomPlot *curvePlot() const { return curve_; }
  QCustomPlot *curveGapPlot() const { return curveGap_; }
  QLabel *curveVerdicts() const { return verdicts_; }
  QCustomPlot *noisePlot() const { return noise_; }
  QCustomPlot *gapPlot() const { return gap_; }
  // The claims or curve folder shown (empty before the first).
  QString resultsFolder() const { return results_; }
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
  // Whether a process of this lab writes in `folder` now (the claims or curve running there, or
  // the search whose variants it measures).
  bool uses(const QString &folder) const;
  // `from` moved to `to` (the project was saved): what this lab holds of it follows.
  void relocate(const QString &from, const QString &to);

Q_SIGNALS:
  // A claims or learning-curve folder was made ("claims" or "curve"), in the runs folder.
  void folderMade(const QString &folder, const QString &kind);
  // The last variant asked for was measured (or failed).
  void finished();
  // Measure claims or Learning curve ended (ok: the process finished and its results are shown).
  void experimentFinished(bool ok);

private:
  // `particle <command> source --seeds S [extra] --out folder` in a new folder named after `kind`.
  void startExperiment(const QString &kind, const QStringList &extra);
  bool experimentRunning() const;
  void openResults();
  void showClaims(const QString &folder);
  void showCurve(const QString &folder);
  // The learning curve running in `folder`: the points of the runs finished so far.
  void showPartialCurve(const QString &folder);
  // `running`: the curve is still training (seeds missing, a placeholder until the first point).
  void drawCurve(const CurveResult &r, bool running);
  void suggestSizes();
  void setStatus(const QString &text, bool error = false);
  // The experiment's line while it runs: the trial running, of how many, for how long, and the
  // last one that ended.
  void showExperimentProgress();
  void next();
  void draw();

  GraphDocument *doc_;
  std::function<QString()> runsFolder_, searchFolder_;
  QPushButton *button_, *claimsButton_, *curveButton_, *stop_, *open_;
  QSpinBox *seeds_;
  QLineEdit *sizes_;
  bool sizesTyped_ = false; // the sizes were typed: the data set no longer suggests them
  QLabel *status_, *label_, *verdicts_;
  QTabWidget *views_;
  QTableWidget *table_;
  QCustomPlot *curve_, *curveGap_, *noise_, *gap_;
  QString folder_, results_, output_;
  QString experimentFolder_; // where the claims or curve running writes
  QStringList queue_, done_, errors_;
  QProcess *process_ = nullptr;              // robustness of a search variant
  QProcess *experiment_ = nullptr;           // claims or a learning curve
  std::unique_ptr<QTemporaryDir> sourceDir_; // the graph it trains
  // Its progress: trials ended and planned (0: not known yet), the last "[k/n]" line's text, the
  // time since it started, ticking each second.
  bool experimentClaims_ = false;
  int trialsDone_ = 0, trialsPlanned_ = 0;
  QString lastTrial_;
  QElapsedTimer experimentClock_;
  QTimer *experimentTick_;
};

} // namespace particle::ui
