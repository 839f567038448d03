#include "experiments/ClaimsLab.h"

#include "base/Files.h"
#include "base/Json.h"
#include "charts/Charts.h"
#include "charts/CustomPlot.h"
#include "recipes/Search.h"
#include "training/EngineWorker.h"

#include <QDir>
#include <QFile>
#include <QGridLayout>
#include <QLabel>
#include <QProcess>
#include <QPushButton>

#include <algorithm>

namespace particle::ui {

ClaimsLab::ClaimsLab(QWidget *parent) : QGroupBox(tr("Claims lab"), parent) {
  auto *grid = new QGridLayout(this);
  button_ = new QPushButton(tr("Measure robustness"), this);
  button_->setObjectName("claimsButton");
  button_->setEnabled(false);
  button_->setToolTip(tr("For the selected trials (or the Pareto set, this graph and the monolithic baseline): "
                         "accuracy under Gaussian input noise, with each input part occluded, and the "
                         "generalisation gap per epoch"));
  label_ = new QLabel(this);
  label_->setObjectName("claimsLabel");
  label_->setToolTip(tr("Per model: test accuracy on clean inputs; the loss when the worst of the searched "
                        "graph's input parts is set to the training mean (every model over the same parts); "
                        "unique of total parameters (sharing makes them differ)"));
  label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  // One line per model measured: wrapped to the room there is, never widening the tab.
  label_->setWordWrap(true);
  label_->setMinimumWidth(1);
  noise_ = charts::makeAxesPlot(this, "noisePlot", tr("input noise σ (training-data standard deviations)"),
                                tr("test accuracy (%)"));
  noise_->xAxis->setRange(0, 1);
  noise_->yAxis->setRange(0, 100);
  charts::legendInside(noise_, Qt::AlignRight | Qt::AlignTop); // curves fall to the right
  gap_ = charts::makeAxesPlot(this, "gapPlot", tr("epoch"), tr("train − val accuracy (%)"));
  gap_->setToolTip(tr("Training accuracy (the running mean over each epoch) minus validation accuracy after it: "
                      "below zero early on, growing as a model starts to over-fit"));
  charts::legendInside(gap_, Qt::AlignRight | Qt::AlignBottom);
  gap_->xAxis->setRange(0.5, 5.5);
  gap_->yAxis->setRange(-5, 5);
  grid->addWidget(button_, 0, 0);
  grid->addWidget(label_, 0, 1, 1, 2);
  grid->addWidget(noise_, 1, 0, 1, 2);
  grid->addWidget(gap_, 1, 2);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(2, 1);
}

ClaimsLab::~ClaimsLab() {
  shutdown();
}

bool ClaimsLab::measuring() const {
  return process_ && process_->state() != QProcess::NotRunning;
}

void ClaimsLab::shutdown() {
  if (!measuring())
    return;
  process_->disconnect(this);
  process_->terminate();
  if (!process_->waitForFinished(5000)) {
    process_->kill();
    process_->waitForFinished(5000);
  }
}

void ClaimsLab::clear() {
  done_.clear();
  errors_.clear();
  draw();
}

void ClaimsLab::showMeasured(const QString &folder) {
  folder_ = folder;
  done_.clear();
  errors_.clear();
  for (const QString &name : QDir(folder + "/claims").entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
    if (QFile::exists(folder + "/claims/" + name + "/robustness.json"))
      done_ << name; // measured earlier: shown again
  draw();
}

void ClaimsLab::measure(const QString &folder, const QStringList &variants) {
  if (folder.isEmpty() || measuring())
    return;
  folder_ = folder;
  QStringList chosen = variants;
  if (chosen.isEmpty()) {
    try {
      const SearchFile search = readSearchFile((folder_ + "/search.json").toStdString());
      for (const std::string &name : search.pareto)
        chosen << QString::fromStdString(name);
      for (const SearchVariant &v : search.variants)
        if (v.original || (v.baseline && v.axis("width") == "w1"))
          chosen << QString::fromStdString(v.name);
    } catch (const std::exception &e) {
      label_->setText(tr("Cannot read the search: %1").arg(QString::fromUtf8(e.what())));
      return;
    }
  }
  chosen.removeDuplicates();
  queue_.clear();
  for (const auto &name : chosen)
    if (QFile::exists(folder_ + "/trials/" + name + "/checkpoint.pt"))
      queue_ << name;
  done_.clear();
  errors_.clear();
  button_->setEnabled(false);
  label_->setText(tr("Measuring %n variant(s)…", "", static_cast<int>(queue_.size())));
  next();
}

void ClaimsLab::next() {
  if (queue_.isEmpty()) {
    draw();
    Q_EMIT finished();
    return;
  }
  const QString name = queue_.takeFirst();
  process_ = new QProcess(this);
  process_->setProcessChannelMode(QProcess::MergedChannels);
  connect(process_, &QProcess::finished, this, [this, name, p = process_](int code, QProcess::ExitStatus) {
    if (code == 0)
      done_ << name;
    else
      errors_ << tr("%1: %2").arg(name, QString::fromUtf8(p->readAll()).trimmed().split('\n').last());
    p->deleteLater();
    process_ = nullptr;
    draw();
    next();
  });
  process_->start(EngineWorker::commandLineProgram(),
                  {"robustness", folder_ + "/variants/" + name + ".particle.json", "--checkpoint",
                   folder_ + "/trials/" + name + "/checkpoint.pt", "--parts-from", folder_ + "/source.particle.json",
                   "--samples", "2000", "--out", folder_ + "/claims/" + name});
}

void ClaimsLab::draw() {
  noise_->clearGraphs();
  gap_->clearGraphs();
  QStringList lines;
  int i = 0;
  double noiseLo = 100, gapLo = 0, gapHi = 0, sigmaHi = 0;
  int epochsHi = 1;
  for (const QString &name : done_) {
    Json r;
    try {
      r = Json::parse(readTextFile((folder_ + "/claims/" + name + "/robustness.json").toStdString()));
    } catch (const std::exception &) {
      continue;
    }
    const QColor color = charts::seriesColor(i++);
    QCPGraph *g = noise_->addGraph();
    g->setName(name);
    g->setPen(QPen(color, 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    for (const auto &n : r["noise"]) {
      g->addData(n["sigma"].get<double>(), 100 * n["accuracy"].get<double>());
      noiseLo = std::min(noiseLo, 100 * n["accuracy"].get<double>());
      sigmaHi = std::max(sigmaHi, n["sigma"].get<double>());
    }
    QCPGraph *h = gap_->addGraph();
    h->setName(name);
    h->setPen(QPen(color, 2));
    h->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6)); // a run of one epoch is one point
    for (const auto &e : r["generalisation_gap"]) {
      h->addData(e["epoch"].get<int>(), 100 * e["gap"].get<double>());
      gapLo = std::min(gapLo, 100 * e["gap"].get<double>());
      gapHi = std::max(gapHi, 100 * e["gap"].get<double>());
      epochsHi = std::max(epochsHi, e["epoch"].get<int>());
    }
    double worst = 0;
    for (const auto &o : r["occlusion"])
      worst = std::max(worst, o["drop"].get<double>());
    lines << tr("<b>%1</b>: clean %2 %, worst part occluded −%3 pts, %4 / %5 params unique")
                 .arg(name)
                 .arg(100 * r["clean_accuracy"].get<double>(), 0, 'f', 1)
                 .arg(100 * worst, 0, 'f', 1)
                 .arg(QLocale().toString(static_cast<qlonglong>(r["parameters"]["unique"].get<int64_t>())))
                 .arg(QLocale().toString(static_cast<qlonglong>(r["parameters"]["total"].get<int64_t>())));
  }
  noise_->xAxis->setRange(0, std::max(0.1, sigmaHi) * 1.05);
  noise_->yAxis->setRange(std::max(0.0, noiseLo - 5), 100);
  gap_->xAxis->setRange(0.5, epochsHi + 0.5);
  gap_->yAxis->setRange(gapLo - 2, gapHi + 2);
  noise_->replot();
  gap_->replot();
  noise_->legend->setVisible(noise_->graphCount() > 0);
  gap_->legend->setVisible(gap_->graphCount() > 0);
  if (!queue_.isEmpty() || process_)
    lines.prepend(tr("Measuring… %n to go", "", static_cast<int>(queue_.size()) + (process_ ? 1 : 0)));
  for (const QString &e : errors_)
    lines << QString("<span style=\"color:#d03030\">%1</span>").arg(e.toHtmlEscaped());
  label_->setText(lines.join("<br>"));
}

} // namespace particle::ui
