#include "experiments/TransferLab.h"

#include "charts/Charts.h"
#include "charts/CustomPlot.h"
#include "document/GraphDocument.h"
#include "graph/Catalogue.h"
#include "recipes/Processes.h"
#include "recipes/RunPlan.h"
#include "recipes/Transfer.h"
#include "training/EngineWorker.h"

#include <QCoreApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace particle::ui {

namespace {
// What the modes are called in the table and the legend.
QString modeLabel(const std::string &mode) {
  if (mode == "frozen")
    return QObject::tr("frozen particle");
  if (mode == "lora")
    return QObject::tr("LoRA");
  if (mode == "finetune")
    return QObject::tr("fine-tuned");
  if (mode == "scratch")
    return QObject::tr("same graph, scratch");
  return QObject::tr("monolithic, scratch");
}

// A mode's colour in the plot and the table: the baseline red as in the search's plot, scratch grey.
QColor modeColor(const std::string &mode) {
  if (mode == "monolithic")
    return charts::negativeColor();
  if (mode == "scratch")
    return charts::neutralColor();
  const auto &modes = transferModes();
  return charts::seriesColor(static_cast<int>(std::find(modes.begin(), modes.end(), mode) - modes.begin()));
}

// The first sub-model of the graph: the particle a transfer usually reuses.
QString firstSubModel(const Graph &graph) {
  for (const auto &n : graph.nodes)
    if (const NodeType *t = Catalogue::instance().find(n.type); t && t->role == NodeRole::SubModel)
      return QString::fromStdString(n.id);
  return {};
}
} // namespace

TransferLab::TransferLab(GraphDocument *doc, std::function<QString()> runsFolder, QWidget *parent)
    : QGroupBox(tr("Transfer: a particle trained on another project, reused here with few labels"), parent), doc_(doc),
      runsFolder_(std::move(runsFolder)) {
  auto *layout = new QVBoxLayout(this);
  source_ = new QLineEdit(this);
  source_->setObjectName("transferSource");
  source_->setPlaceholderText(tr("the source project (task A), e.g. transfer-fashion-a.particle.json"));
  source_->setToolTip(tr("The project whose trained particle is reused: it is trained first (task A); the project "
                         "in the Design tab is the target (task B)"));
  browse_ = new QPushButton(tr("Browse…"), this);
  browse_->setObjectName("transferBrowse");
  nodes_ = new QLineEdit(this);
  nodes_->setObjectName("transferNodes");
  nodes_->setToolTip(tr("The target's nodes that take the particle, each ID or ID=SOURCE_ID; their share groups "
                        "take it too"));
  nodes_->setMaximumWidth(140);
  sizes_ = new QLineEdit("50,200,1000,5000", this);
  sizes_->setObjectName("transferSizes");
  sizes_->setToolTip(tr("Labelled target samples per trial, drawn per seed (the validation and test splits stay)"));
  sizes_->setMaximumWidth(160);
  seeds_ = new QSpinBox(this);
  seeds_->setObjectName("transferSeeds");
  seeds_->setRange(1, 20);
  seeds_->setValue(3);
  seeds_->setToolTip(tr("Seeds per size: each draws other samples and starts other weights"));
  epochs_ = new QSpinBox(this);
  epochs_->setObjectName("transferEpochs");
  epochs_->setRange(0, 1000);
  epochs_->setSpecialValueText(tr("project's"));
  epochs_->setToolTip(tr("Epochs of each trial (and of the source run)"));
  run_ = new QPushButton(tr("Run transfer"), this);
  run_->setObjectName("runTransfer");
  run_->setToolTip(tr("Trains the source, then the target in five modes at every size and seed, each trial as its "
                      "own process"));
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setObjectName("stopTransfer");
  stop_->setEnabled(false);
  open_ = new QPushButton(tr("Open transfer…"), this);
  open_->setObjectName("openTransfer");
  open_->setToolTip(tr("Shows a transfer folder written earlier, by this lab or by `particle transfer`"));
  auto *row1 = new QHBoxLayout;
  row1->addWidget(new QLabel(tr("Source"), this));
  row1->addWidget(source_, 1);
  row1->addWidget(browse_);
  row1->addWidget(open_);
  layout->addLayout(row1);
  auto *row2 = new QHBoxLayout;
  for (auto [label, field] : {std::pair<QString, QWidget *>{tr("Nodes"), nodes_},
                              {tr("Sizes"), sizes_},
                              {tr("Seeds"), seeds_},
                              {tr("Epochs"), epochs_}}) {
    row2->addWidget(new QLabel(label, this));
    row2->addWidget(field);
    row2->addSpacing(8);
  }
  row2->addStretch(1);
  row2->addWidget(run_);
  row2->addWidget(stop_);
  layout->addLayout(row2);
  status_ = new QLabel(tr("Pick the source project; the graph in the Design tab is the target."), this);
  status_->setObjectName("transferStatus");
  status_->setWordWrap(true);
  status_->setMinimumWidth(1);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(status_);
  auto *split = new QSplitter(Qt::Horizontal, this);
  table_ = new QTableWidget(0, 2, split);
  table_->setObjectName("transferTable");
  table_->setHorizontalHeaderLabels({tr("Mode"), tr("Trained")});
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setToolTip(tr("Test accuracy, mean ± sd over the seeds that finished, per mode and number of labelled "
                        "samples; \"trained\" is the parameters each mode trains"));
  plot_ = charts::makeAxesPlot(split, "transferPlot", tr("labelled target samples N"), tr("test accuracy (%)"));
  plot_->xAxis->setScaleType(QCPAxis::stLogarithmic);
  plot_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  plot_->xAxis->setRange(30, 8000);
  plot_->yAxis->setRange(0, 100);
  plot_->setToolTip(tr("Test accuracy against N per mode, coloured as in the table; the bars are ± one standard "
                       "deviation over the seeds"));
  split->addWidget(table_);
  split->addWidget(plot_);
  // The table and the plot take the height the tab has; asking for their preferred height made
  // the Experiments page scroll in a 1024×700 window.
  split->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Ignored);
  split->setMinimumHeight(150); // what the plot needs to draw its axes
  layout->addWidget(split, 1);

  poll_ = new QTimer(this);
  poll_->setInterval(500);
  connect(poll_, &QTimer::timeout, this, &TransferLab::poll);
  connect(run_, &QPushButton::clicked, this, &TransferLab::start);
  connect(stop_, &QPushButton::clicked, this, [this] {
    if (running())
      process_->terminate();
  });
  connect(browse_, &QPushButton::clicked, this, &TransferLab::browseSource);
  connect(open_, &QPushButton::clicked, this, &TransferLab::openFolder);
  // A node the graph no longer has (another project) gives way to its first sub-model.
  const auto suggest = [this] {
    const std::string given = nodes_->text().trimmed().section('=', 0, 0).toStdString();
    if (given.empty() || !doc_->graph().find(given))
      nodes_->setText(firstSubModel(doc_->graph()));
  };
  connect(doc_, &GraphDocument::modelReset, this, suggest);
  suggest();
}

TransferLab::~TransferLab() {
  shutdown();
}

bool TransferLab::running() const {
  return process_ && process_->state() != QProcess::NotRunning;
}

void TransferLab::shutdown() {
  if (!running())
    return;
  process_->disconnect(this);
  process_->terminate(); // the transfer ends its trial and keeps transfer.json
  if (!process_->waitForFinished(5000)) {
    process_->kill();
    process_->waitForFinished(5000);
  }
}

void TransferLab::setStatus(const QString &text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? "color: #d03030" : QString());
}

void TransferLab::browseSource() {
  const QString file =
      QFileDialog::getOpenFileName(this, tr("The source project (task A)"), QFileInfo(doc_->filePath()).absolutePath(),
                                   tr("Particle Studio projects (*.particle.json)"));
  if (!file.isEmpty())
    source_->setText(file);
}

void TransferLab::openFolder() {
  if (running())
    return;
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a transfer folder"),
                                                        folder_.isEmpty() ? runsFolder_() : folder_);
  if (!dir.isEmpty())
    showFolder(dir);
}

void TransferLab::showFolder(const QString &folder) {
  if (!QFile::exists(folder + "/transfer.json")) {
    setStatus(tr("%1 holds no transfer.json: not a transfer folder").arg(folder), true);
    return;
  }
  folder_ = folder;
  seen_ = QDateTime();
  poll();
}

void TransferLab::start() {
  if (running())
    return;
  const QString program = EngineWorker::commandLineProgram();
  if (program.isEmpty()) {
    setStatus(tr("The transfer runs the `particle` command-line program, which is neither next to the app nor on "
                 "PATH (set PARTICLE_CLI to it)."),
              true);
    return;
  }
  const QString source = source_->text().trimmed();
  if (source.isEmpty() || !QFileInfo(source).isFile()) {
    setStatus(tr("Pick the source project (task A): %1 is not a file.").arg(source.isEmpty() ? tr("none") : source),
              true);
    return;
  }
  if (nodes_->text().trimmed().isEmpty()) {
    setStatus(tr("Name the target's nodes that take the particle (Nodes)."), true);
    return;
  }
  if (!doc_->validation().ok()) {
    setStatus(tr("The graph has problems; fix them first (Problems panel)."), true);
    return;
  }
  QString target;
  try {
    folder_ = QString::fromStdString(
        newRunFolder(runsFolder_().toStdString(), "transfer-" + safeRunName(doc_->project().name)));
    Q_EMIT folderMade(folder_);
    target = folder_ + "/target.particle.json";
    doc_->saveCopyTo(target);
  } catch (const std::exception &e) {
    setStatus(tr("Cannot start: %1").arg(QString::fromUtf8(e.what())), true);
    return;
  }
  table_->setRowCount(0);
  plot_->clearGraphs();
  plot_->clearPlottables();
  plot_->replot();
  seen_ = QDateTime();
  output_.clear();
  QStringList args = {"transfer",
                      source,
                      target,
                      "--nodes",
                      nodes_->text().trimmed(),
                      "--sizes",
                      sizes_->text().remove(' '),
                      "--seeds",
                      QString::number(seeds_->value()),
                      "--out",
                      folder_,
                      "--force"};
  if (epochs_->value() > 0)
    args << "--epochs" << QString::number(epochs_->value()) << "--source-epochs" << QString::number(epochs_->value());
  process_ = new QProcess(this);
  process_->setProcessChannelMode(QProcess::MergedChannels);
  connect(process_, &QProcess::readyRead, this, [this] {
    output_ += QString::fromUtf8(process_->readAll());
    if (output_.size() > 20000)
      output_ = output_.right(10000);
    // The latest progress line ("[3/60] lora N=200 seed 1 ... test 81.20%, 12s").
    const QStringList lines = output_.trimmed().split('\n');
    if (!lines.isEmpty())
      setStatus(tr("Running: %1").arg(lines.back().trimmed()));
  });
  connect(process_, &QProcess::finished, this, [this, p = process_](int code, QProcess::ExitStatus status) {
    output_ += QString::fromUtf8(p->readAll());
    poll_->stop();
    seen_ = QDateTime();
    poll();
    const QStringList lines = output_.trimmed().split('\n');
    const bool ok = status == QProcess::NormalExit && code == 0;
    if (ok)
      setStatus(
          tr("Transfer finished: %1 — results in %2").arg(lines.filter("trial(s) in").value(0).trimmed(), folder_));
    else if (status == QProcess::CrashExit || code == 15 || code == 143)
      setStatus(tr("Transfer stopped; what finished is in %1").arg(folder_));
    else
      setStatus(tr("The transfer failed: %1").arg(lines.value(lines.size() - 1)), true);
    run_->setEnabled(true);
    stop_->setEnabled(false);
    p->deleteLater();
    process_ = nullptr;
    Q_EMIT transferFinished(ok);
  });
  // The transfer, and the trials it starts, end with the app.
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QString::fromLatin1(kParentPidVariable), QString::number(QCoreApplication::applicationPid()));
  process_->setProcessEnvironment(env);
  process_->start(program, args);
  run_->setEnabled(false);
  stop_->setEnabled(true);
  setStatus(tr("Training the source, then the trials; the table fills as they finish."));
  poll_->start();
}

void TransferLab::relocate(const QString &from, const QString &to) {
  if (folder_ != from && !folder_.startsWith(from + "/"))
    return;
  folder_ = to + folder_.mid(from.size());
  seen_ = QDateTime();
  status_->setText(status_->text().replace(from, to));
}

void TransferLab::poll() {
  const QFileInfo file(folder_ + "/transfer.json");
  if (!file.exists() || file.lastModified() == seen_)
    return;
  seen_ = file.lastModified();
  try {
    showResult(readTransferFile(file.absoluteFilePath().toStdString()));
  } catch (const std::exception &e) {
    seen_ = QDateTime(); // written while read: next time
    if (!running())
      setStatus(tr("Cannot show this transfer: %1").arg(QString::fromUtf8(e.what())), true);
  }
}

void TransferLab::showResult(const TransferResult &r) {
  QStringList header = {tr("Mode"), tr("Trained")};
  for (int64_t n : r.sizes)
    header << QString("N=%1").arg(n);
  table_->setColumnCount(static_cast<int>(header.size()));
  table_->setHorizontalHeaderLabels(header);
  table_->setRowCount(static_cast<int>(r.modes.size()));
  const auto table = r.table();
  plot_->clearGraphs();
  plot_->clearPlottables();
  double lo = 100, hi = 0;
  for (std::size_t m = 0; m < r.modes.size(); ++m) {
    const std::string &mode = r.modes[m];
    const auto trained = r.trainedParameters.find(mode);
    const int row = static_cast<int>(m);
    auto *name = new QTableWidgetItem(modeLabel(mode));
    name->setData(Qt::DecorationRole, modeColor(mode)); // the plot's legend
    table_->setItem(row, 0, name);
    table_->setItem(row, 1,
                    new QTableWidgetItem(trained == r.trainedParameters.end()
                                             ? QString()
                                             : QLocale().toString(static_cast<qlonglong>(trained->second))));
    QCPGraph *g = plot_->addGraph();
    g->setName(modeLabel(mode));
    g->setProperty("mode", QString::fromStdString(mode));
    const QColor color = modeColor(mode);
    g->setPen(QPen(color, 1.8));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, 6));
    auto *bars = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
    bars->removeFromLegend();
    bars->setPen(QPen(color, 1.2));
    QVector<double> errors;
    int column = 2;
    for (const auto &c : table) {
      if (c.mode != mode)
        continue;
      QString text = "–";
      if (c.runs > 0) {
        text = QString::number(100 * c.mean, 'f', 1) + (c.runs > 1 ? " ± " + QString::number(100 * c.sd, 'f', 1) : "");
        g->addData(static_cast<double>(c.size), 100 * c.mean);
        errors << 100 * c.sd;
        lo = std::min(lo, 100 * (c.mean - c.sd));
        hi = std::max(hi, 100 * (c.mean + c.sd));
      }
      auto *item = new QTableWidgetItem(text);
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      QStringList seeds;
      for (double v : c.values)
        seeds << QString::number(100 * v, 'f', 1);
      item->setToolTip(tr("%n seed(s): %1", "", c.runs).arg(seeds.join(", ")));
      table_->setItem(row, column++, item);
    }
    bars->setDataPlottable(g);
    bars->setData(errors);
  }
  if (!r.sizes.empty()) {
    const auto [minN, maxN] = std::minmax_element(r.sizes.begin(), r.sizes.end());
    plot_->xAxis->setRange(static_cast<double>(*minN) / 1.5, static_cast<double>(*maxN) * 1.5);
  }
  if (hi > lo)
    plot_->yAxis->setRange(std::max(0.0, lo - 5), std::min(100.0, hi + 5));
  plot_->replot();
  if (!running())
    setStatus(
        tr("Transfer %1 → %2 in %3: %n trial(s); source test accuracy %4 %.", "", static_cast<int>(r.trials.size()))
            .arg(QString::fromStdString(r.source), QString::fromStdString(r.target), folder_)
            .arg(100 * r.sourceTestAccuracy, 0, 'f', 1));
}

} // namespace particle::ui
