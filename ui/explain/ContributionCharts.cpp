#include "explain/ContributionCharts.h"

#include "charts/Charts.h"
#include "charts/CustomPlot.h"

#include <QComboBox>
#include <QEvent>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QToolTip>

#include <cmath>

namespace particle::ui {

namespace {
QSharedPointer<QCPAxisTickerText> labels(const QStringList &names) {
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int i = 0; i < names.size(); ++i)
    ticker->addTick(i, names[i]);
  return ticker;
}

// The x axis's text labels upright where each clears its neighbours between their ticks, slanted
// (40°) where they would overlap but slanted ones clear each other, on end (90°) otherwise. Decided
// from the labels side by side, not their total width (a long label beside a long one overlaps
// where short ones at the ends leave room in total), at the plot's width now; whether it changed.
bool fitTickLabels(QCustomPlot *plot) {
  const auto ticker = plot->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
  if (!ticker || ticker->ticks().size() < 2)
    return false;
  const QFontMetrics metrics(plot->xAxis->tickLabelFont());
  const QMargins margins = plot->axisRect()->margins();
  const double perTick = (plot->width() - margins.left() - margins.right()) / plot->xAxis->range().size();
  bool upright = true;
  double previous = -1;
  for (const QString &name : ticker->ticks()) {
    const double width = metrics.horizontalAdvance(name);
    if (previous >= 0 && (previous + width) / 2 + 8 > perTick)
      upright = false;
    previous = width;
  }
  const double rotation = upright ? 0 : perTick * std::sin(40 * M_PI / 180) >= metrics.height() + 2 ? 40 : 90;
  if (plot->xAxis->tickLabelRotation() == rotation)
    return false;
  plot->xAxis->setTickLabelRotation(rotation);
  return true;
}
} // namespace

ContributionCharts::ContributionCharts(QWidget *parent) : QWidget(parent) {
  waterfall_ = charts::makePlot(this, "waterfallPlot", tr("Contributions: baseline → output"));
  weights_ = charts::makePlot(this, "weightsPlot", tr("Combiner weights for this sample"));
  heatmap_ = charts::makePlot(this, "heatmapPlot", tr("Mean |φ| per class and branch"));
  attentionPick_ = new QComboBox(this);
  attentionView_ = new QLabel(this);
  attentionView_->setMinimumSize(110, 110);
  attentionView_->setWordWrap(true);
  attentionView_->setAlignment(Qt::AlignCenter);
  rolloutView_ = new QLabel(this);
  rolloutView_->setMinimumSize(110, 110);
  rolloutView_->setAlignment(Qt::AlignCenter);
  attentionBox_ = new QGroupBox(tr("Attention (layer · head) and rollout per token"), this);
  auto *attentionLayout = new QGridLayout(attentionBox_);
  attentionLayout->addWidget(attentionPick_, 0, 0, 1, 2);
  attentionLayout->addWidget(attentionView_, 1, 0);
  attentionLayout->addWidget(rolloutView_, 1, 1);
  attentionBox_->hide();

  grid_ = new QGridLayout(this);
  grid_->setContentsMargins(0, 0, 0, 0);
  // The combiner's weights only when a result has them (attention, gate): until then the waterfall
  // takes the row (an empty weights chart showed before the first Explain, then went).
  grid_->addWidget(waterfall_, 0, 0, 1, 2);
  grid_->addWidget(weights_, 0, 1);
  weights_->hide();
  grid_->addWidget(heatmap_, 1, 0, 1, 2);
  grid_->addWidget(attentionBox_, 2, 0, 1, 2);
  connect(attentionPick_, &QComboBox::currentIndexChanged, this, &ContributionCharts::drawAttention);
  // A narrower window (or splitter) can crowd labels that fit when they were drawn.
  waterfall_->installEventFilter(this);
  weights_->installEventFilter(this);
  // A cell's colour gives its value only roughly: hovered, it says its value, class and branch.
  connect(heatmap_, &QCustomPlot::mouseMove, this, [this](QMouseEvent *e) {
    const CombineResult *c = combineResult();
    const int k = c && heatmap_->plottableCount() > 0 ? static_cast<int>(c->branches.size()) : 0;
    const int b = qRound(heatmap_->xAxis->pixelToCoord(e->position().x()));
    const int cls = qRound(heatmap_->yAxis->pixelToCoord(e->position().y()));
    if (!heatmap_->axisRect()->rect().contains(e->position().toPoint()) || b < 0 || b >= k || cls < 0 ||
        cls >= result_.classes) {
      QToolTip::hideText();
      return;
    }
    QToolTip::showText(e->globalPosition().toPoint(),
                       tr("mean |φ| %1\n%2 %3\nbranch %4")
                           .arg(c->perClass[cls * k + b], 0, 'f', 3)
                           .arg(heatmap_->yAxis->label(), result_.className(cls), c->branchLabel(b)),
                       heatmap_);
  });
}

bool ContributionCharts::eventFilter(QObject *watched, QEvent *event) {
  if (event->type() == QEvent::Resize && (watched == waterfall_ || watched == weights_))
    fitTickLabels(static_cast<QCustomPlot *>(watched)); // the plot replots at its new size itself
  return QWidget::eventFilter(watched, event);
}

void ContributionCharts::showCombine(const ExplainResult &result, int combine) {
  result_ = result;
  combine_ = combine;
  drawHeatmap();
}

void ContributionCharts::showSample(const ExplainResult &result, int combine, int sample) {
  result_ = result;
  combine_ = combine;
  sample_ = sample;
  drawWaterfall();
}

void ContributionCharts::showDetail(const SampleDetail &detail) {
  detail_ = detail;
  {
    const QSignalBlocker block(attentionPick_);
    attentionPick_->clear();
    for (int n = 0; n < detail.attentionNodes.size(); ++n)
      for (int m = 0; m < detail.attention[n].size(); ++m)
        attentionPick_->addItem(QString("%1 · %2").arg(detail.attentionNodes[n], detail.attentionNames[n].value(m)),
                                QPoint(n, m));
  }
  attentionBox_->setVisible(!detail.attentionNodes.isEmpty());
  drawAttention();
}

void ContributionCharts::clear() {
  result_ = ExplainResult{};
  detail_ = SampleDetail{};
  combine_ = sample_ = -1;
  removeColorScale(); // before the replot below: the old scale stayed on screen after it
  for (auto *p : {waterfall_, weights_, heatmap_}) {
    p->clearPlottables();
    p->clearItems();
    // Labels and names of the previous project go too.
    for (auto *axis : {p->xAxis, p->yAxis}) {
      axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
      axis->setLabel(QString());
      axis->setTickLabelRotation(0);
      axis->setRangeReversed(false);
      axis->setRange(0, 1);
    }
    p->replot();
  }
  weights_->hide();
  grid_->removeWidget(waterfall_);
  grid_->addWidget(waterfall_, 0, 0, 1, 2);
  attentionBox_->hide();
}

const CombineResult *ContributionCharts::combineResult() const {
  return combine_ >= 0 && combine_ < result_.combines.size() ? &result_.combines[combine_] : nullptr;
}

// The heat map's colour scale is a layout element of its own.
void ContributionCharts::removeColorScale() {
  for (int i = heatmap_->plotLayout()->elementCount() - 1; i >= 0; --i)
    if (qobject_cast<QCPColorScale *>(heatmap_->plotLayout()->elementAt(i)))
      heatmap_->plotLayout()->removeAt(i);
  heatmap_->plotLayout()->simplify();
}

void ContributionCharts::drawWaterfall() {
  waterfall_->clearPlottables();
  waterfall_->clearItems();
  weights_->clearPlottables();
  const CombineResult *c = combineResult();
  const int k = c ? static_cast<int>(c->branches.size()) : 0;
  if (sample_ < 0 || k == 0)
    return;
  // Bars from the baseline output to f(x): one step per branch, then the output itself.
  QStringList names = {tr("baseline")};
  for (int b = 0; b < k; ++b)
    names << c->branchLabel(b);
  const double base = c->fBaseline[sample_], fx = c->fx[sample_];
  double sum = 0;
  for (int b = 0; b < k; ++b)
    sum += c->phi[sample_ * k + b];
  // Ablation and gradient × activation do not add up to f(x) − f(baseline): the rest is the
  // branches' interactions, drawn as a step of its own so the walk still ends at f(x).
  const double rest = fx - base - sum;
  const bool interactions = std::abs(rest) > 1e-4 * (1 + std::abs(fx));
  if (interactions)
    names << tr("interactions");
  names << tr("f(x)");
  const int last = static_cast<int>(names.size()) - 1;
  auto *ends = new QCPBars(waterfall_->xAxis, waterfall_->yAxis);
  ends->setBrush(charts::neutralColor());
  ends->setPen(Qt::NoPen);
  ends->setWidth(0.6);
  ends->addData(0, base);
  ends->addData(last, fx);
  double lo = std::min({0.0, base, fx}), hi = std::max({0.0, base, fx});
  double level = base;
  for (int b = 0; b < k; ++b) {
    const double phi = c->phi[sample_ * k + b];
    auto *box = new QCPItemRect(waterfall_);
    box->topLeft->setCoords(b + 1 - 0.3, std::max(level, level + phi));
    box->bottomRight->setCoords(b + 1 + 0.3, std::min(level, level + phi));
    box->setBrush(phi >= 0 ? charts::positiveColor() : charts::negativeColor());
    box->setPen(Qt::NoPen);
    level += phi;
    lo = std::min(lo, level);
    hi = std::max(hi, level);
  }
  if (interactions) {
    auto *box = new QCPItemRect(waterfall_);
    box->topLeft->setCoords(k + 1 - 0.3, std::max(level, level + rest));
    box->bottomRight->setCoords(k + 1 + 0.3, std::min(level, level + rest));
    box->setBrush(QBrush(charts::mutedColor(), Qt::BDiagPattern));
    box->setPen(QPen(charts::neutralColor()));
    box->setObjectName("interactions");
  }
  // Values over the end bars: the walk is readable without hovering.
  const double pad = 0.12 * std::max(1e-6, hi - lo);
  for (auto [x, v] : {std::pair<int, double>{0, base}, std::pair<int, double>{last, fx}}) {
    auto *text = new QCPItemText(waterfall_);
    text->position->setCoords(x, v >= 0 ? v + pad * 0.3 : v - pad * 0.3);
    text->setPositionAlignment(v >= 0 ? (Qt::AlignHCenter | Qt::AlignBottom) : (Qt::AlignHCenter | Qt::AlignTop));
    text->setText(QString::number(v, 'f', 2));
    text->setFont(QFont(font().family(), 8));
  }
  waterfall_->xAxis->setTicker(labels(names));
  waterfall_->xAxis->setSubTicks(false);
  waterfall_->xAxis->setRange(-0.6, last + 0.6);
  waterfall_->yAxis->setRange(lo - pad, hi + pad);
  waterfall_->yAxis->setLabel(tr("logit of %1").arg(result_.className(result_.targets[sample_])));
  fitTickLabels(waterfall_);
  waterfall_->replot();
  if (fitTickLabels(waterfall_)) // the margins of the first layout with these labels
    waterfall_->replot();
  if (!c->weights.isEmpty()) {
    auto *bars = new QCPBars(weights_->xAxis, weights_->yAxis);
    bars->setBrush(charts::markColor());
    bars->setPen(Qt::NoPen);
    for (int b = 0; b < k; ++b)
      bars->addData(b, c->weights[sample_ * k + b]);
    weights_->xAxis->setTicker(labels(c->branches));
    weights_->xAxis->setSubTicks(false);
    weights_->xAxis->setRange(-0.6, k - 0.4);
    fitTickLabels(weights_);
    weights_->yAxis->setRange(0, 1);
    weights_->yAxis->setLabel(tr("weight"));
    weights_->setVisible(true);
  }
  // Without combiner weights (concat, sum…), the waterfall takes the whole row.
  weights_->setVisible(!c->weights.isEmpty());
  grid_->removeWidget(waterfall_);
  grid_->addWidget(waterfall_, 0, 0, 1, c->weights.isEmpty() ? 2 : 1);
  weights_->replot();
  if (fitTickLabels(weights_))
    weights_->replot();
}

void ContributionCharts::drawHeatmap() {
  heatmap_->clearPlottables();
  removeColorScale();
  const CombineResult *c = combineResult();
  const int k = c ? static_cast<int>(c->branches.size()) : 0, classes = result_.classes;
  if (k == 0 || classes == 0)
    return;
  auto *map = new QCPColorMap(heatmap_->xAxis, heatmap_->yAxis);
  map->data()->setSize(k, classes);
  map->data()->setRange(QCPRange(0, k - 1), QCPRange(0, classes - 1));
  double top = 0;
  for (int cls = 0; cls < classes; ++cls)
    for (int b = 0; b < k; ++b) {
      map->data()->setCell(b, cls, c->perClass[cls * k + b]);
      top = std::max(top, c->perClass[cls * k + b]);
    }
  map->setGradient(charts::heatGradient());
  map->setDataRange(QCPRange(0, std::max(top, 1e-9)));
  map->setInterpolate(false);
  auto *scale = new QCPColorScale(heatmap_);
  heatmap_->plotLayout()->addElement(1, 1, scale);
  scale->setType(QCPAxis::atRight);
  scale->setBarWidth(10);
  scale->axis()->setLabel(tr("mean |φ|"));
  map->setColorScale(scale); // the map takes the scale's gradient: set it on the scale
  scale->setGradient(charts::heatGradient());
  scale->setDataRange(QCPRange(0, std::max(top, 1e-9)));
  auto *group = new QCPMarginGroup(heatmap_);
  heatmap_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  // Branch names over their overall share, on two lines so neighbours never run together.
  QStringList shareNames;
  for (int b = 0; b < k; ++b)
    shareNames << QString("%1\n%2%").arg(c->branches[b]).arg(100 * c->shares[b], 0, 'f', 0);
  heatmap_->xAxis->setTicker(labels(shareNames));
  heatmap_->xAxis->setTickLabelRotation(k > 6 ? 40 : 0);
  heatmap_->xAxis->setSubTicks(false);
  QStringList classNames;
  for (int cls = 0; cls < classes; ++cls)
    classNames << result_.className(cls);
  if (classes <= 30) {
    heatmap_->yAxis->setTicker(labels(classNames));
    heatmap_->yAxis->setSubTicks(false);
  }
  heatmap_->xAxis->setRange(-0.5, k - 0.5);
  heatmap_->yAxis->setRange(-0.5, classes - 0.5);
  heatmap_->yAxis->setRangeReversed(true);
  // φ explains each sample's predicted (or true) class, and the rows group the samples by it.
  heatmap_->yAxis->setLabel(result_.target == "true" ? tr("true class") : tr("predicted class"));
  heatmap_->replot();
}

void ContributionCharts::drawAttention() {
  const QPoint pick = attentionPick_->currentData().toPoint();
  if (attentionPick_->count() == 0 || pick.x() >= detail_.attention.size()) {
    attentionView_->clear();
    rolloutView_->clear();
    return;
  }
  const QImage &map = detail_.attention[pick.x()][pick.y()];
  attentionView_->setPixmap(QPixmap::fromImage(map.scaled(130, 130, Qt::KeepAspectRatio, Qt::FastTransformation)));
  attentionView_->setToolTip(tr("attention: rows are query tokens, columns key tokens"));
  rolloutView_->setPixmap(
      QPixmap::fromImage(detail_.rollout[pick.x()].scaled(130, 130, Qt::KeepAspectRatio, Qt::FastTransformation)));
  rolloutView_->setToolTip(tr("rollout: how much each token (patch) feeds the sub-model's output"));
}

} // namespace particle::ui
