#pragma once
// The Experiments tab: a decomposition search of the project in the editor (`particle search`,
// run as a separate process so that the app stays responsive and a failed trial cannot take it
// down), with a live table of trials and a Pareto plot (validation accuracy against unique
// parameters, point size = FLOPs per sample) that update as trials finish. The plot compares
// variants trained equally long: the finalists (every seed at the final epochs) or one rung at a
// time, never rungs mixed. Clicking a point selects its row (the rows selected are ringed on the
// plot, and are what the claims lab measures); double-clicking a point or a row opens that variant
// in the designer as a new document. Below,
// the claims lab (ClaimsLab.h) measures the rows selected, and the transfer lab (TransferLab.h)
// reuses a particle of another project here.

#include "KeptFolders.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QWidget>

#include <map>
#include <memory>
#include <vector>

class QComboBox;
class QCPGraph;
class QCPTextElement;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QProcess;
class QPushButton;
class QSpinBox;
class QSplitter;
class QTabWidget;
class QTableWidget;
class QToolButton;
class QTimer;

namespace particle {
struct SearchFile;
}

namespace particle::ui {

class ClaimsLab;
class TransferLab;
class GraphDocument;

class ExperimentsPanel : public QWidget {
  Q_OBJECT

public:
  explicit ExperimentsPanel(GraphDocument *doc, QWidget *parent = nullptr);
  ~ExperimentsPanel() override;

  QLineEdit *budgetEdit() const { return budget_; }
  QSpinBox *jobsSpin() const { return jobs_; }
  QSpinBox *seedSpin() const { return seed_; }
  QSpinBox *seedsSpin() const { return seeds_; }
  QPushButton *startButton() const { return start_; }
  QPushButton *stopButton() const { return stop_; }
  QPushButton *openButton() const { return open_; }
  QTableWidget *table() const { return table_; }
  QCustomPlot *paretoPlot() const { return pareto_; }
  // Which trials the plot shows: the finalists, or one rung.
  QComboBox *paretoView() const { return view_; }
  ClaimsLab *claimsLab() const { return claimsLab_; }
  TransferLab *transferLab() const { return transferLab_; }
  QTabWidget *labTabs() const { return labs_; }
  QLabel *statusLabel() const { return status_; }
  // Beside Seeds: what the budget covers and what follows it.
  QLabel *seedsNote() const { return seedsNote_; }
  // The folder of the search shown (empty before the first).
  QString searchFolder() const { return folder_; }
  bool running() const;
  // Where searches are written (a "search-<name>-<time>" folder inside).
  void setRunsFolder(const QString &folder) { runsFolder_ = folder; }
  // Stops a search (window closing): the trial in progress is killed, search.json keeps the rest.
  void shutdown();
  // The project was saved: the search, claims, learning-curve and transfer folders this document
  // made that are not in its runs folder under its name go there (KeptFolders.h), and what the tab
  // shows of them follows. One in use waits until its process ends (then `freed`). Returns what was
  // done (empty: nothing to do).
  KeepReport keepFolders();

Q_SIGNALS:
  // A folder that waited at keepFolders is no longer in use.
  void freed();
  // A folder this tab made moved (keepFolders): whoever holds a path inside it follows.
  void folderMoved(const QString &from, const QString &to);
  // A variant's project file, to open as a new document.
  void openVariantRequested(const QString &path);
  void searchFinished(bool ok);

private:
  void startSearch();
  void stopSearch();
  // Shows a search folder written earlier (by the app or `particle search`).
  void openSearch();
  void poll();
  // While a search runs: its phase and progress, in the status line.
  void showProgress();
  // Reads the search's output lines as they come: trials started and ended.
  void readTrialLines(const QString &chunk);
  // The trials running as rows below the finalists, their clocks ticking.
  void showRunningTrials();
  void showSearch(const SearchFile &search);
  // The plot's choices (the finalists, each rung), keeping the one picked.
  void fillViews(const SearchFile &search);
  void drawPareto();
  // Winner, reason, verdict and cost, in sentences (empty before the search has finalists).
  QString outcome(const SearchFile &search) const;
  // The verdict's full sentence and the cost's parts, for the status line's tooltip.
  QString details(const SearchFile &search) const;
  // The point under `at` (a variant's graph, its disc and a few pixels around it), nullptr when none.
  QCPGraph *pointAt(const QPoint &at) const;
  // The point's figures under the cursor, as its tooltip.
  bool showPointTip(const QPoint &at);
  // Places each point's label where it covers no other point, bar, line or label (in pixels: again
  // when the plot is resized).
  void placeLabels();
  // Rings the points of the rows selected.
  void markSelected();
  bool eventFilter(QObject *watched, QEvent *event) override;
  void resizeEvent(QResizeEvent *event) override;
  // The labs show only their tabs (a short window; a click on one opens them).
  bool labsFolded() const;
  // Whether the finalists shown are still short of their seeds (the search running or stopped
  // midway): their order, and so the winner, may change.
  bool provisional(const SearchFile &search) const;
  // The claims lab measures the rows selected (none: its own choice).
  void startClaims();
  void openRow(int row);
  void setStatus(const QString &text, bool error = false);
  QString runsFolder() const;

  GraphDocument *doc_;
  QLineEdit *budget_;
  QSpinBox *jobs_, *seed_, *seeds_;
  QPushButton *start_, *stop_, *open_;
  QLabel *status_, *seedsNote_;
  QToolButton *foldHint_; // beside the labs' tabs while they are folded
  QTableWidget *table_;
  QCustomPlot *pareto_;
  QCPTextElement *paretoTitle_;
  QComboBox *view_;
  QLabel *sizeNote_;                  // what point size means, with the range shown
  bool viewPicked_ = false;           // the user chose a view: it stays while trials come in
  bool pointTipShown_ = false;        // a point's tooltip is up (hidden when the cursor leaves it)
  std::unique_ptr<SearchFile> shown_; // the search.json shown
  QProcess *process_ = nullptr;
  QTimer *poll_;
  QString folder_, runsFolder_, output_;
  QString searchedName_; // the project the search shown is of
  // While the budget's refusal is shown: what the status said before it, shown again once the
  // budget typed is valid.
  bool budgetRefused_ = false;
  QString beforeRefusal_;
  bool beforeRefusalError_ = false;
  QDateTime seen_;        // search.json's time when last read
  QElapsedTimer started_; // the search running: since its start
  QString searchBudget_;  // the search running: its budget and seeds, as started
  int searchSeeds_ = 1;
  int expectedFinalists_ = 0; // the search running: finalists its seed phase trains (0: still halving)
  // The search running: its trials started and not yet ended, from its "started …" lines (named
  // as their ending lines name them), and the end of its output not yet a whole line.
  struct RunningTrial {
    QString key, variant, stage; // key: "own" or "own seed 1"; stage: the Rung column's text
    int epochs = 0, seed = 0;
    QElapsedTimer since;
  };
  std::vector<RunningTrial> runningTrials_;
  QString partialLine_;
  QSplitter *page_;
  bool pageMoved_ = false; // the handle between the search and the labs was dragged: the split stays
  ClaimsLab *claimsLab_;
  TransferLab *transferLab_;
  QTabWidget *labs_;
  MadeFolders made_; // the search, claims, curve and transfer folders this document made
};

} // namespace particle::ui
