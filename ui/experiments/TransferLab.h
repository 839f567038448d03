#pragma once
// The Experiments tab's transfer lab: a particle trained on another project (the source, task A)
// reused on the project in the editor (the target, task B) with N labelled samples — frozen, with
// LoRA adapters, fine-tuned, against the same graph and the monolithic baseline from scratch
// (`particle transfer`, run as a separate process). A table of test accuracy (mean ± sd over the
// seeds) per mode and size, and a plot of accuracy against N with the spread as error bars, update
// as trials finish. The results stay in the transfer folder (transfer.json) and can be opened again.

#include <QDateTime>
#include <QGroupBox>

#include <functional>

class QCustomPlot;
class QLabel;
class QLineEdit;
class QProcess;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace particle {
struct TransferResult;
}

namespace particle::ui {

class GraphDocument;

class TransferLab : public QGroupBox {
  Q_OBJECT

public:
  // `runsFolder` says where a transfer folder is made (the Experiments tab's runs folder).
  TransferLab(GraphDocument *doc, std::function<QString()> runsFolder, QWidget *parent = nullptr);
  ~TransferLab() override;

  QLineEdit *sourceEdit() const { return source_; }
  QLineEdit *nodesEdit() const { return nodes_; }
  QLineEdit *sizesEdit() const { return sizes_; }
  QSpinBox *seedsSpin() const { return seeds_; }
  QSpinBox *epochsSpin() const { return epochs_; }
  QPushButton *runButton() const { return run_; }
  QPushButton *stopButton() const { return stop_; }
  QTableWidget *table() const { return table_; }
  QCustomPlot *plot() const { return plot_; }
  QLabel *statusLabel() const { return status_; }
  QString folder() const { return folder_; }
  bool running() const;
  // Shows a transfer folder written earlier (by this lab or `particle transfer`).
  void showFolder(const QString &folder);
  // Stops a transfer in progress (window closing); transfer.json keeps the finished trials.
  void shutdown();
  // Whether the transfer running writes in `folder`.
  bool uses(const QString &folder) const { return running() && folder == folder_; }
  // `from` moved to `to` (the project was saved): the folder shown follows.
  void relocate(const QString &from, const QString &to);

Q_SIGNALS:
  void transferFinished(bool ok);
  // A transfer folder was made in the runs folder.
  void folderMade(const QString &folder);

private:
  void start();
  void browseSource();
  void openFolder();
  void poll();
  void showResult(const TransferResult &r);
  void setStatus(const QString &text, bool error = false);

  GraphDocument *doc_;
  std::function<QString()> runsFolder_;
  QLineEdit *source_, *nodes_, *sizes_;
  QSpinBox *seeds_, *epochs_;
  QPushButton *browse_, *run_, *stop_, *open_;
  QLabel *status_;
  QTableWidget *table_;
  QCustomPlot *plot_;
  QProcess *process_ = nullptr;
  QTimer *poll_;
  QString folder_, output_;
  QDateTime seen_;
};

} // namespace particle::ui
