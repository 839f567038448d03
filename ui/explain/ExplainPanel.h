#pragma once
// The Explain tab: the checkpoint and how to explain it (method, baseline, target, Combine), the
// sample browser (true and predicted class names), the sample itself (SampleView.h), the branches
// with φ, saliency δ and the weight-versus-effect flag (clicking one selects its node in the
// editor), and the contribution charts (ContributionCharts.h).

#include "explain/ExplainWorker.h"

#include <QWidget>

#include <functional>

class QComboBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace particle::ui {

class ContributionCharts;
class GraphDocument;
class SampleView;

class ExplainPanel : public QWidget {
  Q_OBJECT

public:
  // `runsFolder`: the project's runs folder, where Checkpoint… starts.
  ExplainPanel(GraphDocument *doc, std::function<QString()> runsFolder, QWidget *parent = nullptr);

  // Takes this checkpoint and names the run it comes from (folder, project, date, epoch, accuracy).
  void setCheckpoint(const QString &path);
  // The checkpoint of a run the Train tab just ended (`runStatus`: "completed", "stopped", …):
  // taken, unless the run ended early and the checkpoint held is of a run that did not.
  void offerRunCheckpoint(const QString &path, const QString &runStatus);
  QString checkpoint() const { return checkpoint_; }
  void compute();
  void selectSample(int index);
  // Writes the tab as .png or every sample's φ as .csv; false (and `error` says why) on failure.
  bool exportTo(const QString &path, QString *error = nullptr);
  // Forgets the explanation and the checkpoint (another project was opened).
  void clear();
  // A run folder moved (the project was saved elsewhere): a checkpoint in it is followed there, and
  // what was explained stays.
  void runMoved(const QString &from, const QString &to);

  QPushButton *computeButton() const { return compute_; }
  QPushButton *cancelButton() const { return cancel_; }
  QPushButton *exportButton() const { return export_; }
  QPushButton *checkpointButton() const { return load_; }
  QComboBox *methodBox() const { return method_; }
  QComboBox *combineBox() const { return combine_; }
  QListWidget *sampleList() const { return samples_; }
  QListWidget *branchList() const { return branches_; }
  SampleView *sampleView() const { return sampleView_; }
  ContributionCharts *charts() const { return charts_; }
  QLabel *statusLabel() const { return status_; }
  const ExplainResult &result() const { return result_; }
  const SampleDetail &detail() const { return detail_; }
  // The Combine shown (index into result().combines), or −1.
  int combineIndex() const;

Q_SIGNALS:
  void branchActivated(const QString &nodeId);
  void resultReady();
  void detailReady();

private:
  void onComputed(const ExplainResult &r);
  void onDetail(const SampleDetail &d);
  void showCombine();
  void drawSample();
  void setBusy(bool busy);
  // The method, target, baseline and sample count chosen now.
  QStringList choices() const;
  void take(const QString &path, const QString &origin, const QString &status);
  QString stillOn() const; // "Still on checkpoint.pt — run …"
  const CombineResult *combineResult() const;

  GraphDocument *doc_;
  std::function<QString()> runsFolder_;
  ExplainController *controller_;
  QComboBox *method_, *target_, *baseline_, *combine_;
  QLabel *combineLabel_;
  QSpinBox *count_;
  QPushButton *compute_, *cancel_, *load_, *export_;
  QProgressBar *progress_;
  QLabel *status_, *flagHelp_;
  SampleView *sampleView_;
  QListWidget *samples_, *branches_;
  ContributionCharts *charts_;
  QString checkpoint_;
  QString checkpointOrigin_;          // the run it comes from, as the status names it
  bool checkpointUnfinished_ = false; // that run was stopped, diverged or failed
  ExplainResult result_;
  QStringList requested_, shown_; // the choices of the request sent last, and of the result shown
  SampleDetail detail_;
  int current_ = -1;
};

} // namespace particle::ui
