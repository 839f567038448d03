#include "explain/ExplainPanel.h"

#include "document/GraphDocument.h"
#include "training/CustomPlot.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTextStream>
#include <QVBoxLayout>

#include <cmath>

namespace particle::ui {

namespace {
constexpr int kSampleViewSide = 280;

QCustomPlot *plot(const QString &title, QWidget *parent) {
  auto *p = new QCustomPlot(parent);
  p->setMinimumSize(240, 170);
  p->plotLayout()->insertRow(0);
  p->plotLayout()->addElement(0, 0, new QCPTextElement(p, title, QFont(p->font().family(), 9, QFont::Bold)));
  p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  return p;
}

QSharedPointer<QCPAxisTickerText> labels(const QStringList &names) {
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int i = 0; i < names.size(); ++i)
    ticker->addTick(i, names[i]);
  return ticker;
}
} // namespace

ExplainPanel::ExplainPanel(GraphDocument *doc, QWidget *parent) : QWidget(parent), doc_(doc) {
  controller_ = new ExplainController(this);
  method_ = new QComboBox(this);
  method_->addItems({"shapley", "ablation", "gradxact"});
  method_->setToolTip(tr("Shapley: exact over branch coalitions; ablation: f(x) − f(x without the branch); "
                         "gradxact: gradient × (activation − baseline)"));
  target_ = new QComboBox(this);
  target_->addItems({"predicted", "true"});
  baseline_ = new QComboBox(this);
  baseline_->addItems({"mean", "zero", "background"});
  count_ = new QSpinBox(this);
  count_->setRange(1, 10000);
  count_->setValue(200);
  compute_ = new QPushButton(tr("Explain"), this);
  load_ = new QPushButton(tr("Checkpoint…"), this);
  export_ = new QPushButton(tr("Export…"), this);
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(180);
  status_ = new QLabel(tr("Train a model (Train tab) or pick a checkpoint, then Explain."), this);
  auto *bar = new QHBoxLayout;
  for (auto [label, w] : std::initializer_list<std::pair<QString, QWidget *>>{
           {tr("method"), method_}, {tr("target"), target_}, {tr("baseline"), baseline_}, {tr("samples"), count_}}) {
    bar->addWidget(new QLabel(label, this));
    bar->addWidget(w);
  }
  bar->addWidget(compute_);
  bar->addWidget(load_);
  bar->addWidget(progress_);
  bar->addWidget(export_);
  bar->addStretch();

  samples_ = new QListWidget(this);
  samples_->setViewMode(QListView::IconMode);
  samples_->setIconSize(QSize(42, 42));
  samples_->setGridSize(QSize(64, 72));
  samples_->setResizeMode(QListView::Adjust);
  samples_->setMovement(QListView::Static);
  samples_->setMaximumWidth(240);

  sampleView_ = new QLabel(this);
  sampleView_->setMinimumSize(kSampleViewSide, kSampleViewSide);
  sampleView_->setAlignment(Qt::AlignCenter);
  branches_ = new QListWidget(this);
  branches_->setMaximumHeight(130);
  branches_->setToolTip(tr("Click a branch: its saliency is drawn over the sample and its node is selected in "
                           "the editor."));
  auto *center = new QVBoxLayout;
  center->addWidget(sampleView_, 1);
  center->addWidget(new QLabel(tr("Branches (φ for this sample, saliency δ)"), this));
  center->addWidget(branches_);

  waterfall_ = plot(tr("Contributions: baseline → output"), this);
  weights_ = plot(tr("Combiner weights"), this);
  heatmap_ = plot(tr("Class × branch mean |φ|"), this);
  attentionPick_ = new QComboBox(this);
  attentionView_ = new QLabel(this);
  attentionView_->setMinimumSize(120, 120);
  attentionView_->setWordWrap(true);
  attentionView_->setAlignment(Qt::AlignCenter);
  rolloutView_ = new QLabel(this);
  rolloutView_->setMinimumSize(120, 120);
  rolloutView_->setAlignment(Qt::AlignCenter);
  auto *attentionBox = new QGroupBox(tr("Attention (layer/head) and rollout"), this);
  auto *attentionLayout = new QGridLayout(attentionBox);
  attentionLayout->addWidget(attentionPick_, 0, 0, 1, 2);
  attentionLayout->addWidget(attentionView_, 1, 0);
  attentionLayout->addWidget(rolloutView_, 1, 1);

  auto *charts = new QGridLayout;
  charts->addWidget(waterfall_, 0, 0);
  charts->addWidget(weights_, 0, 1);
  charts->addWidget(heatmap_, 1, 0);
  charts->addWidget(attentionBox, 1, 1);

  auto *body = new QHBoxLayout;
  body->addWidget(samples_);
  body->addLayout(center, 2);
  body->addLayout(charts, 3);
  auto *layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(status_);
  layout->addLayout(body, 1);

  ExplainWorker *worker = controller_->worker();
  connect(worker, &ExplainWorker::progress, this, [this](int percent, const QString &stage) {
    progress_->setValue(percent);
    progress_->setFormat(stage);
  });
  connect(worker, &ExplainWorker::computed, this, &ExplainPanel::onComputed);
  connect(worker, &ExplainWorker::detailed, this, &ExplainPanel::onDetail);
  connect(compute_, &QPushButton::clicked, this, &ExplainPanel::compute);
  connect(load_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Checkpoint"), QString(), tr("Checkpoints (*.pt)"));
    if (!path.isEmpty())
      setCheckpoint(path);
  });
  connect(export_, &QPushButton::clicked, this, [this] {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export"), QString(), tr("PNG image (*.png);;CSV (*.csv)"));
    if (!path.isEmpty())
      exportTo(path);
  });
  connect(samples_, &QListWidget::currentRowChanged, this, &ExplainPanel::selectSample);
  connect(branches_, &QListWidget::currentRowChanged, this, [this](int row) {
    drawSample();
    if (row >= 0 && row < result_.branchNodes.size())
      Q_EMIT branchActivated(result_.branchNodes[row]);
  });
  connect(attentionPick_, &QComboBox::currentIndexChanged, this, &ExplainPanel::drawAttention);
  compute_->setEnabled(false);
}

void ExplainPanel::setCheckpoint(const QString &path) {
  checkpoint_ = path;
  compute_->setEnabled(!path.isEmpty());
  status_->setText(tr("Checkpoint: %1").arg(path));
}

void ExplainPanel::compute() {
  if (checkpoint_.isEmpty())
    return;
  ExplainRequest request;
  request.projectText = QString::fromStdString(doc_->text());
  request.projectPath =
      doc_->filePath().isEmpty() ? QFileInfo(checkpoint_).absolutePath() + "/project.particle.json" : doc_->filePath();
  request.checkpoint = checkpoint_;
  request.method = method_->currentText();
  request.baseline = baseline_->currentText();
  request.target = target_->currentText();
  request.samples = count_->value();
  compute_->setEnabled(false);
  Q_EMIT controller_->requestCompute(request);
}

void ExplainPanel::onComputed(const ExplainResult &r) {
  compute_->setEnabled(true);
  result_ = r;
  if (!r.error.isEmpty()) {
    status_->setText(tr("Cannot explain: %1").arg(r.error));
    return;
  }
  status_->setText(tr("%1 over %2 test samples, combine '%3': completeness max error %4")
                       .arg(r.method)
                       .arg(r.samples)
                       .arg(r.combine)
                       .arg(r.completenessMaxError, 0, 'g', 3));
  samples_->clear();
  for (int i = 0; i < r.samples; ++i) {
    auto *item = new QListWidgetItem(QString("%1→%2").arg(r.labels[i]).arg(r.predictions[i]), samples_);
    item->setToolTip(tr("sample #%1: true class %2, predicted %3").arg(i).arg(r.labels[i]).arg(r.predictions[i]));
    if (r.isImage)
      item->setIcon(QIcon(QPixmap::fromImage(r.images[i].scaled(42, 42))));
    if (r.labels[i] != r.predictions[i])
      item->setForeground(QColor(0xd0, 0x30, 0x30));
  }
  drawHeatmap();
  samples_->setCurrentRow(0);
  Q_EMIT resultReady();
}

void ExplainPanel::selectSample(int index) {
  if (index < 0 || index >= result_.samples)
    return;
  current_ = index;
  const int k = result_.branches.size();
  branches_->blockSignals(true);
  const int keep = branches_->currentRow();
  branches_->clear();
  double total = 0;
  for (int b = 0; b < k; ++b)
    total += std::abs(result_.phi[index * k + b]);
  for (int b = 0; b < k; ++b) {
    auto *item = new QListWidgetItem(
        QString("%1   φ = %2").arg(result_.branches[b]).arg(result_.phi[index * k + b], 0, 'f', 3), branches_);
    // A high weight is not a high contribution (DESIGN.md §5): flag where they disagree.
    if (!result_.weights.isEmpty() && total > 0) {
      const double share = std::abs(result_.phi[index * k + b]) / total, weight = result_.weights[index * k + b];
      const double fair = 1.0 / k;
      if ((weight < 0.5 * fair && share > fair) || (weight > fair && share < 0.5 * fair)) {
        item->setData(Qt::UserRole, true);
        item->setToolTip(tr("Weight %1 but %2% of the contribution: the combiner's weight and the branch's "
                            "effect on the output disagree.")
                             .arg(weight, 0, 'f', 2)
                             .arg(100 * share, 0, 'f', 0));
        item->setForeground(QColor(0xd0, 0x7a, 0x1f));
      }
    }
  }
  branches_->setCurrentRow(keep >= 0 && keep < k ? keep : 0);
  branches_->blockSignals(false);
  drawWaterfall();
  drawSample();
  Q_EMIT controller_->requestDetail(index);
}

void ExplainPanel::onDetail(const SampleDetail &d) {
  if (d.index != current_)
    return;
  detail_ = d;
  const int k = result_.branches.size();
  for (int b = 0; b < k && b < d.saliencyDelta.size() && b < branches_->count(); ++b)
    branches_->item(b)->setText(
        QString("%1   φ = %2   δ = %3%4")
            .arg(result_.branches[b])
            .arg(result_.phi[d.index * k + b], 0, 'f', 3)
            .arg(d.saliencyDelta[b], 0, 'g', 2)
            .arg(branches_->item(b)->data(Qt::UserRole).toBool() ? tr("   ⚑ weight ≠ effect") : QString()));
  attentionPick_->blockSignals(true);
  attentionPick_->clear();
  for (int n = 0; n < d.attentionNodes.size(); ++n)
    for (int m = 0; m < d.attention[n].size(); ++m)
      attentionPick_->addItem(QString("%1 · map %2").arg(d.attentionNodes[n]).arg(m), QPoint(n, m));
  attentionPick_->blockSignals(false);
  drawSample();
  drawAttention();
  Q_EMIT detailReady();
}

void ExplainPanel::drawSample() {
  if (current_ < 0 || !result_.isImage) {
    sampleView_->setText(result_.isImage || result_.samples == 0 ? QString() : tr("(vector data: see the charts)"));
    return;
  }
  QImage canvas(kSampleViewSide, kSampleViewSide, QImage::Format_ARGB32);
  canvas.fill(Qt::black);
  QPainter p(&canvas);
  p.drawImage(canvas.rect(), result_.images[current_]);
  const int branch = branches_->currentRow();
  if (detail_.index == current_ && branch >= 0 && branch < detail_.saliency.size())
    p.drawImage(canvas.rect(), detail_.saliency[branch]);
  if (result_.gridRows > 0) {
    p.setPen(QPen(QColor(255, 255, 255, 160), 1, Qt::DashLine));
    for (int r = 1; r < result_.gridRows; ++r)
      p.drawLine(0, r * kSampleViewSide / result_.gridRows, kSampleViewSide, r * kSampleViewSide / result_.gridRows);
    for (int c = 1; c < result_.gridCols; ++c)
      p.drawLine(c * kSampleViewSide / result_.gridCols, 0, c * kSampleViewSide / result_.gridCols, kSampleViewSide);
  }
  p.setPen(Qt::white);
  p.drawText(
      canvas.rect().adjusted(6, 4, -6, -4), Qt::AlignTop | Qt::AlignLeft,
      tr("#%1  true %2 · predicted %3").arg(current_).arg(result_.labels[current_]).arg(result_.predictions[current_]));
  p.end();
  sampleView_->setPixmap(QPixmap::fromImage(canvas));
}

void ExplainPanel::drawWaterfall() {
  waterfall_->clearPlottables();
  weights_->clearPlottables();
  const int k = result_.branches.size();
  if (current_ < 0 || k == 0)
    return;
  // Bars from the baseline output to f(x): one step per branch, then the total.
  QStringList names = {tr("baseline")};
  names << result_.branches << tr("output");
  double level = result_.fBaseline[current_];
  // Grey bars: baseline and output; floating boxes: each branch's step (green up, red down).
  auto *ends = new QCPBars(waterfall_->xAxis, waterfall_->yAxis);
  ends->setBrush(QColor(0x7f, 0x7f, 0x7f));
  ends->setWidth(0.6);
  ends->addData(0, level);
  double lo = std::min(0.0, level), hi = std::max(0.0, level);
  for (int b = 0; b < k; ++b) {
    level += result_.phi[current_ * k + b];
    lo = std::min(lo, level);
    hi = std::max(hi, level);
  }
  ends->addData(k + 1, result_.fx[current_]);
  waterfall_->clearItems();
  level = result_.fBaseline[current_];
  for (int b = 0; b < k; ++b) {
    const double phi = result_.phi[current_ * k + b];
    auto *box = new QCPItemRect(waterfall_);
    box->topLeft->setCoords(b + 1 - 0.3, std::max(level, level + phi));
    box->bottomRight->setCoords(b + 1 + 0.3, std::min(level, level + phi));
    box->setBrush(phi >= 0 ? QColor(0x2c, 0xa0, 0x2c) : QColor(0xd6, 0x27, 0x28));
    box->setPen(Qt::NoPen);
    level += phi;
  }
  waterfall_->xAxis->setTicker(labels(names));
  waterfall_->xAxis->setTickLabelRotation(30);
  waterfall_->xAxis->setRange(-0.6, k + 1.6);
  const double pad = 0.1 * std::max(1e-6, hi - lo);
  waterfall_->yAxis->setRange(lo - pad, hi + pad);
  waterfall_->yAxis->setLabel(tr("logit of class %1").arg(result_.targets[current_]));
  waterfall_->replot();
  if (!result_.weights.isEmpty()) {
    auto *bars = new QCPBars(weights_->xAxis, weights_->yAxis);
    bars->setBrush(QColor(0xd0, 0x7a, 0x1f));
    for (int b = 0; b < k; ++b)
      bars->addData(b, result_.weights[current_ * k + b]);
    weights_->xAxis->setTicker(labels(result_.branches));
    weights_->xAxis->setRange(-0.6, k - 0.4);
    weights_->yAxis->setRange(0, 1);
    weights_->yAxis->setLabel(tr("weight"));
  }
  weights_->replot();
}

void ExplainPanel::drawHeatmap() {
  heatmap_->clearPlottables();
  const int k = result_.branches.size(), c = result_.classes;
  if (k == 0 || c == 0)
    return;
  auto *map = new QCPColorMap(heatmap_->xAxis, heatmap_->yAxis);
  map->data()->setSize(k, c);
  map->data()->setRange(QCPRange(0, k - 1), QCPRange(0, c - 1));
  double top = 0;
  for (int cls = 0; cls < c; ++cls)
    for (int b = 0; b < k; ++b) {
      map->data()->setCell(b, cls, result_.perClass[cls * k + b]);
      top = std::max(top, result_.perClass[cls * k + b]);
    }
  map->setGradient(QCPColorGradient::gpThermal);
  map->setDataRange(QCPRange(0, std::max(top, 1e-9)));
  map->setInterpolate(false);
  QStringList shareNames;
  for (int b = 0; b < k; ++b)
    shareNames << QString("%1 %2%").arg(result_.branches[b]).arg(100 * result_.shares[b], 0, 'f', 0);
  heatmap_->xAxis->setTicker(labels(shareNames));
  heatmap_->xAxis->setRange(-0.5, k - 0.5);
  heatmap_->yAxis->setRange(-0.5, c - 0.5);
  heatmap_->yAxis->setRangeReversed(true);
  heatmap_->yAxis->setLabel(tr("class"));
  heatmap_->replot();
}

void ExplainPanel::drawAttention() {
  const QPoint pick = attentionPick_->currentData().toPoint();
  if (attentionPick_->count() == 0 || pick.x() >= detail_.attention.size()) {
    attentionView_->setText(tr("no Attention sub-model"));
    rolloutView_->clear();
    return;
  }
  const QImage &map = detail_.attention[pick.x()][pick.y()];
  attentionView_->setPixmap(QPixmap::fromImage(map.scaled(140, 140, Qt::KeepAspectRatio, Qt::FastTransformation)));
  attentionView_->setToolTip(tr("attention rows = query tokens, columns = key tokens"));
  rolloutView_->setPixmap(
      QPixmap::fromImage(detail_.rollout[pick.x()].scaled(140, 140, Qt::KeepAspectRatio, Qt::FastTransformation)));
  rolloutView_->setToolTip(tr("rollout: importance of each token (patch) for the sub-model's output"));
}

bool ExplainPanel::exportTo(const QString &path) {
  if (path.endsWith(".csv", Qt::CaseInsensitive)) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
      return false;
    QTextStream out(&f);
    out << "sample,label,prediction,target,f_x,f_baseline";
    for (const auto &b : result_.branches)
      out << ",phi_" << b;
    out << "\n";
    const int k = result_.branches.size();
    for (int i = 0; i < result_.samples; ++i) {
      out << i << "," << result_.labels[i] << "," << result_.predictions[i] << "," << result_.targets[i] << ","
          << result_.fx[i] << "," << result_.fBaseline[i];
      for (int b = 0; b < k; ++b)
        out << "," << result_.phi[i * k + b];
      out << "\n";
    }
    return true;
  }
  return grab().save(path);
}

} // namespace particle::ui
